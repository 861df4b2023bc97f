"""The address of a recipient as the post of the destination country wants it printed.

The rules are data, keyed by ISO 3166 country code: the order of the lines below the
street, how the postal code is written, and whether the town is printed in capitals
(Finland "00100 HELSINKI", Sweden "751 03 UPPSALA", Germany "10115 Berlin", the
Netherlands "1234 AB  AMSTERDAM", Ireland and the United Kingdom with the code on a line
of its own). A recipient abroad gets the country's name in capitals as the last line,
in the language of the letter. Values are printed as given, apart from whitespace and
invisible characters; a postal code that does not have its country's form is printed
as given too (the mailing list is where codes are checked).
"""

from __future__ import annotations

import hashlib
import re
import unicodedata
from collections.abc import Sequence
from dataclasses import dataclass
from functools import lru_cache

from babel import Locale, UnknownLocaleError

from dhpc_gen.addresses.recipients import Recipient


class AddressProblem(Exception):
    """An address that cannot be printed; the message says why (no personal data)."""


@dataclass(frozen=True)
class PostalFormat:
    """How the lines after the street are written in one country."""

    lines: tuple[str, ...] = ("{code} {city}",)
    """Templates over ``{code}`` and ``{city}``."""
    city_upper: bool = False
    code: tuple[str, str] | None = None
    """A pattern the compact code (no spaces or hyphens) must match, and how to write
    it (``str.format`` over the pattern's groups)."""
    strip_prefix: bool = True
    """Remove a country prefix such as ``SE-`` or ``D-`` in front of a numeric code."""


_FOUR = (r"(\d{4})", "{0}")
_FIVE = (r"(\d{5})", "{0}")
_THREE_TWO = (r"(\d{3})(\d{2})", "{0} {1}")

POSTAL_FORMATS: dict[str, PostalFormat] = {
    "AT": PostalFormat(code=_FOUR),
    "BE": PostalFormat(code=_FOUR, city_upper=True),
    "BG": PostalFormat(code=_FOUR),
    "CH": PostalFormat(code=_FOUR),
    "CY": PostalFormat(code=_FOUR),
    "CZ": PostalFormat(code=_THREE_TWO),
    "DE": PostalFormat(code=_FIVE),
    "DK": PostalFormat(code=_FOUR),
    "EE": PostalFormat(code=_FIVE),
    "ES": PostalFormat(code=_FIVE),
    "FI": PostalFormat(code=_FIVE, city_upper=True),
    "AX": PostalFormat(code=_FIVE, city_upper=True),
    "FR": PostalFormat(code=_FIVE, city_upper=True),
    "GB": PostalFormat(
        lines=("{city}", "{code}"),
        city_upper=True,
        code=(r"([A-Z0-9]{2,4})([0-9][A-Z]{2})", "{0} {1}"),
        strip_prefix=False,
    ),
    "GR": PostalFormat(code=_THREE_TWO, city_upper=True),
    "HR": PostalFormat(code=_FIVE),
    "HU": PostalFormat(code=_FOUR),
    "IE": PostalFormat(
        lines=("{city}", "{code}"),
        code=(r"([A-Z][0-9][0-9W])([A-Z0-9]{4})", "{0} {1}"),
        strip_prefix=False,
    ),
    "IS": PostalFormat(code=(r"(\d{3})", "{0}")),
    "IT": PostalFormat(code=_FIVE, city_upper=True),
    "LI": PostalFormat(code=_FOUR),
    "LT": PostalFormat(code=(r"(\d{5})", "LT-{0}")),
    "LU": PostalFormat(code=(r"(\d{4})", "L-{0}")),
    "LV": PostalFormat(lines=("{city}, {code}",), code=(r"(\d{4})", "LV-{0}")),
    "MT": PostalFormat(
        lines=("{city}", "{code}"),
        city_upper=True,
        code=(r"([A-Z]{3})(\d{4})", "{0} {1}"),
        strip_prefix=False,
    ),
    "NL": PostalFormat(
        lines=("{code}  {city}",), city_upper=True, code=(r"(\d{4})([A-Z]{2})", "{0} {1}")
    ),
    "NO": PostalFormat(code=_FOUR, city_upper=True),
    "PL": PostalFormat(code=(r"(\d{2})(\d{3})", "{0}-{1}")),
    "PT": PostalFormat(code=(r"(\d{4})(\d{3})", "{0}-{1}"), city_upper=True),
    "RO": PostalFormat(code=(r"(\d{6})", "{0}")),
    "SE": PostalFormat(code=_THREE_TWO, city_upper=True),
    "SI": PostalFormat(code=_FOUR),
    "SK": PostalFormat(code=_THREE_TWO),
}
DEFAULT_FORMAT = PostalFormat()

COUNTRY_ALIASES = {"EL": "GR", "UK": "GB"}
"""Codes in use besides ISO 3166 (the EU writes Greece EL)."""

DOMESTIC = {"FI": frozenset({"AX"})}
"""Territories a country's post treats as domestic (Åland is posted from Finland as such)."""

_SPACES = re.compile(r"\s+")
_PREFIX = re.compile(r"^[A-Z]{1,2}(?=\d)")


def clean(value: str) -> str:
    """One printable line: NFC, invisible and control characters dropped, spaces collapsed."""
    if (
        value.isprintable()
        and "  " not in value
        and value == value.strip()
        and unicodedata.is_normalized("NFC", value)
    ):
        return value  # the usual case, checked in C
    value = unicodedata.normalize("NFC", value)
    value = "".join(
        " " if char.isspace() else char
        for char in value
        if char.isspace() or unicodedata.category(char) not in ("Cc", "Cf")
    )
    return _SPACES.sub(" ", value).strip()


def postal_code(code: str, rules: PostalFormat) -> str:
    """The code in its country's form when it has that form, else as given."""
    code = clean(code)
    if rules.code is None:
        return code
    compact = re.sub(r"[\s-]", "", code).upper()
    if rules.strip_prefix:
        compact = _PREFIX.sub("", compact)
    pattern, template = rules.code
    match = re.fullmatch(pattern, compact)
    return template.format(*match.groups()) if match else code


@lru_cache(maxsize=64)
def _territories(language: str) -> dict[str, str]:
    try:
        return dict(Locale.parse(language).territories)
    except (UnknownLocaleError, ValueError):
        return {}


@lru_cache(maxsize=16)
def _codes_by_name(languages: tuple[str, ...]) -> dict[str, str]:
    names: dict[str, str] = {}
    for language in languages:
        for code, name in _territories(language).items():
            if len(code) == 2 and code.isalpha():
                names.setdefault(name.casefold(), code)
    return names


def country_code(value: str, home: str, languages: tuple[str, ...]) -> str:
    """The ISO code of a recipient's country: a code, a name in ``languages``, or home."""
    text = clean(value)
    if not text:
        return home
    upper = text.upper()
    upper = COUNTRY_ALIASES.get(upper, upper)
    if len(upper) == 2 and upper in _territories("en"):
        return upper
    found = _codes_by_name((*languages, "en")).get(text.casefold())
    if found:
        return found
    raise AddressProblem(
        f"country {text!r} is not known: write the ISO 3166 two-letter code (e.g. FI, SE)"
    )


def country_line(code: str, language: str) -> str:
    """The destination country as the last line, in capitals, in the letter's language."""
    name = _territories(language).get(code) or _territories("en").get(code) or code
    return name.upper()


def is_domestic(code: str, home: str) -> bool:
    return code == home or code in DOMESTIC.get(home, frozenset())


@dataclass(frozen=True)
class AddressBlock:
    """The printed lines of one address, and the country it goes to."""

    lines: tuple[str, ...]
    country: str
    postal: bool
    """True when the address can be posted (street, postal code and town)."""


def address_block(
    recipient: Recipient, *, home: str, language: str, name_languages: tuple[str, ...] = ()
) -> AddressBlock:
    """The lines of the address block, top to bottom.

    ``home`` is the country the letter is posted in; ``name_languages`` the languages
    (besides the letter's and English) a row may name its country in ("Suomi",
    "Sverige"). A recipient without a postal address (e-mail only) gets the name and
    organisation lines.
    """
    name = clean(recipient.full_name)
    organisation = clean(recipient.organisation)
    if not name and not organisation:
        raise AddressProblem("no name and no organisation to address the letter to")
    head = tuple(line for line in (name, organisation) if line)
    if not recipient.has_postal_address:
        return AddressBlock(head, home, postal=False)
    street = clean(recipient.street)
    code = country_code(recipient.country, home, (language, *name_languages))
    rules = POSTAL_FORMATS.get(code, DEFAULT_FORMAT)
    city = clean(recipient.city)
    if rules.city_upper:
        city = city.upper()
    values = {"code": postal_code(recipient.postal_code, rules), "city": city}
    locality = tuple(line.format_map(values).strip(" ,") for line in rules.lines)
    lines = (*head, street, *locality)
    if not is_domestic(code, home):
        lines = (*lines, country_line(code, language))
    return AddressBlock(tuple(line for line in lines if line), code, postal=True)


def sort_key(recipient: Recipient, block: AddressBlock, *, home: str) -> tuple[str, ...]:
    """Mail-house order: domestic first, then by country, postal code, town and name."""
    return (
        "0" if block.postal else "1",
        "0" if is_domestic(block.country, home) else "1",
        block.country,
        re.sub(r"[\s-]", "", recipient.postal_code).upper(),
        clean(recipient.city).casefold(),
        clean(recipient.last_name).casefold(),
        clean(recipient.first_name).casefold(),
        recipient.recipient_id,
    )


def address_sha256(lines: Sequence[str]) -> str:
    """SHA-256 of an address block's lines, as the print manifest records them.

    ``dhpc send`` compares it with the block of the recipient as the mailing list has them
    now: a letter merged for someone else (a recipient id reused) is never attached.
    """
    return hashlib.sha256("\n".join(lines).encode("utf-8")).hexdigest()
