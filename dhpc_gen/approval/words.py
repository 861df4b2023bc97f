"""Word-by-word differences of one text, as a reader of tracked changes expects them.

A text is cut into words, numbers (``1-3``, ``2,5``, ``12.5``), punctuation and spaces;
the two sequences are aligned and every run of changed words becomes one deletion
followed by one insertion. Changes separated by a single space are joined, so that
"took two tablets" → "takes one tablet" reads as one replaced phrase, not three.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from difflib import SequenceMatcher
from typing import Literal

Op = Literal["equal", "delete", "insert"]

# Numbers with their inner separators stay whole: "1-3" → "1-4" is one change.
_TOKEN = re.compile(r"\d+(?:[.,\-–/:]\d+)*|\w+|\s+|[^\w\s]", re.UNICODE)


@dataclass(frozen=True)
class Segment:
    """A piece of the text: unchanged, deleted (old only) or inserted (new only)."""

    op: Op
    text: str

    def to_dict(self) -> dict[str, str]:
        return {"op": self.op, "text": self.text}


def tokens(text: str) -> list[str]:
    return _TOKEN.findall(text)


def normal(text: str) -> str:
    """The text with runs of white space as one space: what the letter prints."""
    return " ".join(text.split())


def word_diff(old: str, new: str) -> tuple[Segment, ...]:
    """The segments that turn ``old`` into ``new``, word by word."""
    a, b = tokens(normal(old)), tokens(normal(new))
    raw: list[Segment] = []
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            raw.append(Segment("equal", "".join(a[i1:i2])))
            continue
        if i2 > i1:
            raw.append(Segment("delete", "".join(a[i1:i2])))
        if j2 > j1:
            raw.append(Segment("insert", "".join(b[j1:j2])))
    return _joined(raw)


def _joined(segments: Sequence[Segment]) -> tuple[Segment, ...]:
    """Join changes that only a space (or nothing) separates into one deletion + insertion."""
    groups: list[list[Segment]] = []
    for index, segment in enumerate(segments):
        between = (
            segment.op == "equal"
            and not segment.text.strip()
            and 0 < index < len(segments) - 1
            and segments[index - 1].op != "equal"
            and segments[index + 1].op != "equal"
        )
        if segment.op != "equal" or between:
            if groups and groups[-1][0].op != "equal":
                groups[-1].append(segment)
            else:
                groups.append([segment])
        else:
            groups.append([segment])
    out: list[Segment] = []
    for group in groups:
        if group[0].op == "equal" and len(group) == 1:
            out.append(group[0])
            continue
        deleted = "".join(s.text for s in group if s.op in ("equal", "delete"))
        inserted = "".join(s.text for s in group if s.op in ("equal", "insert"))
        if deleted:
            out.append(Segment("delete", deleted))
        if inserted:
            out.append(Segment("insert", inserted))
    return tuple(out)


def similarity(old: str, new: str) -> float:
    """0 (nothing in common) to 1 (the same words), by the words both have in order."""
    a, b = tokens(normal(old)), tokens(normal(new))
    if not a and not b:
        return 1.0
    return SequenceMatcher(None, a, b, autojunk=False).ratio()


def marked(segments: Sequence[Segment], *, context: int | None = None) -> str:
    """``[-deleted-]{+inserted+}`` in running text, like ``git diff --word-diff``.

    ``context``: keep at most this many words of unchanged text around each change.
    """
    out = []
    for index, segment in enumerate(segments):
        if segment.op == "delete":
            out.append(f"[-{segment.text}-]")
        elif segment.op == "insert":
            out.append(f"{{+{segment.text}+}}")
        else:
            out.append(_context(segment.text, index, len(segments), context))
    return "".join(out)


def _context(text: str, index: int, count: int, words: int | None) -> str:
    if words is None:
        return text
    parts = text.split(" ")
    first, last = index == 0, index == count - 1
    if first and last:
        return text
    if first:
        return text if len(parts) <= words else "…" + " ".join(parts[-words:])
    if last:
        return text if len(parts) <= words else " ".join(parts[:words]) + "…"
    if len(parts) <= 2 * words:
        return text
    return " ".join(parts[:words]) + " … " + " ".join(parts[-words:])
