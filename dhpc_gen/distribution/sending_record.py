"""``DIR/distribution.yaml``: the evidence, kept with the content, that sending began.

The send journal and ``send-state.json`` live in the output folder, and an output folder
is thrown away (``make clean``) or replaced (``--out`` elsewhere) as a matter of course.
Without the journal every recipient would look new and be sent the letter again. So each
real ``dhpc send`` also records, in the content folder where the decisions about the
letter are kept (``signoffs.jsonl``), which journal sends it: per country, the journal's
id, where it was, when the first and the last message went, and how many went per
version of the content. Counts and times only: no personal data, text that git can
review. The file is written whole (temporary file and rename) when a real run starts and
when it ends, under a lock on the content folder, so two runs with different ``--out``
folders cannot both record themselves.

:func:`check_recorded` refuses a journal that is missing, empty, another one or an older
copy of the recorded one. The way out is to restore the journal; or, once a person has
decided that everyone is to be sent the letter again, ``--new-journal``, which this file
records as a decision (when, and which journal with how many messages was given up).
"""

from __future__ import annotations

import contextlib
import fcntl
import json
import os
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field, replace
from pathlib import Path

from dhpc_gen.content.loader import read_yaml
from dhpc_gen.distribution.journal import WENT, JournalError, JournalSnapshot
from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import atomic_write_text

RECORD_FILE = "distribution.yaml"

_HEADER = """\
# Written by dhpc send when a real run starts and when it ends: which send journal e-mails
# this DHPC, per country, when its first and last message went and how many went per
# version of the content (no personal data). Keep it with the content and commit it: dhpc
# send refuses to send with a journal other than the one named here, so that a lost
# output folder never sends the letter twice. Do not edit it by hand (docs/send.md).
"""


@dataclass(frozen=True)
class NewJournalDecision:
    """``--new-journal``: a person decided to send everyone the letter again."""

    at: str
    given_up: str
    """The id of the journal no longer used."""
    journal_file: str
    """Where that journal was, as the user gave the output folder."""
    messages: Mapping[str, int]
    """Content hash → messages that journal had sent, or may have."""


@dataclass(frozen=True)
class CountrySending:
    """What ``distribution.yaml`` records of one country."""

    country: str
    journal: str
    """The id of the journal that sends (``meta`` of ``journal.sqlite``)."""
    journal_file: str
    running: bool
    """True from a run's start until its end: a run that was killed leaves it True."""
    first_run_at: str
    last_run_at: str
    first_sent_at: str
    last_sent_at: str
    messages: Mapping[str, int]
    """Content hash → messages that went, or may have gone, with this journal."""
    decisions: tuple[NewJournalDecision, ...] = field(default=())

    @property
    def total(self) -> int:
        return sum(self.messages.values())

    @property
    def shows_sending(self) -> bool:
        """Messages went (or may have gone) with the recorded journal."""
        return self.total > 0 or self.running


@dataclass(frozen=True)
class SendingRecord:
    """The whole of ``distribution.yaml``."""

    path: Path
    dhpc_id: str
    countries: Mapping[str, CountrySending]


def record_path(directory: Path) -> Path:
    return directory / RECORD_FILE


def _fail(path: Path, reason: str) -> DhpcError:
    return DhpcError(
        f"{display_path(path)}: {reason}. This file records which send journal e-mails the "
        "DHPC; put back the version dhpc send wrote (git checkout, or git log for its "
        "history). Nothing was sent"
    )


def _text(value: object, path: Path, where: str) -> str:
    if value is None:
        return ""
    if not isinstance(value, str):
        raise _fail(path, f"{where} is not a text")
    return value


def _counts(value: object, path: Path, where: str) -> dict[str, int]:
    if value is None:
        return {}
    if not isinstance(value, Mapping):
        raise _fail(path, f"{where} is not a mapping of content hash to count")
    counts = {}
    for key, count in value.items():
        if not isinstance(count, int) or isinstance(count, bool) or count < 0:
            raise _fail(path, f"{where}.{key} is not a count")
        counts[str(key)] = count
    return counts


def read_record(directory: Path, dhpc_id: str) -> SendingRecord | None:
    """``DIR/distribution.yaml``, or None when no real run has recorded itself yet."""
    path = record_path(directory)
    if not path.exists():
        return None
    data, problems = read_yaml(path, display_path(path))
    if problems:
        raise _fail(path, str(problems[0]).removeprefix(display_path(path) + ": "))
    owner = _text(data.get("dhpc"), path, "dhpc")
    if owner != dhpc_id:
        raise _fail(path, f"it is the record of {owner or 'no DHPC'}, not of {dhpc_id}")
    countries = data.get("countries") or {}
    if not isinstance(countries, Mapping):
        raise _fail(path, "countries is not a mapping")
    parsed = {}
    for country, entry in countries.items():
        at = f"countries.{country}"
        if not isinstance(entry, Mapping):
            raise _fail(path, f"{at} is not a mapping")
        decisions = []
        for index, item in enumerate(entry.get("decisions") or ()):
            where = f"{at}.decisions[{index}]"
            if not isinstance(item, Mapping):
                raise _fail(path, f"{where} is not a mapping")
            decisions.append(
                NewJournalDecision(
                    at=_text(item.get("at"), path, f"{where}.at"),
                    given_up=_text(item.get("given_up"), path, f"{where}.given_up"),
                    journal_file=_text(item.get("journal_file"), path, f"{where}.journal_file"),
                    messages=_counts(item.get("messages"), path, f"{where}.messages"),
                )
            )
        running = entry.get("running", False)
        if not isinstance(running, bool):
            raise _fail(path, f"{at}.running is not true or false")
        parsed[str(country)] = CountrySending(
            country=str(country),
            journal=_text(entry.get("journal"), path, f"{at}.journal"),
            journal_file=_text(entry.get("journal_file"), path, f"{at}.journal_file"),
            running=running,
            first_run_at=_text(entry.get("first_run_at"), path, f"{at}.first_run_at"),
            last_run_at=_text(entry.get("last_run_at"), path, f"{at}.last_run_at"),
            first_sent_at=_text(entry.get("first_sent_at"), path, f"{at}.first_sent_at"),
            last_sent_at=_text(entry.get("last_sent_at"), path, f"{at}.last_sent_at"),
            messages=_counts(entry.get("messages"), path, f"{at}.messages"),
            decisions=tuple(decisions),
        )
    return SendingRecord(path, dhpc_id, parsed)


def recorded_sending(directory: Path, dhpc_id: str, country: str) -> CountrySending | None:
    """What ``distribution.yaml`` records of ``country``; None if nothing."""
    record = read_record(directory, dhpc_id)
    return None if record is None else record.countries.get(country)


def _scalar(value: str | int | bool) -> str:
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    return json.dumps(value, ensure_ascii=False)


def _counts_yaml(counts: Mapping[str, int], indent: str) -> list[str]:
    if not counts:
        return [" {}"]
    return [""] + [f"{indent}{_scalar(k)}: {v}" for k, v in sorted(counts.items())]


def record_yaml(record: SendingRecord) -> str:
    """The text of ``distribution.yaml``: stable order, one value a line, for git diffs."""
    lines = [_HEADER.rstrip("\n"), f"dhpc: {_scalar(record.dhpc_id)}", "countries:"]
    for country in sorted(record.countries):
        entry = record.countries[country]
        lines.append(f"  {country}:")
        for name in ("journal", "journal_file"):
            lines.append(f"    {name}: {_scalar(getattr(entry, name))}")
        lines.append(f"    running: {_scalar(entry.running)}")
        for name in ("first_run_at", "last_run_at", "first_sent_at", "last_sent_at"):
            lines.append(f"    {name}: {_scalar(getattr(entry, name))}")
        counts = _counts_yaml(entry.messages, "      ")
        lines.append("    messages:" + counts[0])
        lines += counts[1:]
        if entry.decisions:
            lines.append("    decisions:")
            for decision in entry.decisions:
                lines.append("      - decision: new journal")
                lines.append(f"        at: {_scalar(decision.at)}")
                lines.append(f"        given_up: {_scalar(decision.given_up)}")
                lines.append(f"        journal_file: {_scalar(decision.journal_file)}")
                counts = _counts_yaml(decision.messages, "          ")
                lines.append("        messages:" + counts[0])
                lines += counts[1:]
    return "\n".join(lines) + "\n"


@contextlib.contextmanager
def _locked(directory: Path) -> Iterator[None]:
    """Hold a lock on the content folder itself (no lock file left in it)."""
    try:
        fd = os.open(directory, os.O_RDONLY | os.O_DIRECTORY)
    except OSError as exc:
        raise DhpcError(
            f"{display_path(directory)}: cannot open the content folder to record the sending "
            f"({exc.strerror}); nothing was sent"
        ) from exc
    try:
        fcntl.flock(fd, fcntl.LOCK_EX)
        yield
    finally:
        os.close(fd)  # releases the lock


def _write(record: SendingRecord) -> None:
    try:
        atomic_write_text(record.path, record_yaml(record))
    except DhpcError as exc:
        raise DhpcError(
            f"cannot record the sending in {display_path(record.path)}: {exc}. A real send "
            "records which journal sends before its first message: run it where the content "
            "folder can be written (nothing was sent)"
        ) from None


def _sent_times(journal: JournalSnapshot, dhpc_id: str) -> tuple[str, str]:
    times = sorted(
        e.sent_at or e.unknown_at or e.updated_at
        for e in (*journal.entries, *journal.earlier)
        if e.key.dhpc_id == dhpc_id and e.state in WENT
    )
    return (times[0], times[-1]) if times else ("", "")


def _first(value: str, other: str) -> str:
    return min(v for v in (value, other) if v) if value or other else ""


def _last(value: str, other: str) -> str:
    return max(value, other)


def record_run(
    directory: Path,
    dhpc_id: str,
    country: str,
    journal: JournalSnapshot,
    *,
    running: bool,
    now: str,
    new_journal: bool = False,
) -> CountrySending:
    """Record, at a run's start (``running``) or end, that ``journal`` sends ``country``.

    At the start the record is checked again under the lock (another run may have recorded
    itself since this one looked): a journal that is not the recorded one is refused unless
    ``new_journal``, which records the decision and the journal given up.
    """
    with _locked(directory):
        record = read_record(directory, dhpc_id) or SendingRecord(
            record_path(directory), dhpc_id, {}
        )
        entry = record.countries.get(country)
        decisions: tuple[NewJournalDecision, ...] = () if entry is None else entry.decisions
        if entry is not None and entry.journal != journal.journal_id:
            if not running:
                raise JournalError(
                    f"{display_path(record.path)} names journal {entry.journal[:8]} for "
                    f"{country} since this run started; this run's journal "
                    f"({display_path(journal.path)}) is not recorded there"
                )
            if entry.shows_sending:
                if not new_journal:
                    check_recorded(entry, journal, record.path, dhpc_id, purpose="send")
                decisions += (
                    NewJournalDecision(
                        at=now,
                        given_up=entry.journal,
                        journal_file=entry.journal_file,
                        messages=dict(entry.messages),
                    ),
                )
            entry = None
        went = journal.went(dhpc_id)
        first_sent, last_sent = _sent_times(journal, dhpc_id)
        updated = CountrySending(
            country=country,
            journal=journal.journal_id,
            journal_file=display_path(journal.path),
            running=running,
            first_run_at=entry.first_run_at if entry is not None and entry.first_run_at else now,
            last_run_at=now,
            first_sent_at=first_sent,
            last_sent_at=last_sent,
            messages={version: count for version, count in sorted(went.items()) if count},
            decisions=decisions,
        )
        if entry is not None:
            updated = replace(
                updated,
                first_sent_at=_first(entry.first_sent_at, first_sent),
                last_sent_at=_last(entry.last_sent_at, last_sent),
            )
        countries: dict[str, CountrySending] = dict(record.countries)
        countries[country] = updated
        _write(replace(record, countries=countries))
        return updated


def describe(entry: CountrySending) -> str:
    """The recorded sending in a few words: journal, counts, times (no personal data)."""
    versions = ", ".join(
        f"{count} of content {v[:12]}" for v, count in sorted(entry.messages.items())
    )
    when = ""
    if entry.first_sent_at:
        when = f", the first at {entry.first_sent_at}, the last at {entry.last_sent_at}"
    running = "; a run was stopped before it ended" if entry.running else ""
    return (
        f"journal {entry.journal[:8]} ({entry.journal_file}): {entry.total} message(s) sent or "
        f"maybe sent ({versions or 'none yet'}){when}{running}"
    )


def check_recorded(
    entry: CountrySending | None,
    journal: JournalSnapshot | None,
    record_file: Path,
    dhpc_id: str,
    *,
    purpose: str,
    new_journal: bool = False,
    journal_path: Path | None = None,
) -> None:
    """Refuse a journal that is not the one ``distribution.yaml`` records as sending."""
    if entry is None or not entry.shows_sending:
        return
    shown_record = display_path(record_file)
    path = display_path(journal.path if journal is not None else journal_path or Path("journal"))
    country = entry.country
    if journal is None or journal.empty:
        if new_journal and purpose != "report":
            return
        what = "missing" if journal is None else "empty"
        if purpose == "report":
            way_out = (
                f"Restore that journal (with its -wal file, if there is one) to {path}: a "
                "record made without it would lose every e-mail row"
            )
        else:
            way_out = (
                f"Restore that journal (with its -wal file, if there is one) to {path} to go "
                "on where it stopped. Only if it has been decided that everyone is to be sent "
                f"the letter again, add --new-journal: the decision is recorded in {shown_record}"
            )
        raise JournalError(
            f"{path} is {what}, but {shown_record} records that {country} was sent with "
            f"{describe(entry)}: sending now would send those letters again. {way_out}. "
            "Nothing was sent"
        )
    if journal.journal_id != entry.journal:
        this = journal.journal_id[:8] or "one of an older format"
        raise JournalError(
            f"{path} is not the journal that sends {country}: {shown_record} records "
            f"{describe(entry)}; this is journal {this}. Put back the recorded journal (or use "
            "the output folder that holds it, --out); nothing was sent"
        )
    went = journal.went(dhpc_id)
    for version, count in sorted(entry.messages.items()):
        if went[version] < count:
            raise JournalError(
                f"{path} is an older copy of the journal that sends {country}: it knows "
                f"{went[version]} message(s) of content {version[:12]} that went, "
                f"{shown_record} records {count}. Put back the latest copy (a backup of "
                "journal.sqlite, with its -wal file); nothing was sent"
            )
