"""Which text of a translation goes with which text of the source.

Fields are paired by field path. Where a translation has fewer or more bullets,
paragraphs or sections than the source, the lists are aligned the way sentence
aligners do it (Gale and Church): by length, which translations keep roughly in
proportion, and by what each text keeps untranslated: numbers, dates, contacts and
acronyms. A source text left without a partner
is the one most likely dropped.
"""

from __future__ import annotations

import math
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass

from dhpc_gen.content.fields import TextField, text_fields
from dhpc_gen.content.markup import plain_text
from dhpc_gen.content.model import LanguageText
from dhpc_gen.review.extract import contacts, facts

ALIGNED_LISTS = ("introduction", "summary", "background", "reporting")
"""Lists whose items are translated one for one, and may be dropped or added by mistake."""

MAX_ALIGNMENT_CELLS = 250_000
"""Lists of up to 500 items each are aligned; the table grows with their product."""

_GAP = 1.5
"""Cost of leaving an item unpaired: a length ratio off by e**1.5 ≈ 4.5 costs as much."""


@dataclass(frozen=True)
class FieldPair:
    """A text of the source and its translation; either may be missing."""

    source: TextField | None
    target: TextField | None

    @property
    def path(self) -> str:
        """The source's field path (the target's when the source has no such text)."""
        field = self.source or self.target
        assert field is not None
        return field.path

    @property
    def kind(self) -> str:
        field = self.source or self.target
        assert field is not None
        return field.kind

    @property
    def complete(self) -> bool:
        return self.source is not None and self.target is not None


def align(
    source: Sequence[str], target: Sequence[str], cost: Callable[[int, int], float]
) -> list[tuple[int | None, int | None]]:
    """Pair the items of two lists in order, leaving some unpaired where that is cheaper.

    Lists of the same length pair one for one: a translation keeps the source's order.
    """
    if len(source) == len(target):
        return [(i, i) for i in range(len(source))]
    if len(source) * len(target) > MAX_ALIGNMENT_CELLS:
        # Far more items than a letter has: pair in order, leave the tail unpaired.
        common = min(len(source), len(target))
        pairs: list[tuple[int | None, int | None]] = [(i, i) for i in range(common)]
        pairs += [(i, None) for i in range(common, len(source))]
        pairs += [(None, j) for j in range(common, len(target))]
        return pairs
    rows, cols = len(source), len(target)
    best = [[0.0] * (cols + 1) for _ in range(rows + 1)]
    step = [[""] * (cols + 1) for _ in range(rows + 1)]
    for i in range(rows + 1):
        for j in range(cols + 1):
            if i == 0 and j == 0:
                continue
            options = []
            if i and j:
                options.append((best[i - 1][j - 1] + cost(i - 1, j - 1), "match"))
            if i:
                options.append((best[i - 1][j] + _GAP, "source"))
            if j:
                options.append((best[i][j - 1] + _GAP, "target"))
            best[i][j], step[i][j] = min(options)
    pairs = []
    i, j = rows, cols
    while i or j:
        move = step[i][j]
        if move == "match":
            pairs.append((i - 1, j - 1))
            i, j = i - 1, j - 1
        elif move == "source":
            pairs.append((i - 1, None))
            i -= 1
        else:
            pairs.append((None, j - 1))
            j -= 1
    pairs.reverse()
    return pairs


def _cost_function(
    source: Sequence[str],
    target: Sequence[str],
    source_language: str,
    target_language: str,
    ratio: float,
) -> Callable[[int, int], float]:
    plain_source = [plain_text(t) for t in source]
    plain_target = [plain_text(t) for t in target]
    source_facts = [_anchors(t, source_language) for t in plain_source]
    target_facts = [_anchors(t, target_language) for t in plain_target]

    def cost(i: int, j: int) -> float:
        length = abs(math.log((len(plain_target[j]) + 10) / ((len(plain_source[i]) + 10) * ratio)))
        union = source_facts[i] | target_facts[j]
        shared = source_facts[i] & target_facts[j]
        numbers = 1.0 - len(shared) / len(union) if union else 0.0
        return length + numbers

    return cost


_ACRONYM = re.compile(r"(?<!\w)[^\W\d_a-z]{2,}(?![^\W\d_])")


def _anchors(text: str, language: str) -> set[str]:
    """What a translation keeps as it is: numbers, dates, contacts and acronyms."""
    found = {f.value for f in facts(text, language)}
    found |= {t.value for t in contacts(text)}
    found |= {m.group(0) for m in _ACRONYM.finditer(text) if m.group(0).isupper()}
    return found


def length_ratio(source: LanguageText, target: LanguageText) -> float:
    """Characters of the translation per character of the source, over the whole letter."""
    have = sum(len(plain_text(f.text)) for f in text_fields(target))
    want = sum(len(plain_text(f.text)) for f in text_fields(source))
    return have / want if have and want else 1.0


_INDEX = re.compile(r"^(?P<list>[a-z_]+)\[(?P<index>\d+)\](?P<rest>.*)$")
_SECTION_PARAGRAPH = re.compile(r"^sections\[(?P<section>\d+)\]\.paragraphs\[(?P<index>\d+)\]$")


def pair_fields(
    source: LanguageText,
    target: LanguageText,
    source_language: str | None = None,
    target_language: str | None = None,
) -> list[FieldPair]:
    """Every text of the source with its translation, in the source's reading order.

    A translation's text without a source partner comes right after the text it
    follows in the translation.
    """
    source_language = source_language or source.language
    target_language = target_language or target.language
    ratio = length_ratio(source, target)

    def aligned(mine: Sequence[str], theirs: Sequence[str]) -> dict[int, int | None]:
        cost = _cost_function(mine, theirs, source_language, target_language, ratio)
        return {i: j for i, j in align(mine, theirs, cost) if i is not None}

    lists = {name: aligned(getattr(source, name), getattr(target, name)) for name in ALIGNED_LISTS}
    section_text = (
        ["\n".join([s.heading, *s.paragraphs]) for s in source.sections],
        ["\n".join([s.heading, *s.paragraphs]) for s in target.sections],
    )
    sections = aligned(*section_text)
    paragraphs = {
        i: aligned(source.sections[i].paragraphs, target.sections[j].paragraphs)
        for i, j in sections.items()
        if j is not None
    }

    def target_path(path: str) -> str | None:
        match = _SECTION_PARAGRAPH.match(path)
        if match:
            section = int(match["section"])
            j = sections.get(section)
            k = paragraphs.get(section, {}).get(int(match["index"]))
            return None if j is None or k is None else f"sections[{j}].paragraphs[{k}]"
        match = _INDEX.match(path)
        if match and match["list"] == "sections":
            j = sections.get(int(match["index"]))
            return None if j is None else f"sections[{j}]{match['rest']}"
        if match and match["list"] in lists:
            j = lists[match["list"]].get(int(match["index"]))
            return None if j is None else f"{match['list']}[{j}]{match['rest']}"
        return path

    theirs = {f.path: f for f in text_fields(target)}
    order = list(theirs)
    pairs: list[FieldPair] = []
    used: dict[str, int] = {}
    for field in text_fields(source):
        partner_path = target_path(field.path)
        partner = theirs.get(partner_path) if partner_path else None
        if partner is not None:
            used[partner.path] = len(pairs)
        pairs.append(FieldPair(field, partner))
    # Texts only the translation has, each after the pair of the text it follows.
    extras: list[tuple[int, int, FieldPair]] = []
    for position, path in enumerate(order):
        if path in used:
            continue
        before = [used[p] for p in order[:position] if p in used]
        extras.append((before[-1] + 1 if before else 0, position, FieldPair(None, theirs[path])))
    for index, _position, pair in sorted(extras, key=lambda e: (e[0], e[1]), reverse=True):
        pairs.insert(index, pair)
    return pairs
