"""The send journal: one SQLite row per (DHPC id, content hash, recipient, channel).

The journal is what makes sending crash-safe. A row moves
``pending → sending → sent | failed | unknown``; ``sending`` is committed *before* the
mail server is contacted and ``sent`` right after it accepts the message, so after a crash
at most one row (the one in flight) is left in ``sending``. Such a row becomes ``unknown``
the next time the journal is opened for sending: the server may or may not have accepted
it, so it is reported and sent again only when the user asks for it.

The database runs in WAL mode with ``synchronous=FULL`` (a committed state survives a
power cut, not only a killed process); every write is one ``BEGIN IMMEDIATE`` transaction.
A lock file next to the database lets only one sending run use a journal at a time. The
files are created owner-readable only: the journal holds e-mail addresses.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
from collections.abc import Iterable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dhpc_gen.errors import DhpcError

JOURNAL_FILE = "journal.sqlite"
SCHEMA_VERSION = 1

State = Literal["pending", "sending", "sent", "failed", "unknown"]
STATES: tuple[State, ...] = ("pending", "sending", "sent", "failed", "unknown")
Channel = Literal["email"]

UNKNOWN_REPLY = "interrupted while sending: the server may or may not have accepted the message"

_SCHEMA = (
    """CREATE TABLE IF NOT EXISTS deliveries (
    dhpc_id      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    language     TEXT NOT NULL,
    address      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    state        TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_reply   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    sent_at      TEXT,
    unknown_at   TEXT,
    PRIMARY KEY (dhpc_id, content_hash, recipient_id, channel)
)""",
    "CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (dhpc_id, state)",
)


def utc_now() -> str:
    """The current time as UTC ISO 8601 with seconds: ``2019-04-24T09:30:12Z``."""
    return dt.datetime.now(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")


class JournalError(DhpcError):
    """The journal cannot be used (locked, unreadable, or of a newer format)."""


@dataclass(frozen=True)
class DeliveryKey:
    """What the journal holds one row for."""

    dhpc_id: str
    content_hash: str
    recipient_id: str
    channel: Channel = "email"


@dataclass(frozen=True)
class PlannedDelivery:
    """A row to add as ``pending`` if the journal does not have it yet."""

    key: DeliveryKey
    language: str
    address: str
    message_id: str


@dataclass(frozen=True)
class JournalEntry:
    """One row of the journal."""

    key: DeliveryKey
    language: str
    address: str
    message_id: str
    state: State
    attempts: int
    last_reply: str
    created_at: str
    updated_at: str
    sent_at: str | None
    unknown_at: str | None


_COLUMNS = (
    "dhpc_id, content_hash, recipient_id, channel, language, address, message_id, state, "
    "attempts, last_reply, created_at, updated_at, sent_at, unknown_at"
)
_KEY = "dhpc_id = ? AND content_hash = ? AND recipient_id = ? AND channel = ?"


def _entry(row: Sequence[object]) -> JournalEntry:
    (dhpc_id, chash, rid, channel, language, address, mid, state, attempts, reply) = row[:10]
    created, updated, sent_at, unknown_at = row[10:]
    return JournalEntry(
        key=DeliveryKey(str(dhpc_id), str(chash), str(rid), channel),  # type: ignore[arg-type]
        language=str(language),
        address=str(address),
        message_id=str(mid),
        state=state,  # type: ignore[arg-type]
        attempts=int(attempts),  # type: ignore[call-overload]
        last_reply=str(reply),
        created_at=str(created),
        updated_at=str(updated),
        sent_at=None if sent_at is None else str(sent_at),
        unknown_at=None if unknown_at is None else str(unknown_at),
    )


def _key_params(key: DeliveryKey) -> tuple[str, str, str, str]:
    return (key.dhpc_id, key.content_hash, key.recipient_id, key.channel)


def _create_private(path: Path) -> None:
    """Create ``path`` empty and 0600 if it does not exist; tighten it if it does."""
    fd = os.open(path, os.O_CREAT | os.O_RDWR, 0o600)
    try:
        os.fchmod(fd, 0o600)
    finally:
        os.close(fd)


class SendJournal:
    """The journal of one output folder, open for sending (holds the lock)."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock_fd: int) -> None:
        self.path = path
        self._db = connection
        self._lock_fd = lock_fd

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(cls, path: Path) -> SendJournal:
        """Open (or create) the journal for a sending run; refuse if another run holds it."""
        path.parent.mkdir(parents=True, exist_ok=True)
        lock_path = path.with_name(path.name + ".lock")
        try:
            lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as exc:
            raise JournalError(f"{lock_path}: cannot create the lock file: {exc.strerror}") from exc
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise JournalError(
                f"{path}: another 'dhpc send' is using this journal right now; wait for it to "
                "finish (two runs at once could send the same letter twice)"
            ) from None
        try:
            os.ftruncate(lock_fd, 0)
            os.write(lock_fd, f"{os.getpid()}\n".encode())
            _create_private(path)
            connection = _connect(path)
            _migrate(path, connection)
        except BaseException:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)
            raise
        return cls(path, connection, lock_fd)

    def close(self) -> None:
        self._db.close()
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        os.close(self._lock_fd)

    def __enter__(self) -> SendJournal:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    @contextlib.contextmanager
    def _write(self) -> Iterator[sqlite3.Connection]:
        """One write transaction, taken before any read so no other writer slips in."""
        try:
            self._db.execute("BEGIN IMMEDIATE")
            try:
                yield self._db
            except BaseException:
                self._db.execute("ROLLBACK")
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise JournalError(
                f"{self.path}: cannot write the send journal ({exc}); it keeps its last "
                "committed state: run the same command again once the disk or file is fixed"
            ) from exc

    # -- what a run does at its start ------------------------------------------------------

    def recover(self, dhpc_id: str) -> int:
        """Turn rows left in ``sending`` by a crashed run into ``unknown``; return how many."""
        now = utc_now()
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET state = 'unknown', unknown_at = ?, updated_at = ?, "
                "last_reply = ? WHERE dhpc_id = ? AND state = 'sending'",
                (now, now, UNKNOWN_REPLY, dhpc_id),
            )
            return cursor.rowcount

    def add_pending(self, planned: Iterable[PlannedDelivery]) -> int:
        """Add the rows the journal does not have yet as ``pending``; return how many."""
        now = utc_now()
        added = 0
        with self._write() as db:
            for item in planned:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO deliveries (dhpc_id, content_hash, recipient_id, "
                    "channel, language, address, message_id, state, created_at, updated_at) "
                    "VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?)",
                    (
                        *_key_params(item.key),
                        item.language,
                        item.address,
                        item.message_id,
                        now,
                        now,
                    ),
                )
                added += cursor.rowcount
        return added

    # -- the states of one row ---------------------------------------------------------------

    def begin_attempt(self, key: DeliveryKey, allowed: Sequence[State]) -> bool:
        """Commit ``sending`` before the server is contacted; False if the row is not in
        one of the ``allowed`` states (a ``sent`` row is never allowed)."""
        states = [s for s in allowed if s not in ("sent", "sending")]
        if not states:
            return False
        marks = ", ".join("?" for _ in states)
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                f"updated_at = ? WHERE {_KEY} AND state IN ({marks})",
                (utc_now(), *_key_params(key), *states),
            )
            return cursor.rowcount == 1

    def mark_sent(self, key: DeliveryKey, reply: str) -> None:
        """The server accepted the message."""
        now = utc_now()
        self._finish(key, "sent", reply, "sending", sent_at=now, now=now)

    def mark_failed(self, key: DeliveryKey, reply: str) -> None:
        """The server refused the message for good, or it could not be made."""
        self._finish(key, "failed", reply, "sending", "pending", "unknown", "failed")

    def mark_pending(self, key: DeliveryKey, reply: str) -> None:
        """A temporary failure: the server did not take the message; try again later."""
        self._finish(key, "pending", reply, "sending")

    def mark_unknown(self, key: DeliveryKey, reply: str) -> None:
        """The connection broke after the whole message was sent: it may have arrived."""
        now = utc_now()
        self._finish(key, "unknown", reply, "sending", unknown_at=now, now=now)

    def _finish(
        self,
        key: DeliveryKey,
        state: State,
        reply: str,
        *from_states: State,
        sent_at: str | None = None,
        unknown_at: str | None = None,
        now: str | None = None,
    ) -> None:
        marks = ", ".join("?" for _ in from_states)
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET state = ?, last_reply = ?, updated_at = ?, "
                "sent_at = COALESCE(?, sent_at), unknown_at = COALESCE(?, unknown_at) "
                f"WHERE {_KEY} AND state IN ({marks})",
                (
                    state,
                    reply[:2000],
                    now or utc_now(),
                    sent_at,
                    unknown_at,
                    *_key_params(key),
                    *from_states,
                ),
            )
            if cursor.rowcount != 1:
                raise JournalError(
                    f"{self.path}: recipient {key.recipient_id} is not in state "
                    f"{' or '.join(from_states)}; was the journal changed by another program?"
                )

    # -- reading ---------------------------------------------------------------------------

    def entries(self, dhpc_id: str, content_hash: str | None = None) -> list[JournalEntry]:
        return read_entries(self._db, dhpc_id, content_hash)

    def sent_elsewhere(self, dhpc_id: str, content_hash: str) -> int:
        """Rows of ``dhpc_id`` sent (or maybe sent) as another version of the content."""
        row = self._db.execute(
            "SELECT COUNT(*) FROM deliveries WHERE dhpc_id = ? AND content_hash != ? "
            "AND state IN ('sent', 'sending', 'unknown')",
            (dhpc_id, content_hash),
        ).fetchone()
        return int(row[0])


def _connect(path: Path, *, read_only: bool = False) -> sqlite3.Connection:
    try:
        if read_only:
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?mode=ro", uri=True, isolation_level=None, timeout=10
            )
        else:
            connection = sqlite3.connect(path, isolation_level=None, timeout=10)
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(f"{path}: cannot switch the journal to WAL mode ({mode})")
            connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA busy_timeout = 10000")
        connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: not a readable send journal: {exc}") from exc
    return connection


def _migrate(path: Path, connection: sqlite3.Connection) -> None:
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"{path}: written by a newer dhpc_gen (journal format {version}); update dhpc_gen"
        )
    if version < SCHEMA_VERSION:
        connection.execute("BEGIN IMMEDIATE")
        try:
            for statement in _SCHEMA:
                connection.execute(statement)
            connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
        except BaseException:
            connection.execute("ROLLBACK")
            raise
        connection.execute("COMMIT")
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)


def read_entries(
    connection: sqlite3.Connection, dhpc_id: str, content_hash: str | None = None
) -> list[JournalEntry]:
    if content_hash is None:
        rows = connection.execute(
            f"SELECT {_COLUMNS} FROM deliveries WHERE dhpc_id = ? ORDER BY rowid", (dhpc_id,)
        )
    else:
        rows = connection.execute(
            f"SELECT {_COLUMNS} FROM deliveries WHERE dhpc_id = ? AND content_hash = ? "
            "ORDER BY rowid",
            (dhpc_id, content_hash),
        )
    return [_entry(row) for row in rows]


def is_running(path: Path) -> bool:
    """True while a sending run holds the journal's lock."""
    lock_path = path.with_name(path.name + ".lock")
    try:
        fd = os.open(lock_path, os.O_RDONLY)
    except FileNotFoundError:
        return False
    try:
        fcntl.flock(fd, fcntl.LOCK_SH | fcntl.LOCK_NB)
    except BlockingIOError:
        return True
    finally:
        os.close(fd)
    return False


def read_journal(path: Path, dhpc_id: str, content_hash: str | None = None) -> list[JournalEntry]:
    """The rows of ``dhpc_id`` without changing the journal (for dry runs and reports).

    A row in ``sending`` while no run holds the journal was left by a crashed run and is
    returned as ``unknown``, which is what the next sending run will make of it.
    """
    if not path.exists():
        return []
    connection = _connect(path, read_only=True)
    try:
        if int(connection.execute("PRAGMA user_version").fetchone()[0]) == 0:
            return []
        entries = read_entries(connection, dhpc_id, content_hash)
    except sqlite3.DatabaseError as exc:
        raise JournalError(f"{path}: not a readable send journal: {exc}") from exc
    finally:
        connection.close()
    if not is_running(path):
        entries = [_as_unknown(entry) if entry.state == "sending" else entry for entry in entries]
    return entries


def _as_unknown(entry: JournalEntry) -> JournalEntry:
    return JournalEntry(
        key=entry.key,
        language=entry.language,
        address=entry.address,
        message_id=entry.message_id,
        state="unknown",
        attempts=entry.attempts,
        last_reply=UNKNOWN_REPLY,
        created_at=entry.created_at,
        updated_at=entry.updated_at,
        sent_at=entry.sent_at,
        unknown_at=entry.updated_at,
    )
