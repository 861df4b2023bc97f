"""Break opportunities in words longer than a line, before the layout sees them.

The letter's stylesheet lets a word too long for its line break anywhere
(``overflow-wrap``), and WeasyPrint does that by laying out the rest of the paragraph
again for every line the word fills: the time grows with the word's length times the
paragraph's. Paragraphs of 500-character words laid out four times slower than the same
amount of ordinary text, and one word of 20,000 characters took seconds. A zero-width
space every few characters of such a word gives the layout places to break it, which it
finds at once; nothing is printed for them, and text copied from the PDF has none.

Only runs longer than any line can hold are touched (a long address that fits on a line
of its own still moves there whole), and only in the body's text, never in a tag, an
attribute or the head.
"""

from __future__ import annotations

import html as htmllib
import re

from markupsafe import escape

ZERO_WIDTH_SPACE = "\u200b"

LONGER_THAN_A_LINE = 60
"""Characters without a break opportunity that no line of the letter holds."""

EVERY = 4
"""Characters between the break opportunities given to such a run."""

_TAG = re.compile(r"(<!--.*?-->|<[^>]*>)", re.DOTALL)
# Spaces, soft hyphens, zero-width spaces and hyphens are where lines may break already.
_RUN = re.compile(rf"[^\s\u00ad\u200b-]{{{LONGER_THAN_A_LINE + 1},}}")
_RAW = ("script", "style", "code")  # code: hashes and file names, copied as they are


def _broken(match: re.Match[str]) -> str:
    run = match.group()
    return ZERO_WIDTH_SPACE.join(run[i : i + EVERY] for i in range(0, len(run), EVERY))


def break_long_words(html: str) -> str:
    """``html`` with a zero-width space every few characters of each over-long word."""
    start = html.find("<body")
    start = html.find(">", start) + 1 if start >= 0 else 0
    if start <= 0:
        return html
    parts = _TAG.split(html[start:])
    raw = False
    for index, part in enumerate(parts):
        if index % 2:  # a tag
            name = part[1:].lstrip("/").split(None, 1)[0].rstrip(">").lower() if part else ""
            if name in _RAW:
                raw = not part.startswith("</")
            continue
        if raw or len(part) <= LONGER_THAN_A_LINE:
            continue
        text = htmllib.unescape(part)
        broken = _RUN.sub(_broken, text)
        if broken != text:
            parts[index] = str(escape(broken))
    return html[:start] + "".join(parts)
