"""The small safe markup allowed in text fields.

A text field may use ``**bold**``, ``*italic*``, ``[links](https://…)`` and, in
paragraphs, ``- `` bullet lists. Everything else, raw HTML included, is shown as the
literal characters the author typed: markdown-it escapes it because HTML is disabled.
"""

from __future__ import annotations

import re
from functools import lru_cache
from typing import Any

from markdown_it import MarkdownIt
from markupsafe import Markup

_ALLOWED_SCHEMES = ("http://", "https://", "mailto:")


def _validate_link(url: str) -> bool:
    return url.lower().startswith(_ALLOWED_SCHEMES)


@lru_cache(maxsize=1)
def _parser() -> MarkdownIt:
    md = MarkdownIt("zero", {"html": False, "linkify": False, "typographer": False})
    md.enable(["emphasis", "link", "list", "escape", "newline"])
    md.validateLink = _validate_link  # type: ignore[method-assign]
    return md


def parse(text: str, *, inline: bool) -> list[Any]:
    """markdown-it's tokens of a field: inline markup only, or with bullet lists."""
    return list(_parser().parseInline(text) if inline else _parser().parse(text))


def render_inline(text: str) -> Markup:
    """HTML for a one-line field (title, bullet, heading): inline markup only."""
    return Markup(_parser().renderInline(text).strip())


def render_block(text: str) -> Markup:
    """HTML for a paragraph field: inline markup and bullet lists."""
    return Markup(_parser().render(text).strip())


_MARKS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def plain_text(text: str) -> str:
    """The words of a field without markup, for comparing languages."""
    text = _LINK.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)
    text = re.sub(r"^\s*[-*+]\s+", "", text, flags=re.MULTILINE)
    return _MARKS.sub("", text)
