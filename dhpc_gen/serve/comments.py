"""Reviewers' comments on fields: ``comments.jsonl`` in the content folder.

One JSON object a line, in the order they were written, so that git shows each new
comment as one added line and a reviewer can read them without the server. The file is
written whole beside the old one and renamed, never half a line.
"""

from __future__ import annotations

import datetime as dt
import json
import threading
from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass
from pathlib import Path

from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import atomic_write_text

COMMENTS_FILE = "comments.jsonl"
MAX_TEXT = 4000
MAX_NAME = 200
_ORDER = ("time", "dhpc", "language", "field", "author", "role", "text", "content_sha256")

_lock = threading.Lock()


class CommentError(DhpcError):
    """A comment that cannot be stored, or a comments file that cannot be read."""


@dataclass(frozen=True)
class Comment:
    time: str
    """UTC, ``2025-03-01T09:30:00Z``."""
    dhpc: str
    language: str
    field: str
    """The field path, as ``dhpc check`` names it: ``summary[2]``."""
    author: str
    role: str
    text: str
    content_sha256: str
    """The language's content hash when the comment was written (the version commented on)."""
    country: str = ""
    """The country of a campaign whose national text was commented on (empty: a folder of
    one country); the line has ``country`` last, only then."""

    @property
    def when(self) -> str:
        return self.time.replace("T", " ")[:16] + " UTC"

    def line(self) -> str:
        record = asdict(self)
        keys = (*_ORDER, "country") if self.country else _ORDER
        return json.dumps({key: record[key] for key in keys}, ensure_ascii=False)


def comments_path(directory: Path) -> Path:
    return directory / COMMENTS_FILE


def read_comments(directory: Path) -> list[Comment]:
    """Every comment in the folder's file, oldest first (none when there is no file)."""
    path = comments_path(directory)
    _refuse_link(path)
    try:
        raw = path.read_text(encoding="utf-8")
    except FileNotFoundError:
        return []
    except (OSError, UnicodeDecodeError) as exc:
        raise CommentError(f"{display_path(path)}: cannot read the comments: {exc}") from exc
    found = []
    for number, text in enumerate(raw.splitlines(), start=1):
        if not text.strip():
            continue
        try:
            record = json.loads(text)
            found.append(_comment(record))
        except (ValueError, TypeError, KeyError) as exc:
            raise CommentError(
                f"{display_path(path)}:{number}: not a comment record ({exc}): "
                "fix or remove the line"
            ) from exc
    return found


def _refuse_link(path: Path) -> None:
    """A link could make the server read, and copy into the folder, a file elsewhere."""
    if path.is_symlink():
        raise CommentError(f"{display_path(path)}: is a link; put the comments file itself here")


def _comment(record: Mapping[str, object]) -> Comment:
    if not isinstance(record, dict):
        raise TypeError("expected an object")
    values = {key: record[key] for key in _ORDER}
    if "country" in record:
        values["country"] = record["country"]
    if not all(isinstance(value, str) for value in values.values()):
        raise TypeError("every value must be text")
    return Comment(**{key: str(value) for key, value in values.items()})


def _clean(value: str, what: str, limit: int) -> str:
    text = value.strip()
    if not text:
        raise CommentError(f"{what} is empty")
    if len(text) > limit:
        raise CommentError(f"{what} is longer than {limit} characters")
    return text


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


def add_comment(
    directory: Path,
    *,
    dhpc_id: str,
    language: str,
    field: str,
    author: str,
    role: str,
    text: str,
    content_sha256: str,
    time: str | None = None,
    country: str | None = None,
) -> Comment:
    """Append one comment to ``comments.jsonl``, the whole file replaced at once.

    ``country``: the country of a campaign whose national text the comment is on.
    """
    comment = Comment(
        time=time or utc_now(),
        dhpc=dhpc_id,
        language=language,
        field=field,
        author=" ".join(_clean(author, "the name", MAX_NAME).split()),
        role=" ".join(role.split())[:MAX_NAME],
        text=_clean(text, "the comment", MAX_TEXT),
        content_sha256=content_sha256,
        country=country or "",
    )
    path = comments_path(directory)
    _refuse_link(path)
    with _lock:
        try:
            old = path.read_text(encoding="utf-8")
        except FileNotFoundError:
            old = ""
        if old and not old.endswith("\n"):
            old += "\n"
        atomic_write_text(path, old + comment.line() + "\n")
    return comment


def by_field(comments: Sequence[Comment]) -> dict[tuple[str, str], list[Comment]]:
    """``{(language, field): [comments, oldest first]}``."""
    grouped: dict[tuple[str, str], list[Comment]] = {}
    for comment in comments:
        grouped.setdefault((comment.language, comment.field), []).append(comment)
    return grouped
