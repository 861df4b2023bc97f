"""What the checks compare: numbers, dates, contacts and terms found in a text.

Everything here reads plain text (after :func:`~dhpc_gen.content.markup.plain_text`)
and knows the conventions of the text's language from Babel: month names, the decimal
and group symbols, the order of day and month in numeric dates. Each item found is a
:class:`Token` with a normalised ``value`` (``2019-04-11``, ``1–3``, ``1.5``) so that the
same fact written the Swedish and the Finnish way compares equal.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Iterator
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format, get_month_names
from babel.numbers import get_decimal_symbol, get_group_symbol

from dhpc_gen.i18n import date_locales


@dataclass(frozen=True)
class Token:
    """One fact found in a text."""

    kind: str
    """date, month, day, range, number, percent, url, email or phone."""
    value: str
    """Normalised, comparable across languages."""
    text: str
    """As written."""
    start: int
    end: int

    def overlaps(self, start: int, end: int) -> bool:
        return self.start < end and start < self.end


_SPACES = "\u00a0\u202f\u2009 "
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"


@lru_cache(maxsize=64)
def _locale(language: str) -> Locale | None:
    try:
        return Locale.parse(language)
    except (UnknownLocaleError, ValueError):
        return None


class _Taken:
    """Which characters of a text some token already covers (linear, not pairwise)."""

    def __init__(self, length: int, tokens: Iterable[Token] = ()) -> None:
        self.mask = bytearray(length + 1)
        for token in tokens:
            self.add(token)

    def add(self, token: Token) -> None:
        self.mask[token.start : token.end] = b"\x01" * (token.end - token.start)

    def free(self, start: int, end: int) -> bool:
        return not any(self.mask[start:end])


# --- contacts ---------------------------------------------------------------------------

_EMAIL = re.compile(r"(?<![\w.+-])(?:mailto:)?([\w.+-]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+)")
_URL = re.compile(r"(?:https?://|www\.)[^\s<>\"'()\[\]{}]+", re.IGNORECASE)
# Bare domains only with a top-level domain an EU letter is likely to name, so that
# abbreviations such as "t.ex" or "bl.a" are never taken for addresses.
_TLDS = (
    "at|be|bg|cy|cz|de|dk|ee|es|eu|fi|fr|gr|hr|hu|ie|is|it|li|lt|lu|lv|mt|nl|no|pl|pt|ro|se|"
    "si|sk|uk|ch|com|org|net|int|info|gov|edu"
)
_BARE_DOMAIN = re.compile(
    rf"(?<![\w@./-])(?:[a-z0-9][a-z0-9-]+\.)+(?:{_TLDS})(?![\w-])(?:/[^\s<>\"'()\[\]{{}}]*)?",
    re.IGNORECASE,
)
_PHONE = re.compile(r"(?<![\w+.,])(?:\+|0)\d[\d \u00a0()-]{5,20}\d(?![\d,.]\d)")
_NUMERIC_DATE = re.compile(r"\d{1,4}[-/.]\s?\d{1,2}[-/.]\s?\d{1,4}")
_TRAILING = ".,;:!?)'\""


def contacts(text: str) -> list[Token]:
    """URLs, e-mail addresses and telephone numbers in ``text``, in order."""
    found: list[Token] = []
    taken = _Taken(len(text))

    def keep(token: Token) -> None:
        if taken.free(token.start, token.end):
            found.append(token)
            taken.add(token)

    for match in _EMAIL.finditer(text):
        address = match.group(1).rstrip(".")
        start = match.start(1)
        keep(Token("email", address.casefold(), address, start, start + len(address)))
    for pattern in (_URL, _BARE_DOMAIN):
        for match in pattern.finditer(text):
            raw = match.group(0).rstrip(_TRAILING)
            start, end = match.start(), match.start() + len(raw)
            keep(Token("url", _normal_url(raw), raw, start, end))
    for match in _PHONE.finditer(text):
        raw = match.group(0)
        digits = re.sub(r"\D", "", raw)
        if not 7 <= len(digits) <= 15 or _NUMERIC_DATE.fullmatch(raw):
            continue
        value = ("+" if raw.startswith("+") else "") + digits
        keep(Token("phone", value, raw, match.start(), match.end()))
    return sorted(found, key=lambda t: t.start)


def _normal_url(raw: str) -> str:
    url = re.sub(r"^https?://", "", raw, flags=re.IGNORECASE).rstrip("/")
    host, slash, rest = url.partition("/")
    return host.casefold() + slash + rest


# --- dates ------------------------------------------------------------------------------

_DAY = r"(?P<d>[0-3]?\d)"
_YEAR = r"(?P<y>(?:19|20|21)\d\d)"
_SEP = rf"[{_SPACES}]+"
# A short word between the parts of a date: "de" (es, pt), "m." (lt), "gada" (lv), "d.",
# "ta’" (mt).
_FILLER = rf"(?:{_SEP}[^\W\d_]{{1,4}}[.’']?)?"
# The first of the month as an ordinal: "1er janvier" (fr), "1º" (it, pt, es).
_ORDINAL = r"(?:er|º|°|\.º)?"


@dataclass(frozen=True)
class _MonthNames:
    pattern: str
    names: tuple[tuple[str, int, bool], ...]
    """(casefolded name, month, may be inflected) longest first."""

    def month_of(self, word: str) -> int | None:
        folded = word.casefold().rstrip(".")
        for name, month, inflects in self.names:
            if folded == name or (inflects and folded.startswith(name)):
                return month
        return None


@lru_cache(maxsize=64)
def _month_names(language: str) -> _MonthNames | None:
    locales = [loc for loc in (_locale(code) for code in date_locales(language)) if loc]
    if _locale(language) is None or not locales:
        return None
    names: dict[str, tuple[int, bool]] = {}
    # The pattern matches names lower-cased as well as case-folded: folding turns the
    # Greek "ΐ" of "Μαΐου" into three characters that the text does not have.
    spellings: set[str] = set()
    for locale in locales:  # national forms too: "Jänner" (de_AT) is January
        for context in ("format", "stand-alone"):
            for month, name in get_month_names("wide", context, locale).items():
                names.setdefault(str(name).casefold(), (int(month), True))
                spellings.add(str(name).lower())
            for month, name in get_month_names("abbreviated", context, locale).items():
                short = str(name).casefold().rstrip(".")
                if len(short) >= 3 and short not in names:
                    names[short] = (int(month), False)
                    spellings.add(str(name).lower().rstrip("."))
    ordered = tuple(
        (name, month, inflects)
        for name, (month, inflects) in sorted(names.items(), key=lambda kv: (-len(kv[0]), kv[0]))
    )
    spellings.update(names)
    # Inflected forms (Finnish "huhtikuussa") add at most a few letters to the name.
    alternatives = "|".join(
        re.escape(form) + (r"[^\W\d_]{0,4}" if names[form.casefold()][1] else r"\.?")
        for form in sorted(spellings, key=lambda f: (-len(f), f))
    )
    return _MonthNames(rf"(?P<m>(?:{alternatives}))(?![^\W\d_])", ordered)


@lru_cache(maxsize=64)
def _date_patterns(language: str) -> tuple[tuple[re.Pattern[str], str], ...]:
    """(pattern, what it gives) for the dates of ``language``, longest forms first."""
    patterns: list[tuple[str, str]] = []
    months = _month_names(language)
    if months is not None:
        m = months.pattern
        patterns += [
            (
                rf"(?<!\d){_DAY}{_ORDINAL}\.?{_FILLER}{_SEP}{m},?{_FILLER}{_SEP}{_YEAR}(?!\d)",
                "date",
            ),
            (rf"{m}{_SEP}{_DAY}(?:st|nd|rd|th)?,?{_SEP}{_YEAR}(?!\d)", "date"),
            (rf"(?<!\d){_YEAR}\.?{_FILLER}{_SEP}{m}{_SEP}{_DAY}(?!\d)\.?", "date"),
            (rf"(?<!\d){_YEAR}\.?{_FILLER}{_SEP}{_DAY}\.{_SEP}{m}", "date"),
        ]
    patterns += [
        (r"(?<![\d.])(?P<y>\d{4})-(?P<mm>\d{1,2})-(?P<d>\d{1,2})(?![\d-])", "date"),
        (r"(?<![\d.])(?P<y>\d{4})\.\s?(?P<mm>\d{1,2})\.\s?(?P<d>\d{1,2})\.?(?!\d)", "date"),
        (r"(?<![\d.])(?P<d>\d{1,2})\.\s?(?P<mm>\d{1,2})\.\s?(?P<y>\d{4})(?![\d])", "date"),
    ]
    # In the locale letters are dated in: "11/04/2019" is 11 April in Irish English.
    locale = _locale(date_locales(language)[0])
    month_first = False
    if locale is not None:
        short = get_date_format("short", locale).pattern
        month_first = short.find("M") < short.find("d")
    first, second = ("mm", "d") if month_first else ("d", "mm")
    patterns.append(
        (
            rf"(?<![\d.])(?P<{first}>\d{{1,2}})([/-])(?P<{second}>\d{{1,2}})\2(?P<y>\d{{4}})(?!\d)",
            "date",
        )
    )
    if months is not None:
        m = months.pattern
        patterns += [
            (rf"(?<!\d){_DAY}\.?{_SEP}{m}", "day"),
            (rf"{m}{_SEP}{_DAY}(?![\d.,]?\d)", "day"),
            (rf"{m}{_SEP}{_YEAR}(?!\d)", "month"),
        ]
    return tuple((re.compile(p, re.IGNORECASE), kind) for p, kind in patterns)


def dates(text: str, language: str, *, skip: Iterable[Token] = ()) -> list[Token]:
    """Dates in ``text`` as ``2019-04-11`` (full), ``--04-11`` (day) or ``2019-04`` (month)."""
    taken = _Taken(len(text), skip)
    found: list[Token] = []
    months = _month_names(language)
    for pattern, kind in _date_patterns(language):
        for match in pattern.finditer(text):
            if not taken.free(match.start(), match.end()):
                continue
            groups = match.groupdict()
            if groups.get("m"):
                month = months.month_of(groups["m"]) if months is not None else None
            else:
                month = int(groups["mm"]) if groups.get("mm") else None
            if month is None:
                continue
            value = _date_value(kind, groups.get("y"), month, groups.get("d"))
            if value is None:
                continue
            token = Token(kind, value, match.group(0), match.start(), match.end())
            found.append(token)
            taken.add(token)
    return sorted(found, key=lambda t: t.start)


def _date_value(kind: str, year: str | None, month: int, day: str | None) -> str | None:
    try:
        if kind == "date" and year and day:
            return dt.date(int(year), month, int(day)).isoformat()
        if kind == "day" and day:
            dt.date(2000, month, int(day))  # a leap year: 29 February is a day
            return f"--{month:02d}-{int(day):02d}"
        if kind == "month" and year:
            return f"{int(year):04d}-{month:02d}"
    except ValueError:
        return None
    return None


# --- numbers ----------------------------------------------------------------------------

_NUMBER = re.compile(rf"\d+(?:[.,{_SPACES}]\d+)*")
# A word joiner after the dash is how the letter's typesetting keeps a range on one line.
_RANGE_DASH = re.compile(rf"[{_SPACES}]?[{_DASHES}]\u2060?[{_SPACES}]?")
_PERCENT = re.compile(rf"[{_SPACES}]?%")


@lru_cache(maxsize=64)
def _symbols(language: str) -> tuple[str, str]:
    locale = _locale(language)
    if locale is None:
        return ".", ","
    return str(get_decimal_symbol(locale)), str(get_group_symbol(locale))


def _normal_number(digits: str, fraction: str = "") -> str:
    if len(digits) > 1 and digits.startswith("0") and not fraction:
        return digits  # a code such as "00034", not a quantity
    try:
        value = Decimal(f"{digits}.{fraction}" if fraction else digits)
    except InvalidOperation:
        return digits + ("." + fraction if fraction else "")
    return format(value.normalize(), "f")


def _split_spaces(raw: str, group_is_space: bool) -> list[tuple[str, int]]:
    """Join "2 100" into one number when it is valid digit grouping, else split it."""
    parts: list[tuple[str, int]] = []
    offset = 0
    for piece in re.split(rf"([{_SPACES}])", raw):
        if piece and piece not in _SPACES:
            parts.append((piece, offset))
        offset += len(piece)
    if len(parts) > 1 and group_is_space:
        head = parts[0][0]
        middle = [p for p, _ in parts[1:]]
        last_digits = re.match(r"\d+", middle[-1])
        if (
            head.isdigit()
            and len(head) <= 3
            and all(len(p) == 3 and p.isdigit() for p in middle[:-1])
            and last_digits is not None
            and len(last_digits.group(0)) == 3
        ):
            return [(raw, 0)]
    return parts


def _parse_number(raw: str, decimal: str, group: str) -> str:
    """The value of one number without spaces, as ``1.5`` or ``1500``."""
    seps = re.findall(r"[.,]", raw)
    groups = re.split(r"[.,]", raw)
    if not seps:
        return _normal_number(raw)
    if len(set(seps)) == 1:
        sep = seps[0]
        if len(seps) > 1:
            if all(len(g) == 3 for g in groups[1:]) and len(groups[0]) <= 3:
                return _normal_number("".join(groups))
            return raw  # "1.2.3": a section number, compared as written
        if sep == group and len(groups[1]) == 3 and sep != decimal:
            return _normal_number("".join(groups))
        return _normal_number(groups[0], groups[1])
    # Both symbols: the last one is the decimal mark.
    last = raw.rfind(seps[-1])
    whole = re.sub(r"[.,]", "", raw[:last])
    return _normal_number(whole, raw[last + 1 :])


def numbers(text: str, language: str, *, skip: Iterable[Token] = ()) -> list[Token]:
    """Numbers, percentages and ranges ("1-3" → ``1–3``) outside the ``skip`` spans."""
    decimal, group = _symbols(language)
    group_is_space = group in _SPACES
    taken = _Taken(len(text), skip)
    plain: list[Token] = []
    for match in _NUMBER.finditer(text):
        for piece, offset in _split_spaces(match.group(0), group_is_space):
            start = match.start() + offset
            end = start + len(piece)
            if not taken.free(start, end):
                continue
            value = _parse_number(re.sub(rf"[{_SPACES}]", "", piece), decimal, group)
            plain.append(Token("number", value, piece, start, end))
    found: list[Token] = []
    index = 0
    while index < len(plain):
        token = plain[index]
        following = plain[index + 1] if index + 1 < len(plain) else None
        dash = _RANGE_DASH.fullmatch(text[token.end : following.start]) if following else None
        if following is not None and dash is not None:
            end = following.end
            found.append(
                Token(
                    "range",
                    f"{token.value}–{following.value}",
                    text[token.start : end],
                    token.start,
                    end,
                )
            )
            index += 2
            continue
        percent = _PERCENT.match(text, token.end)
        if percent is not None:
            found.append(
                Token(
                    "percent",
                    f"{token.value}%",
                    text[token.start : percent.end()],
                    token.start,
                    percent.end(),
                )
            )
        else:
            found.append(token)
        index += 1
    return found


def facts(text: str, language: str) -> list[Token]:
    """Dates, then numbers, percentages and ranges, outside contacts (which have digits)."""
    skip = contacts(text)
    found_dates = dates(text, language, skip=skip)
    return sorted(
        [*found_dates, *numbers(text, language, skip=[*skip, *found_dates])],
        key=lambda t: t.start,
    )


# --- terms ------------------------------------------------------------------------------


def is_acronym(term: str) -> bool:
    """RRMS, EKG, HLH: compared case-sensitively."""
    letters = [c for c in term if c.isalpha()]
    return bool(letters) and all(c.isupper() for c in letters) and len(letters) >= 2


@lru_cache(maxsize=1024)
def _term_pattern(term: str) -> re.Pattern[str]:
    words = [re.escape(word) for word in term.split()]
    body = rf"[{_SPACES}]+".join(words)
    if is_acronym(term):
        # Case-sensitive: "HLH:ta", "DMT-hoidot" are the term; "EMAIL" is not EMA.
        return re.compile(rf"(?<!\w){body}")
    # Inflected forms such as "Lemtradan", "alemtutsumabilla" are the term.
    return re.compile(rf"(?<!\w){body}", re.IGNORECASE)


def term_spans(text: str, term: str) -> list[tuple[int, int]]:
    """Where ``term`` (or an inflected form of it) occurs in ``text``."""
    spans = []
    for match in _term_pattern(term).finditer(text):
        end = match.end()
        while end < len(text) and (text[end].isalnum() or text[end] in "-:'’"):
            end += 1
        if is_acronym(term) and end > match.end() and text[match.end()].isupper():
            continue
        spans.append((match.start(), end))
    return spans


# --- words --------------------------------------------------------------------------------

_WORD = re.compile(r"[^\W\d_]+")
_SENTENCE_END = re.compile(r"(?<=[.!?])\s+")


def words(text: str, language: str, protected: Iterable[str] = ()) -> list[str]:
    """The words of ``text`` that a translation changes: no names, numbers or acronyms."""
    spans = [(t.start, t.end) for t in contacts(text)]
    for term in protected:
        spans += term_spans(text, term)
    kept = []
    position = 0
    for start, end in sorted(spans):
        if start >= position:
            kept.append(text[position:start])
            position = end
        else:
            position = max(position, end)
    kept.append(text[position:])
    return [
        word.casefold()
        for word in _WORD.findall(" ".join(kept))
        if not (len(word) >= 2 and word.isupper())
    ]


def sentences(text: str) -> Iterator[tuple[int, int]]:
    """(start, end) of each sentence of ``text``."""
    start = 0
    for match in _SENTENCE_END.finditer(text):
        yield start, match.start()
        start = match.end()
    if start < len(text):
        yield start, len(text)
