"""DKIM signatures (RFC 6376) on every message, made with dkimpy.

Mailbox providers junk or refuse bulk mail they cannot authenticate; a DKIM signature of
the sender's domain lets them check that the message comes from the MAH and was not
changed on the way. The key is an RSA private key in a PEM file named in the SMTP
settings (``dkim_key_file``), published as ``<dkim_selector>._domainkey.<dkim_domain>``.

Signed: the headers a reader sees and the ones that name the letter (From, To, Subject,
Date, Message-ID, Reply-To, the MIME headers, Content-Language, Auto-Submitted,
X-DHPC-Id, X-DHPC-Hash), each once more than it occurs, so that none can be added on the
way without breaking the signature. Canonicalisation is relaxed/relaxed: a relay that
re-folds a header or trims a trailing space does not break it.
"""

from __future__ import annotations

import os
from pathlib import Path

import dkim
from dkim.crypto import UnparsableKeyError, parse_pem_private_key

from dhpc_gen.distribution.smtp import SmtpConfigError
from dhpc_gen.errors import display_path

SIGNED_HEADERS = (
    "from",
    "to",
    "subject",
    "date",
    "message-id",
    "reply-to",
    "mime-version",
    "content-type",
    "content-transfer-encoding",
    "content-language",
    "auto-submitted",
    "x-dhpc-id",
    "x-dhpc-hash",
)
MIN_KEY_BITS = 1024
"""RFC 8301: verifiers refuse smaller RSA keys (2048 bits is what to use)."""


def _header_names(data: bytes) -> list[str]:
    """The names of the message's header fields, in order (lower case)."""
    head = data.split(b"\r\n\r\n", 1)[0]
    names = []
    for line in head.split(b"\r\n"):
        if line[:1] in (b" ", b"\t") or b":" not in line:
            continue
        names.append(line.split(b":", 1)[0].strip().decode("ascii", "replace").lower())
    return names


class DkimSigner:
    """Signs messages for one domain with one key."""

    def __init__(self, key_file: Path, selector: str, domain: str) -> None:
        shown = display_path(key_file)
        try:
            mode = os.stat(key_file).st_mode
            key = key_file.read_bytes()
        except OSError as exc:
            raise SmtpConfigError(
                f"{shown}: cannot read the DKIM key (dkim_key_file): {exc.strerror}"
            ) from None
        if mode & 0o077:
            raise SmtpConfigError(
                f"{shown}: the DKIM private key can be read by others; run: chmod 600 {shown}"
            )
        try:
            parsed = parse_pem_private_key(key)
        except (UnparsableKeyError, ValueError, IndexError) as exc:
            raise SmtpConfigError(
                f"{shown}: not an RSA private key in PEM form (dkim_key_file): {exc}"
            ) from None
        bits = int(parsed["modulus"]).bit_length()
        if bits < MIN_KEY_BITS:
            raise SmtpConfigError(
                f"{shown}: the DKIM key has {bits} bits; receivers refuse keys under "
                f"{MIN_KEY_BITS} bits (RFC 8301): make a 2048-bit key"
            )
        self.key_file = key_file
        self.selector = selector
        self.domain = domain.lower().rstrip(".")
        self._key = key

    def covers(self, domain: str) -> bool:
        """The From domain is the signing domain or below it (DMARC's relaxed alignment)."""
        domain = domain.lower().rstrip(".")
        return domain == self.domain or domain.endswith("." + self.domain)

    def sign(self, data: bytes) -> bytes:
        """``data`` (CRLF line ends) with a DKIM-Signature header in front."""
        names = _header_names(data)
        include = [name for name in SIGNED_HEADERS for _ in range(names.count(name) + 1)]
        try:
            header = dkim.sign(
                data,
                self.selector.encode("ascii"),
                self.domain.encode("ascii"),
                self._key,
                canonicalize=(b"relaxed", b"relaxed"),
                include_headers=[name.encode("ascii") for name in include],
                linesep=b"\r\n",
            )
        except dkim.DKIMException as exc:
            raise SmtpConfigError(
                f"{display_path(self.key_file)}: cannot sign with this DKIM key: {exc}"
            ) from None
        return bytes(header) + data
