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


def _as_text(token: Any, content: str) -> None:
    token.type, token.tag, token.nesting, token.attrs, token.content = "text", "", 0, {}, content


def _unlink_refused(tokens: list[Any]) -> list[Any]:
    """A link whose address was refused is text again.

    markdown-it keeps ``[x]()`` (an empty address, which ``validateLink`` refuses) as a
    link to ``href=""``; it is printed as typed instead, like ``[x](javascript:…)``.
    """
    refused = False
    for token in tokens:
        if token.children:
            _unlink_refused(token.children)
        if token.type == "link_open" and not token.attrGet("href"):
            token.type, token.tag, token.nesting, token.attrs, token.content = (
                "text",
                "",
                0,
                {},
                "[",
            )
            refused = True
        elif token.type == "link_close" and refused:
            token.type, token.tag, token.nesting, token.content = "text", "", 0, "]()"
            refused = False
    return tokens


def parse(text: str, *, inline: bool) -> list[Any]:
    """markdown-it's tokens of a field: inline markup only, or with bullet lists."""
    tokens = _parser().parseInline(text) if inline else _parser().parse(text)
    return _unlink_refused(list(tokens))


def _render(text: str, *, inline: bool) -> Markup:
    md = _parser()
    return Markup(md.renderer.render(parse(text, inline=inline), md.options, {}).strip())


def render_inline(text: str) -> Markup:
    """HTML for a one-line field (title, bullet, heading): inline markup only."""
    return _render(text, inline=True)


def render_block(text: str) -> Markup:
    """HTML for a paragraph field: inline markup and bullet lists."""
    return _render(text, inline=False)


_MARKS = re.compile(r"\*\*|__|(?<!\w)[*_](?=\S)|(?<=\S)[*_](?!\w)")
_LINK = re.compile(r"\[([^\]]*)\]\(([^)]*)\)")


def plain_text(text: str) -> str:
    """The words of a field without markup, for comparing languages."""
    text = _LINK.sub(lambda m: f"{m.group(1)} {m.group(2)}", text)
    text = re.sub(r"^\s*[-*+]\s+", "", text, flags=re.MULTILINE)
    return _MARKS.sub("", text)
