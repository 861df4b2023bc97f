"""The distribution record: who was sent which version of the DHPC, how, and when.

E-mail rows come from the send journal (with what came back, from ``dhpc bounces``),
postal rows from the print manifest written by ``dhpc merge``. Each row also says the
*outcome* of its recipient: the channel that finally reached them (``email``: delivered,
no bounce; ``bounced-then-printed``; ``printed``), or that it is in doubt or did not
(``email-in-doubt``, ``not-reached``). Every recipient of the mailing list is in the
record: one that neither channel served has a row of channel ``none``.

The record holds personal data (names and addresses from the mailing list), so it is
written owner-readable only; the terminal gets counts only.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import asdict, dataclass, fields, replace
from pathlib import Path

from dhpc_gen.addresses.recipients import RECIPIENTS_FILE, Recipient, neutralise, read_recipients
from dhpc_gen.approval.sent import LetterVersion, read_versions
from dhpc_gen.distribution.journal import JOURNAL_FILE, read_snapshot, utc_now
from dhpc_gen.distribution.send_state import check_journal
from dhpc_gen.distribution.sending_record import CountrySending
from dhpc_gen.errors import DhpcError, display_path

PRINT_MANIFEST = Path("print") / "print-manifest.csv"
PRINT_COLUMNS = (
    "recipient_id",
    "language",
    "print_file",
    "first_page",
    "last_page",
    "letter_file",
    "letter_sha256",
)
POSTAL_STATE = "printed"
"""A postal letter is in a print file for the mail house; the posting itself is not seen."""
NO_CHANNEL = "none"
"""The channel of a recipient neither e-mailed nor printed (state ``not-sent``)."""

OUTCOMES = ("email", "bounced-then-printed", "printed", "email-in-doubt", "not-reached")
"""Per recipient and version, what finally reached them (the first three) or did not."""
REACHED = OUTCOMES[:3]

FORMATS = ("csv", "json")


@dataclass(frozen=True)
class PrintEntry:
    """One row of ``print/print-manifest.csv``."""

    recipient_id: str
    language: str
    print_file: str
    first_page: str
    last_page: str
    letter_file: str
    letter_sha256: str
    content_sha256: str = ""
    """Filled only when the manifest has this (optional) column."""
    address_sha256: str | None = None
    """The address block merged into the letter; None: a manifest without this column."""


def read_print_manifest(path: Path) -> list[PrintEntry]:
    """The rows of a print manifest; an error names the file and row."""
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DhpcError(
            f"{display_path(path)}: cannot read the print manifest: {exc.strerror}"
        ) from exc
    shown = display_path(path)
    entries = []
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in PRINT_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DhpcError(f"{shown}: not a print manifest, columns missing: {', '.join(missing)}")
        for number, row in enumerate(reader, start=2):
            if not row.get("recipient_id") or not row.get("language"):
                raise DhpcError(f"{shown}:{number}: recipient_id and language are required")
            entries.append(
                PrintEntry(
                    **{c: (row.get(c) or "").strip() for c in PRINT_COLUMNS},
                    content_sha256=(row.get("content_sha256") or "").strip(),
                    address_sha256=(
                        (row.get("address_sha256") or "").strip()
                        if "address_sha256" in (reader.fieldnames or ())
                        else None
                    ),
                )
            )
    return entries


@dataclass(frozen=True)
class RecordRow:
    """One recipient on one channel."""

    dhpc_id: str
    recipient_id: str
    channel: str
    language: str
    content_hash: str
    state: str
    time: str
    """When the state was reached (UTC): sent, failed, or the print manifest written."""
    attempts: int
    reply: str
    message_id: str
    name: str
    address: str
    was_unknown: bool
    """The row was once ``unknown``: the recipient may have the same message twice."""
    readdressed: bool = False
    """An earlier message: the address changed after it, and the letter was sent again to
    the new one (``--resend-changed``; the recipient's next row)."""
    sent_at: str = ""
    """E-mail: when the mail server accepted the message (also for one that bounced)."""
    bounce_status: str = ""
    bounce_reason: str = ""
    """E-mail ``bounced`` or ``deferred``: the report's status code and diagnostic."""
    outcome: str = ""
    """The recipient's outcome for this version (one of :data:`OUTCOMES`), on each row."""
    language_sha256: str = ""
    """The version of the recipient's language (``dhpc.yaml`` + the language file)."""
    approval: str = ""
    """The sign-off entry that approved that version; empty when it was not approved."""
    approved_by: str = ""


RECORD_COLUMNS = tuple(f.name for f in fields(RecordRow))


@dataclass(frozen=True)
class Total:
    content_hash: str
    channel: str
    language: str
    state: str
    count: int


@dataclass(frozen=True)
class DistributionRecord:
    dhpc_id: str
    content_hash: str
    """The version of the content as it is now."""
    generated_at: str
    rows: tuple[RecordRow, ...]
    sources: tuple[str, ...]
    """The files the record was made from."""
    printed_at: str = ""
    """When the print manifest was written (empty: no print run)."""
    bounces_read_at: str = ""
    """When ``dhpc bounces`` last read the bounce mailbox (empty: never)."""
    unmatched_reports: int = 0
    """Messages of the bounce mailbox that matched no e-mail (``bounce-reports.csv``)."""

    @property
    def totals(self) -> list[Total]:
        counts = Counter((r.content_hash, r.channel, r.language, r.state) for r in self.rows)
        return [Total(*key, count) for key, count in sorted(counts.items())]


def _mtime_utc(path: Path) -> str:
    stamp = dt.datetime.fromtimestamp(path.stat().st_mtime, dt.UTC)
    return stamp.isoformat(timespec="seconds").replace("+00:00", "Z")


def _postal_address(recipient: Recipient) -> str:
    lines = [
        recipient.organisation,
        recipient.street,
        f"{recipient.postal_code} {recipient.city}".strip(),
        recipient.country,
    ]
    return ", ".join(line for line in lines if line)


def build_record(
    dhpc_id: str,
    content_hash: str,
    out_dir: Path,
    *,
    mailing: Path | None = None,
    recorded: CountrySending | None = None,
    record_file: Path | None = None,
) -> DistributionRecord:
    """Collect the record of ``dhpc_id`` from the journal and print manifest in ``out_dir``.

    ``recorded``: what the content folder's ``distribution.yaml`` (``record_file``) says of
    the country; a journal it shows is missing is refused, as for ``dhpc send``.
    """
    journal_path = out_dir / JOURNAL_FILE
    manifest_path = out_dir / PRINT_MANIFEST
    mailing_path = mailing if mailing is not None else out_dir / "mailing"
    if mailing_path.is_dir():
        mailing_path = mailing_path / RECIPIENTS_FILE
    people: dict[str, Recipient] = {}
    sources = []
    if mailing_path.is_file():
        people = {r.recipient_id: r for r in read_recipients(mailing_path)}
        sources.append(str(mailing_path))
    elif mailing is not None:
        raise DhpcError(f"{display_path(mailing)}: no mailing list there ({RECIPIENTS_FILE})")
    rows: list[RecordRow] = []
    journal = read_snapshot(journal_path)
    check_journal(
        out_dir, dhpc_id, journal, purpose="report", recorded=recorded, record_file=record_file
    )
    if journal is not None:
        sources.append(str(journal_path))
        # Earlier messages first: they went before the recipient's current row.
        ordered = sorted(journal.earlier, key=lambda e: e.replaced_at or "")
        for entry in [*ordered, *journal.entries]:
            person = people.get(entry.key.recipient_id)
            when = (
                entry.sent_at
                if entry.state == "sent"
                else entry.bounced_at
                if entry.state in ("bounced", "deferred")
                else None
            ) or entry.updated_at
            rows.append(
                RecordRow(
                    dhpc_id=dhpc_id,
                    recipient_id=entry.key.recipient_id,
                    channel=entry.key.channel,
                    language=entry.language,
                    content_hash=entry.key.content_hash,
                    state=entry.state,
                    time=when,
                    attempts=entry.attempts,
                    reply=entry.last_reply,
                    message_id=entry.message_id,
                    name=person.full_name if person else "",
                    address=entry.address,
                    was_unknown=entry.unknown_at is not None,
                    readdressed=entry.replaced_at is not None,
                    sent_at=entry.sent_at or "",
                    bounce_status=entry.bounce_status,
                    bounce_reason=entry.bounce_reason,
                )
            )
    printed_at = ""
    if manifest_path.exists():
        sources.append(str(manifest_path))
        printed_at = _mtime_utc(manifest_path)
        for item in read_print_manifest(manifest_path):
            if not item.print_file:
                continue  # no postal address: a letter file for e-mail only, not posted
            person = people.get(item.recipient_id)
            rows.append(
                RecordRow(
                    dhpc_id=dhpc_id,
                    recipient_id=item.recipient_id,
                    channel="post",
                    language=item.language,
                    content_hash=item.content_sha256 or content_hash,
                    state=POSTAL_STATE,
                    time=printed_at,
                    attempts=0,
                    reply="",
                    message_id="",
                    name=person.full_name if person else "",
                    address=_postal_address(person) if person else "",
                    was_unknown=False,
                )
            )
    versions = read_versions(out_dir)
    rows = [_with_version(row, versions) for row in rows]
    if not rows and not journal_path.exists() and not manifest_path.exists():
        raise DhpcError(
            f"{display_path(out_dir)}: nothing distributed yet: no {JOURNAL_FILE} (dhpc send) "
            "and no "
            f"{PRINT_MANIFEST.as_posix()} (dhpc merge)"
        )
    # Everyone on the mailing list is accounted for, reached or not.
    served = {r.recipient_id for r in rows if r.content_hash == content_hash}
    for person in people.values():
        if person.recipient_id not in served:
            rows.append(
                RecordRow(
                    dhpc_id=dhpc_id,
                    recipient_id=person.recipient_id,
                    channel=NO_CHANNEL,
                    language=person.language,
                    content_hash=content_hash,
                    state="not-sent",
                    time="",
                    attempts=0,
                    reply="",
                    message_id="",
                    name=person.full_name,
                    address="",
                    was_unknown=False,
                )
            )
    unmatched = 0
    if journal is not None:
        unmatched = sum(1 for r in journal.reports if r.result in ("unmatched", "malformed"))
    return DistributionRecord(
        dhpc_id,
        content_hash,
        utc_now(),
        tuple(with_outcomes(rows)),
        tuple(sources),
        printed_at=printed_at,
        bounces_read_at=journal.bounces_read_at if journal is not None else "",
        unmatched_reports=unmatched,
    )


def outcome(email_state: str | None, printed: bool) -> str:
    """What finally reached a recipient, from their e-mail state and whether they are printed."""
    if email_state == "sent":
        return "email"
    if printed:
        return "bounced-then-printed" if email_state in ("bounced", "failed") else "printed"
    if email_state in ("deferred", "unknown", "sending"):
        return "email-in-doubt"
    return "not-reached"


def with_outcomes(rows: Sequence[RecordRow]) -> list[RecordRow]:
    """Each row with its recipient's outcome for its version."""
    email: dict[tuple[str, str], str] = {}
    printed: set[tuple[str, str]] = set()
    for row in rows:
        key = (row.recipient_id, row.content_hash)
        if row.channel == "email" and not row.readdressed:
            email[key] = row.state
        elif row.channel == "post":
            printed.add(key)
    return [
        replace(
            row,
            outcome=outcome(
                email.get((row.recipient_id, row.content_hash)),
                (row.recipient_id, row.content_hash) in printed,
            ),
        )
        for row in rows
    ]


def recipient_outcomes(record: DistributionRecord) -> dict[str, tuple[str, str]]:
    """recipient id → (language, outcome) for the current version of the content."""
    found: dict[str, tuple[str, str]] = {}
    for row in record.rows:
        if row.content_hash == record.content_hash:
            found.setdefault(row.recipient_id, (row.language, row.outcome))
    return found


def _with_version(row: RecordRow, versions: Mapping[tuple[str, str], LetterVersion]) -> RecordRow:
    version = versions.get((row.content_hash, row.language))
    if version is None:
        return row
    return replace(
        row,
        language_sha256=version.language_sha256,
        approval=version.approval,
        approved_by=version.approved_by,
    )


def record_csv(record: DistributionRecord) -> str:
    buffer = io.StringIO()
    writer = csv.DictWriter(buffer, fieldnames=RECORD_COLUMNS, lineterminator="\n")
    writer.writeheader()
    for row in record.rows:
        values = asdict(row)
        values["was_unknown"] = "yes" if row.was_unknown else "no"
        values["readdressed"] = "yes" if row.readdressed else "no"
        writer.writerow({k: neutralise(str(v)) for k, v in values.items()})
    return buffer.getvalue()


def record_json(record: DistributionRecord) -> str:
    document = {
        "dhpc": record.dhpc_id,
        "content_sha256": record.content_hash,
        "generated_at": record.generated_at,
        "sources": list(record.sources),
        "totals": [asdict(t) for t in record.totals],
        "recipients": [asdict(row) for row in record.rows],
    }
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def totals_table(totals: Sequence[Total]) -> list[tuple[str, str, str, str, int]]:
    """Counts for the terminal: (version, channel, language, state, count)."""
    return [(t.content_hash[:12], t.channel, t.language, t.state, t.count) for t in totals]


def state_counts(rows: Iterable[RecordRow]) -> Counter[str]:
    return Counter(row.state for row in rows)
