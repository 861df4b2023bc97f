"""Boilerplate phrases as a letter or an e-mail prints them.

A phrase (a catalog entry, or a ``boilerplate`` override in ``<lang>.yaml``) is text like
every other text field: the same small safe markup (:mod:`.markup`), the same escaping.
Its only other syntax is gettext's: ``%(name)s`` stands for a value the template passes
(the recipient's name in ``Dear %(name)s,``) and ``%%`` is a percent sign. Any other
``%``, ``{`` or ``}`` is printed as typed.
"""

from __future__ import annotations

import re
from collections.abc import Mapping

from markupsafe import Markup, escape

from dhpc_gen.content.markup import plain_text, render_inline

# gettext's python-format: a percent sign, or a named value with any conversion.
_TOKEN = re.compile(r"%%|%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]")


class PlaceholderError(ValueError):
    """A phrase names a value the template does not pass."""

    def __init__(self, placeholder: str, known: Mapping[str, object]) -> None:
        self.placeholder = placeholder
        self.known = tuple(f"%({name})s" for name in sorted(known))
        have = ", ".join(self.known) or "none"
        super().__init__(f"uses {placeholder}, which this phrase does not have (it has {have})")


def named_placeholders(text: str) -> list[str]:
    """``%(name)s`` placeholders as written (``%%`` is a percent sign, not one)."""
    return [m.group(0) for m in _TOKEN.finditer(text) if m.group(0) != "%%"]


def _pieces(text: str, variables: Mapping[str, object]) -> list[str | int]:
    """Literal text and, as ints, the positions in ``names`` of the values to put in."""
    pieces: list[str | int] = []
    position = 0
    names = sorted(variables)
    for match in _TOKEN.finditer(text):
        pieces.append(text[position : match.start()])
        position = match.end()
        if match.group(0) == "%%":
            pieces.append("%")
        elif match.group(0) == f"%({match.group(1)})s" and match.group(1) in variables:
            pieces.append(names.index(match.group(1)))
        else:
            raise PlaceholderError(match.group(0), variables)
    pieces.append(text[position:])
    return pieces


def _marker(text: str) -> str:
    """A private-use character the text does not contain: it marks where values go."""
    return next(chr(code) for code in range(0xE000, 0xF900) if chr(code) not in text)


def _fill(text: str, variables: Mapping[str, object], *, html: bool) -> str:
    """Render ``text``'s markup with a marker where each value goes, then put the values in.

    The values (a recipient's name, the companies) are data, not markup: they are put in
    after the markup is rendered, escaped for HTML.
    """
    names = sorted(variables)
    pieces = _pieces(text, variables)
    marker = _marker(text) if any(isinstance(piece, int) for piece in pieces) else ""
    source = "".join(p if isinstance(p, str) else f"{marker}{p}{marker}" for p in pieces)
    shown = str(render_inline(source)) if html else plain_text(source)
    if not marker:
        return shown

    def value(match: re.Match[str]) -> str:
        item = variables[names[int(match.group(1))]]
        return str(escape(item)) if html else str(item)

    return re.sub(re.escape(marker) + r"(\d+)" + re.escape(marker), value, shown)


def phrase_html(text: str, variables: Mapping[str, object] | None = None) -> Markup:
    """The phrase as HTML: markup rendered, everything else escaped, values put in."""
    return Markup(_fill(text, variables or {}, html=True))


def phrase_text(text: str, variables: Mapping[str, object] | None = None) -> str:
    """The phrase as plain text (an e-mail's text part, a subject, a contact line)."""
    return _fill(text, variables or {}, html=False)
