"""The one door between ``dhpc serve`` and the sign-off log.

The pages ask three things of it: the approval state of a language, the fields changed
since its last approval, and to record an approval. The record must be exactly the one
``dhpc signoff`` writes, so this module only translates between the pages and the
sign-off library; it holds no log format of its own.

Until the sign-off library is part of the project, :class:`InterimSignoffLog` stands in
for it behind the same three functions: an append-only, hash-chained ``signoffs.jsonl``
in the content folder. Connecting the library means replacing the bodies of
:func:`approval_view`, :func:`changed_fields` and :func:`approve` with calls into it,
and deleting the stand-in.
"""

from __future__ import annotations

import hashlib
import json
import threading
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dhpc_gen.build import language_hash
from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import atomic_write_text
from dhpc_gen.serve.comments import utc_now

SIGNOFF_FILE = "signoffs.jsonl"
GENESIS = "0" * 64
MAX_TEXT = 2000

State = Literal["approved", "changed", "none"]


class ApprovalError(DhpcError):
    """An approval that cannot be recorded, or a log that cannot be trusted."""


class StaleVersionError(ApprovalError):
    """The reviewer saw another version of the text than the one on disk now."""


@dataclass(frozen=True)
class ApprovalView:
    """What the pages show about one language's approval."""

    language: str
    state: State
    """``approved``: this exact version; ``changed``: an earlier one; ``none``: never."""
    who: str
    """``Name (role)`` of the last approval, empty when there is none."""
    when: str
    content_sha256: str
    """The language's content hash now (``dhpc.yaml`` and the language file)."""


def approval_view(dhpc: Dhpc, language: str) -> ApprovalView:
    """The approval state of ``language`` as the sign-off log records it."""
    current = language_hash(dhpc, language)
    last = InterimSignoffLog(dhpc.directory).last_approval(dhpc.id, language)
    if last is None:
        return ApprovalView(language, "none", "", "", current)
    state: State = "approved" if last.content_sha256 == current else "changed"
    return ApprovalView(language, state, last.who, last.when, current)


def changed_fields(dhpc: Dhpc, language: str) -> frozenset[str]:
    """Field paths of ``language`` whose text differs from its last approved version."""
    last = InterimSignoffLog(dhpc.directory).last_approval(dhpc.id, language)
    if last is None or last.content_sha256 == language_hash(dhpc, language):
        return frozenset()
    now = field_hashes(dhpc, language)
    paths = set(now) | set(last.fields)
    return frozenset(p for p in paths if now.get(p) != last.fields.get(p))


def approve(
    dhpc: Dhpc, language: str, *, name: str, role: str, comment: str, seen_sha256: str
) -> str:
    """Record that ``name`` approves ``language`` as it is on disk; return the entry's hash.

    ``seen_sha256`` is the version the reviewer was shown: if the file changed since,
    nothing is recorded (they would approve a text they have not read).
    """
    if language not in dhpc.meta.languages:
        raise ApprovalError(f"{dhpc.id} has no language {language!r}")
    current = language_hash(dhpc, language)
    if seen_sha256 != current:
        raise StaleVersionError(
            f"{language}.yaml changed after the page was loaded: reload it and review again"
        )
    return InterimSignoffLog(dhpc.directory).append(
        dhpc_id=dhpc.id,
        language=language,
        content_sha256=current,
        fields=field_hashes(dhpc, language),
        name=name,
        role=role,
        comment=comment,
    )


def field_hashes(dhpc: Dhpc, language: str) -> dict[str, str]:
    return {
        f.path: hashlib.sha256(f.text.encode("utf-8")).hexdigest()
        for f in text_fields(dhpc.text(language))
    }


# --- the stand-in ---------------------------------------------------------------------------


@dataclass(frozen=True)
class _Entry:
    language: str
    decision: str
    name: str
    role: str
    time: str
    content_sha256: str
    fields: Mapping[str, str]

    @property
    def who(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name

    @property
    def when(self) -> str:
        return self.time.replace("T", " ")[:16] + " UTC"


def _canonical(document: Mapping[str, object]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


_lock = threading.Lock()


class InterimSignoffLog:
    """``signoffs.jsonl``: one decision a line, each naming the hash of the one before."""

    def __init__(self, directory: Path) -> None:
        self.path = directory / SIGNOFF_FILE

    def _records(self) -> list[dict[str, object]]:
        if self.path.is_symlink():
            raise ApprovalError(f"{display_path(self.path)}: is a link; put the log itself here")
        try:
            raw = self.path.read_text(encoding="utf-8")
        except FileNotFoundError:
            return []
        except (OSError, UnicodeDecodeError) as exc:
            raise ApprovalError(f"{display_path(self.path)}: cannot read: {exc}") from exc
        records: list[dict[str, object]] = []
        previous = GENESIS
        for number, line in enumerate(raw.splitlines(), start=1):
            try:
                record = json.loads(line)
                body = {k: v for k, v in record.items() if k != "hash"}
                ok = (
                    record["prev"] == previous
                    and hashlib.sha256(_canonical(body).encode()).hexdigest() == record["hash"]
                )
            except (ValueError, TypeError, KeyError, AttributeError):
                ok = False
            if not ok:
                raise ApprovalError(
                    f"{display_path(self.path)}:{number}: the sign-off log was changed after "
                    "it was written (its hash chain breaks here)"
                )
            previous = str(record["hash"])
            records.append(record)
        return records

    def last_approval(self, dhpc_id: str, language: str) -> _Entry | None:
        found = None
        for record in self._records():
            if (record.get("dhpc"), record.get("language"), record.get("decision")) == (
                dhpc_id,
                language,
                "approved",
            ):
                fields = record.get("fields")
                found = _Entry(
                    language,
                    "approved",
                    str(record.get("name", "")),
                    str(record.get("role", "")),
                    str(record.get("time", "")),
                    str(record.get("content_sha256", "")),
                    dict(fields) if isinstance(fields, dict) else {},
                )
        return found

    def append(
        self,
        *,
        dhpc_id: str,
        language: str,
        content_sha256: str,
        fields: Mapping[str, str],
        name: str,
        role: str,
        comment: str,
    ) -> str:
        name = " ".join(name.split())
        role = " ".join(role.split())
        if not name:
            raise ApprovalError("give the reviewer's name")
        if max(len(name), len(role), len(comment)) > MAX_TEXT:
            raise ApprovalError(f"at most {MAX_TEXT} characters")
        with _lock:
            records = self._records()
            body: dict[str, object] = {
                "seq": len(records) + 1,
                "time": utc_now(),
                "dhpc": dhpc_id,
                "language": language,
                "decision": "approved",
                "name": name,
                "role": role,
                "comment": " ".join(comment.split()),
                "content_sha256": content_sha256,
                "fields": dict(sorted(fields.items())),
                "prev": str(records[-1]["hash"]) if records else GENESIS,
            }
            digest = hashlib.sha256(_canonical(body).encode()).hexdigest()
            old = self.path.read_text(encoding="utf-8") if records else ""
            line = json.dumps({**body, "hash": digest}, ensure_ascii=False)
            atomic_write_text(self.path, old + line + "\n")
        return digest
