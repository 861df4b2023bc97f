"""The sign-off log: who approved exactly which version of which language, and when.

``signoffs.jsonl`` in the content folder holds one JSON object a line, in the order the
decisions were made. It is text that git can review, and it is append-only: each entry
carries the SHA-256 of its own canonical form (``hash``) and that of the entry before it
(``prev``), so an entry changed, removed or moved is detected by whoever reads the log,
and so are committed entries that are no longer in the file (compared with git's
``HEAD``). What an entry approves is a language content hash
(:func:`dhpc_gen.build.language_hash`): ``dhpc.yaml`` and the language file, byte for byte.
"""

from __future__ import annotations

import datetime as dt
import hashlib
import json
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import OutputSet

LOG_FILE = "signoffs.jsonl"
GENESIS = "0" * 64
"""The ``prev`` of the first entry."""

Decision = Literal["approved", "rejected"]
DECISIONS: tuple[Decision, ...] = ("approved", "rejected")

_LINE_ORDER = (
    "seq",
    "time",
    "dhpc",
    "language",
    "country",
    "decision",
    "name",
    "role",
    "comment",
    "content_sha256",
    "files",
    "revision",
    "prev",
)
_MAX_TEXT = 2000


class SignoffLogError(DhpcError):
    """The sign-off log is damaged or was changed after it was written."""


@dataclass(frozen=True)
class Signoff:
    """One decision in the log."""

    seq: int
    dhpc: str
    language: str
    country: str | None
    content_sha256: str
    """The language content hash the decision is about."""
    files: Mapping[str, str]
    """SHA-256 of each file of that version, by name (for people and for git look-ups)."""
    decision: Decision
    name: str
    role: str
    comment: str
    time: str
    """UTC, ``2025-03-01T09:30:00Z``."""
    revision: str | None
    """The git commit that held exactly these files when the decision was recorded."""
    prev: str
    hash: str

    @property
    def approved(self) -> bool:
        return self.decision == "approved"

    @property
    def who(self) -> str:
        return f"{self.name} ({self.role})" if self.role else self.name

    @property
    def when(self) -> str:
        """``2025-03-01 09:30 UTC``."""
        return self.time.replace("T", " ")[:16] + " UTC"

    def body(self) -> dict[str, object]:
        return {
            "seq": self.seq,
            "dhpc": self.dhpc,
            "language": self.language,
            "country": self.country,
            "content_sha256": self.content_sha256,
            "files": dict(self.files),
            "decision": self.decision,
            "name": self.name,
            "role": self.role,
            "comment": self.comment,
            "time": self.time,
            "revision": self.revision,
            "prev": self.prev,
        }

    def line(self) -> str:
        """The entry as stored: one JSON line, keys in reading order (hashed sorted)."""
        body = self.body()
        ordered = {key: body[key] for key in _LINE_ORDER}
        ordered["hash"] = self.hash
        return json.dumps(ordered, ensure_ascii=False, separators=(",", ":"))


def _canonical(document: Mapping[str, object]) -> str:
    return json.dumps(document, ensure_ascii=False, sort_keys=True, separators=(",", ":"))


def entry_hash(body: Mapping[str, object]) -> str:
    """SHA-256 of the entry's canonical JSON without its own ``hash``."""
    return hashlib.sha256(_canonical(body).encode("utf-8")).hexdigest()


@dataclass(frozen=True)
class SignoffLog:
    """Every entry of one content folder's log, checked."""

    path: Path
    entries: tuple[Signoff, ...]
    raw: bytes

    @property
    def head(self) -> str:
        return self.entries[-1].hash if self.entries else GENESIS

    def for_language(self, language: str, country: str | None = None) -> list[Signoff]:
        """The decisions on ``language`` (and on its national version for ``country``)."""
        return [
            e
            for e in self.entries
            if e.language == language and (e.country is None or e.country == country)
        ]

    def find(self, entry_hash_: str) -> Signoff | None:
        return next((e for e in self.entries if e.hash == entry_hash_), None)


def log_path(directory: Path) -> Path:
    return directory / LOG_FILE


def _text(value: object, where: str, name: str, *, optional: bool = False) -> str:
    if value is None and optional:
        return ""
    if not isinstance(value, str):
        raise SignoffLogError(f"{where}: {name} must be text")
    return value


def _parse(line: str, number: int, shown: str) -> Signoff:
    where = f"{shown}:{number}"
    try:
        document = json.loads(line)
    except ValueError:
        raise SignoffLogError(
            f"{where}: not a sign-off entry (invalid JSON): the log was edited by hand; "
            "restore it from git"
        ) from None
    if not isinstance(document, dict):
        raise SignoffLogError(f"{where}: not a sign-off entry (expected a JSON object)")
    missing = [key for key in (*_LINE_ORDER, "hash") if key not in document]
    unknown = sorted(set(document) - {*_LINE_ORDER, "hash"})
    if missing or unknown:
        detail = f"missing {', '.join(missing)}" if missing else f"unknown {', '.join(unknown)}"
        raise SignoffLogError(f"{where}: not a sign-off entry ({detail})")
    stored = document.pop("hash")
    if not isinstance(stored, str) or entry_hash(document) != stored:
        raise SignoffLogError(
            f"{where}: entry {document.get('seq')} was changed after it was recorded "
            "(its hash does not match its content): restore the log from git"
        )
    seq = document["seq"]
    files = document["files"]
    decision = document["decision"]
    if not isinstance(seq, int) or not isinstance(files, dict) or decision not in DECISIONS:
        raise SignoffLogError(f"{where}: not a sign-off entry (seq, files or decision)")
    country = document["country"]
    revision = document["revision"]
    return Signoff(
        seq=seq,
        dhpc=_text(document["dhpc"], where, "dhpc"),
        language=_text(document["language"], where, "language"),
        country=_text(country, where, "country") if country is not None else None,
        content_sha256=_text(document["content_sha256"], where, "content_sha256"),
        files={str(k): str(v) for k, v in files.items()},
        decision=decision,
        name=_text(document["name"], where, "name"),
        role=_text(document["role"], where, "role"),
        comment=_text(document["comment"], where, "comment"),
        time=_text(document["time"], where, "time"),
        revision=_text(revision, where, "revision") if revision is not None else None,
        prev=_text(document["prev"], where, "prev"),
        hash=stored,
    )


def parse_log(raw: bytes, path: Path, dhpc_id: str | None = None) -> SignoffLog:
    """Read and check every entry and the chain that links them."""
    shown = display_path(path)
    try:
        text = raw.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise SignoffLogError(f"{shown}: not UTF-8 text (byte {exc.start})") from None
    if text and not text.endswith("\n"):
        raise SignoffLogError(
            f"{shown}: the last line is cut off (no line end): the log was changed by hand "
            "or a write was interrupted; restore it from git"
        )
    entries: list[Signoff] = []
    previous = GENESIS
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            raise SignoffLogError(f"{shown}:{number}: an empty line: the log was edited by hand")
        entry = _parse(line, number, shown)
        if entry.seq != number or entry.prev != previous:
            raise SignoffLogError(
                f"{shown}:{number}: entry {entry.seq} does not follow the entry before it "
                "(an entry was removed, inserted or moved): restore the log from git"
            )
        if dhpc_id is not None and entry.dhpc != dhpc_id:
            raise SignoffLogError(
                f"{shown}:{number}: entry {entry.seq} is about {entry.dhpc!r}, not {dhpc_id!r}: "
                "the log belongs to another DHPC"
            )
        entries.append(entry)
        previous = entry.hash
    return SignoffLog(path, tuple(entries), raw)


def read_log(
    directory: Path, dhpc_id: str | None = None, *, committed: bytes | None = None
) -> SignoffLog:
    """The log of a content folder (empty when there is none), checked.

    ``committed``: the log as git's ``HEAD`` has it; the file must still begin with it.
    """
    path = log_path(directory)
    if path.is_symlink():
        raise SignoffLogError(f"{display_path(path)}: is a link: the log must be a file")
    try:
        raw = path.read_bytes()
    except FileNotFoundError:
        raw = b""
    log = parse_log(raw, path, dhpc_id)
    if committed is not None and not raw.startswith(committed):
        kept = committed.count(b"\n")
        raise SignoffLogError(
            f"{display_path(path)}: the {kept} entr{'y' if kept == 1 else 'ies'} committed in "
            "git (HEAD) are no longer all in the file: the log is append-only; restore it "
            "with git checkout and add new decisions with dhpc signoff"
        )
    return log


def utc_now() -> str:
    return dt.datetime.now(dt.UTC).replace(microsecond=0).isoformat().replace("+00:00", "Z")


@dataclass(frozen=True)
class LanguageVersion:
    """The version of one language a decision is about."""

    language: str
    content_sha256: str
    files: Mapping[str, str]
    revision: str | None
    country: str | None = None


def _clean(value: str, what: str) -> str:
    text = " ".join(value.split())
    if len(text) > _MAX_TEXT:
        raise DhpcError(f"--{what}: at most {_MAX_TEXT} characters")
    return text


def append(
    log: SignoffLog,
    dhpc_id: str,
    decisions: Sequence[LanguageVersion],
    *,
    decision: Decision,
    name: str,
    role: str,
    comment: str = "",
    time: str | None = None,
) -> tuple[Signoff, ...]:
    """Add one entry per decision to the end of ``log``'s file, whole or not at all."""
    if decision not in DECISIONS:
        raise DhpcError(f"unknown decision {decision!r}: use {' or '.join(DECISIONS)}")
    name = _clean(name, "name")
    role = _clean(role, "role")
    if not name:
        raise DhpcError("--name: give the reviewer's name")
    stamp = time or utc_now()
    previous = log.head
    added: list[Signoff] = []
    for offset, item in enumerate(decisions, start=1):
        body: dict[str, object] = {
            "seq": len(log.entries) + offset,
            "dhpc": dhpc_id,
            "language": item.language,
            "country": item.country,
            "content_sha256": item.content_sha256,
            "files": dict(item.files),
            "decision": decision,
            "name": name,
            "role": role,
            "comment": _clean(comment, "comment"),
            "time": stamp,
            "revision": item.revision,
            "prev": previous,
        }
        digest = entry_hash(body)
        added.append(
            Signoff(
                seq=int(str(body["seq"])),
                dhpc=dhpc_id,
                language=item.language,
                country=item.country,
                content_sha256=item.content_sha256,
                files=dict(item.files),
                decision=decision,
                name=name,
                role=role,
                comment=str(body["comment"]),
                time=stamp,
                revision=item.revision,
                prev=previous,
                hash=digest,
            )
        )
        previous = digest
    current = log.path.read_bytes() if log.path.is_file() else b""
    if current != log.raw:
        raise SignoffLogError(
            f"{display_path(log.path)}: changed while the decision was being recorded; "
            "run the command again"
        )
    data = log.raw + "".join(entry.line() + "\n" for entry in added).encode("utf-8")
    # The whole file is written anew beside the old one and renamed: never half a line.
    with OutputSet(log.path.parent) as outputs:
        outputs.write_bytes(log.path, data, private=False)
    return tuple(added)
