"""``dhpc bounces``: what came back from the e-mails, recorded in the send journal.

Each message of the bounce mailbox is read (:mod:`.bounce_reading`), matched to the message
``dhpc send`` sent, and recorded: a permanent failure turns the recipient's row ``bounced``,
a delay ``deferred``, each with the status, the reason and the time of the report. A
report is matched only by what names the message itself (its token, in the return path
under VERP and as the DSN envelope id, or its Message-ID among the returned headers), never
by the address alone, so an unrelated bounce never marks a recipient.

Nothing is dropped: every message read is kept in the journal's ``bounce_reports`` with
what became of it (``bounced``, ``deferred``, ``delivered``, ``no-change``, ``unmatched``,
``not-a-bounce``, ``malformed``) and listed in ``OUT/<id>/bounce-reports.csv``. A message
is known by the SHA-256 of its bytes, so reading the same mailbox again changes nothing.
Incomplete messages (still being written) are not recorded and are read again next time.
"""

from __future__ import annotations

import csv
import hashlib
import io
import logging
from collections.abc import Iterable, Sequence
from dataclasses import dataclass, field, replace
from pathlib import Path

from dhpc_gen.addresses.recipients import neutralise
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.bounce_reading import Reading, read_report
from dhpc_gen.distribution.journal import (
    JOURNAL_FILE,
    BounceReport,
    JournalEntry,
    JournalSnapshot,
    ReportResult,
    SendJournal,
    utc_now,
)
from dhpc_gen.distribution.mailbox import MailboxError, MailboxItem
from dhpc_gen.distribution.message import delivery_token
from dhpc_gen.distribution.send_state import check_journal
from dhpc_gen.distribution.sending_record import record_path, recorded_sending
from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import atomic_write_text, inside, safe_name

logger = logging.getLogger(__name__)

REPORTS_FILE = "bounce-reports.csv"
REPORT_COLUMNS = (
    "source",
    "read_at",
    "reported_at",
    "result",
    "recipient_id",
    "content_hash",
    "status",
    "reason",
    "report_sha256",
)


@dataclass(frozen=True)
class Listed:
    """A message this run read that changed no recipient, for the terminal."""

    source: str
    reason: str


@dataclass
class BounceSummary:
    """Counts of one run; the details are in the journal and ``bounce-reports.csv``."""

    dhpc_id: str
    mailbox: str
    read: int = 0
    """Messages in the mailbox (read now or before)."""
    known: int = 0
    """Read by an earlier run: nothing to do."""
    bounced: int = 0
    deferred: int = 0
    delivered: int = 0
    no_change: int = 0
    unmatched: list[Listed] = field(default_factory=list)
    """Bounces (and malformed reports) that name no message of this journal."""
    not_bounces: list[Listed] = field(default_factory=list)
    incomplete: list[Listed] = field(default_factory=list)
    """Not recorded: read again next time."""
    in_tmp: int = 0
    listing: Path | None = None
    interrupted: str = ""
    """Why the mailbox could not be read to its end (the messages before were recorded)."""

    @property
    def new(self) -> int:
        return (
            self.bounced
            + self.deferred
            + self.delivered
            + self.no_change
            + len(self.unmatched)
            + len(self.not_bounces)
        )


class _Index:
    """The journal's messages by token and by Message-ID."""

    def __init__(self, journal: JournalSnapshot) -> None:
        self.by_token: dict[str, JournalEntry] = {}
        self.by_message_id: dict[str, list[JournalEntry]] = {}
        for entry in (*journal.entries, *journal.earlier):
            self.by_token[delivery_token(entry.message_id, entry.address)] = entry
            self.by_message_id.setdefault(entry.message_id.lower(), []).append(entry)

    def match(self, reading: Reading, dhpc_id: str) -> tuple[JournalEntry | None, str]:
        """The message a report is about, or why none can be told."""
        found = {id(e): e for t in reading.tokens if (e := self.by_token.get(t)) is not None}
        if len(found) > 1:
            return None, "names several messages of this DHPC; cannot tell which one bounced"
        if found:
            return next(iter(found.values())), ""
        candidates = {
            id(e): e for mid in reading.message_ids for e in self.by_message_id.get(mid.lower(), [])
        }
        if len(candidates) > 1:
            # The same letter went to an old and a new address: the report's address tells.
            candidates = {
                key: e for key, e in candidates.items() if e.address.lower() in reading.addresses
            }
        if len(candidates) == 1:
            return next(iter(candidates.values())), ""
        if candidates:
            return None, "names a letter sent to several addresses; cannot tell which one"
        others = sorted(set(reading.dhpc_ids) - {dhpc_id})
        if others:
            return None, f"is about a message of another DHPC ({', '.join(others)})"
        if reading.message_ids or reading.tokens:
            return None, "is about a message this journal did not send"
        return None, (
            "names no message (no return-path token, envelope id or Message-ID of the original)"
        )


def read_bounces(
    dhpc: Dhpc,
    out_root: Path,
    messages: Iterable[MailboxItem],
    *,
    mailbox: str,
) -> BounceSummary:
    """Record what the messages of the bounce mailbox say about ``dhpc``'s e-mails.

    When the mailbox cannot be read to its end, what was read is recorded and
    ``summary.interrupted`` says why.
    """
    out_dir = inside(out_root, safe_name(dhpc.id, "DHPC id"))
    path = out_dir / JOURNAL_FILE
    if not path.exists():
        raise DhpcError(
            f"{display_path(path)} does not exist: no e-mail of {dhpc.id} was sent from this "
            "output folder (dhpc send --no-dry-run), so no bounce can be matched; check --out"
        )
    summary = BounceSummary(dhpc.id, mailbox, listing=out_dir / REPORTS_FILE)

    recorded = recorded_sending(dhpc.directory, dhpc.id, dhpc.meta.country)

    def check(snapshot: JournalSnapshot | None) -> None:
        check_journal(
            out_dir,
            dhpc.id,
            snapshot,
            purpose="report",
            recorded=recorded,
            record_file=record_path(dhpc.directory),
        )

    with SendJournal.open(path, dhpc.id, check=check) as journal:
        snapshot = journal.snapshot()
        index = _Index(snapshot)
        known = journal.known_reports()
        try:
            for item in messages:
                summary.read += 1
                _one(journal, index, known, item, dhpc.id, summary)
        except MailboxError as exc:
            summary.interrupted = str(exc)
        else:
            journal.note_bounces_read(utc_now())
        _write_listing(out_dir, journal.snapshot().reports)
    logger.info(
        "%d message(s) read, %d new: bounced %d, deferred %d",
        summary.read,
        summary.new,
        summary.bounced,
        summary.deferred,
    )
    return summary


def _one(
    journal: SendJournal,
    index: _Index,
    known: set[str],
    item: MailboxItem,
    dhpc_id: str,
    summary: BounceSummary,
) -> None:
    if item.data is None:
        summary.incomplete.append(Listed(item.source, item.problem))
        return
    report_id = hashlib.sha256(item.data).hexdigest()
    if report_id in known:
        summary.known += 1
        return
    reading = read_report(item.data)
    if reading.verdict == "incomplete":
        summary.incomplete.append(Listed(item.source, f"{reading.reason}; read again later"))
        return
    target, why = index.match(reading, dhpc_id)
    if (
        target is not None
        and reading.kind == "non-standard bounce"
        and target.address.lower() not in reading.addresses
    ):
        # A heuristic reading: believe it only for the address the message went to.
        target, why = None, "a non-standard bounce for another address than the message went to"
    report = BounceReport(
        report_id=report_id,
        source=item.source,
        reported_at=reading.reported_at or item.arrived_at or utc_now(),
        result="unmatched",
        recipient_id=target.key.recipient_id if target else "",
        content_hash=target.key.content_hash if target else "",
        status=reading.status,
        reason=reading.reason,
    )
    if reading.verdict == "not-a-bounce":
        report = _with(report, "not-a-bounce", reading.reason)
    elif reading.verdict == "malformed":
        report = _with(report, "malformed", f"{reading.kind}: {reading.reason}")
    elif target is None:
        report = _with(report, "unmatched", f"{reading.kind} that {why}")
    else:
        report = _with(report, reading.verdict, reading.reason)
    recorded = journal.record_report(report, target)
    known.add(report_id)
    listed = Listed(item.source, recorded.reason)
    match recorded.result:
        case "bounced":
            summary.bounced += 1
        case "deferred":
            summary.deferred += 1
        case "delivered":
            summary.delivered += 1
        case "no-change":
            summary.no_change += 1
        case "not-a-bounce":
            summary.not_bounces.append(listed)
        case _:
            summary.unmatched.append(listed)


def _with(report: BounceReport, result: ReportResult, reason: str) -> BounceReport:
    return replace(report, result=result, reason=reason)


def reports_csv(reports: Sequence[BounceReport]) -> str:
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(REPORT_COLUMNS)
    for r in reports:
        writer.writerow(
            neutralise(str(v))
            for v in (
                r.source,
                r.read_at,
                r.reported_at,
                r.result,
                r.recipient_id,
                r.content_hash,
                r.status,
                r.reason,
                r.report_id,
            )
        )
    return buffer.getvalue()


def _write_listing(out_dir: Path, reports: Sequence[BounceReport]) -> None:
    """``bounce-reports.csv``: every message ever read (owner-readable only: it may hold
    addresses in the servers' diagnostics)."""
    target = out_dir / REPORTS_FILE
    text = reports_csv(reports)
    try:
        if target.read_text(encoding="utf-8") == text:
            return
    except OSError:
        pass
    atomic_write_text(target, text, private=True)
