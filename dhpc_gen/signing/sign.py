"""Sign a built letter: a PAdES baseline signature appended as an incremental update.

The letter as ``dhpc build`` renders it stays byte for byte at the start of the signed
file (an incremental update only appends), so the unsigned build remains reproducible
and its hash can still be checked. The update adds an invisible signature field (a
zero-size widget, printable, locked: PDF/A needs no appearance for it), the CMS
signature (PAdES B-B: ETSI.CAdES.detached with the signing certificate attribute, no
time stamp since nothing is fetched from the network), and four entries in the document
information dictionary naming the approved version: ``/DHPCId``, ``/DHPCLanguage``,
``/DHPCContentSHA256`` (the language content hash) and ``/DHPCApproval`` (the hash of the
sign-off entry). The XMP metadata, the PDF/A identification and the producer are left as
they were, so the Info dictionary and XMP stay consistent as PDF/A requires.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

from dhpc_gen.errors import DhpcError, display_path

logger = logging.getLogger(__name__)

INFO_ID = "/DHPCId"
INFO_LANGUAGE = "/DHPCLanguage"
INFO_CONTENT = "/DHPCContentSHA256"
INFO_APPROVAL = "/DHPCApproval"
FIELD_NAME = "DHPCSignature"
_SIGNATURE_SIZE = 16384


class SigningError(DhpcError):
    """The letter cannot be signed with the key given."""


@dataclass(frozen=True)
class SigningKey:
    """A private key and its certificate chain, read from a PKCS#12 file."""

    path: Path
    signer: object
    """A pyHanko ``SimpleSigner``."""
    name: str
    """The certificate's subject common name (or the whole subject)."""
    not_after: dt.datetime


@dataclass(frozen=True)
class SignedVersion:
    """What a signed letter says about itself."""

    dhpc_id: str
    language: str
    content_sha256: str
    approval: str


def _subject_name(certificate: object) -> str:
    from cryptography import x509
    from cryptography.x509.oid import NameOID

    assert isinstance(certificate, x509.Certificate)
    names = certificate.subject.get_attributes_for_oid(NameOID.COMMON_NAME)
    if names:
        return str(names[0].value)
    return certificate.subject.rfc4514_string()


def load_signing_key(
    path: Path, password: bytes | None, *, now: Callable[[], dt.datetime] | None = None
) -> SigningKey:
    """Read ``path`` (PKCS#12) with ``password``; refuse a certificate not valid now.

    The password is used once and not kept; no message names it.
    """
    from asn1crypto import keys as asn1_keys
    from asn1crypto import x509 as asn1_x509
    from cryptography import x509
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.serialization import pkcs12
    from pyhanko.sign.signers import SimpleSigner
    from pyhanko_certvalidator.registry import SimpleCertificateStore

    shown = display_path(path)
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise SigningError(f"{shown}: cannot read the key file: {exc.strerror}") from None
    try:
        try:
            key, certificate, chain = pkcs12.load_key_and_certificates(data, password or None)
        except ValueError:
            if password:
                raise
            # No password given: the file may be protected by the empty one.
            key, certificate, chain = pkcs12.load_key_and_certificates(data, b"")
    except ValueError:
        raise SigningError(
            f"{shown}: wrong password, or not a PKCS#12 (.p12/.pfx) file "
            "(the password comes from DHPC_SIGN_PASSWORD or the prompt)"
        ) from None
    if key is None or certificate is None:
        raise SigningError(f"{shown}: holds no private key with its certificate")
    moment = (now or (lambda: dt.datetime.now(dt.UTC)))()
    name = _subject_name(certificate)
    start, end = certificate.not_valid_before_utc, certificate.not_valid_after_utc
    if moment < start:
        raise SigningError(
            f"{shown}: the certificate of {name!r} is not valid yet (from "
            f"{start:%Y-%m-%d %H:%M} UTC): a signature made now would not verify"
        )
    if moment > end:
        raise SigningError(
            f"{shown}: the certificate of {name!r} expired on {end:%Y-%m-%d %H:%M} UTC: "
            "renew it before signing"
        )
    try:
        usage = certificate.extensions.get_extension_for_class(x509.KeyUsage).value
    except x509.ExtensionNotFound:
        usage = None
    if usage is not None and not (usage.digital_signature or usage.content_commitment):
        raise SigningError(f"{shown}: the certificate of {name!r} may not sign documents")
    der = serialization.Encoding.DER
    signer = SimpleSigner(
        signing_cert=asn1_x509.Certificate.load(certificate.public_bytes(der)),
        signing_key=asn1_keys.PrivateKeyInfo.load(
            key.private_bytes(der, serialization.PrivateFormat.PKCS8, serialization.NoEncryption())
        ),
        cert_registry=SimpleCertificateStore.from_certs(  # type: ignore[no-untyped-call]
            [asn1_x509.Certificate.load(c.public_bytes(der)) for c in chain]
        ),
    )
    return SigningKey(path, signer, name, end)


def _writer_class() -> type:
    from pyhanko.pdf_utils import generic
    from pyhanko.pdf_utils.incremental_writer import IncrementalPdfFileWriter

    class LetterWriter(IncrementalPdfFileWriter):
        """Adds the version entries to the Info dictionary and nothing else to metadata.

        pyHanko would append itself to the producer in the Info dictionary only, while
        writing another producer into the XMP: PDF/A requires the two to agree.
        """

        version: SignedVersion | None = None

        def _update_meta(self) -> None:
            version = self.version
            if version is None:
                return
            info_ref = self._info
            if info_ref is None:
                info_ref = self.add_object(generic.DictionaryObject())  # type: ignore[no-untyped-call]
                self._info = info_ref
                self.trailer["/Info"] = info_ref
            info = info_ref.get_object()  # type: ignore[no-untyped-call]
            for key, value in (
                (INFO_ID, version.dhpc_id),
                (INFO_LANGUAGE, version.language),
                (INFO_CONTENT, version.content_sha256),
                (INFO_APPROVAL, version.approval),
            ):
                info[generic.pdf_name(key)] = generic.TextStringObject(value)
            self.mark_update(info_ref)

    return LetterWriter


def sign_letter(
    pdf: bytes, key: SigningKey, version: SignedVersion, *, reason: str, location: str = ""
) -> bytes:
    """``pdf`` with a PAdES B-B signature by ``key`` appended; the original bytes stay first."""
    from pyhanko.sign import fields, signers

    writer = _writer_class()(io.BytesIO(pdf))
    writer.version = version
    meta = signers.PdfSignatureMetadata(
        field_name=FIELD_NAME,
        name=key.name,
        reason=reason,
        location=location or None,
        subfilter=fields.SigSeedSubFilter.PADES,
        md_algorithm="sha256",
        embed_validation_info=False,
        use_pades_lta=False,
    )
    out = io.BytesIO()
    try:
        signers.PdfSigner(
            meta,
            signer=key.signer,  # type: ignore[arg-type]
            new_field_spec=fields.SigFieldSpec(sig_field_name=FIELD_NAME, box=None),
        ).sign_pdf(writer, output=out, bytes_reserved=_SIGNATURE_SIZE)
    except Exception as exc:  # pyHanko raises many kinds; the user needs the reason only
        raise SigningError(
            f"{display_path(key.path)}: the letter of {version.language} could not be signed: {exc}"
        ) from None
    signed = out.getvalue()
    if not signed.startswith(pdf):
        raise SigningError("the signed letter does not begin with the built letter")
    return signed
