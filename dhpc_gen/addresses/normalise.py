"""Small, pure normalisation functions: text, names, e-mail, countries, postal codes.

Values are printed as given (trimmed, spaces collapsed, Excel's mojibake repaired);
matching uses :func:`fold` (case, accents and punctuation ignored). Postal codes follow
one small rule per country code; a country without a rule gets a lenient default.
"""

from __future__ import annotations

import functools
import re
import unicodedata
from collections.abc import Callable

from dhpc_gen.email_address import is_email

_SPACES = re.compile(r"\s+")
# Greek and Cyrillic letters are kept: a Greek, Cypriot or Bulgarian register's names would
# otherwise all fold to nothing, and every person of a postal code be one for ids and the
# send journal. Other letters outside a-z are dropped as before (ids of lists depend on it).
_NON_ALNUM = re.compile(r"[^0-9a-z\u0370-\u03ff\u1f00-\u1fff\u0400-\u04ff]+")
# Control characters go (a row with one that means damage is rejected before this);
# vertical tab and form feed are line breaks inside a cell (FileMaker writes them);
# a byte-order mark or a zero-width space inside a value is invisible noise.
_CONTROL: dict[int, str | None] = dict.fromkeys(c for c in range(32) if c not in (9, 10, 13))
_CONTROL.update({11: " ", 12: " ", 0xFEFF: None, 0x200B: None})
# UTF-8 read as cp1252: "Ã¤" for "ä", "Ã–" for "Ö" (the second character is cp1252's).
_MOJIBAKE = re.compile(
    "[ÃÂ][\u0080-\u00bf\u0152\u0153\u0160\u0161\u0178\u017d\u017e\u0192\u02c6\u02dc"
    "\u2013-\u203a\u20ac\u2122]"
)

NAME_PARTICLES = frozenset(
    {"af", "av", "von", "van", "de", "der", "den", "di", "da", "du", "la", "le", "zu", "ter"}
)


# Anything clean() would change: control characters, odd spaces, doubled or outer spaces,
# the first character of UTF-8 mojibake. Most cells have none and are returned as they are.
_DIRTY = re.compile(
    "[\x00-\x1f\x7f-\xa0\u1680\u2000-\u200b\u2028-\u202f\u205f\u3000\ufeff]|  |^ | $|[ÃÂ]"
)


# The same for a whole CSV line, leaving out what trimming each cell takes care of.
_DIRTY_LINE = re.compile(
    "[\x00-\x1f\x7f-\xa0\u1680\u2000-\u200b\u2028-\u202f\u205f\u3000\ufeff]|  |[ÃÂ]"
)


def line_is_clean(line: str) -> bool:
    """Whether trimming each cell of ``line`` does all that :func:`clean` would."""
    return _DIRTY_LINE.search(line) is None


def clean(value: str) -> str:
    """Trim, collapse white space, drop control characters, repair UTF-8 read as cp1252."""
    return value if _DIRTY.search(value) is None else _clean(value)


@functools.lru_cache(maxsize=1 << 14)
def _clean(value: str) -> str:
    value = _MOJIBAKE.sub(_repair, value.translate(_CONTROL))
    return _SPACES.sub(" ", value).strip()


def _repair(match: re.Match[str]) -> str:
    """ "Ã¤" → "ä": the two cp1252 characters that one UTF-8 letter was read as."""
    try:
        return match.group().encode("cp1252").decode("utf-8")
    except UnicodeError:
        return match.group()


def _without_accent(char: str) -> str:
    decomposed = unicodedata.normalize("NFKD", char)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


# Latin letters with diacritics → their base letters, for the fast path of fold().
_ACCENTS = {code: _without_accent(chr(code)) for code in range(0xC0, 0x250)}
_ACCENTS.update(
    {
        ord(k): v
        for k, v in {
            "ł": "l",
            "đ": "d",
            "ø": "o",
            "æ": "ae",
            "œ": "oe",
            "þ": "th",
            "ŧ": "t",
            "ð": "d",
            "ı": "i",
        }.items()
    }
)


@functools.lru_cache(maxsize=1 << 16)
def fold(value: str) -> str:
    """Matching form: case-folded, accents removed, punctuation as spaces."""
    text = value.casefold().translate(_ACCENTS)
    if not text.isascii():
        text = _without_accent(text)
    return " ".join(_NON_ALNUM.sub(" ", text).split())


@functools.lru_cache(maxsize=1 << 16)
def fold_tokens(value: str) -> tuple[str, ...]:
    """The words of :func:`fold`."""
    return tuple(fold(value).split())


def split_name(value: str, order: str) -> tuple[str, str]:
    """One name cell → (first names, last name).

    "Virtanen, Matti" is unambiguous; otherwise ``order`` says whether the last name
    comes first. Particles ("af", "von") stay with the last name.
    """
    if "," in value:
        last, _, first = value.partition(",")
        return first.strip(), last.strip()
    tokens = value.split()
    if len(tokens) < 2:
        return "", value.strip()
    if order == "last_first":
        cut = 1
        while cut < len(tokens) - 1 and tokens[cut - 1].casefold() in NAME_PARTICLES:
            cut += 1
        return " ".join(tokens[cut:]), " ".join(tokens[:cut])
    cut = len(tokens) - 1
    while cut > 1 and tokens[cut - 1].casefold() in NAME_PARTICLES:
        cut -= 1
    return " ".join(tokens[:cut]), " ".join(tokens[cut:])


def email(value: str) -> str | None:
    """The address as given if it is one (``mailto:`` and ``<>`` removed), else None.

    The rule is the tool's one (:mod:`dhpc_gen.email_address`): ``o'brien@…``,
    ``peggy@läkare.be`` and, for servers with SMTPUTF8, ``jörg@…`` are addresses.
    """
    value = value.strip().strip("<>").strip()
    if value.casefold().startswith("mailto:"):
        value = value[7:].strip()
    return value if is_email(value) else None


# --- Countries -------------------------------------------------------------------------

_COUNTRY_NAMES = {
    "FI": ("fin", "finland", "suomi", "finnland", "finlande"),
    "AX": ("ala", "aland", "ahvenanmaa", "aland islands"),
    "SE": ("swe", "sweden", "sverige", "ruotsi", "schweden", "suede"),
    "NO": ("nor", "norway", "norge", "noreg", "norja", "norwegen", "norvege"),
    "DK": ("dnk", "denmark", "danmark", "tanska", "danemark", "daenemark"),
    "EE": ("est", "estonia", "eesti", "viro", "estland", "estonie"),
    "IS": ("isl", "iceland", "island", "islanti", "islande"),
    "DE": ("deu", "germany", "deutschland", "saksa", "tyskland", "allemagne", "duitsland"),
    "BE": ("bel", "belgium", "belgie", "belgique", "belgien", "belgia"),
    # Every other EEA country, by its English name, its own and its neighbours' usual ones
    # (as a register of that country writes its own name).
    "AT": ("aut", "austria", "osterreich", "oesterreich", "autriche", "itavalta"),
    "BG": ("bgr", "bulgaria", "bulgarien", "bulgarie", "българия", "република българия"),
    "CY": ("cyp", "cyprus", "kypros", "chypre", "zypern", "κυπροσ", "κυπριακη δημοκρατια"),
    "CZ": ("cze", "czechia", "czech republic", "cesko", "ceska republika", "tschechien"),
    "ES": ("esp", "spain", "espana", "espagne", "spanien"),
    "FR": ("fra", "france", "frankreich", "frankrijk", "ranska"),
    "GR": ("grc", "greece", "ellada", "hellas", "grece", "griechenland", "ελλαδα", "ελλασ"),
    "HR": ("hrv", "croatia", "hrvatska", "kroatien", "croatie"),
    "HU": ("hun", "hungary", "magyarorszag", "ungarn", "hongrie"),
    "IE": ("irl", "ireland", "eire", "irland", "irlande"),
    "IT": ("ita", "italy", "italia", "italien", "italie"),
    "LI": ("lie", "liechtenstein"),
    "LT": ("ltu", "lithuania", "lietuva", "litauen", "lituanie"),
    "LU": ("lux", "luxembourg", "luxemburg", "letzebuerg", "grand duche de luxembourg"),
    "LV": ("lva", "latvia", "latvija", "lettland", "lettonie"),
    "MT": ("mlt", "malta", "malte"),
    "NL": ("nld", "netherlands", "the netherlands", "nederland", "holland", "pays bas"),
    "PL": ("pol", "poland", "polska", "polen", "pologne"),
    "PT": ("prt", "portugal"),
    "RO": ("rou", "romania", "rumanien", "roumanie"),
    "SI": ("svn", "slovenia", "slovenija", "slowenien", "slovenie"),
    "SK": ("svk", "slovakia", "slovensko", "slowakei", "slovaquie"),
}
_BY_NAME = {name: code for code, names in _COUNTRY_NAMES.items() for name in names}


@functools.lru_cache(maxsize=1 << 10)
def country_code(value: str) -> str | None:
    """ISO 3166-1 alpha-2 code of a country cell, or None when it is not recognised."""
    folded = fold(value)
    if len(folded) == 2 and folded.isalpha():
        return folded.upper()
    return _BY_NAME.get(folded)


# --- Postal codes ----------------------------------------------------------------------

PostalRule = Callable[[str], str | None]
"""Cell text (non-empty) → the code as printed, or None when it is not a valid code."""


def _strip_prefix(value: str, *prefixes: str) -> str:
    text = value.strip().upper()
    for prefix in prefixes:
        if text.startswith(prefix) and len(text) > len(prefix):
            rest = text[len(prefix) :].lstrip(" -")
            if rest[:1].isdigit():
                return rest
    return text


def _digits(value: str, prefixes: tuple[str, ...]) -> str | None:
    text = _strip_prefix(value, *prefixes)
    # Excel: a number cell saved as "100.0"; a text cell marked with a leading "'".
    text = text.lstrip("'")
    if text.endswith(".0"):
        text = text[:-2]
    text = text.replace(" ", "")
    return text if text.isdigit() and text.isascii() else None


def finnish_postal_code(value: str) -> str | None:
    """Five digits; Excel's lost leading zeros restored ("100" → "00100")."""
    digits = _digits(value, ("FI-", "FIN-", "AX-", "FI ", "AX "))
    if digits is None or not 1 <= len(digits) <= 5:
        return None
    return digits.zfill(5)


def swedish_postal_code(value: str) -> str | None:
    """Five digits, never starting with 0, printed "751 03"."""
    digits = _digits(value, ("SE-", "S-", "SE "))
    if digits is None or len(digits) != 5 or digits[0] == "0":
        return None
    return f"{digits[:3]} {digits[3:]}"


def _fixed_digits(length: int, prefixes: tuple[str, ...], pad: bool) -> PostalRule:
    def rule(value: str) -> str | None:
        digits = _digits(value, prefixes)
        if digits is None:
            return None
        if pad and len(digits) < length:
            digits = digits.zfill(length)
        return digits if len(digits) == length and digits != "0" * length else None

    return rule


_GENERIC = re.compile(r"^[A-Z0-9][A-Z0-9 -]{1,9}$")


def generic_postal_code(value: str) -> str | None:
    """Countries without a rule: letters, digits, spaces and '-', 2 to 10 characters."""
    text = _SPACES.sub(" ", value.strip().upper().lstrip("'"))
    return text if _GENERIC.match(text) else None


POSTAL_RULES: dict[str, PostalRule] = {
    "FI": finnish_postal_code,
    "AX": finnish_postal_code,
    "SE": swedish_postal_code,
    "NO": _fixed_digits(4, ("NO-", "N-"), pad=True),
    "DK": _fixed_digits(4, ("DK-",), pad=False),
    "IS": _fixed_digits(3, ("IS-",), pad=False),
    "EE": _fixed_digits(5, ("EE-",), pad=False),
    "DE": _fixed_digits(5, ("DE-", "D-"), pad=True),
    "BE": _fixed_digits(4, ("BE-", "B-"), pad=False),
}


@functools.lru_cache(maxsize=1 << 16)
def postal_code(country: str, value: str) -> str | None:
    """The postal code as printed in ``country``, or None when it is not valid there."""
    return POSTAL_RULES.get(country, generic_postal_code)(value)
