"""``dhpc verify``: a signed letter is intact, unchanged since signing, and approved.

Three questions, each answered by something that does not trust the file alone:
1. pyHanko's validator: the CMS signature matches the signed bytes and the signer's
   certificate chains to a certificate the user trusts (``--trust``), valid now;
2. the signature covers the whole file: nothing was appended after it (an incremental
   update adding a page, an annotation or form data shows as bytes past the signature);
3. the version the letter names (``/DHPCContentSHA256``, in the signed bytes) is approved
   in the DHPC's sign-off log, by the very entry the letter names (``/DHPCApproval``),
   and that approval was not withdrawn since.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path

from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.signing.sign import INFO_APPROVAL, INFO_CONTENT, INFO_ID, INFO_LANGUAGE

logger = logging.getLogger(__name__)


@dataclass(frozen=True)
class Outcome:
    """The verdict on one file, in one line."""

    ok: bool
    summary: str


def load_trust(paths: Sequence[Path]) -> list[object]:
    """The certificates in ``paths`` (PEM, several per file allowed, or DER)."""
    from asn1crypto import pem
    from asn1crypto import x509 as asn1_x509

    certificates: list[object] = []
    for path in paths:
        data = path.read_bytes()
        try:
            if pem.detect(data):
                for kind, _headers, der in pem.unarmor(data, multiple=True):
                    if kind == "CERTIFICATE":
                        certificates.append(asn1_x509.Certificate.load(der))
            else:
                certificate = asn1_x509.Certificate.load(data)
                certificate.native  # noqa: B018 - parses it whole: a broken file fails here
                certificates.append(certificate)
        except (ValueError, TypeError) as exc:
            raise DhpcError(f"--trust {display_path(path)}: not a certificate ({exc})") from None
    if paths and not certificates:
        raise DhpcError(f"--trust: no certificate in {', '.join(map(str, paths))}")
    return certificates


def _signing_error(exc: Exception) -> str:
    text = " ".join(str(exc).split()) or type(exc).__name__
    return text[:300]


def verify_letter(path: Path, *, trust: Sequence[object], content_dir: Path | None) -> Outcome:
    """Check one signed letter; never raises for a bad file, says what is wrong instead."""
    from pyhanko.pdf_utils.reader import PdfFileReader
    from pyhanko.sign.validation import validate_pdf_signature
    from pyhanko.sign.validation.status import SignatureCoverageLevel
    from pyhanko_certvalidator import ValidationContext

    data = path.read_bytes()
    try:
        reader = PdfFileReader(io.BytesIO(data), strict=False)
        signatures = reader.embedded_signatures
    except Exception as exc:  # a damaged file: pyHanko raises many kinds
        return Outcome(
            False, f"not a readable PDF, or changed after signing ({_signing_error(exc)})"
        )
    if not signatures:
        return Outcome(False, "not signed (build it with dhpc build --sign KEY.p12)")
    signature = signatures[-1]
    context = ValidationContext(
        trust_roots=list(trust),
        allow_fetching=False,
        revocation_mode="soft-fail",
    )
    try:
        status = validate_pdf_signature(signature, context)
    except Exception as exc:
        return Outcome(False, f"the signature cannot be checked: {_signing_error(exc)}")
    subject = status.signing_cert.subject
    signer = str(subject.native.get("common_name") or subject.human_friendly)
    if not status.intact:
        return Outcome(
            False, "changed after signing: the signed bytes no longer match the signature"
        )
    if not status.valid:
        return Outcome(False, f"the signature does not match the certificate of {signer}")
    if status.coverage != SignatureCoverageLevel.ENTIRE_FILE:
        ranges = [int(signature.byte_range[i]) for i in range(4)]
        added = len(data) - (ranges[2] + ranges[3])
        return Outcome(
            False,
            f"changed after signing: {max(added, 0)} bytes were added after the signature "
            "(an incremental update: pages, annotations or form data)",
        )
    if not status.trusted:
        problem = status.trust_problem_indic
        name = str(getattr(problem, "name", problem))
        why = f" ({name.lower().replace('_', ' ')})" if problem is not None else ""
        hint = "give its CA with --trust CA.pem" if not trust else "check the --trust files"
        return Outcome(False, f"the certificate of {signer} is not trusted{why}: {hint}")
    when = status.signer_reported_dt
    signed = f"signed by {signer}" + (f" on {when:%Y-%m-%d %H:%M} UTC" if when else "")
    return _against_log(reader, signed, content_dir)


def _info(reader: object, key: str) -> str:
    trailer = reader.trailer  # type: ignore[attr-defined]
    try:
        info = trailer["/Info"]
        return str(info[key])
    except (KeyError, TypeError):
        return ""


def _against_log(reader: object, signed: str, content_dir: Path | None) -> Outcome:
    from dhpc_gen.approval.log import SignoffLogError, read_log

    dhpc_id = _info(reader, INFO_ID)
    language = _info(reader, INFO_LANGUAGE)
    content = _info(reader, INFO_CONTENT)
    approval = _info(reader, INFO_APPROVAL)
    if not (dhpc_id and language and content):
        return Outcome(False, f"{signed}, but it names no DHPC version: not signed by dhpc build")
    folder = content_dir if content_dir is not None else Path("content") / dhpc_id
    if not folder.is_dir():
        return Outcome(
            False,
            f"{signed}; no content folder {display_path(folder)} to check the approval of "
            f"{dhpc_id} against: give it with --content DIR",
        )
    try:
        log = read_log(folder, dhpc_id)
    except SignoffLogError as exc:
        return Outcome(False, f"{signed}; the sign-off log is damaged: {exc}")
    decisions = log.for_language(language)
    entry = log.find(approval) if approval else None
    if entry is None or entry.content_sha256 != content or entry.language != language:
        entry = next(
            (e for e in reversed(decisions) if e.approved and e.content_sha256 == content), None
        )
    if entry is None or not entry.approved:
        return Outcome(
            False,
            f"{signed}; {dhpc_id} {language} content {content[:12]} is not approved in "
            f"{display_path(log.path)}",
        )
    withdrawn = next(
        (
            e
            for e in decisions
            if e.seq > entry.seq and not e.approved and e.content_sha256 == content
        ),
        None,
    )
    if withdrawn is not None:
        return Outcome(
            False,
            f"{signed}; the approval of {dhpc_id} {language} content {content[:12]} was "
            f"withdrawn by {withdrawn.who} on {withdrawn.when} (entry {withdrawn.seq})",
        )
    return Outcome(
        True,
        f"{signed}, unmodified since signing; {dhpc_id} {language} content {content[:12]} "
        f"approved by {entry.who} on {entry.when} ({log.path.name} entry {entry.seq})",
    )
