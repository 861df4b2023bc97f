"""The safe markup of text fields as Word sees it: spans of bold, italic and linked text.

A field's text (``**bold**``, ``*italic*``, ``[text](https://…)``, ``- `` items) is
parsed into :class:`Block` s of :class:`Span` s for writing Word runs, and Word runs are
turned back into that markup on import. Two texts that print the same have the same
spans (:func:`same_rendering`), whatever markup spelling they use (``__x__`` or
``**x**``), so an import rewrites only what really changed.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, replace
from typing import Any

from dhpc_gen.content.markup import parse

LINK_SCHEMES = ("http://", "https://", "mailto:")
"""The link targets the markup allows; other links are kept as their text."""


@dataclass(frozen=True)
class Span:
    """A piece of text with one formatting."""

    text: str
    bold: bool = False
    italic: bool = False
    link: str | None = None

    def same_format(self, other: Span) -> bool:
        return (self.bold, self.italic, self.link) == (other.bold, other.italic, other.link)


@dataclass(frozen=True)
class Block:
    """One paragraph of a field: plain, or an item of a bullet list."""

    spans: tuple[Span, ...]
    item: bool = False

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


# --- markup → spans ----------------------------------------------------------------------


def _inline(children: Iterable[Any]) -> list[Span]:
    spans: list[Span] = []
    bold = italic = 0
    links: list[str] = []
    for token in children:
        kind = token.type
        if kind == "strong_open":
            bold += 1
        elif kind == "strong_close":
            bold -= 1
        elif kind == "em_open":
            italic += 1
        elif kind == "em_close":
            italic -= 1
        elif kind == "link_open":
            links.append(str(token.attrs.get("href", "")))
        elif kind == "link_close":
            links.pop()
        elif kind in ("softbreak", "hardbreak"):
            spans.append(Span(" ", bold > 0, italic > 0, links[-1] if links else None))
        elif token.content:
            spans.append(Span(token.content, bold > 0, italic > 0, links[-1] if links else None))
    return spans


def inline_spans(text: str) -> tuple[Span, ...]:
    """The spans of a one-line field (title, bullet, heading), normalised."""
    children = [child for token in parse(text, inline=True) for child in token.children or []]
    return normalise(_inline(children))


def field_blocks(text: str) -> tuple[Block, ...]:
    """The paragraphs and list items of a paragraph field, normalised."""
    blocks: list[Block] = []
    depth = 0
    for token in parse(text, inline=False):
        if token.type in ("bullet_list_open", "ordered_list_open"):
            depth += 1
        elif token.type in ("bullet_list_close", "ordered_list_close"):
            depth -= 1
        elif token.type == "inline":
            spans = normalise(_inline(token.children or []))
            if spans:
                blocks.append(Block(spans, item=depth > 0))
    return tuple(blocks)


def normalise(spans: Iterable[Span]) -> tuple[Span, ...]:
    """One canonical form: runs of spaces made one, spaces never formatted, ends stripped.

    Adjacent spans of one format are merged, so that ``**a** b`` and ``**a **b`` compare
    equal: Word users often make the space after a bold word bold.
    """
    out: list[Span] = []

    def add(span: Span) -> None:
        if span.text == " " and (not out or out[-1].text.endswith(" ")):
            return
        if out and out[-1].same_format(span):
            out[-1] = replace(out[-1], text=out[-1].text + span.text)
        else:
            out.append(span)

    for span in spans:
        text = re.sub(r"\s+", " ", span.text)
        core = text.strip(" ")
        if text.startswith(" "):
            add(Span(" "))
        if core:
            add(replace(span, text=core))
        if text.endswith(" ") and core:
            add(Span(" "))
    if out and out[-1].text.endswith(" "):
        last = out[-1].text[:-1]
        out[-1:] = [replace(out[-1], text=last)] if last else []
    return tuple(out)


def same_rendering(a: str, b: str, *, inline: bool) -> bool:
    """Whether two texts of a field print the same (formatting, links and words)."""
    if inline:
        return inline_spans(a) == inline_spans(b)
    return field_blocks(a) == field_blocks(b)


# --- spans → markup ----------------------------------------------------------------------

_SPECIAL = re.compile(r"([\\*_\[\]])")
_LINE_START = re.compile(r"^(?:([-+*])|(\d+)([.)]))(\s)")


def _escape(text: str) -> str:
    return _SPECIAL.sub(r"\\\1", text)


def _escape_line_start(text: str) -> str:
    """``- x`` and ``1. x`` at the start of a line are list items unless escaped."""

    def escaped(match: re.Match[str]) -> str:
        bullet, number, dot, space = match.groups()
        return f"\\{bullet}{space}" if bullet else f"{number}\\{dot}{space}"

    return _LINE_START.sub(escaped, text)


def _url(url: str) -> str:
    return url.replace(" ", "%20").replace("(", "%28").replace(")", "%29")


def _write(spans: Sequence[Span], escape: bool) -> str:
    out: list[str] = []
    index = 0
    while index < len(spans):
        span = spans[index]
        if span.link is not None:
            group = []
            while index < len(spans) and spans[index].link == span.link:
                group.append(replace(spans[index], link=None))
                index += 1
            out.append(f"[{_write(group, escape)}]({_url(span.link)})")
            continue
        text = _escape(span.text) if escape else span.text
        core = text.strip(" ")
        lead = " " if text.startswith(" ") and core else ""
        trail = " " if text.endswith(" ") and core else ""
        mark = (
            "***"
            if span.bold and span.italic
            else "**"
            if span.bold
            else "*"
            if span.italic
            else ""
        )
        out.append(f"{lead}{mark}{core}{mark}{trail}" if mark else text)
        index += 1
    return "".join(out)


def to_markup(spans: Sequence[Span]) -> tuple[str, bool]:
    """The markup of one line of spans, and whether its formatting could be kept.

    Literal ``*``, ``_`` and brackets are escaped only where they would otherwise turn
    into markup, so that an unchanged text comes back as it was written.
    """
    wanted = normalise(spans)
    for escape in (False, True):
        text = _write(wanted, escape)
        if escape:
            text = _escape_line_start(text)
        if inline_spans(text) == wanted:
            return text, True
    plain = normalise(Span(span.text) for span in wanted)
    return _escape_line_start(_write(plain, True)), False


def blocks_markup(blocks: Sequence[Block]) -> tuple[str, bool]:
    """The markup of a paragraph field: its text, then ``- `` items, one per line."""
    lines = []
    kept = True
    for block in blocks:
        text, ok = to_markup(block.spans)
        kept &= ok
        text = _escape_line_start(text)
        lines.append(f"- {text}" if block.item else text)
    text = "\n".join(lines)
    wanted = tuple(Block(normalise(b.spans), b.item) for b in blocks if normalise(b.spans))
    if field_blocks(text) != wanted:
        kept = False
    return text, kept
