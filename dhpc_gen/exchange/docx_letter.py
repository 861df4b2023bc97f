"""From the parts of a Word letter to the content's fields and facts.

:func:`read_letter` turns a :class:`~.docx_layout.Layout` into the text fields of a
``<lang>.yaml`` (by field path, in the safe markup) and the language-independent facts
``dhpc.yaml`` holds (date, products, companies, signatories, address sources), each with
the paragraphs it came from. The national reporting block is compared with the
registry's, never copied: every difference is a :class:`Finding`.
"""

from __future__ import annotations

import datetime as dt
import difflib
import re
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Sequence
from dataclasses import dataclass, field, replace
from functools import lru_cache
from typing import Any, NamedTuple

from dhpc_gen.errors import DhpcError
from dhpc_gen.exchange.docx_layout import (
    BACKGROUND,
    KIND,
    PHONE,
    SALUTATION,
    Layout,
    Lexicon,
    excerpt,
    normalise,
    strip_item_marker,
)
from dhpc_gen.exchange.docx_markup import Block, Span, blocks_markup, to_markup
from dhpc_gen.exchange.docx_markup import normalise as spans_normal
from dhpc_gen.exchange.docx_read import DocParagraph
from dhpc_gen.regulators import registry
from dhpc_gen.regulators.registry import Regulator
from dhpc_gen.render.letter import title_key

INLINE_KEYS = ("active_substances", "key_message", "title", "salutation", "opening", "summary")
"""Fields printed as one line (inline markup only); the others may hold ``- `` lists."""


@dataclass(frozen=True)
class Finding:
    """Something the user should know about the document, at a paragraph (0: the whole)."""

    paragraph: int
    message: str
    kind: str = "note"
    """``note``; ``meta``: a fact that differs from ``dhpc.yaml`` (which is not changed);
    ``registry``: the reporting block differs from the registry's."""

    def __str__(self) -> str:
        return f"paragraph {self.paragraph}: {self.message}" if self.paragraph else self.message


@dataclass(frozen=True)
class Company:
    name: str
    email: str | None
    phone: str | None
    department: str | None
    paragraph: int


@dataclass(frozen=True)
class Person:
    name: str
    title: str | None
    company: str | None
    paragraph: int


@dataclass(frozen=True)
class Product:
    name: str
    triangle: bool


@dataclass
class Letter:
    """What the document says, in the content's terms."""

    language: str
    fields: dict[str, str] = field(default_factory=dict)
    """Field path → text in the safe markup, in the order of the content model."""
    places: dict[int, str] = field(default_factory=dict)
    """Paragraph number → the field path or part of the letter it belongs to."""
    title: str = ""
    title_paragraph: int = 0
    substances: list[str] = field(default_factory=list)
    """One per product of ``products``."""
    products: list[Product] = field(default_factory=list)
    products_known: bool = False
    """``products`` are those of ``dhpc.yaml``, in its order (the title names each once)."""
    title_order: list[int] = field(default_factory=list)
    """Indices of ``products`` in the order the title names them."""
    key_message: str | None = None
    date: dt.date | None = None
    date_paragraph: int = 0
    companies: list[Company] = field(default_factory=list)
    people: list[Person] = field(default_factory=list)
    address_sources: list[str] | None = None
    address_paragraph: int = 0
    monitoring: bool = False
    salutation_is_standard: bool = True
    background_heading_is_standard: bool = True
    reporting_paragraphs: tuple[int, ...] = ()
    findings: list[Finding] = field(default_factory=list)

    def note(self, paragraph: DocParagraph | int, message: str, kind: str = "note") -> None:
        number = paragraph if isinstance(paragraph, int) else paragraph.number
        self.findings.append(Finding(number, message, kind))

    def place(self, paragraph: DocParagraph, name: str) -> None:
        for number in paragraph.numbers:
            self.places.setdefault(number, name)


# --- spans of paragraphs -----------------------------------------------------------------


def _lines(spans: Sequence[Span]) -> list[list[Span]]:
    lines: list[list[Span]] = [[]]
    for span in spans:
        for index, part in enumerate(span.text.split("\n")):
            if index:
                lines.append([])
            if part:
                lines[-1].append(replace(span, text=part))
    return [line for line in lines if "".join(s.text for s in line).strip()]


def _cut(spans: Sequence[Span], count: int) -> list[Span]:
    """``spans`` without their first ``count`` characters."""
    out = []
    for span in spans:
        if count >= len(span.text):
            count -= len(span.text)
            continue
        out.append(replace(span, text=span.text[count:]))
        count = 0
    return out


def _unmarked(spans: Sequence[Span]) -> tuple[list[Span], bool]:
    text = "".join(s.text for s in spans)
    lead = len(text) - len(text.lstrip())
    rest, typed = strip_item_marker(text[lead:])
    if not typed:
        return list(spans), False
    return _cut(spans, len(text) - len(rest)), True


def paragraph_blocks(paragraph: DocParagraph) -> list[Block]:
    """The paragraph as blocks: its text, and list items typed after line breaks."""
    blocks: list[Block] = []
    for index, line in enumerate(_lines(paragraph.spans)):
        line, typed = _unmarked(line)
        item = typed or (paragraph.list_item and index == 0)
        if index and not typed and blocks:
            previous = blocks[-1]
            blocks[-1] = Block((*previous.spans, Span(" "), *line), previous.item)
        else:
            blocks.append(Block(tuple(line), item))
    return [Block(spans_normal(b.spans), b.item) for b in blocks if spans_normal(b.spans)]


def _unbold(spans: Iterable[Span]) -> list[Span]:
    return [replace(span, bold=False) for span in spans]


def inline_text(paragraph: DocParagraph, letter: Letter, *, heading: bool = False) -> str:
    """One line of markup for a title, heading, bullet or the opening."""
    spans: list[Span] = []
    for index, line in enumerate(_lines(paragraph.spans)):
        line, _ = _unmarked(line)
        if index:
            spans.append(Span(" "))
        spans.extend(line)
    if heading or (paragraph.bold and paragraph.level is not None):
        spans = _unbold(spans)
    text, kept = to_markup(spans)
    if not kept:
        letter.note(paragraph, "some bold or italic could not be kept as markup (check it)")
    return text


def _block_fields(
    paragraphs: Sequence[DocParagraph], letter: Letter, path: str
) -> list[tuple[str, list[DocParagraph]]]:
    """Paragraph fields: list items join the paragraph before them, as ``- `` lines."""
    groups: list[tuple[list[Block], list[DocParagraph]]] = []
    for paragraph in paragraphs:
        blocks = paragraph_blocks(paragraph)
        if paragraph.images:
            letter.note(paragraph, f"{paragraph.images[0]} was left out (the letter prints text)")
        if not blocks:
            continue
        if blocks[0].item and groups:
            groups[-1][0].extend(blocks)
            groups[-1][1].append(paragraph)
        else:
            groups.append((list(blocks), [paragraph]))
    fields = []
    for index, (blocks, sources) in enumerate(groups):
        text, kept = blocks_markup(blocks)
        if not kept:
            letter.note(sources[0], "some bold or italic could not be kept as markup (check it)")
        name = f"{path}[{index}]"
        for source in sources:
            letter.place(source, name)
        fields.append((text, sources))
    return fields


# --- the title ---------------------------------------------------------------------------


class Title(NamedTuple):
    """What a title in the template's form says."""

    substances: list[str]
    """One per product, in the order of ``products``."""
    products: list[Product]
    key_message: str
    known: bool
    """The products are the ``known`` ones asked for, each named once, in their order."""
    order: list[int]
    """Indices of ``products`` in the order the title names them."""


_AFTER_GROUP = re.compile(r"(\s*▼)?\s*(?:(,)\s*|\Z)")
"""After a product list's ``)``: a ▼ typed after it, then the next substance or the end."""
_GENERIC_SPLIT = re.compile(r"(?<!\d),\s*|,\s+")
"""Product names in a list: ``A, B``; a decimal comma (``2,5``) stays in its name."""
_BUDGET = 20_000
"""Readings tried per title at most: a hostile title cannot make the parse run for long."""

_Group = tuple[str, list[tuple[Any, bool]]]
"""A substance as printed and its products (a known product's index, or a name) with ▼."""
_Lists = Callable[[str], Iterator[list[tuple[Any, bool]]]]


def _splits(text: str) -> Iterator[tuple[str, str]]:
    """Where the products end and the key message begins: ``…): key``, leftmost first."""
    for colon in re.finditer(":", text):
        head = text[: colon.start()].rstrip()
        key = text[colon.end() :].strip()
        if key and re.search(r"\)\s*▼?\Z", head):
            yield head, key


def _readings(head: str, lists: _Lists, budget: list[int]) -> Iterator[list[_Group]]:
    """Every way ``head`` reads as ``substance (products), substance (products)…``."""

    def from_(position: int) -> Iterator[list[_Group]]:
        opens = [m.start() for m in re.finditer(r"\(", head) if m.start() > position]
        for open_ in opens:
            substance = head[position:open_].strip()
            if not substance:
                continue
            for close in (m.start() for m in re.finditer(r"\)", head) if m.start() > open_):
                budget[0] -= 1
                if budget[0] < 0:
                    return
                after = _AFTER_GROUP.match(head, close + 1)
                if after is None:
                    continue
                trailing = after.group(1) is not None
                for items in lists(head[open_ + 1 : close]):
                    group = (substance, [(item, tri or trailing) for item, tri in items])
                    if after.group(2) is None:
                        yield [group]
                    else:
                        for rest in from_(after.end()):
                            yield [group, *rest]

    yield from from_(0)


def _known_lists(known: Sequence[str], budget: list[int]) -> _Lists:
    """Product lists made of the ``known`` names (as the title prints them: in capitals)."""
    patterns = [
        re.compile(
            r"\s*"
            + r"\s+".join(re.escape(word) for word in name.upper().split())
            + r"(\s*▼)?\s*(?:(,)|\Z)",
            re.IGNORECASE,
        )
        for name in known
    ]

    def lists(inner: str) -> Iterator[list[tuple[Any, bool]]]:
        def from_(position: int) -> Iterator[list[tuple[Any, bool]]]:
            for index, pattern in enumerate(patterns):
                budget[0] -= 1
                if budget[0] < 0:
                    return
                found = pattern.match(inner, position)
                if found is None:
                    continue
                item = (index, found.group(1) is not None)
                if found.group(2) is None:
                    yield [item]
                else:
                    for rest in from_(found.end()):
                        yield [item, *rest]

        yield from from_(0)

    return lists


def _generic_lists(strict: bool) -> _Lists:
    """Product lists of any names; ``strict``: names in capitals, as the title prints them."""

    def lists(inner: str) -> Iterator[list[tuple[Any, bool]]]:
        items: list[tuple[Any, bool]] = []
        for token in _GENERIC_SPLIT.split(inner):
            name = " ".join(token.replace("▼", " ").split())
            if not name or "(" in name or ")" in name:
                return
            if strict and any(character.islower() for character in name):
                return
            items.append((name, "▼" in token))
        yield items

    return lists


def parse_title(
    text: str, known: Sequence[str] = (), spellings: Sequence[str | None] = ()
) -> Title | None:
    """``Substance (PRODUCT▼, PRODUCT 2), substance (…): key message``, read back.

    The inverse of :func:`dhpc_gen.render.letter.format_title`. With ``known`` (the
    product names of ``dhpc.yaml``) each product is found by its name, so a name may
    hold a comma or parentheses, and the substances come back in ``known``'s order.
    ``spellings`` (the language file's substances, one per known product) are kept
    where the title prints them as they are: the capital the title starts with, and the
    spelling of a second product of a substance, which the title does not show. Without
    ``known``, products are the names in the parentheses, in the title's order.
    """
    splits = list(_splits(text.strip()))
    budget = [_BUDGET]
    if known:
        lists = _known_lists(known, budget)
        for head, key in splits:
            for groups in _readings(head, lists, budget):
                indices = sorted(index for _, items in groups for index, _ in items)
                if indices == list(range(len(known))):
                    return _known_title(groups, known, spellings, key)
    for strict in (True, False):
        for head, key in splits:
            for groups in _readings(head, _generic_lists(strict), budget):
                substances = [substance for substance, items in groups for _ in items]
                products = [Product(name, tri) for _, items in groups for name, tri in items]
                return Title(substances, products, key, False, list(range(len(products))))
    return None


def respell(shown: str, spelling: str | None, *, opens_title: bool) -> str:
    """The substance the title prints first for its products, as the file spells it.

    ``spelling`` (the language file's) is kept where the title prints it as it is: the
    title starts with a capital, the file need not. A new substance at the start of the
    title follows the file's small first letter.
    """
    if spelling is None:
        return shown
    if spelling == shown or (opens_title and spelling[:1].upper() + spelling[1:] == shown):
        return spelling
    if opens_title and spelling[:1].islower() and shown[1:2].islower():
        return shown[:1].lower() + shown[1:]
    return shown


def respell_member(printed: str, spelling: str | None) -> str:
    """The substance of a further product of a substance (the title does not print it)."""
    if spelling is not None and title_key(spelling) == title_key(printed):
        return spelling
    return printed


def _known_title(
    groups: Sequence[_Group], known: Sequence[str], spellings: Sequence[str | None], key: str
) -> Title:
    substances = [""] * len(known)
    triangles = [False] * len(known)

    def spelled(index: int) -> str | None:
        return spellings[index] if index < len(spellings) else None

    for number, (shown, items) in enumerate(groups):
        (first, _), *others = items
        value = respell(shown, spelled(first), opens_title=number == 0)
        substances[first] = value
        for index, _ in others:
            substances[index] = respell_member(value, spelled(index))
        for index, triangle in items:
            triangles[index] = triangle
    products = [Product(name, triangle) for name, triangle in zip(known, triangles, strict=True)]
    order = [index for _, items in groups for index, _ in items]
    return Title(substances, products, key, True, order)


def _spelling(name: str, texts: Sequence[str]) -> str:
    """The product name as the body writes it (the title prints it in capitals)."""
    pattern = re.compile(rf"(?<!\w){re.escape(name)}(?!\w)", re.IGNORECASE)
    seen = Counter(m.group() for text in texts for m in pattern.finditer(text))
    mixed = [(count, spelled) for spelled, count in seen.items() if not spelled.isupper()]
    if mixed:
        return max(mixed)[1]
    return name.title() if name.isupper() and len(name) > 3 else name


# --- dates -------------------------------------------------------------------------------


@lru_cache(maxsize=1)
def _month_names() -> dict[str, int]:
    from babel.dates import get_month_names

    from dhpc_gen.i18n import available_languages

    names: dict[str, int] = {}
    for language in available_languages():
        for width in ("wide", "abbreviated"):
            for context in ("format", "stand-alone"):
                for number, name in get_month_names(
                    width, context=context, locale=language
                ).items():
                    names.setdefault(str(name).casefold().rstrip("."), int(number))
    return names


def parse_date(text: str) -> dt.date | None:
    """A letter's date in the forms letters use: ``24 april 2019``, ``24.4.2019``, ISO."""
    text = " ".join(text.split())
    candidates: list[tuple[int, int, int]] = []
    for match in re.finditer(r"(\d{4})-(\d{1,2})-(\d{1,2})", text):
        candidates.append((int(match[1]), int(match[2]), int(match[3])))
    for match in re.finditer(r"(?<!\d)(\d{1,2})[./](\d{1,2})[./](\d{4})(?!\d)", text):
        candidates.append((int(match[3]), int(match[2]), int(match[1])))
    months = _month_names()
    for match in re.finditer(r"(?<!\d)(\d{1,2})\.?\s+([^\W\d_]+)\.?,?\s+(\d{4})", text):
        month = months.get(match[2].casefold())
        if month:
            candidates.append((int(match[3]), month, int(match[1])))
    for match in re.finditer(r"([^\W\d_]+)\.?\s+(\d{1,2}),?\s+(\d{4})", text):
        month = months.get(match[1].casefold())
        if month:
            candidates.append((int(match[3]), month, int(match[2])))
    for year, month, day in candidates:
        try:
            return dt.date(year, month, day)
        except ValueError:
            continue
    return None


# --- the call for reporting --------------------------------------------------------------


def _plain(text: str) -> str:
    return " ".join(text.split())


def _ratio(a: str, b: str) -> float:
    return difflib.SequenceMatcher(None, normalise(a), normalise(b), autojunk=False).ratio()


@dataclass(frozen=True)
class _Line:
    text: str
    paragraph: DocParagraph


def _part_lines(paragraphs: Sequence[DocParagraph]) -> list[_Line]:
    return [
        _Line(_plain(line), paragraph)
        for paragraph in paragraphs
        for line in paragraph.text.split("\n")
        if line.strip()
    ]


def _wanted(regulator: Regulator) -> list[str]:
    return [regulator.call_for_reporting, *regulator.contact_lines]


def block_score(lines: Sequence[str], regulator: Regulator) -> float:
    """How well ``lines`` match a registry entry: the mean best match of its lines."""
    wanted = _wanted(regulator)
    if not lines:
        return 0.0
    return sum(max(_ratio(w, line) for line in lines) for w in wanted) / len(wanted)


@lru_cache(maxsize=16)
def country_names(language: str) -> dict[str, str]:
    """Normalised country name → code, for every country of the registry.

    QRD Appendix V prints the blocks of countries that share a language in one row
    (Belgique/Luxembourg in French), each under its country's name in that language.
    """
    from babel import Locale, UnknownLocaleError

    try:
        territories: dict[str, str] = dict(Locale.parse(language).territories)
    except (UnknownLocaleError, ValueError):
        territories = {}
    names: dict[str, str] = {}
    for code in registry.countries():
        for name in (territories.get(code), _country_name(code)):
            if name:
                names.setdefault(normalise(name), code)
    return names


def _country_name(code: str) -> str:
    """The registry's (English) name of a country."""
    return next((e.country_name for e in registry.all_regulators() if e.country == code), code)


def _segments(lines: Sequence[_Line], language: str) -> list[str | None]:
    """For each line, the country whose name heads the part it is in (None before any)."""
    names = country_names(language)
    current: str | None = None
    out: list[str | None] = []
    for line in lines:
        current = names.get(normalise(line.text), current)
        out.append(current)
    return out


def country_scores(
    paragraphs: Sequence[DocParagraph], language: str
) -> list[tuple[float, Regulator, bool]]:
    """Each country with a block in ``language``: how well the paragraphs match it, and
    whether the document heads a part with its name.

    Where the document has the blocks of several countries (a row of Appendix V copied
    whole, each part under its country's name), each country is scored on its own part.
    """
    lines = _part_lines(paragraphs)
    segments = _segments(lines, language)
    scored = []
    for default in registry.all_regulators():
        if default.language != language:
            continue
        own = [
            line.text
            for line, segment in zip(lines, segments, strict=True)
            if segment in (None, default.country)
        ]
        # A country of several authorities (Germany: PEI, BfArM) counts by its best match.
        choices = (default, *registry.alternatives(default.country, language))
        score, entry = max(((block_score(own, c), c) for c in choices), key=lambda pair: pair[0])
        scored.append((score, entry, default.country in segments))
    return scored


def detect_country(
    paragraphs: Sequence[DocParagraph], language: str, elsewhere: Sequence[str] = ()
) -> tuple[str | None, float]:
    """The country whose reporting block in ``language`` the paragraphs read like."""
    regulator, best = detect_regulator(paragraphs, language, elsewhere)
    return (regulator.country if regulator is not None else None), best


def detect_regulator(
    paragraphs: Sequence[DocParagraph], language: str, elsewhere: Sequence[str] = ()
) -> tuple[Regulator | None, float]:
    """The reporting block in ``language`` the paragraphs read like (of a country of
    several authorities, the one they name).

    When the blocks of several countries match (each part scored on its own), the one
    whose authority the rest of the letter (``elsewhere``: the opening names it) mentions
    is taken; when none or several are mentioned, the import is refused.
    """
    scored = country_scores(paragraphs, language)
    best = max((score for score, _, _ in scored), default=0.0)
    if best < 0.6:
        return None, best
    close = [
        entry
        for score, entry, headed in scored
        if score >= best - 0.05 or (headed and score >= 0.6)
    ]
    if len(close) == 1:
        return close[0], best
    text = normalise(" ".join(elsewhere))
    named = [entry for entry in close if _mentions(text, entry)]
    if len(named) == 1:
        return named[0], best
    shown = " and ".join(f"{e.country_name} ({e.country})" for e in close)
    raise DhpcError(
        f"cannot tell the country: the call for reporting has the reporting blocks of {shown} "
        f"in {language!r} (Appendix V prints them together), and the rest of the letter names "
        + ("the authorities of both" if named else "neither authority")
        + "; delete the part of the country the letter is not for"
    )


def _mentions(text: str, entry: Regulator) -> bool:
    return any(
        re.search(rf"(?<!\w){re.escape(normalise(name))}(?!\w)", text)
        for name in (entry.authority, entry.short_name)
    )


def _neighbours(regulator: Regulator) -> list[Regulator]:
    """The other countries with a reporting block in the letter's language."""
    return [
        entry
        for entry in registry.all_regulators()
        if entry.language == regulator.language and entry.country != regulator.country
    ]


def _owners(lines: Sequence[_Line], regulator: Regulator) -> list[tuple[str | None, bool]]:
    """Whose part of the block each line is (a country, or None), and whether it heads it.

    A line is the letter's country's when it matches its registry block at least as well
    as another's, another country's when it matches that one's better; under another
    country's name, lines matching nothing stay in that part while they are in the same
    paragraph or table as it.
    """
    own = regulator.country
    wanted = _wanted(regulator)
    exact = {normalise(line) for line in wanted}
    others = [(entry.country, _wanted(entry)) for entry in _neighbours(regulator)]
    names = country_names(regulator.language)
    owners: list[tuple[str | None, bool]] = []
    header: tuple[str, DocParagraph] | None = None
    for line in lines:
        key = normalise(line.text)
        named = names.get(key)
        if named is not None and key not in exact:
            header = (named, line.paragraph)
            owners.append((named, True))
            continue
        mine = max(_ratio(w, line.text) for w in wanted)
        theirs, country = max(
            ((max(_ratio(w, line.text) for w in lines_), code) for code, lines_ in others),
            default=(0.0, own),
        )
        if theirs >= 0.6 and theirs > mine:
            owners.append((country, False))
        elif mine >= 0.6:
            owners.append((own, False))
        elif header is not None and (
            header[1] is line.paragraph or (line.paragraph.in_table and header[1].in_table)
        ):
            owners.append((header[0], False))
        elif line.paragraph.in_table:
            owners.append((own, False))
        else:
            owners.append((None, False))
    return owners


def _reporting(parts: Layout, letter: Letter, regulator: Regulator) -> None:
    """Sort the call for reporting into the registry's block and the letter's own paragraphs.

    Only the letter's country's part of the block is compared with the registry; a part
    of another country (Appendix V prints neighbours together) is reported, never kept.
    """
    paragraphs = parts.reporting
    wanted = _wanted(regulator)
    lines = _part_lines(paragraphs)
    owners = _owners(lines, regulator)
    in_block = {
        line.paragraph.number for line, (owner, _) in zip(lines, owners, strict=True) if owner
    }
    if in_block:
        first = min(i for i, p in enumerate(paragraphs) if p.number in in_block)
        last = max(i for i, p in enumerate(paragraphs) if p.number in in_block)
    else:
        first, last = len(paragraphs), -1
    block = {p.number for p in paragraphs[first : last + 1]}
    foreign: dict[str, list[DocParagraph]] = {}
    for line, (owner, _) in zip(lines, owners, strict=True):
        if owner not in (None, regulator.country) and line.paragraph.number in block:
            seen = foreign.setdefault(owner, [])
            if line.paragraph not in seen:
                seen.append(line.paragraph)
    own: list[DocParagraph] = []
    for index, paragraph in enumerate(paragraphs):
        if paragraph.number in block:
            theirs = [code for code, found in foreign.items() if paragraph in found]
            mine = any(
                line.paragraph is paragraph and owner in (None, regulator.country)
                for line, (owner, _) in zip(lines, owners, strict=True)
            )
            if theirs and not mine:
                letter.place(paragraph, f"the reporting block of {theirs[0]} (not printed)")
            else:
                letter.place(paragraph, "the reporting block (from the registry)")
        else:
            own.append(paragraph)
            if index < first:
                letter.note(
                    paragraph,
                    "comes before the authority's reporting block; the letter prints it after",
                )
    shown = f"{regulator.country} ({regulator.language})"
    for code, found in foreign.items():
        name = _country_name(code)
        letter.note(
            found[0],
            f"the reporting block also has {name}'s part ({code}), as Appendix V prints "
            f"them together; the letter for {regulator.country_name} prints only its own "
            f"block, from the registry ({regulator.country}, {regulator.language}): "
            f"{name}'s part is left out",
            "registry",
        )
    block_lines = [
        line
        for line, (owner, heads) in zip(lines, owners, strict=True)
        if line.paragraph.number in block and owner in (None, regulator.country) and not heads
    ]
    for wanted_line in wanted:
        best_line = max(block_lines, key=lambda line: _ratio(wanted_line, line.text), default=None)
        score = _ratio(wanted_line, best_line.text) if best_line else 0.0
        if best_line is None or score < 0.6:
            anchor = paragraphs[first].number if first < len(paragraphs) else 0
            if parts.reporting_heading is not None and not anchor:
                anchor = parts.reporting_heading.number
            letter.note(
                anchor,
                f"the reporting block lacks the registry's {excerpt(wanted_line)} ({shown}); "
                "the letter prints the registry's block",
                "registry",
            )
        elif best_line.text != _plain(wanted_line):
            letter.note(
                best_line.paragraph,
                f"the reporting block differs from the registry's {shown}: the document has "
                f"{excerpt(best_line.text)} where the registry has {excerpt(wanted_line)}; the "
                "letter prints the registry's block (change the registry if it is wrong)",
                "registry",
            )
    for line in block_lines:
        if max(_ratio(w, line.text) for w in wanted) < 0.6:
            letter.note(
                line.paragraph,
                f"the reporting block has {excerpt(line.text)}, which the registry's {shown} "
                "has not; the letter prints the registry's block",
                "registry",
            )
    for text, _ in _block_fields(own, letter, "reporting"):
        letter.fields[f"reporting[{_count(letter, 'reporting')}]"] = text
    letter.reporting_paragraphs = tuple(p.number for p in paragraphs)


# --- company, signatories, address source ------------------------------------------------

_EMAIL = re.compile(r"[^\s@<>(),;:]+@[A-Za-z0-9-]+(?:\.[A-Za-z0-9-]+)+")
_PHONE = re.compile(r"\+?\d[\d ()/-]{3,24}\d")
_LABEL = re.compile(
    r"^(?:e-?mail|e-post|sähköposti|courriel|telephone|telefon|téléphone|telefoon|tel|phone|"
    r"puh(?:elin)?|fax|tél)\.?\s*:?\s*",
    re.IGNORECASE,
)


def _companies(paragraphs: Sequence[DocParagraph], letter: Letter, phone_label: str) -> None:
    """One company per paragraph with an e-mail address, with the lines that belong to it."""
    groups: list[list[DocParagraph]] = []
    for paragraph in paragraphs:
        current = groups[-1] if groups else None
        collecting = current is not None and not any(_EMAIL.search(p.text) for p in current)
        phone_line = (
            current is not None
            and not _EMAIL.search(paragraph.text)
            and bool(_PHONE.search(paragraph.text))
            and len(paragraph.text) < 60
        )
        if current is not None and (collecting or phone_line):
            current.append(paragraph)
        else:
            groups.append([paragraph])
    label = phone_label.rstrip(":").strip().casefold()
    for group in groups:
        text = ", ".join(line for p in group for line in p.text.split("\n") if line.strip())
        names: list[str] = []
        email = phone = None
        for piece in (part.strip() for part in text.split(",")):
            if not piece:
                continue
            found = _EMAIL.search(piece)
            if found and email is None:
                email = found.group()
                continue
            bare = _LABEL.sub("", piece)
            if bare == piece and label and piece.casefold().startswith(label):
                bare = piece[len(label) :].lstrip(":. ")  # the catalog's label, e.g. "puh."
            if phone is None and _PHONE.fullmatch(bare.strip()):
                phone = bare.strip()
                continue
            names.append(piece)
        first = group[0]
        for paragraph in group:
            letter.place(paragraph, f"contact_points[{len(letter.companies)}]")
        if not names:
            letter.note(first, "a company contact without the company's name")
            continue
        department = ", ".join(names[1:]) or None
        letter.companies.append(Company(names[0], email, phone, department, first.number))


def _people(paragraphs: Sequence[DocParagraph], letter: Letter) -> None:
    single: list[tuple[str, DocParagraph]] = []

    def flush() -> None:
        lines = [text for text, _ in single]
        if not lines:
            return
        step = 2 if len(lines) >= 2 and "," in lines[1] else 3
        for start in range(0, len(lines), step):
            chunk = lines[start : start + step]
            paragraph = single[start][1]
            letter.people.append(_person(chunk, paragraph))
        single.clear()

    for paragraph in paragraphs:
        if paragraph.images:
            letter.place(paragraph, "the signatures")
            if not paragraph.text.strip():
                letter.note(paragraph, "a signature image was left out (the letter prints names)")
                continue
        lines = [_plain(line) for line in paragraph.text.split("\n") if line.strip()]
        letter.place(paragraph, f"signatories[{len(letter.people) + len(single)}]")
        if len(lines) >= 2:
            flush()
            letter.people.append(_person(lines, paragraph))
        else:
            single.append((lines[0], paragraph))
    flush()


def _person(lines: Sequence[str], paragraph: DocParagraph) -> Person:
    name = lines[0]
    if len(lines) == 2 and "," in lines[1]:
        title, _, company = lines[1].rpartition(",")
        return Person(name, title.strip(), company.strip(), paragraph.number)
    return Person(
        name,
        lines[1] if len(lines) > 1 else None,
        ", ".join(lines[2:]) if len(lines) > 2 else None,
        paragraph.number,
    )


# --- the whole letter --------------------------------------------------------------------


def read_letter(
    parts: Layout,
    words: Lexicon,
    language: str,
    regulator: Regulator | None,
    all_text: Sequence[str],
    known: Sequence[str] = (),
    spellings: Sequence[str | None] = (),
) -> Letter:
    """The fields and facts of the letter laid out in ``parts``.

    ``known``: the product names of ``dhpc.yaml``, ``spellings``: the language file's
    active substances, when there are (see :func:`parse_title`).
    """
    letter = Letter(language)
    assert parts.title is not None and parts.opening is not None
    for paragraph in parts.before_title:
        date = parse_date(paragraph.text) if len(paragraph.text) <= 80 else None
        if date is not None and letter.date is None:
            letter.date, letter.date_paragraph = date, paragraph.number
            letter.place(paragraph, "the date")
        else:
            letter.place(paragraph, "before the title")
            what = paragraph.images[0] if paragraph.images and not paragraph.text.strip() else None
            standard = words.role(paragraph.text, language) == KIND
            letter.note(
                paragraph,
                f"{what or excerpt(paragraph.text)} before the title is "
                + ("standard wording, not a field" if standard else "not part of the text")
                + "; left out",
            )
    if letter.date is None:
        letter.note(0, "no date found before the title")

    title = inline_text(parts.title, letter, heading=True)
    letter.title, letter.title_paragraph = title, parts.title.number
    letter.place(parts.title, "the title")
    parsed = parse_title(title, known, spellings)
    if parsed is None:
        letter.note(
            parts.title,
            "the title does not read '<active substance> (<PRODUCT>): <key message>' as the "
            "EMA template's does; it is taken as the whole title",
        )
    else:
        letter.substances = parsed.substances
        letter.products = (
            parsed.products
            if parsed.known
            else [replace(p, name=_spelling(p.name, all_text)) for p in parsed.products]
        )
        letter.products_known = parsed.known
        letter.title_order = parsed.order
        letter.key_message = parsed.key_message

    if parts.salutation is not None:
        text = inline_text(parts.salutation, letter)
        letter.place(parts.salutation, "salutation")
        letter.salutation_is_standard = normalise(text) == normalise(
            words.phrase(language, SALUTATION)
        )
        letter.fields["salutation"] = text
    letter.fields["opening"] = inline_text(parts.opening, letter)
    letter.place(parts.opening, "opening")
    for text, _ in _block_fields(parts.introduction, letter, "introduction"):
        letter.fields[f"introduction[{_count(letter, 'introduction')}]"] = text

    assert parts.summary_heading is not None
    letter.place(parts.summary_heading, "the summary heading")
    for index, paragraph in enumerate(parts.summary):
        letter.fields[f"summary[{index}]"] = inline_text(paragraph, letter)
        letter.place(paragraph, f"summary[{index}]")

    if parts.background_heading is not None:
        text = inline_text(parts.background_heading, letter, heading=True)
        letter.place(parts.background_heading, "background_heading")
        letter.background_heading_is_standard = normalise(text) == normalise(
            words.phrase(language, BACKGROUND)
        )
        letter.fields["background_heading"] = text
        if not parts.background_is_standard:
            letter.note(
                parts.background_heading,
                "taken as the heading of the background (the EMA template's 'Background on "
                "the safety concern')",
            )
    for text, _ in _block_fields(parts.background, letter, "background"):
        letter.fields[f"background[{_count(letter, 'background')}]"] = text
    for number, (heading, paragraphs) in enumerate(parts.sections):
        letter.fields[f"sections[{number}].heading"] = inline_text(heading, letter, heading=True)
        letter.place(heading, f"sections[{number}].heading")
        for index, (text, _) in enumerate(
            _block_fields(paragraphs, letter, f"sections[{number}].paragraphs")
        ):
            letter.fields[f"sections[{number}].paragraphs[{index}]"] = text

    if parts.reporting_heading is not None:
        letter.place(parts.reporting_heading, "the call for reporting heading")
        if regulator is not None:
            _reporting(parts, letter, regulator)
        else:
            for text, _ in _block_fields(parts.reporting, letter, "reporting"):
                letter.fields[f"reporting[{_count(letter, 'reporting')}]"] = text
    else:
        letter.note(0, "no call for reporting: the authority's block could not be compared")
    for paragraph in parts.monitoring:
        letter.monitoring = True
        letter.place(paragraph, "the additional monitoring sentence")
    if parts.contact_heading is not None:
        letter.place(parts.contact_heading, "the company contact heading")
    _companies(parts.contact, letter, words.phrase(language, PHONE))
    if parts.closing is not None:
        letter.place(parts.closing, "the closing")
    _people(parts.signatures, letter)
    if parts.address is not None:
        letter.place(parts.address, "the address source")
        sources = words.address_label(parts.address.text, language) or ""
        letter.address_sources = [s.strip() for s in re.split(r"[,;]", sources) if s.strip()]
        letter.address_paragraph = parts.address.number
    for paragraph in parts.recognised:
        letter.place(paragraph, "standard wording")
        letter.note(paragraph, f"{excerpt(paragraph.text)} is standard wording, not a field")
    for paragraph, reason in parts.unplaced:
        letter.place(paragraph, "not placed")
        letter.note(paragraph, f"{excerpt(paragraph.text)} {reason}; left out")
    return letter


def _count(letter: Letter, key: str) -> int:
    return len([path for path in letter.fields if path.startswith(f"{key}[")])
