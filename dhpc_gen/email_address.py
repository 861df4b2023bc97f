"""The one rule of the tool for what an e-mail address is.

Used wherever an address comes in: the registers (``dhpc mailing-list``), the e-mail
``dhpc send`` composes, a MAH's address in ``dhpc.yaml``. An address is
``local-part@domain`` as RFC 5321 and RFC 5322 write it in mail (``addr-spec``):

- the local part is a dot-atom: letters, digits and ``!#$%&'*+-/=?^_`{|}~`` (so
  ``o'brien`` and ``anna+dhpc``), dots between them, at most 64 octets. Letters beyond
  ASCII (``jörg@``) are RFC 6531's internationalised addresses: valid, but a server must
  support SMTPUTF8 to take them (``needs_smtputf8``). A quoted local part
  (``"a b"@example.com``) is refused: registers never hold one, and many servers refuse it;
- the domain is a host name of at least two labels, each of letters, digits and inner
  hyphens, in IDNA 2008 (UTS #46 mapping, the ``idna`` package): ``läkare.be`` is
  ``xn--lkare-gra.be`` on the wire and ``straße.de`` is ``xn--strae-oqa.de``; a domain
  given in that ASCII form is the same domain. The top-level label is not all digits, and
  an address literal (``user@[192.0.2.1]``) is refused;
- at most 254 octets in all (RFC 5321's path limit less its brackets).
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import idna

from dhpc_gen.errors import DhpcError

MAX_LOCAL = 64
MAX_DOMAIN = 253
MAX_ADDRESS = 254

_ATEXT = r"A-Za-z0-9!#$%&'*+/=?^_`{|}~\-"
# RFC 6531: atext also takes any UTF-8 character beyond ASCII but controls and spaces.
_LOCAL_UTF8 = re.compile(rf"^[{_ATEXT}\u00a1-\U0010ffff]+(\.[{_ATEXT}\u00a1-\U0010ffff]+)*$")
_SPACES = re.compile(r"[\s\u200b\ufeff]")
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")


class EmailAddressError(DhpcError):
    """Not an e-mail address; the message says why (and quotes the value)."""


@dataclass(frozen=True)
class EmailAddress:
    """An address that passed the rule."""

    local: str
    """The part before ``@``, as given."""
    domain: str
    """The domain as given, lower-cased (``läkare.be``)."""
    ascii_domain: str
    """The domain as it goes on the wire: IDNA A-labels (``xn--lkare-gra.be``)."""

    @property
    def needs_smtputf8(self) -> bool:
        """The local part is not ASCII: only a server with SMTPUTF8 takes it."""
        return not self.local.isascii()

    @property
    def addr_spec(self) -> str:
        """``local@ascii-domain``: what a message header and the SMTP envelope carry."""
        return f"{self.local}@{self.ascii_domain}"

    def __str__(self) -> str:
        return f"{self.local}@{self.domain}"


def parse_email(value: str) -> EmailAddress:
    """Check ``value`` (surrounding white space aside) against the rule; raise if it fails."""
    text = value.strip()
    local, at, domain = text.rpartition("@")
    if not at or not local or not domain:
        raise EmailAddressError(f"not an e-mail address: {value!r} (no local part@domain)")
    if _SPACES.search(text) or any(ord(c) < 32 or ord(c) == 127 for c in text):
        raise EmailAddressError(f"not an e-mail address: {value!r} (white space or a control)")
    if "@" in local:
        raise EmailAddressError(f"not an e-mail address: {value!r} (more than one @)")
    if not _LOCAL_UTF8.match(local):
        raise EmailAddressError(
            f"not an e-mail address: {value!r} (the part before @ may hold letters, digits, "
            "dots between them and !#$%&'*+-/=?^_`{|}~)"
        )
    if len(local.encode("utf-8")) > MAX_LOCAL:
        raise EmailAddressError(
            f"not an e-mail address: {value!r} (more than {MAX_LOCAL} bytes before @)"
        )
    ascii_domain = _ascii_domain(domain.rstrip("."), value)
    if len(local.encode("utf-8")) + 1 + len(ascii_domain) > MAX_ADDRESS:
        raise EmailAddressError(f"not an e-mail address: {value!r} (over {MAX_ADDRESS} bytes)")
    return EmailAddress(local, domain.rstrip(".").lower(), ascii_domain)


def _ascii_domain(domain: str, value: str) -> str:
    bad = EmailAddressError(f"{value!r}: the domain {domain!r} is not a valid host name")
    if domain.startswith("["):
        raise EmailAddressError(
            f"{value!r}: an address literal ({domain}) is not accepted: give the host name"
        )
    try:
        encoded = idna.encode(domain, uts46=True).decode("ascii")
    except (idna.IDNAError, UnicodeError):
        raise bad from None
    labels = encoded.split(".")
    if len(labels) < 2 or len(encoded) > MAX_DOMAIN or labels[-1].isdigit():
        raise bad
    if not all(_LABEL.match(label) for label in labels):
        raise bad
    return encoded


def is_email(value: str) -> bool:
    """True when ``value`` passes :func:`parse_email`."""
    try:
        parse_email(value)
    except EmailAddressError:
        return False
    return True
