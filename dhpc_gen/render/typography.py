"""The letter's text typeset as a printer would: no-break spaces, joiners, soft hyphens.

Authors type ordinary spaces; the rendered letter must still never end a line between
a number and its unit ("500 mg"), inside a digit group ("1 204"), a range ("10–14"), a
comparison ("< 30"), a date or a telephone number, and French puts its no-break space
before ``: ; ! ?`` and inside « ». Long words are given soft hyphens (U+00AD) where
their language allows a break, never in product and substance names, the names of
companies and people, acronyms, e-mail addresses, URLs or numbers.

:func:`typeset_html` is applied once to the letter's HTML: it changes only the text
between the tags of the body (never a tag, an attribute or the head), so boilerplate,
regulator blocks and content are treated alike and the content files stay as typed.
Numbers, dates and contacts are found by the tokeniser ``dhpc check`` compares
translations with (:mod:`dhpc_gen.review.extract`), so both agree on what a number is;
the characters added here are ones that tokeniser reads through.
"""

from __future__ import annotations

import html as htmllib
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

from markupsafe import escape

from dhpc_gen.content.model import Dhpc
from dhpc_gen.render.hyphenation import hyphenator
from dhpc_gen.render.long_words import LONGER_THAN_A_LINE
from dhpc_gen.review.extract import Token, contacts, dates, numbers

NBSP = "\u00a0"
NARROW_NBSP = "\u202f"
WORD_JOINER = "\u2060"
SOFT_HYPHEN = "\u00ad"

MIN_WORD = 6
"""Shorter words are never hyphenated."""

_SPACE = " \t\n\r\u00a0\u202f\u2009"
_SPACE_RUN = re.compile(rf"[{_SPACE}]+")

# Units of measure a number is kept with (case matters: "m" metre, "M" molar).
_UNITS = sorted(
    {
        *("mg", "g", "kg", "µg", "μg", "mcg", "ng", "pg", "t"),
        *("mmol", "µmol", "μmol", "nmol", "pmol", "mol", "mEq", "M", "mM"),
        *("l", "L", "ml", "mL", "dl", "dL", "cl", "µl", "μl", "nl"),
        *("IU", "IE", "I.E.", "KY", "U", "E", "kU", "MU", "Mio.", "Mrd."),
        *("mm", "cm", "m", "km", "µm", "μm", "nm", "m²", "m2", "cm²", "mm²", "m³", "cm³"),
        *("mmHg", "kPa", "Pa", "bar", "°C", "°", "K", "%", "‰", "ppm"),
        *("h", "min", "s", "ms", "µs", "d", "tim", "vrk", "Std.", "sek", "mån"),
        *("Hz", "kHz", "MHz", "Gy", "mGy", "Sv", "mSv", "µSv", "Bq", "kBq", "MBq", "GBq"),
        *("kcal", "cal", "kJ", "J", "W", "kW", "V", "mV", "A", "mA", "Ω", "dpt"),
        *("x", "×", "€", "EUR", "SEK", "kr", "st", "kpl", "Stk.", "pcs"),
    },
    key=lambda unit: (-len(unit), unit),
)
_UNIT = "|".join(re.escape(unit) for unit in _UNITS)
_UNIT_AFTER = re.compile(
    rf"[{_SPACE}]?(?:{_UNIT})(?:/(?:\d+(?:[.,]\d+)?[{_SPACE}]?)?(?:{_UNIT}))*(?![^\W\d_])"
)

# Words of time and count kept with their number, as each language writes them; a
# Finnish entry is a stem that takes case endings ("päivää", "päivän").
_COUNTED_WORDS = {
    "sv": "dag dagar dagars dygn vecka veckor veckors månad månader månaders år års timme "
    "timmar minut minuter sekund sekunder gång gånger doser tabletter",
    "de": "Tag Tage Tagen Tages Woche Wochen Monat Monate Monaten Jahr Jahre Jahren Stunde "
    "Stunden Minute Minuten Sekunde Sekunden Mal Dosen Tabletten",
    "fr": "jour jours semaine semaines mois an ans année années heure heures minute minutes "
    "seconde secondes fois doses comprimés",
    "nl": "dag dagen week weken maand maanden jaar jaren uur uren minuut minuten seconde "
    "seconden keer maal doses tabletten",
    "en": "day days week weeks month months year years hour hours minute minutes second "
    "seconds times doses tablets",
}
_COUNTED_STEMS = {
    "fi": "päiv vuorokau viiko viikk kuukau vuo tunt tunn minuut sekun kert kerr annos tablet",
}


@lru_cache(maxsize=64)
def _counted(language: str) -> tuple[frozenset[str], tuple[str, ...]]:
    words = _COUNTED_WORDS.get(language, "").split()
    return frozenset(words) | {w.lower() for w in words}, tuple(
        _COUNTED_STEMS.get(language, "").split()
    )


_COUNTED_AFTER = re.compile(rf"[{_SPACE}]([^\W\d_]+)")
_SIGN_BEFORE = re.compile(rf"([<>≤≥±~≈=×])([{_SPACE}]*)$")
_SPACE_BEFORE_SIGN = re.compile(rf"[\w)]([{_SPACE}]+)$")
_DIGIT_GROUPS = re.compile(rf"(?<![\d.,])\d{{1,3}}(?:[{_SPACE}]\d{{3}})+(?![\d])")
_DASHES = "-\u2010\u2011\u2012\u2013\u2014\u2212"
_WORD = re.compile(r"[^\W\d_]+")
_DIGIT = re.compile(r"\d")

# French: a no-break space before these marks (narrow before ; ! ?), inside « ».
_FR_BEFORE = re.compile(rf"(?<=[\w)\]»’%.…])([{_SPACE}]*)([;!?:»])")
_FR_AFTER_OPENING = re.compile(rf"«([{_SPACE}]*)(?=\S)")


class _Edits:
    """Changes to a text as replacements of single characters and insertions before them."""

    def __init__(self, text: str) -> None:
        self.text = text
        self.chars = list(text)
        self.before = [""] * (len(text) + 1)

    def join_space(self, start: int, end: int, joiner: str = NBSP) -> None:
        """Make the whitespace in ``text[start:end]`` one unbreakable space."""
        for run in _SPACE_RUN.finditer(self.text, start, end):
            first = run.start()
            if self.text[first] not in (NBSP, NARROW_NBSP) or joiner == NARROW_NBSP:
                self.chars[first] = joiner
            for index in range(first + 1, run.end()):
                self.chars[index] = ""

    def insert(self, index: int, text: str) -> None:
        if not self.before[index].endswith(text):
            self.before[index] += text

    def slice(self, start: int, end: int) -> str:
        return "".join(self.before[i] + self.chars[i] for i in range(start, end))

    def result(self) -> str:
        return self.slice(0, len(self.text)) + self.before[len(self.text)]


def _overlaps(start: int, end: int, spans: Iterable[tuple[int, int]]) -> bool:
    return any(s < end and start < e for s, e in spans)


def _keep_with_number(edits: _Edits, token: Token, language: str) -> None:
    """Join the number ``token`` with its unit, counted word or comparison sign."""
    text = edits.text
    edits.join_space(token.start, token.end)
    if token.kind == "range":
        for index in range(token.start, token.end):
            if text[index] in _DASHES:
                edits.insert(index + 1, WORD_JOINER)
    unit = _UNIT_AFTER.match(text, token.end)
    if unit is not None:
        edits.join_space(unit.start(), unit.end())
        for index in range(unit.start(), unit.end()):
            if text[index] == "/":
                edits.insert(index + 1, WORD_JOINER)
    else:
        counted = _COUNTED_AFTER.match(text, token.end)
        words, stems = _counted(language)
        if counted is not None:
            word = counted.group(1).lower()
            if word in words or (stems and word.startswith(stems)):
                edits.join_space(token.end, counted.start(1))
    sign = _SIGN_BEFORE.search(text, max(0, token.start - 4), token.start)
    if sign is not None:
        edits.join_space(sign.start(2), sign.end(2))
        if sign.group(1) in "=×":
            before = _SPACE_BEFORE_SIGN.search(text, max(0, sign.start(1) - 4), sign.start(1))
            if before is not None:
                edits.join_space(before.start(1), before.end(1))


def _french(edits: _Edits, skip: Sequence[tuple[int, int]]) -> None:
    text = edits.text
    for match in _FR_BEFORE.finditer(text):
        mark = match.group(2)
        position = match.start(2)
        if _overlaps(match.start(), match.end(), skip):
            continue
        after = text[position + 1 : position + 2]
        if mark == ":" and (after[:1].isdigit() or after[:1] == "/"):
            continue  # 14:30, http://
        joiner = NARROW_NBSP if mark in ";!?" else NBSP
        if match.group(1):
            edits.join_space(match.start(1), match.end(1), joiner)
        else:
            edits.insert(position, joiner)
    for match in _FR_AFTER_OPENING.finditer(text):
        if _overlaps(match.start(), match.end(), skip):
            continue
        if match.group(1):
            edits.join_space(match.start(1), match.end(1))
        else:
            edits.insert(match.end(), NBSP)


@dataclass(frozen=True)
class Typesetter:
    """Typesetting rules of one letter: its language and the names never hyphenated."""

    language: str
    protected: tuple[str, ...] = ()
    """Casefolded words (three letters or more) that are never hyphenated, nor words
    that start with one ("Lemtradan" after "Lemtrada")."""

    @classmethod
    def for_names(cls, language: str, names: Iterable[str]) -> Typesetter:
        words = {w.casefold() for name in names for w in _WORD.findall(name) if len(w) >= 3}
        return cls(language, tuple(sorted(words)))

    def text(self, text: str, hyphenate: Sequence[bool] | bool = True) -> str:
        """``text`` typeset; ``hyphenate`` says, per character or for all, where
        soft hyphens may go."""
        return self._edits(text, hyphenate).result()

    def _edits(self, text: str, hyphenate: Sequence[bool] | bool) -> _Edits:
        edits = _Edits(text)
        base = self.language.split("-")[0].split("_")[0]
        found = contacts(text)
        spans = [(t.start, t.end) for t in found]
        for token in found:
            if token.kind == "phone":
                edits.join_space(token.start, token.end)
        if _DIGIT.search(text):  # dates and numbers have digits: most texts have none
            found_dates = dates(text, base, skip=found)
            for token in found_dates:
                edits.join_space(token.start, token.end)
            spans += [(t.start, t.end) for t in found_dates]  # "huhtikuuta" stays whole too
            for token in numbers(text, base, skip=[*found, *found_dates]):
                _keep_with_number(edits, token, base)
            for match in _DIGIT_GROUPS.finditer(text):
                if not _overlaps(match.start(), match.end(), spans):
                    edits.join_space(match.start(), match.end())
        if base == "fr":
            _french(edits, spans)
        if hyphenate:
            mask = [hyphenate] * len(text) if isinstance(hyphenate, bool) else hyphenate
            self._hyphenate(edits, mask, spans)
        return edits

    def _hyphenate(
        self, edits: _Edits, mask: Sequence[bool], skip: Sequence[tuple[int, int]]
    ) -> None:
        positions = hyphenator(self.language)
        if positions is None:
            return
        text = edits.text
        for match in _WORD.finditer(text):
            word = match.group(0)
            start, end = match.span()
            if len(word) < MIN_WORD or not all(mask[start:end]):
                continue
            if len(word) > LONGER_THAN_A_LINE:
                continue  # no language's word; break_long_words gives it break points
            if any(c.isupper() for c in word[1:]):
                continue  # acronyms, LEMTRADA, MabThera
            neighbours = text[start - 1 : start] + text[end : end + 1]
            if any(c.isdigit() or c in "@/_" for c in neighbours):
                continue  # 10mg, and/or
            if text[start - 1 : start] == "." or re.match(r"\.\w", text[end : end + 2]):
                continue  # parts of names such as file.name or bl.a
            if word.casefold().startswith(self.protected):
                continue
            if _overlaps(start, end, skip):
                continue
            for point in positions(word):
                edits.insert(start + point, SOFT_HYPHEN)


# --- HTML ---------------------------------------------------------------------------------

_TAG = re.compile(r"<!--.*?-->|<[^>]*>", re.DOTALL)
_TAG_NAME = re.compile(r"<\s*(/?)\s*([A-Za-z][A-Za-z0-9-]*)")
_INLINE = frozenset({"a", "strong", "em", "b", "i", "span", "sub", "sup", "small", "abbr"})
_VOID = frozenset({"br", "img", "meta", "link", "hr", "input", "wbr", "col", "area", "source"})
_RAW = frozenset({"head", "style", "script", "title", "pre", "code", "textarea"})
_HYPHENATED = frozenset({"p", "li", "dd", "td", "th", "blockquote"})
"""Blocks whose text is hyphenated: paragraphs and list items, never headings, the
address blocks or the letterhead."""
_NOT_HYPHENATED = frozenset({"h1", "h2", "h3", "h4", "h5", "h6", "address", "a"})
NO_HYPHENS = "no-hyphens"
"""The class that keeps an element's words whole (the signatures)."""
_CLASS = re.compile(r"""\sclass\s*=\s*["']([^"']*)["']""")


def typeset_html(html: str, typesetter: Typesetter) -> str:
    """``html`` with the text of its body typeset; tags and attributes stay as they are."""
    parts = _TAG.split(html)
    tags = _TAG.findall(html)
    out: list[str] = []
    stack: list[str] = []
    run: list[tuple[int, bool]] = []  # (index into out, may hyphenate)

    def flush() -> None:
        if not run:
            return
        texts = [htmllib.unescape(out[index]) for index, _ in run]
        joined = "".join(texts)
        if joined.strip():
            pieces = tuple(
                (allowed, len(text)) for (_, allowed), text in zip(run, texts, strict=True)
            )
            edits = _typeset_run(typesetter, joined, pieces)
            position = 0
            for (index, _), text in zip(run, texts, strict=True):
                new = edits.slice(position, position + len(text))
                if position + len(text) == len(joined):
                    new += edits.before[len(joined)]
                if new != text:
                    out[index] = str(escape(new))
                position += len(text)
        run.clear()

    for number, text in enumerate(parts):
        if text:
            if any(_name(name) in _RAW for name in stack):
                out.append(text)
            else:
                hyphenated = _may_hyphenate(stack)
                out.append(text)
                run.append((len(out) - 1, hyphenated))
        if number < len(tags):
            tag = tags[number]
            name_match = _TAG_NAME.match(tag)
            name = name_match.group(2).lower() if name_match else ""
            closing = bool(name_match and name_match.group(1))
            if name not in _INLINE:
                flush()
            if name_match and not tag.startswith("<!"):
                if closing:
                    if any(_name(open_) == name for open_ in stack):
                        while stack and _name(stack.pop()) != name:
                            pass
                elif name not in _VOID and not tag.endswith("/>"):
                    classes = _CLASS.search(tag)
                    kept = classes is not None and NO_HYPHENS in classes.group(1).split()
                    stack.append(f"{name}.{NO_HYPHENS}" if kept else name)
            out.append(tag)
    flush()
    return "".join(out)


@lru_cache(maxsize=4096)
def _typeset_run(typesetter: Typesetter, text: str, pieces: tuple[tuple[bool, int], ...]) -> _Edits:
    """The edits of one run of text whose pieces (may hyphenate, length) are ``pieces``.

    Kept per process: a letter built again after an edit typesets only the paragraphs
    that changed. The edits are only read afterwards.
    """
    mask = [allowed for allowed, length in pieces for _ in range(length)]
    return typesetter._edits(text, mask if any(mask) else False)


def _name(entry: str) -> str:
    return entry.partition(".")[0]


def _may_hyphenate(stack: Sequence[str]) -> bool:
    if any(name in _NOT_HYPHENATED or name.endswith(NO_HYPHENS) for name in stack):
        return False
    block = next((_name(name) for name in reversed(stack) if _name(name) not in _INLINE), "")
    return block in _HYPHENATED


def letter_typesetter(dhpc: Dhpc, language: str) -> Typesetter:
    """The rules of ``dhpc``'s letter in ``language``: its names are never hyphenated."""
    meta = dhpc.meta
    names: list[str] = [p.name for p in meta.products]
    for text in dhpc.texts.values():
        names += text.active_substances
        names += text.address_sources
    names += [m.name for m in meta.mahs]
    names += [s.name for s in meta.signatories] + [s.company for s in meta.signatories]
    names += [*meta.authorities, *meta.address_sources]
    return Typesetter.for_names(language, names)
