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

What came back is recorded too: ``dhpc bounces`` turns a ``sent`` (or ``unknown``) row into
``bounced`` (a permanent failure reported by a later server) or ``deferred`` (a server still
trying), with the report's status, reason and time; every report it read is kept in
``bounce_reports``, so reading the same mailbox again changes nothing.

The journal knows whom it belongs to: its ``meta`` table holds the DHPC id and a journal id
of its own, ``versions`` the content versions it has sent. A journal of another DHPC is
refused, and :mod:`.send_state` compares it with what the output folder shows of earlier
sending, so that an emptied, replaced or older journal is never taken for a fresh start.
When a recipient is sent the letter again at a changed address (``--resend-changed``), the
earlier message's row moves to ``earlier_deliveries``: the record shows both.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import fcntl
import os
import sqlite3
import uuid
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass, replace
from pathlib import Path
from typing import Literal

from dhpc_gen.errors import DhpcError, display_path, is_disk_full

JOURNAL_FILE = "journal.sqlite"
SCHEMA_VERSION = 4
"""1: deliveries only; 2: meta, versions, earlier_deliveries; 3: the states ``bounced`` and
``deferred``, the bounce columns and ``bounce_reports``; 4: ``person_key`` and
``former_ids``, to know a recipient again under a new recipient id."""

State = Literal["pending", "sending", "sent", "failed", "unknown", "bounced", "deferred"]
STATES: tuple[State, ...] = (
    "pending",
    "sending",
    "sent",
    "failed",
    "unknown",
    "bounced",
    "deferred",
)
Channel = Literal["email"]

UNKNOWN_REPLY = "interrupted while sending: the server may or may not have accepted the message"

_DELIVERY_COLUMNS = """
    dhpc_id      TEXT NOT NULL,
    content_hash TEXT NOT NULL,
    recipient_id TEXT NOT NULL,
    channel      TEXT NOT NULL,
    language     TEXT NOT NULL,
    address      TEXT NOT NULL,
    message_id   TEXT NOT NULL,
    state        TEXT NOT NULL
        CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown', 'bounced',
                         'deferred')),
    attempts     INTEGER NOT NULL DEFAULT 0,
    last_reply   TEXT NOT NULL DEFAULT '',
    created_at   TEXT NOT NULL,
    updated_at   TEXT NOT NULL,
    sent_at      TEXT,
    unknown_at   TEXT,
    bounce_status TEXT NOT NULL DEFAULT '',
    bounce_reason TEXT NOT NULL DEFAULT '',
    bounced_at   TEXT,
    person_key   TEXT NOT NULL DEFAULT '',
    former_ids   TEXT NOT NULL DEFAULT ''"""

_SCHEMA_1 = (
    f"""CREATE TABLE IF NOT EXISTS deliveries ({_DELIVERY_COLUMNS},
    PRIMARY KEY (dhpc_id, content_hash, recipient_id, channel)
)""",
    "CREATE INDEX IF NOT EXISTS deliveries_state ON deliveries (dhpc_id, state)",
)
_SCHEMA_2 = (
    "CREATE TABLE IF NOT EXISTS meta (key TEXT PRIMARY KEY, value TEXT NOT NULL)",
    """CREATE TABLE IF NOT EXISTS versions (
    content_hash  TEXT PRIMARY KEY,
    first_used_at TEXT NOT NULL
)""",
    f"""CREATE TABLE IF NOT EXISTS earlier_deliveries ({_DELIVERY_COLUMNS},
    replaced_at  TEXT NOT NULL
)""",
)
_SCHEMA_3 = (
    """CREATE TABLE IF NOT EXISTS bounce_reports (
    report_id    TEXT PRIMARY KEY,
    source       TEXT NOT NULL,
    read_at      TEXT NOT NULL,
    reported_at  TEXT NOT NULL,
    result       TEXT NOT NULL,
    recipient_id TEXT NOT NULL DEFAULT '',
    content_hash TEXT NOT NULL DEFAULT '',
    status       TEXT NOT NULL DEFAULT '',
    reason       TEXT NOT NULL DEFAULT ''
)""",
)
_BOUNCE_COLUMNS = ("bounce_status", "bounce_reason", "bounced_at")
_PERSON_COLUMNS = ("person_key", "former_ids")
"""Format 4: a hash of the person's name and postal code (never shown), and the recipient
ids the row had before the person was recognised under a new one (space-separated)."""


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
    person_key: str = ""
    """:func:`dhpc_gen.addresses.recipients.person_key` of the recipient."""


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
    replaced_at: str | None = None
    """Only for an earlier message: when the letter was sent again to a changed address."""
    bounce_status: str = ""
    """The status code of the last bounce report (``5.1.1``), for ``bounced`` and ``deferred``."""
    bounce_reason: str = ""
    """What the report says went wrong, as the reporting server put it."""
    bounced_at: str | None = None
    """When the reporting server wrote the report (UTC)."""
    rowid: int = 0
    """Where the row is in its table (deliveries, or earlier_deliveries for an earlier message)."""
    person_key: str = ""
    """A hash of the recipient's name and postal code when the row was planned ('' before
    format 4): how a recipient whose id changed is known again."""
    former_ids: tuple[str, ...] = ()
    """The ids the row was kept under before (the person's id changed in the mailing list)."""


_COLUMNS = (
    "dhpc_id, content_hash, recipient_id, channel, language, address, message_id, state, "
    "attempts, last_reply, created_at, updated_at, sent_at, unknown_at"
)
_KEY = "dhpc_id = ? AND content_hash = ? AND recipient_id = ? AND channel = ?"
Table = Literal["deliveries", "earlier_deliveries"]


def _table_columns(connection: sqlite3.Connection, table: str) -> set[str]:
    return {str(row[1]) for row in connection.execute(f"PRAGMA table_info({table})")}


def _select_list(connection: sqlite3.Connection, table: Table) -> str:
    """The columns :func:`_entry` reads, with defaults for those an older format lacks."""
    present = _table_columns(connection, table)
    bounce = ", ".join(
        name if name in present else ("NULL" if name == "bounced_at" else "''")
        for name in _BOUNCE_COLUMNS
    )
    replaced = "replaced_at" if table == "earlier_deliveries" else "NULL"
    person = ", ".join(name if name in present else "''" for name in _PERSON_COLUMNS)
    return f"{_COLUMNS}, {bounce}, {replaced}, rowid, {person}"


def _text(value: object) -> str | None:
    return None if value is None else str(value)


def _entry(row: Sequence[object]) -> JournalEntry:
    (dhpc_id, chash, rid, channel, language, address, mid, state, attempts, reply) = row[:10]
    created, updated, sent_at, unknown_at = row[10:14]
    bounce_status, bounce_reason, bounced_at, replaced_at, rowid = row[14:19]
    person_key, former_ids = row[19:21]
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
        sent_at=_text(sent_at),
        unknown_at=_text(unknown_at),
        replaced_at=_text(replaced_at),
        bounce_status=str(bounce_status),
        bounce_reason=str(bounce_reason),
        bounced_at=_text(bounced_at),
        rowid=int(rowid),  # type: ignore[call-overload]
        person_key=str(person_key),
        former_ids=tuple(str(former_ids).split()),
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


ReportResult = Literal[
    "bounced", "deferred", "delivered", "no-change", "unmatched", "not-a-bounce", "malformed"
]


@dataclass(frozen=True)
class BounceReport:
    """One message read from the bounce mailbox, as the journal keeps it."""

    report_id: str
    """SHA-256 of the message's bytes: the same message read again is recognised."""
    source: str
    """Where it was read first: ``new/<file>`` of a Maildir, ``imap://host/mailbox;UID=n``."""
    reported_at: str
    """When the reporting server wrote it (UTC), or when it arrived."""
    result: ReportResult
    recipient_id: str = ""
    content_hash: str = ""
    status: str = ""
    reason: str = ""
    """What the report says (a bounce) or why it changed nothing (every other result)."""
    read_at: str = ""


_BOUNCE_FROM: dict[str, tuple[State, ...]] = {
    "bounced": ("sent", "unknown", "deferred"),
    "deferred": ("sent", "unknown", "deferred"),
    "delivered": ("deferred",),
}
"""The states a bounce report may change, by what it reports. ``unknown`` rows too: a report
proves the message went. A later delay never undoes a bounce."""


class SendJournal:
    """The journal of one output folder, open for sending (holds the lock)."""

    def __init__(self, path: Path, connection: sqlite3.Connection, lock_fd: int) -> None:
        self.path = path
        self._db = connection
        self._lock_fd = lock_fd

    # -- opening and closing ---------------------------------------------------------------

    @classmethod
    def open(
        cls,
        path: Path,
        dhpc_id: str,
        *,
        check: Callable[[JournalSnapshot | None], None] | None = None,
    ) -> SendJournal:
        """Open (or create) the journal of ``dhpc_id`` for a sending run.

        Refuses a journal another run holds, and one of another DHPC. ``check`` is called
        with what the journal holds (None: there is none) once the lock is held and before
        the database is created or changed; it may refuse by raising, or move files away.
        """
        try:
            path.parent.mkdir(parents=True, exist_ok=True)
        except OSError as exc:
            raise _unwritable(path, exc) from exc
        lock_path = path.with_name(path.name + ".lock")
        try:
            lock_fd = os.open(lock_path, os.O_CREAT | os.O_RDWR, 0o600)
        except OSError as exc:
            raise _unwritable(lock_path, exc) from exc
        try:
            fcntl.flock(lock_fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            os.close(lock_fd)
            raise JournalError(
                f"{display_path(path)}: another 'dhpc send' or 'dhpc bounces' is using this "
                "journal right now; wait for it to finish (two runs at once could send the same "
                "letter twice)"
            ) from None
        try:
            try:
                os.ftruncate(lock_fd, 0)
                os.write(lock_fd, f"{os.getpid()}\n".encode())
            except OSError as exc:
                lock = f"cannot write its lock file {lock_path.name}"
                raise journal_failure(path, exc, lock) from exc
            if check is not None:
                check(read_snapshot(path))
            try:
                _create_private(path)
            except OSError as exc:
                raise journal_failure(path, exc, "cannot create the send journal") from exc
            connection = _connect(path)
            try:
                _migrate(path, connection)
                try:
                    _claim(path, connection, dhpc_id)
                except sqlite3.Error as exc:
                    _rollback(connection)
                    raise journal_failure(path, exc, "cannot prepare the send journal") from exc
            except BaseException:
                connection.close()
                raise
        except BaseException:
            fcntl.flock(lock_fd, fcntl.LOCK_UN)
            os.close(lock_fd)
            raise
        return cls(path, connection, lock_fd)

    def close(self) -> None:
        self._db.close()
        fcntl.flock(self._lock_fd, fcntl.LOCK_UN)
        os.close(self._lock_fd)

    @property
    def journal_id(self) -> str:
        """This journal's own id (kept in ``send-state.json`` to recognise it)."""
        with self._reading():
            return _meta(self._db).get("journal_id", "")

    @contextlib.contextmanager
    def _reading(self) -> Iterator[None]:
        """A read of the open journal: a failure names it."""
        try:
            yield
        except sqlite3.Error as exc:
            raise journal_failure(self.path, exc, "cannot read the send journal") from exc

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
                _rollback(self._db)
                raise
            self._db.execute("COMMIT")
        except sqlite3.Error as exc:
            raise journal_failure(self.path, exc, "cannot write the send journal") from exc

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

    def use_version(self, content_hash: str) -> None:
        """Record that this journal sends ``content_hash``."""
        with self._write() as db:
            db.execute(
                "INSERT OR IGNORE INTO versions (content_hash, first_used_at) VALUES (?, ?)",
                (content_hash, utc_now()),
            )

    def add_pending(self, planned: Iterable[PlannedDelivery]) -> int:
        """Add the rows the journal does not have yet as ``pending``; return how many.

        A row that has not gone yet takes the recipient's current ``person_key``; one that
        went keeps the key the person had then (a row of an older journal gets its first).
        """
        now = utc_now()
        added = 0
        went = ", ".join(repr(state) for state in WENT)
        with self._write() as db:
            for item in planned:
                cursor = db.execute(
                    "INSERT OR IGNORE INTO deliveries (dhpc_id, content_hash, recipient_id, "
                    "channel, language, address, message_id, state, created_at, updated_at, "
                    "person_key) VALUES (?, ?, ?, ?, ?, ?, ?, 'pending', ?, ?, ?)",
                    (
                        *_key_params(item.key),
                        item.language,
                        item.address,
                        item.message_id,
                        now,
                        now,
                        item.person_key,
                    ),
                )
                if cursor.rowcount:
                    added += 1
                elif item.person_key:
                    db.execute(
                        f"UPDATE deliveries SET person_key = ? WHERE {_KEY} AND person_key != ? "
                        f"AND (person_key = '' OR state NOT IN ({went}))",
                        (item.person_key, *_key_params(item.key), item.person_key),
                    )
        return added

    def adopt(self, dhpc_id: str, content_hash: str, pairs: Mapping[str, str]) -> int:
        """Keep the rows of an earlier recipient id under the id the person has now.

        ``pairs``: current id → earlier id (see :func:`recognise_earlier_ids`). The current
        id's own row, which never went, is dropped; the earlier id is kept in
        ``former_ids``. Returns the rows moved.
        """
        moved = 0
        went = ", ".join(repr(state) for state in WENT)
        with self._write() as db:
            for current, earlier in sorted(pairs.items()):
                own = db.execute(
                    f"SELECT state FROM deliveries WHERE {_KEY}",
                    (dhpc_id, content_hash, current, "email"),
                ).fetchone()
                if own is not None and own[0] in WENT:
                    continue  # sent under the current id: nothing to adopt
                db.execute(
                    f"DELETE FROM deliveries WHERE {_KEY} AND state NOT IN ({went})",
                    (dhpc_id, content_hash, current, "email"),
                )
                for table in ("deliveries", "earlier_deliveries"):
                    cursor = db.execute(
                        f"UPDATE {table} SET recipient_id = ?, updated_at = ?, "
                        "former_ids = TRIM(former_ids || ' ' || recipient_id) "
                        "WHERE dhpc_id = ? AND content_hash = ? AND recipient_id = ?",
                        (current, utc_now(), dhpc_id, content_hash, earlier),
                    )
                    moved += cursor.rowcount
        return moved

    # -- the states of one row ---------------------------------------------------------------

    def begin_attempt(self, key: DeliveryKey, allowed: Sequence[State], address: str) -> bool:
        """Commit ``sending`` (to ``address``) before the server is contacted; False if the
        row is not in one of the ``allowed`` states (a ``sent`` row is never allowed)."""
        states = [s for s in allowed if s not in ("sent", "sending")]
        if not states:
            return False
        marks = ", ".join("?" for _ in states)
        with self._write() as db:
            cursor = db.execute(
                "UPDATE deliveries SET state = 'sending', attempts = attempts + 1, "
                f"address = ?, updated_at = ? WHERE {_KEY} AND state IN ({marks})",
                (address, utc_now(), *_key_params(key), *states),
            )
            return cursor.rowcount == 1

    def readdress(self, key: DeliveryKey, address: str) -> bool:
        """Make a row sent (or maybe sent) to an old address ``pending`` for ``address``.

        The earlier message's row is kept in ``earlier_deliveries``, with its bounce if one
        came back; False if the row is not ``sent``, ``unknown``, ``bounced`` or ``deferred``
        (nothing changed).
        """
        now = utc_now()
        columns = f"{_COLUMNS}, {', '.join(_BOUNCE_COLUMNS)}, {', '.join(_PERSON_COLUMNS)}"
        went = "state IN ('sent', 'unknown', 'bounced', 'deferred')"
        with self._write() as db:
            db.execute(
                f"INSERT INTO earlier_deliveries ({columns}, replaced_at) "
                f"SELECT {columns}, ? FROM deliveries WHERE {_KEY} AND {went}",
                (now, *_key_params(key)),
            )
            cursor = db.execute(
                "UPDATE deliveries SET state = 'pending', address = ?, attempts = 0, "
                "last_reply = ?, updated_at = ?, sent_at = NULL, unknown_at = NULL, "
                "bounce_status = '', bounce_reason = '', bounced_at = NULL "
                f"WHERE {_KEY} AND {went}",
                (address, "the address changed: to be sent to the new one", now, *_key_params(key)),
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
                    f"{display_path(self.path)}: recipient {key.recipient_id} is not in state "
                    f"{' or '.join(from_states)}; was the journal changed by another program?"
                )

    # -- reading ---------------------------------------------------------------------------

    def entries(self, dhpc_id: str, content_hash: str | None = None) -> list[JournalEntry]:
        with self._reading():
            return read_entries(self._db, dhpc_id, content_hash)

    def earlier(self, dhpc_id: str, content_hash: str | None = None) -> list[JournalEntry]:
        """Messages replaced by a resend to a changed address."""
        with self._reading():
            return read_entries(self._db, dhpc_id, content_hash, table="earlier_deliveries")

    # -- what came back -------------------------------------------------------------------

    def known_reports(self) -> set[str]:
        """The ids of every bounce report recorded so far."""
        with self._reading():
            rows = self._db.execute("SELECT report_id FROM bounce_reports").fetchall()
        return {str(row[0]) for row in rows}

    def record_report(self, report: BounceReport, target: JournalEntry | None) -> BounceReport:
        """Record one report and, for a bounce matched to ``target``, change its row.

        Both happen in one transaction, so a crash leaves neither; a report recorded before
        changes nothing. Returns the report as recorded: ``no-change`` (with the reason) when
        the row is in a state the report cannot change.
        """
        now = utc_now()
        recorded = replace(report, read_at=now)
        with self._write() as db:
            seen = db.execute(
                "SELECT 1 FROM bounce_reports WHERE report_id = ?", (report.report_id,)
            ).fetchone()
            if seen:
                return replace(recorded, result="no-change", reason="read before")
            if target is not None and report.result in _BOUNCE_FROM:
                recorded = self._apply(db, report, target, now) or recorded
            db.execute(
                "INSERT INTO bounce_reports (report_id, source, read_at, reported_at, result, "
                "recipient_id, content_hash, status, reason) VALUES (?, ?, ?, ?, ?, ?, ?, ?, ?)",
                (
                    recorded.report_id,
                    recorded.source,
                    recorded.read_at,
                    recorded.reported_at,
                    recorded.result,
                    recorded.recipient_id,
                    recorded.content_hash,
                    recorded.status,
                    recorded.reason[:2000],
                ),
            )
        return recorded

    @staticmethod
    def _apply(
        db: sqlite3.Connection, report: BounceReport, target: JournalEntry, now: str
    ) -> BounceReport | None:
        """Change ``target``'s row; None if it changed, else the report as ``no-change``."""
        table = "earlier_deliveries" if target.replaced_at is not None else "deliveries"
        allowed = _BOUNCE_FROM[report.result]
        marks = ", ".join("?" for _ in allowed)
        if report.result == "delivered":
            cursor = db.execute(
                f"UPDATE {table} SET state = 'sent', bounce_status = '', bounce_reason = '', "
                f"bounced_at = NULL, updated_at = ? WHERE rowid = ? AND state IN ({marks})",
                (now, target.rowid, *allowed),
            )
        else:
            # An older delay report read after a newer one leaves the newer one's reason.
            cursor = db.execute(
                f"UPDATE {table} SET state = ?, bounce_status = ?, bounce_reason = ?, "
                f"bounced_at = ?, updated_at = ? WHERE rowid = ? AND state IN ({marks}) "
                "AND NOT (state = 'deferred' AND ? = 'deferred' AND bounced_at > ?)",
                (
                    report.result,
                    report.status,
                    report.reason[:2000],
                    report.reported_at,
                    now,
                    target.rowid,
                    *allowed,
                    report.result,
                    report.reported_at,
                ),
            )
        if cursor.rowcount == 1:
            return None
        row = db.execute(f"SELECT state FROM {table} WHERE rowid = ?", (target.rowid,)).fetchone()
        state = str(row[0]) if row else "gone"
        return replace(
            report,
            read_at=now,
            result="no-change",
            reason=f"reports {report.result}; the journal has the message as {state}: "
            + (report.reason or report.status),
        )

    def note_bounces_read(self, when: str) -> None:
        """Remember when the bounce mailbox was last read (``dhpc merge --only`` says it)."""
        with self._write() as db:
            db.execute(
                "INSERT INTO meta (key, value) VALUES ('bounces_read_at', ?) "
                "ON CONFLICT (key) DO UPDATE SET value = excluded.value",
                (when,),
            )

    def snapshot(self) -> JournalSnapshot:
        with self._reading():
            return _snapshot(self.path, self._db)

    def sent_elsewhere(self, dhpc_id: str, content_hash: str) -> int:
        """Rows of ``dhpc_id`` sent (or maybe sent) as another version of the content."""
        with self._reading():
            row = self._db.execute(
                "SELECT COUNT(*) FROM deliveries WHERE dhpc_id = ? AND content_hash != ? "
                f"AND state IN ({', '.join(repr(state) for state in WENT)})",
                (dhpc_id, content_hash),
            ).fetchone()
        return int(row[0])


def _connect(path: Path, *, read_only: bool = False, immutable: bool = False) -> sqlite3.Connection:
    connection: sqlite3.Connection | None = None
    try:
        if read_only:
            flags = "mode=ro&immutable=1" if immutable else "mode=ro"
            connection = sqlite3.connect(
                f"{path.resolve().as_uri()}?{flags}", uri=True, isolation_level=None, timeout=10
            )
        else:
            connection = sqlite3.connect(path, isolation_level=None, timeout=10)
            mode = connection.execute("PRAGMA journal_mode = WAL").fetchone()[0]
            if str(mode).lower() != "wal":
                raise JournalError(
                    f"{display_path(path)}: cannot switch the journal to WAL mode ({mode})"
                )
            connection.execute("PRAGMA synchronous = FULL")
        connection.execute("PRAGMA busy_timeout = 10000")
        connection.execute("SELECT COUNT(*) FROM sqlite_master").fetchone()
    except BaseException as exc:
        if connection is not None:
            connection.close()  # the file is not left open behind the error
        if isinstance(exc, sqlite3.DatabaseError):
            raise journal_failure(path, exc, "cannot open the send journal") from exc
        raise
    return connection


_ROOM = 1 << 16
"""Free bytes below which a disk I/O error of SQLite is taken for a full disk."""


def _full(path: Path, exc: OSError | sqlite3.Error) -> bool:
    if isinstance(exc, OSError):
        return is_disk_full(exc)
    name = getattr(exc, "sqlite_errorname", "")
    if name == "SQLITE_FULL" or "database or disk is full" in str(exc):
        return True
    if name.startswith("SQLITE_IOERR") or "disk I/O error" in str(exc):
        # SQLite says "disk I/O error" when the -wal or -shm file cannot grow.
        try:
            stat = os.statvfs(path.parent)
        except OSError:
            return False
        return stat.f_bavail * stat.f_frsize < _ROOM
    return False


def journal_failure(path: Path, exc: OSError | sqlite3.Error, doing: str) -> JournalError:
    """A failure of the journal at ``path`` (as the user gave the output folder), in words.

    A full disk says so and how to go on; read-only storage is :func:`_unwritable`; a file
    that is no SQLite database is not a journal.
    """
    shown = display_path(path)
    if _full(path, exc):
        return JournalError(
            f"{shown}: {doing}: the disk is full (free some space). The journal keeps its last "
            "committed state, so nothing sent is lost and nothing is sent twice: run the same "
            "command again once there is room"
        )
    text = str(exc)
    name = getattr(exc, "sqlite_errorname", "")
    if isinstance(exc, OSError) or "readonly" in text or "unable to open" in text:
        return _unwritable(path, exc)
    if name in ("SQLITE_NOTADB", "SQLITE_CORRUPT") or "not a database" in text:
        return JournalError(f"{shown}: not a readable send journal: {text}")
    return JournalError(
        f"{shown}: {doing} ({text}); it keeps its last committed state: run the same command "
        "again once the disk or file is fixed"
    )


def _unwritable(path: Path, exc: OSError | sqlite3.Error) -> JournalError:
    reason = exc.strerror if isinstance(exc, OSError) and exc.strerror else str(exc)
    return JournalError(
        f"{display_path(path)}: cannot write the send journal ({reason}). A real send records "
        "every message before it goes out: run it where the output folder can be written "
        "(nothing was sent)"
    )


def _migrate(path: Path, connection: sqlite3.Connection) -> None:
    """Bring the journal to :data:`SCHEMA_VERSION` in one transaction.

    Every step runs inside one ``BEGIN IMMEDIATE``: a crash or a full disk half-way leaves
    the journal in its old format, whole, and the next run migrates it again.
    """
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"{display_path(path)}: written by a newer dhpc_gen (journal format {version}); "
            "update dhpc_gen"
        )
    if version < SCHEMA_VERSION:
        try:
            connection.execute("BEGIN IMMEDIATE")
            try:
                for statement in (*_SCHEMA_1, *_SCHEMA_2, *_SCHEMA_3):
                    connection.execute(statement)
                # A journal of format 1 belongs to the DHPC its rows are of.
                owners = [
                    str(row[0])
                    for row in connection.execute("SELECT DISTINCT dhpc_id FROM deliveries")
                ]
                if len(owners) == 1:
                    connection.execute(
                        "INSERT OR IGNORE INTO meta (key, value) VALUES ('dhpc_id', ?)",
                        (owners[0],),
                    )
                connection.execute(
                    "INSERT OR IGNORE INTO meta (key, value) VALUES ('journal_id', ?)",
                    (uuid.uuid4().hex,),
                )
                connection.execute(
                    "INSERT OR IGNORE INTO versions (content_hash, first_used_at) "
                    "SELECT content_hash, MIN(created_at) FROM deliveries GROUP BY content_hash"
                )
                _add_bounce_states(connection)
                _add_person_columns(connection)
                connection.execute(f"PRAGMA user_version = {SCHEMA_VERSION}")
            except BaseException:
                _rollback(connection)
                raise
            connection.execute("COMMIT")
        except sqlite3.Error as exc:
            raise journal_failure(path, exc, "cannot prepare the send journal") from exc
    for companion in (path.with_name(path.name + "-wal"), path.with_name(path.name + "-shm")):
        if companion.exists():
            os.chmod(companion, 0o600)


def _rollback(connection: sqlite3.Connection) -> None:
    """Undo the open transaction; SQLite has already undone it after a full disk (and a
    ROLLBACK then would hide that error behind "no transaction is active")."""
    if connection.in_transaction:
        connection.execute("ROLLBACK")


def _add_bounce_states(connection: sqlite3.Connection) -> None:
    """Format 3: tables of an older journal get the new states and the bounce columns.

    SQLite cannot change a CHECK constraint in place, so each table is copied into a new
    one (row ids kept, so the order of rows stays) that then takes the old one's name.
    """
    for table, extra in (
        ("deliveries", ",\n    PRIMARY KEY (dhpc_id, content_hash, recipient_id, channel)"),
        ("earlier_deliveries", ",\n    replaced_at  TEXT NOT NULL"),
    ):
        if "bounce_status" in _table_columns(connection, table):
            continue
        columns = _COLUMNS + (", replaced_at" if table == "earlier_deliveries" else "")
        connection.execute(f"CREATE TABLE {table}_v3 ({_DELIVERY_COLUMNS}{extra})")
        connection.execute(
            f"INSERT INTO {table}_v3 (rowid, {columns}) SELECT rowid, {columns} FROM {table} "
            "ORDER BY rowid"
        )
        connection.execute(f"DROP TABLE {table}")
        connection.execute(f"ALTER TABLE {table}_v3 RENAME TO {table}")
    connection.execute(_SCHEMA_1[1])  # the index went with the old table


def _add_person_columns(connection: sqlite3.Connection) -> None:
    """Format 4: ``person_key`` and ``former_ids`` (empty for the rows already there)."""
    for table in ("deliveries", "earlier_deliveries"):
        present = _table_columns(connection, table)
        for name in _PERSON_COLUMNS:
            if name not in present:
                connection.execute(
                    f"ALTER TABLE {table} ADD COLUMN {name} TEXT NOT NULL DEFAULT ''"
                )


def _claim(path: Path, connection: sqlite3.Connection, dhpc_id: str) -> None:
    """Make the journal ``dhpc_id``'s, or refuse it if it is another DHPC's."""
    owners = _owners(connection)
    if owners - {dhpc_id}:
        raise JournalError(foreign_journal(path, owners, dhpc_id))
    if "dhpc_id" not in _meta(connection):
        connection.execute("BEGIN IMMEDIATE")
        connection.execute(
            "INSERT OR IGNORE INTO meta (key, value) VALUES ('dhpc_id', ?)", (dhpc_id,)
        )
        connection.execute("COMMIT")


def foreign_journal(path: Path, owners: set[str], dhpc_id: str) -> str:
    """The message that refuses a journal of another DHPC."""
    return (
        f"{display_path(path)} is the send journal of {', '.join(sorted(owners))}, not of "
        f"{dhpc_id}: it was copied or moved here. Put {dhpc_id}'s own journal back (move "
        "this one to the output folder of its DHPC); nothing was sent or changed"
    )


def _meta(connection: sqlite3.Connection) -> dict[str, str]:
    try:
        rows = connection.execute("SELECT key, value FROM meta").fetchall()
    except sqlite3.OperationalError:
        return {}  # format 1, or an empty file
    return {str(key): str(value) for key, value in rows}


def _owners(connection: sqlite3.Connection) -> set[str]:
    """The DHPC the journal says it belongs to, else those its rows are of."""
    meta = _meta(connection)
    if "dhpc_id" in meta:
        return {meta["dhpc_id"]}
    try:
        rows = connection.execute("SELECT DISTINCT dhpc_id FROM deliveries").fetchall()
    except sqlite3.OperationalError:
        return set()
    return {str(row[0]) for row in rows}


def read_entries(
    connection: sqlite3.Connection,
    dhpc_id: str,
    content_hash: str | None = None,
    *,
    table: Table = "deliveries",
) -> list[JournalEntry]:
    columns = _select_list(connection, table)
    if content_hash is None:
        rows = connection.execute(
            f"SELECT {columns} FROM {table} WHERE dhpc_id = ? ORDER BY rowid", (dhpc_id,)
        )
    else:
        rows = connection.execute(
            f"SELECT {columns} FROM {table} WHERE dhpc_id = ? AND content_hash = ? ORDER BY rowid",
            (dhpc_id, content_hash),
        )
    return [_entry(row) for row in rows]


WENT: tuple[State, ...] = ("sent", "sending", "unknown", "bounced", "deferred")
"""States of a message that went, or may have gone, to the recipient. A bounced message went
and came back: it is never sent to that address again, and still counts as sent in
``send-state.json``."""


@dataclass(frozen=True)
class JournalSnapshot:
    """What a journal holds, read without changing it."""

    path: Path
    size: int
    """Bytes of the database file (0: an emptied file)."""
    owners: frozenset[str]
    """The DHPC the journal belongs to (its meta table, or the ids of its rows)."""
    journal_id: str
    """Empty for a journal of format 1 or an empty file."""
    versions: tuple[str, ...]
    entries: tuple[JournalEntry, ...]
    earlier: tuple[JournalEntry, ...]
    reports: tuple[BounceReport, ...] = ()
    """Every bounce report read, in the order read."""
    bounces_read_at: str = ""
    """When ``dhpc bounces`` last read a mailbox; empty: never."""

    @property
    def empty(self) -> bool:
        """Nothing was ever recorded in it (a new, emptied or blank file)."""
        return not self.entries and not self.earlier

    def went(self, dhpc_id: str) -> Counter[str]:
        """Per content version: messages that went or may have gone (earlier ones too)."""
        return Counter(
            e.key.content_hash
            for e in (*self.entries, *self.earlier)
            if e.key.dhpc_id == dhpc_id and e.state in WENT
        )

    def reached(self, dhpc_id: str, content_hash: str) -> set[str]:
        """Recipient ids a message of this version went (or may have gone) to, with the ids
        those recipients had before."""
        return {
            rid
            for e in (*self.entries, *self.earlier)
            if e.key.dhpc_id == dhpc_id and e.key.content_hash == content_hash and e.state in WENT
            for rid in (e.key.recipient_id, *e.former_ids)
        }


def _snapshot(path: Path, connection: sqlite3.Connection) -> JournalSnapshot:
    try:
        size = path.stat().st_size
    except OSError:
        size = 0
    version = int(connection.execute("PRAGMA user_version").fetchone()[0])
    if version == 0:
        return JournalSnapshot(path, size, frozenset(), "", (), (), ())
    if version > SCHEMA_VERSION:
        raise JournalError(
            f"{display_path(path)}: written by a newer dhpc_gen (journal format {version}); "
            "update dhpc_gen"
        )
    owners = _owners(connection)
    entries: list[JournalEntry] = []
    earlier: list[JournalEntry] = []
    for owner in sorted(owners):
        entries += read_entries(connection, owner)
        if version >= 2:
            earlier += read_entries(connection, owner, table="earlier_deliveries")
    versions: list[str] = []
    if version >= 2:
        versions = [str(r[0]) for r in connection.execute("SELECT content_hash FROM versions")]
    else:
        versions = sorted({e.key.content_hash for e in entries})
    reports: list[BounceReport] = []
    if version >= 3:
        reports = [
            BounceReport(
                report_id=str(row[0]),
                source=str(row[1]),
                read_at=str(row[2]),
                reported_at=str(row[3]),
                result=row[4],
                recipient_id=str(row[5]),
                content_hash=str(row[6]),
                status=str(row[7]),
                reason=str(row[8]),
            )
            for row in connection.execute(
                "SELECT report_id, source, read_at, reported_at, result, recipient_id, "
                "content_hash, status, reason FROM bounce_reports ORDER BY rowid"
            )
        ]
    meta = _meta(connection)
    return JournalSnapshot(
        path,
        size,
        frozenset(owners),
        meta.get("journal_id", ""),
        tuple(versions),
        tuple(entries),
        tuple(earlier),
        tuple(reports),
        meta.get("bounces_read_at", ""),
    )


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


def read_snapshot(path: Path) -> JournalSnapshot | None:
    """What the journal at ``path`` holds, without changing it; None if there is none.

    A row in ``sending`` while no run holds the journal was left by a crashed run and is
    returned as ``unknown``, which is what the next sending run will make of it.
    """
    if not path.exists():
        return None
    # A journal closed cleanly has no -wal file: read it as it lies, without creating the
    # -wal and -shm files a reader of a live journal needs (a check changes nothing).
    running = is_running(path)
    quiet = not running and not path.with_name(path.name + "-wal").exists()
    connection = _connect(path, read_only=True, immutable=quiet)
    try:
        taken = _snapshot(path, connection)
    except sqlite3.DatabaseError as exc:
        raise journal_failure(path, exc, "cannot read the send journal") from exc
    finally:
        connection.close()
    if not running:
        taken = replace(
            taken,
            entries=tuple(_as_unknown(e) if e.state == "sending" else e for e in taken.entries),
        )
    return taken


def read_journal(path: Path, dhpc_id: str, content_hash: str | None = None) -> list[JournalEntry]:
    """The rows of ``dhpc_id`` without changing the journal (for dry runs and reports).

    Refuses a journal of another DHPC.
    """
    taken = read_snapshot(path)
    if taken is None:
        return []
    if taken.owners - {dhpc_id}:
        raise JournalError(foreign_journal(path, set(taken.owners), dhpc_id))
    return [
        e
        for e in taken.entries
        if e.key.dhpc_id == dhpc_id and content_hash in (None, e.key.content_hash)
    ]


def _as_unknown(entry: JournalEntry) -> JournalEntry:
    return replace(entry, state="unknown", last_reply=UNKNOWN_REPLY, unknown_at=entry.updated_at)
