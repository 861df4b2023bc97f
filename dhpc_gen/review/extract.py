"""What the checks compare: numbers, dates, contacts and terms found in a text.

Everything here reads plain text (after :func:`~dhpc_gen.content.markup.plain_text`)
and knows the conventions of the text's language from Babel: month names, the decimal
and group symbols, the order of day and month in numeric dates. Each item found is a
:class:`Token` with a normalised ``value`` (``2019-04-11``, ``1–3``, ``1.5``) so that the
same fact written the Swedish and the Finnish way compares equal.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import re
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache

from babel import Locale, UnknownLocaleError
from babel.dates import get_date_format, get_month_names
from babel.numbers import get_decimal_symbol, get_group_symbol

from dhpc_gen.i18n import date_locales
from dhpc_gen.review.units import (
    SCALED_SYMBOLS,
    SIGN_SYMBOLS,
    SYMBOLS,
    TIME_UNITS,
    UNIT_FILLERS,
    attached_compounds,
    between_words,
    compound_stems,
    compounds_with_units,
    likely_sign_words,
    ordinal_mark,
    range_words,
    sign_words,
    unit_words,
)


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
    parts: tuple[str, ...] = ()
    """A range written in words ("2 à 4"): the values of its two numbers, which another
    language may write as two numbers ("von 2 auf 4")."""
    sign: str = ""
    """The comparison sign of a quantity (:func:`quantities`): ``<``, ``>``, ``≤`` or ``≥``."""
    sign_text: str = ""
    """The sign as written: "<", "weniger als", "alle"."""
    unit: str = ""
    """The unit of a quantity, canonical: ``mg/kg``, ``µL``, ``/µL``, ``day``, ``%``."""
    unit_text: str = ""
    """The unit as written: "mg/kg", "Tage", "cellules/µl"."""
    likely_sign: str = ""
    """A word that is a comparison before a number most of the time ("unter 30", "under
    30"): not part of the fact, it only confirms or questions the other language's sign."""
    likely_sign_text: str = ""
    number: Token | None = None
    """A quantity's number alone, as :func:`facts` found it ("1-3" of "1-3 dagar"), when
    the quantity's value is that number's."""

    @property
    def fact(self) -> tuple[str, str, str]:
        """What two languages must agree on: the value, its sign and its unit."""
        return self.value, self.sign, self.unit

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


# Languages whose month names take case endings in running text, and how many letters
# those add to the names Babel gives: Finnish "huhtikuussa" (huhtikuu + ssa), Estonian
# "aprillis", Hungarian "áprilisban". Elsewhere a month name is a whole word, so that
# "semaines" holds no "mai", nor "mayores" a "mayo" or "Oktoberfest" an "Oktober".
_MONTH_ENDINGS = {"fi": 4, "et": 3, "hu": 4}
# A letter of any script (Latin, Greek, Cyrillic): the edge of a word.
_LETTER = r"[^\W\d_]"


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
    endings = _MONTH_ENDINGS.get(language.split("_")[0].split("-")[0], 0)
    names: dict[str, tuple[int, bool]] = {}
    # The pattern matches names lower-cased as well as case-folded: folding turns the
    # Greek "ΐ" of "Μαΐου" into three characters that the text does not have.
    spellings: set[str] = set()
    for locale in locales:  # national forms too: "Jänner" (de_AT) is January
        for context in ("format", "stand-alone"):
            for month, name in get_month_names("wide", context, locale).items():
                names.setdefault(str(name).casefold(), (int(month), endings > 0))
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
    alternatives = "|".join(
        re.escape(form) + (rf"{_LETTER}{{0,{endings}}}" if names[form.casefold()][1] else r"\.?")
        for form in sorted(spellings, key=lambda f: (-len(f), f))
    )
    # A whole word only, in every script: not preceded nor followed by a letter.
    return _MonthNames(rf"(?<!{_LETTER})(?P<m>(?:{alternatives}))(?!{_LETTER})", ordered)


@lru_cache(maxsize=64)
def _month_first(language: str) -> bool:
    """Whether ``language`` writes the month before the day ("April 11", "április 11.")
    in one of its locales (English as Europe and as America write it)."""
    for code in (*date_locales(language), language):
        locale = _locale(code)
        if locale is not None:
            long = get_date_format("long", locale).pattern
            if long.find("M") < long.find("d"):
                return True
    return False


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
        patterns.append((rf"(?<!\d){_DAY}\.?{_SEP}{m}", "day"))
        if _month_first(language):
            # "April 11" is a day only where the language puts the month first: in French
            # "mai 2" is not a date.
            patterns.append((rf"{m}{_SEP}{_DAY}(?![\d.,]?\d)", "day"))
        patterns.append((rf"{m}{_SEP}{_YEAR}(?!\d)", "month"))
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

# Digits grouped by spaces (any language: the EU style guide groups "2 500" in English
# too) or by apostrophes ("1'000", Liechtenstein), with a decimal point or comma.
_GROUPING = "'\u2019"
_NUMBER = re.compile(rf"\d+(?:[.,{_GROUPING}{_SPACES}]\d+)*")
# A word joiner after the dash is how the letter's typesetting keeps a range on one line.
_RANGE_DASH = re.compile(rf"[{_SPACES}]?[{_DASHES}]\u2060?[{_SPACES}]?")
_PERCENT = re.compile(rf"[{_SPACES}]?%")
# A minus sign: "-5 °C", "−0,5", "(–3)"; never the dash of a range ("1-3", "1 - 3") nor
# a hyphen inside a name ("COVID-19").
_MINUS = "-\u2212\u2013"
_BEFORE_MINUS = "([=<>≤≥:;,/"


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


def _split_groups(raw: str) -> list[tuple[str, int]]:
    """Join "2 100" and "1'000" into one number when it is valid digit grouping (groups
    of three digits after the first), else split it where the spaces are."""
    parts: list[tuple[str, int]] = []
    offset = 0
    for piece in re.split(rf"([{_SPACES}{_GROUPING}])", raw):
        if piece and piece not in _SPACES + _GROUPING:
            parts.append((piece, offset))
        offset += len(piece)
    if len(parts) > 1:
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


def _negative(text: str, start: int) -> bool:
    """Whether a minus sign stands right before the number at ``start``."""
    if start == 0 or text[start - 1] not in _MINUS:
        return False
    at = start - 2
    if at >= 0 and not (text[at].isspace() or text[at] in _BEFORE_MINUS):
        return False  # "COVID-19", "1-3"
    while at >= 0 and text[at].isspace():
        at -= 1
    return at < 0 or not text[at].isdigit()  # "1 - 3" is a range


def numbers(text: str, language: str, *, skip: Iterable[Token] = ()) -> list[Token]:
    """Numbers, percentages and ranges ("1-3" → ``1–3``) outside the ``skip`` spans."""
    decimal, group = _symbols(language)
    taken = _Taken(len(text), skip)
    plain: list[Token] = []
    for match in _NUMBER.finditer(text):
        for piece, offset in _split_groups(match.group(0)):
            start = match.start() + offset
            end = start + len(piece)
            if not taken.free(start, end):
                continue
            raw = re.sub(rf"[{_SPACES}{_GROUPING}]", "", piece)
            value = _parse_number(raw, decimal, group)
            if offset == 0 and _negative(text, start) and taken.free(start - 1, start):
                start -= 1
                value = "-" + value
            plain.append(Token("number", value, text[start:end], start, end))
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


# --- ranges in words ----------------------------------------------------------------------

_SPACE_RUN = rf"[{_SPACES}\n\t]+"


def _phrase(words: str) -> str:
    """A regex for ``words`` as typed or typeset: any spaces, soft hyphens inside words."""
    return _SPACE_RUN.join("\u00ad?".join(re.escape(c) for c in word) for word in words.split())


@lru_cache(maxsize=64)
def _range_patterns(
    language: str,
) -> tuple[re.Pattern[str] | None, re.Pattern[str] | None, re.Pattern[str] | None]:
    """(connector between the numbers, "and" of "between … and", "between" before)."""
    connectors = range_words(language)
    between = between_words(language)
    joined = (
        re.compile(
            rf"{_SPACE_RUN}(?:{'|'.join(_phrase(w) for w in connectors)}){_SPACE_RUN}",
            re.IGNORECASE,
        )
        if connectors
        else None
    )
    if between is None:
        return joined, None, None
    first, second = between
    return (
        joined,
        re.compile(rf"{_SPACE_RUN}{_phrase(second)}{_SPACE_RUN}", re.IGNORECASE),
        re.compile(rf"(?<!{_LETTER}){_phrase(first)}{_SPACE_RUN}$", re.IGNORECASE),
    )


def _ascending(low: str, high: str) -> bool:
    try:
        return Decimal(low) < Decimal(high)
    except InvalidOperation:
        return False


def word_ranges(text: str, language: str, tokens: Sequence[Token]) -> list[Token]:
    """``tokens`` with two numbers joined by a range word made one range: "2 à 4",
    "2 bis 4", "between 2 and 4". Only two plain numbers next to each other, the first
    lower ("de 10 à 5 mg" is a change, not a range)."""
    joined, conjunction, before = _range_patterns(language)
    if joined is None and conjunction is None:
        return list(tokens)
    found: list[Token] = []
    index = 0
    while index < len(tokens):
        token = tokens[index]
        following = tokens[index + 1] if index + 1 < len(tokens) else None
        if (
            following is not None
            and token.kind == following.kind == "number"
            and _ascending(token.value, following.value)
        ):
            gap = text[token.end : following.start]
            if (joined is not None and joined.fullmatch(gap)) or (
                conjunction is not None
                and before is not None
                and conjunction.fullmatch(gap)
                and before.search(text, max(0, token.start - 40), token.start)
            ):
                found.append(
                    Token(
                        "range",
                        f"{token.value}–{following.value}",
                        text[token.start : following.end],
                        token.start,
                        following.end,
                        parts=(token.value, following.value),
                    )
                )
                index += 2
                continue
        found.append(token)
        index += 1
    return found


def facts(text: str, language: str) -> list[Token]:
    """Dates, then numbers, percentages and ranges, outside contacts (which have digits)."""
    skip = contacts(text)
    found_dates = dates(text, language, skip=skip)
    found_numbers = word_ranges(text, language, numbers(text, language, skip=[*skip, *found_dates]))
    return sorted([*found_dates, *found_numbers], key=lambda t: t.start)


# --- quantities: numbers with their units and signs ---------------------------------------

_ALL_SYMBOLS = sorted({*SYMBOLS, *SCALED_SYMBOLS}, key=lambda s: (-len(s), s))
# A unit ends its word: never the "d" of the French "4 d'issue" nor the "l" of "l'an".
_UNIT_END = rf"(?!{_LETTER}|['\u2019])"
_SYMBOL = re.compile("(?:" + "|".join(re.escape(s) for s in _ALL_SYMBOLS) + rf"){_UNIT_END}")
_WORD_UNIT = re.compile(rf"(?:{_LETTER}|\u00ad|\u2060)+(?:\.|{_UNIT_END})")
_LETTERS = re.compile(rf"{_LETTER}+")
_DENOMINATOR_NUMBER = re.compile(rf"(\d+(?:[.,]\d+)?)[{_SPACES}]?")
_SUPERSCRIPTS = str.maketrans("⁰¹²³⁴⁵⁶⁷⁸⁹⁻", "0123456789-")
_SCIENTIFIC = re.compile(
    rf"[{_SPACES}]?[×x·*][{_SPACES}]?10(?:\^(?P<caret>[-−]?\d{{1,3}})|(?P<sup>⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]{{1,3}}))"
)
_POWER = re.compile(r"⁻?[⁰¹²³⁴⁵⁶⁷⁸⁹]{1,3}")
_SIGN_SYMBOL_BEFORE = re.compile(rf"(<=|>=|=<|=>|[<>≤≥⩽⩾≦≧])[{_SPACES}]*$")
_INVISIBLE = "\u00ad\u2060"


@lru_cache(maxsize=64)
def _unit_table(language: str) -> tuple[dict[str, str], re.Pattern[str] | None]:
    """The unit words of ``language``, and a pattern for those that are not one plain
    word: "pour cent", "fil-mija", "j.m."."""
    words = unit_words(language)
    phrases = sorted(
        (w for w in words if re.search(r"[ -]|\.(?!$)", w)), key=lambda w: (-len(w), w)
    )
    pattern = (
        re.compile(rf"(?:{'|'.join(_phrase(w) for w in phrases)})(?!{_LETTER})", re.IGNORECASE)
        if phrases
        else None
    )
    return words, pattern


@lru_cache(maxsize=64)
def _filler(language: str) -> re.Pattern[str] | None:
    fillers = UNIT_FILLERS.get(language.split("_")[0].split("-")[0], ())
    if not fillers:
        return None
    alternatives = "|".join(
        re.escape(f) if f.startswith("-") else rf"[{_SPACES}]{re.escape(f)}" for f in fillers
    )
    return re.compile(rf"(?:{alternatives})(?=[{_SPACES}])", re.IGNORECASE)


@lru_cache(maxsize=64)
def _sign_pattern(language: str, likely: bool = False) -> re.Pattern[str] | None:
    table = likely_sign_words(language) if likely else sign_words(language)
    phrases = sorted(table, key=lambda w: (-len(w), w))
    if not phrases:
        return None
    alternatives = "|".join(_phrase(p) for p in phrases)
    return re.compile(rf"(?<!{_LETTER})({alternatives}){_SPACE_RUN}$", re.IGNORECASE)


def _folded(text: str) -> str:
    return " ".join(text.translate({ord(c): None for c in _INVISIBLE}).split()).casefold()


def _unit_part(text: str, position: int, language: str) -> tuple[str, int, int] | None:
    """(canonical unit, power of ten it scales by, end) of one unit at ``position``."""
    words, phrases = _unit_table(language)
    if phrases is not None:
        match = phrases.match(text, position)
        if match is not None and _folded(match.group(0)) in words:
            return words[_folded(match.group(0))], 0, match.end()
    word = _WORD_UNIT.match(text, position)
    if word is not None:
        folded = _folded(word.group(0))
        if folded in words:
            return words[folded], 0, word.end()
        if folded.endswith(".") and folded[:-1] in words:
            return words[folded[:-1]], 0, word.end() - 1
    symbol = _SYMBOL.match(text, position)
    if symbol is not None:
        written = symbol.group(0)
        if written in SCALED_SYMBOLS:
            unit, power = SCALED_SYMBOLS[written]
            return unit, power, symbol.end()
        return SYMBOLS[written], 0, symbol.end()
    return None


def _compound_unit(text: str, position: int, language: str) -> tuple[str, int, int] | None:
    """The unit of time a compound of the number makes: "65-year-old", "18-vuotiaat",
    "18-jährige", "5-dagarskur", "18letý" (with its start and end)."""
    start = position
    if text.startswith(("-", "\u2011"), start):
        start += 1
    elif not attached_compounds(language):
        return None
    word = _WORD_UNIT.match(text, start)
    if word is None:
        return None
    folded = _folded(word.group(0)).rstrip(".")
    unit = unit_words(language).get(folded)
    if unit is None:
        unit = next((u for stem, u in compound_stems(language) if folded.startswith(stem)), None)
    return (unit, start, word.end()) if unit is not None else None


def _unit_after(text: str, position: int, language: str) -> tuple[str, int, int, int] | None:
    """(canonical unit, power of ten, start, end) of the unit right after a number.

    "10 mg/kg", "14 Tage", "5 pour cent", "30 ml/min/1,73 m²", the "/µl" of
    "1 000 cells/µl" (the word before the slash is what is counted, not the unit), and
    compounds such as "65-year-old" or "18-vuotiaat". A unit of time may also come
    after an ordinal ("var 3:e månad"), inside a compound ("12 hoitoviikon") or after
    one word ("12 premières semaines").
    """
    compound = _compound_unit(text, position, language)
    if compound is not None:
        unit, start, end = compound
        return unit, 0, start, end
    start = position
    filler = _filler(language)
    if filler is not None:
        match = filler.match(text, start)
        if match is not None:
            start = match.end()
    if start < len(text) and text[start] in _SPACES + "\n":
        start += 1
    first = _unit_part(text, start, language)
    parts: list[str] = []
    power = 0
    if first is not None:
        unit, power, end = first
        parts.append(unit)
    else:
        time_unit = _time_unit_near(text, position, start, language)
        if time_unit is not None:
            unit, start, end = time_unit
            return unit, 0, start, end
        counted = _LETTERS.match(text, start)
        end = counted.end() if counted is not None else start
        if counted is None and start != position:
            return None  # "/µl" only right after the number
    while text.startswith("/", end):
        at = end + 1
        if text.startswith("\u2060", at):
            at += 1
        number = _DENOMINATOR_NUMBER.match(text, at)
        part = _unit_part(text, number.end() if number else at, language)
        if part is None and number is not None:
            number, part = None, _unit_part(text, at, language)
        if part is None:
            break
        scale = number.group(1).replace(",", ".") if number is not None else ""
        parts.append(f"/{scale} {part[0]}" if scale else f"/{part[0]}")
        power += part[1]
        end = part[2]
    if not parts:
        return None
    return "".join(parts), power, start, end


@lru_cache(maxsize=64)
def _time_words(language: str) -> tuple[dict[str, str], tuple[int, ...]]:
    """The words of units of time of five letters or more (the ends of compounds), and
    their lengths, longest first."""
    words = {w: u for w, u in unit_words(language).items() if u in TIME_UNITS and len(w) >= 5}
    return words, tuple(sorted({len(w) for w in words}, reverse=True))


@lru_cache(maxsize=64)
def _ordinal(language: str) -> re.Pattern[str] | None:
    mark = ordinal_mark(language)
    return re.compile(rf"(?:{mark})[{_SPACES}]") if mark else None


def _time_part(text: str, position: int, language: str) -> tuple[str, int] | None:
    """A unit of time at ``position``: a word of the language, or a compound ending in
    one (compounding languages only)."""
    part = _unit_part(text, position, language)
    if part is not None:
        return (part[0], part[2]) if part[0] in TIME_UNITS else None
    if not compounds_with_units(language):
        return None
    word = _WORD_UNIT.match(text, position)
    if word is None:
        return None
    folded = _folded(word.group(0)).rstrip(".")
    words, lengths = _time_words(language)
    for length in lengths:
        if len(folded) >= length + 3 and folded[-length:] in words:
            return words[folded[-length:]], position + len(word.group(0).rstrip("."))
    return None


def _time_unit_near(
    text: str, number_end: int, start: int, language: str
) -> tuple[str, int, int] | None:
    """(unit, start, end) of a unit of time that is not right after the number: after an
    ordinal ("3:e månad", "3. Monat", "3rd month"), as the end of a compound
    ("12 hoitoviikon") or one word further ("12 premières semaines")."""
    ordinal = _ordinal(language)
    if ordinal is not None:
        mark = ordinal.match(text, number_end)
        if mark is not None:
            part = _unit_part(text, mark.end(), language)
            if part is not None and part[0] in TIME_UNITS:
                return part[0], mark.end(), part[2]
    if start == number_end:
        return None  # a space first: "12 weeks", not "12weeks"
    found = _time_part(text, start, language)
    if found is not None:
        return found[0], start, found[1]
    word = _LETTERS.match(text, start)
    if word is None or word.end() - start > 20 or not text.startswith(" ", word.end()):
        return None
    found = _time_part(text, word.end() + 1, language)
    return (found[0], start, found[1]) if found is not None else None


def _scaled(value: str, power: int) -> str:
    """``value`` (a number or a range "a–b") times ten to the ``power``."""
    if not power:
        return value
    out = []
    for part in value.split("–"):
        try:
            out.append(format((Decimal(part) * (Decimal(10) ** power)).normalize(), "f"))
        except InvalidOperation:
            return value
    return "–".join(out)


def _sign_before(
    text: str, start: int, language: str, *, likely: bool = False
) -> tuple[str, int] | None:
    """(canonical sign, where it starts) of the comparison right before ``start``; with
    ``likely``, of a word that is one most of the time."""
    if not likely:
        symbol = _SIGN_SYMBOL_BEFORE.search(text, max(0, start - 8), start)
        if symbol is not None:
            return SIGN_SYMBOLS[symbol.group(1)], symbol.start(1)
    pattern = _sign_pattern(language, likely)
    if pattern is None:
        return None
    words = pattern.search(text, max(0, start - 48), start)
    if words is None:
        return None
    table = likely_sign_words(language) if likely else sign_words(language)
    return table[_folded(words.group(1))], words.start(1)


def quantities(text: str, language: str) -> list[Token]:
    """:func:`facts`, each number and range with its comparison sign and unit.

    "< 0,5 × 10⁹/l" is the number ``500000000`` with the sign ``<`` and the unit ``/L``;
    "14 Tage" the number ``14`` in ``day``; "5 Prozent" the percentage ``5%``. The
    scanning looks a few characters around each number: linear in the text's length.
    """
    found: list[Token] = []
    covered = 0
    for token in facts(text, language):
        if token.start < covered:
            continue  # a number inside the previous one's unit: the 10 of "× 10⁹"
        if token.kind not in ("number", "range", "percent"):
            found.append(token)
            covered = token.end
            continue
        value, end, power = token.value, token.end, 0
        scientific = _SCIENTIFIC.match(text, end)
        power_only = _POWER.match(text, end) if token.text == "10" else None
        if scientific is not None:
            exponent = scientific.group("caret") or scientific.group("sup")
            power = int(exponent.translate(_SUPERSCRIPTS).replace("−", "-"))
            end = scientific.end()
        elif power_only is not None:
            value, power = "1", int(power_only.group(0).translate(_SUPERSCRIPTS))
            end = power_only.end()
        kind, unit, unit_text = token.kind, "", ""
        if kind != "percent":
            after = _unit_after(text, end, language)
            if after is not None:
                unit, unit_power, unit_start, end = after
                power += unit_power
                unit_text = text[unit_start:end]
            if unit == "%" and kind == "number":
                kind, value, unit = "percent", f"{value}%", ""
        start, sign, sign_text, likely, likely_text = token.start, "", "", "", ""
        before = _sign_before(text, start, language)
        if before is not None:
            sign, start = before
            sign_text = text[start : _sign_end(text, start, token.start)]
        else:
            before = _sign_before(text, start, language, likely=True)
            if before is not None:
                likely = before[0]
                likely_text = text[before[1] : _sign_end(text, before[1], token.start)]
        found.append(
            dataclasses.replace(
                token,
                kind=kind,
                value=_scaled(value, power) if kind != "percent" else value,
                number=token if not power and kind == token.kind else None,
                text=text[start:end],
                start=start,
                end=end,
                sign=sign,
                sign_text=sign_text,
                likely_sign=likely,
                likely_sign_text=likely_text,
                unit=unit,
                unit_text=unit_text,
            )
        )
        covered = end
    return found


def _sign_end(text: str, start: int, number: int) -> int:
    """Where the sign written from ``start`` ends (the spaces before the number left out)."""
    end = number
    while end > start and text[end - 1] in _SPACES + "\n\t":
        end -= 1
    return end


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
