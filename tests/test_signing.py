"""``dhpc build --sign`` and ``dhpc verify``: signed letters, proved against the sign-off log."""

from __future__ import annotations

import datetime as dt
import io
import json
import re
from pathlib import Path

import pytest
from approval_helpers import approve, content_repository, dhpc, edit_fi_sentence
from pdf_helpers import font_rows, pdftotext
from pypdf import PdfReader
from signing_helpers import PASSWORD, ThrowawayCa, make_ca, make_signing_key

from dhpc_gen.approval.log import LOG_FILE

DHPC_ID = "lemtrada-2019"


@pytest.fixture(scope="module")
def ca(tmp_path_factory: pytest.TempPathFactory) -> ThrowawayCa:
    return make_ca(tmp_path_factory.mktemp("ca"))


@pytest.fixture(scope="module")
def key(ca: ThrowawayCa, tmp_path_factory: pytest.TempPathFactory) -> Path:
    return make_signing_key(ca, tmp_path_factory.mktemp("key") / "anna.p12")


@pytest.fixture
def approved(tmp_path: Path) -> Path:
    content = content_repository(tmp_path)
    approve(content, "sv", "fi")
    return content


def sign_build(content: Path, key: Path, out: Path, password: str = PASSWORD, *extra: str):  # type: ignore[no-untyped-def]
    return dhpc(
        "build",
        content,
        "--sign",
        key,
        "--out",
        out,
        *extra,
        env={"DHPC_SIGN_PASSWORD": password},
    )


@pytest.fixture
def signed(approved: Path, key: Path, tmp_path: Path) -> Path:
    code, _, err = sign_build(approved, key, tmp_path / "out")
    assert code == 0, err
    return tmp_path / "out" / DHPC_ID


def pyhanko_status(data: bytes, ca: ThrowawayCa):  # type: ignore[no-untyped-def]
    """pyHanko's own validation of the last signature, with the test CA as trust root."""
    from asn1crypto import x509 as asn1_x509
    from cryptography.hazmat.primitives import serialization
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko_certvalidator import ValidationContext

    root = asn1_x509.Certificate.load(ca.certificate.public_bytes(serialization.Encoding.DER))
    reader = PdfFileReader(io.BytesIO(data), strict=False)
    context = ValidationContext(trust_roots=[root], allow_fetching=False)
    return validate_pdf_signature(reader.embedded_signatures[-1], context)


def verify(*files: Path, ca: ThrowawayCa, content: Path) -> tuple[int, str, str]:
    return dhpc("verify", *files, "--trust", ca.pem, "--content", content)


def test_signed_letters_verify_with_dhpc_and_with_pyhanko(
    approved: Path, signed: Path, ca: ThrowawayCa, tmp_path: Path
) -> None:
    unsigned = tmp_path / "unsigned"
    assert dhpc("build", approved, "--out", unsigned)[0] == 0
    manifest = json.loads((signed / "manifest.json").read_text(encoding="utf-8"))
    for language in ("sv", "fi"):
        name = f"{DHPC_ID}_{language}.pdf"
        data = (signed / name).read_bytes()
        plain = (unsigned / DHPC_ID / name).read_bytes()
        assert data.startswith(plain) and len(data) > len(plain), "signing only appends"
        entry = next(o for o in manifest["outputs"] if o["path"] == name)
        assert entry["signature"]["signer"] == "Anna Signer"
        assert entry["signature"]["unsigned_bytes"] == len(plain)

        status = pyhanko_status(data, ca)
        assert status.bottom_line and status.intact and status.valid and status.trusted
        assert status.coverage.name == "ENTIRE_FILE"
        sig = PdfReader(io.BytesIO(data)).get_fields()["DHPCSignature"]["/V"]
        assert sig["/SubFilter"] == "/ETSI.CAdES.detached", "PAdES baseline"
        assert sig["/Name"] == "Anna Signer" and f"({language})" in sig["/Reason"]
    assert "unsigned" not in manifest
    code, out, err = dhpc("build", approved, "--check", "--out", signed.parent)
    assert code == 0, err  # signed letters of the current text are up to date
    code, out, err = verify(*sorted(signed.glob("*.pdf")), ca=ca, content=approved)
    assert code == 0, err
    assert out.count(": OK — signed by Anna Signer") == 2
    assert "unmodified since signing" in out and "approved by Anna Berg" in out


def test_signing_keeps_pdfa_metadata_and_adds_nothing_pdfa_forbids(signed: Path) -> None:
    data = (signed / f"{DHPC_ID}_fi.pdf").read_bytes()
    end_of_build = data.rindex(b"%%EOF", 0, len(data) - 10)
    update = data[end_of_build:]
    for forbidden in (b"/JavaScript", b"/JS", b"/AA", b"/OpenAction", b"/NeedAppearances"):
        assert forbidden not in update
    reader = PdfReader(io.BytesIO(data))
    original = PdfReader(io.BytesIO(data[: end_of_build + 5]))
    xmp = reader.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert xmp == original.trailer["/Root"]["/Metadata"].get_object().get_data()
    assert b'pdfaid:part="3"' in xmp
    info, before = reader.trailer["/Info"], original.trailer["/Info"]
    for standard in ("/Producer", "/ModDate", "/CreationDate", "/Title", "/Author"):
        assert info[standard] == before[standard], "the Info dictionary agrees with the XMP"
    assert info["/DHPCLanguage"] == "fi" and re.fullmatch(
        r"[0-9a-f]{64}", info["/DHPCContentSHA256"]
    )
    widgets = [a.get_object() for page in reader.pages for a in page.get("/Annots", [])]
    (widget,) = [w for w in widgets if w.get("/FT") == "/Sig"]
    flags = int(widget["/F"])
    assert flags & 4 and not flags & (1 | 2 | 32), "printable, not hidden (PDF/A)"
    assert [float(x) for x in widget["/Rect"]] == [0, 0, 0, 0], "invisible: no appearance needed"
    assert all(row[-4] == "yes" for row in font_rows(signed / f"{DHPC_ID}_fi.pdf"))
    assert "Lemtrada" in pdftotext(signed / f"{DHPC_ID}_fi.pdf")


def test_one_byte_changed_fails_both_validators(
    signed: Path, ca: ThrowawayCa, approved: Path
) -> None:
    path = signed / f"{DHPC_ID}_fi.pdf"
    data = bytearray(path.read_bytes())
    position = data.index(b"LEMTRADA")
    data[position] = ord("X")
    path.write_bytes(bytes(data))
    assert not pyhanko_status(bytes(data), ca).bottom_line
    code, _, err = verify(path, ca=ca, content=approved)
    assert code == 1 and "FAILED — changed after signing" in err


def test_an_appended_page_fails_verification(signed: Path, ca: ThrowawayCa, approved: Path) -> None:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    path = signed / f"{DHPC_ID}_sv.pdf"
    writer = IncrementalPdfFileWriter(io.BytesIO(path.read_bytes()))
    box = generic.ArrayObject([generic.NumberObject(n) for n in (0, 0, 595, 842)])
    page = generic.DictionaryObject(
        {
            generic.pdf_name("/Type"): generic.pdf_name("/Page"),
            generic.pdf_name("/MediaBox"): box,
            generic.pdf_name("/Resources"): generic.DictionaryObject(),
        }
    )
    writer.insert_page(page)
    out = io.BytesIO()
    writer.write(out)
    path.write_bytes(out.getvalue())
    assert len(PdfReader(path).pages) == len(PdfReader(io.BytesIO(out.getvalue())).pages)
    assert not pyhanko_status(out.getvalue(), ca).bottom_line
    code, _, err = verify(path, ca=ca, content=approved)
    assert code == 1 and "bytes were added after the signature" in err


def test_verify_needs_trust_an_approval_and_a_signature(
    signed: Path, ca: ThrowawayCa, approved: Path, tmp_path: Path
) -> None:
    fi = signed / f"{DHPC_ID}_fi.pdf"
    code, _, err = dhpc("verify", fi, "--content", approved)
    assert code == 1 and "is not trusted" in err and "--trust" in err
    code, _, err = dhpc(
        "signoff", approved, "--lang", "fi", "--name", "Eva", "--role", "QPPV", "--reject"
    )
    assert code == 0
    code, _, err = verify(fi, ca=ca, content=approved)
    assert code == 1 and "was withdrawn by Eva (QPPV)" in err
    log = approved / LOG_FILE
    log.write_text(log.read_text(encoding="utf-8").replace("Anna Berg", "Anna Borg"), "utf-8")
    code, _, err = verify(fi, ca=ca, content=approved)
    assert code == 1 and "the sign-off log is damaged" in err
    unsigned = tmp_path / "plain"
    assert dhpc("build", approved, "--out", unsigned)[0] == 0
    code, _, err = verify(unsigned / DHPC_ID / f"{DHPC_ID}_sv.pdf", ca=ca, content=approved)
    assert code == 1 and "not signed" in err
    junk = tmp_path / "junk.pdf"
    junk.write_bytes(b"%PDF-1.7\nnot really\n")
    code, _, err = verify(junk, ca=ca, content=approved)
    assert code == 1 and "not a readable PDF" in err


def test_approval_of_another_folder_does_not_count(
    signed: Path, ca: ThrowawayCa, tmp_path: Path
) -> None:
    other = content_repository(tmp_path / "elsewhere")
    edit_fi_sentence(other)
    approve(other, "fi")
    code, _, err = verify(signed / f"{DHPC_ID}_fi.pdf", ca=ca, content=other)
    assert code == 1 and "is not approved in" in err


def test_wrong_password_and_bad_certificates_write_nothing(
    approved: Path, key: Path, ca: ThrowawayCa, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    code, stdout, err = sign_build(approved, key, out, "not the password")
    assert code == 1 and "wrong password" in err and not out.exists()
    assert "not the password" not in stdout + err
    expired = make_signing_key(
        ca,
        tmp_path / "old.p12",
        valid_from=dt.timedelta(days=-400),
        valid_for=dt.timedelta(days=30),
    )
    code, _, err = sign_build(approved, expired, out)
    assert code == 1 and "expired on" in err and not out.exists()
    future = make_signing_key(ca, tmp_path / "future.p12", valid_from=dt.timedelta(days=10))
    code, _, err = sign_build(approved, future, out)
    assert code == 1 and "is not valid yet" in err and not out.exists()
    code, _, err = dhpc("build", approved, "--sign", key, "--out", out, input="")
    assert code == 1 and "DHPC_SIGN_PASSWORD" in err and not out.exists()
    assert dhpc("build", approved, "--sign", key, "--check")[0] == 2


def test_only_final_approved_letters_are_signed(approved: Path, key: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    edit_fi_sentence(approved)
    code, _, err = sign_build(approved, key, out)
    assert code == 1 and "refused: fi" in err
    assert sorted(p.name for p in (out / DHPC_ID).iterdir()) == [
        f"{DHPC_ID}_sv.pdf",
        "manifest.json",
    ]
    meta = approved / "dhpc.yaml"
    meta.write_text(meta.read_text(encoding="utf-8").replace("status: final", "status: draft"))
    code, _, err = sign_build(approved, key, tmp_path / "draft")
    assert code == 1 and "only a final letter is signed" in err
    assert not (tmp_path / "draft").exists()
