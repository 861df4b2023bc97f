"""What the output folder shows of earlier sending, checked against the send journal.

The journal is the one record of who was sent the letter. Emptied, replaced by another
DHPC's journal or by an older copy, it would be taken for a fresh start and every recipient
would be sent the letter again. Two files beside it show what it must know:

- ``send-state.json``, written by every real run at its start and at its end: the DHPC,
  the journal's own id and, per content version, how many messages went or may have gone
  (counts only, no personal data);
- the distribution record ``distribution-record.csv`` / ``.json`` that ``dhpc report``
  writes: the recipient ids each version was sent to.

:func:`check_journal` refuses a journal that these contradict, and says the way out:
restore the journal, or start a new one on purpose with ``--new-journal``, which moves the
old evidence to ``superseded/<time>/`` (nothing is deleted).
"""

from __future__ import annotations

import csv
import json
import os
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dhpc_gen.addresses.recipients import restore
from dhpc_gen.distribution.journal import (
    JOURNAL_FILE,
    WENT,
    JournalError,
    JournalSnapshot,
    foreign_journal,
)
from dhpc_gen.distribution.sending_record import CountrySending, check_recorded, describe
from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import atomic_write_text

SEND_STATE_FILE = "send-state.json"
RECORD_FILES = ("distribution-record.csv", "distribution-record.json")
SUPERSEDED_DIR = "superseded"

Purpose = Literal["send", "dry-run", "report"]


@dataclass(frozen=True)
class SendState:
    """The contents of ``send-state.json``."""

    dhpc_id: str
    journal_id: str
    running: bool
    """True from a run's start until its end: a run that was killed leaves it True."""
    updated_at: str
    went: Mapping[str, int]
    """Content hash → messages that went, or may have gone, with this journal."""

    @property
    def messages(self) -> int:
        return sum(self.went.values())


def read_send_state(out_dir: Path) -> SendState | None:
    path = out_dir / SEND_STATE_FILE
    if not path.exists():
        return None
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
        went = data["went"]
        state = SendState(
            dhpc_id=str(data["dhpc_id"]),
            journal_id=str(data["journal_id"]),
            running=bool(data["running"]),
            updated_at=str(data["updated_at"]),
            went={str(k): int(v) for k, v in went.items()},
        )
    except (OSError, ValueError, KeyError, TypeError, AttributeError) as exc:
        raise DhpcError(
            f"{display_path(path)}: not a send state written by dhpc send ({exc}); put back "
            "the one the last real run wrote"
        ) from None
    return state


def write_send_state(out_dir: Path, state: SendState) -> None:
    document = {
        "dhpc_id": state.dhpc_id,
        "journal_id": state.journal_id,
        "running": state.running,
        "updated_at": state.updated_at,
        "went": dict(sorted(state.went.items())),
    }
    text = json.dumps(document, indent=2) + "\n"
    atomic_write_text(out_dir / SEND_STATE_FILE, text, private=True)


@dataclass(frozen=True)
class Recorded:
    """The e-mail recipients one distribution record shows as sent (or maybe sent)."""

    path: Path
    reached: Mapping[str, frozenset[str]]
    """Content hash → recipient ids."""

    @property
    def count(self) -> int:
        return sum(len(ids) for ids in self.reached.values())


def read_records(out_dir: Path, dhpc_id: str) -> list[Recorded]:
    """The distribution records in their default places that show e-mails of ``dhpc_id``."""
    found = []
    for name in RECORD_FILES:
        path = out_dir / name
        if not path.is_file():
            continue
        rows = _record_rows(path)
        reached: dict[str, set[str]] = {}
        for row in rows:
            if (
                row.get("dhpc_id") == dhpc_id
                and row.get("channel") == "email"
                and row.get("state") in WENT
            ):
                reached.setdefault(row.get("content_hash", ""), set()).add(
                    row.get("recipient_id", "")
                )
        if reached:
            found.append(Recorded(path, {k: frozenset(v) for k, v in reached.items()}))
    return found


def _record_rows(path: Path) -> list[dict[str, str]]:
    try:
        text = path.read_text(encoding="utf-8")
        if path.suffix == ".json":
            document = json.loads(text)
            rows = document["recipients"]
            return [{str(k): str(v) for k, v in row.items()} for row in rows]
        return [
            {k: restore(v or "") for k, v in row.items() if k}
            for row in csv.DictReader(text.splitlines())
        ]
    except (OSError, ValueError, KeyError, TypeError, AttributeError, csv.Error) as exc:
        raise DhpcError(
            f"{display_path(path)}: cannot read this distribution record ({exc}); it shows "
            "whom the letter was sent: put back the one dhpc report wrote"
        ) from None


def _first(ids: set[str] | frozenset[str], count: int = 3) -> str:
    shown = sorted(ids)[:count]
    more = f" and {len(ids) - len(shown)} more" if len(ids) > len(shown) else ""
    return ", ".join(shown) + more


def check_journal(
    out_dir: Path,
    dhpc_id: str,
    journal: JournalSnapshot | None,
    *,
    purpose: Purpose,
    new_journal: bool = False,
    recorded: CountrySending | None = None,
    record_file: Path | None = None,
) -> None:
    """Refuse a journal that is not the one that sent before.

    What shows earlier sending: ``recorded``, the content folder's ``distribution.yaml``
    entry of the country (:mod:`.sending_record`, which outlives the output folder), and
    the output folder's ``send-state.json`` and distribution records.
    """
    path = display_path(out_dir / JOURNAL_FILE)
    if journal is not None and journal.owners - {dhpc_id}:
        raise JournalError(foreign_journal(journal.path, set(journal.owners), dhpc_id))
    state = read_send_state(out_dir)
    state_path = display_path(out_dir / SEND_STATE_FILE)
    if state is not None and state.dhpc_id != dhpc_id:
        raise JournalError(
            f"{state_path} belongs to {state.dhpc_id}, not to {dhpc_id}: it was copied or "
            f"moved here. Put {dhpc_id}'s own send state back; nothing was sent or changed"
        )
    records = read_records(out_dir, dhpc_id)
    history = journal is not None and not journal.empty
    if new_journal and history:
        assert journal is not None
        raise JournalError(
            f"--new-journal starts an empty journal, but {path} has "
            f"{len(journal.entries) + len(journal.earlier)} row(s): it records who was sent "
            "the letter. To start over, move it out of the way yourself (keep it); to go on "
            "with it, leave out --new-journal"
        )
    shown_record = display_path(record_file) if record_file is not None else ""
    if recorded is not None and not recorded.shows_sending:
        recorded = None
    if not history:
        evidence = []
        if recorded is not None:
            evidence.append(f"{shown_record} ({recorded.country}: {describe(recorded)})")
        if state is not None and (state.messages or state.running):
            if state.messages:
                evidence.append(
                    f"{state_path} ({state.messages} message(s) sent or maybe sent, "
                    f"updated {state.updated_at})"
                )
            else:
                evidence.append(f"{state_path} (a run that was stopped, {state.updated_at})")
        evidence += [
            f"{display_path(r.path)} ({r.count} recipient(s) sent or maybe sent)" for r in records
        ]
        if not evidence or new_journal:
            return
        what = "missing" if journal is None else "empty" if journal.size else "empty (0 bytes)"
        if purpose == "report":
            way_out = (
                "Restore journal.sqlite from a backup (with its -wal file, if there is one): "
                "a record made without it would lose every e-mail row"
            )
        else:
            decided = f", and the decision is recorded in {shown_record}" if shown_record else ""
            way_out = (
                "Restore journal.sqlite from a backup (with its -wal file, if there is one) to "
                "go on where it stopped. Only if it has been decided that everyone is to be "
                "sent the letter again, add --new-journal: the old send state and distribution "
                f"record are then moved to {display_path(out_dir / SUPERSEDED_DIR)}/{decided}"
            )
        raise JournalError(
            f"{path} is {what}, but {' and '.join(evidence)} show(s) that {dhpc_id} was "
            f"sent with an earlier journal: sending now would send those letters again. "
            f"{way_out}. Nothing was sent"
        )
    assert journal is not None
    restore_hint = (
        "Put back the latest copy of the journal that sent these messages (a backup of "
        "journal.sqlite, with its -wal file); nothing was sent"
    )
    if state is not None:
        if state.journal_id != journal.journal_id:
            this = journal.journal_id[:8] or "one of an older format"
            raise JournalError(
                f"{path} is not the journal that sent the earlier messages of {dhpc_id}: "
                f"{state_path} names journal {state.journal_id[:8]}, this is {this}. "
                f"{restore_hint}"
            )
        went = journal.went(dhpc_id)
        for version, count in sorted(state.went.items()):
            if went[version] < count:
                raise JournalError(
                    f"{path} is an older copy: it knows {went[version]} message(s) of content "
                    f"{version[:12]} that went, {state_path} {count}. {restore_hint}"
                )
    for record in records:
        for version, ids in sorted(record.reached.items()):
            unknown = set(ids) - journal.reached(dhpc_id, version)
            if unknown:
                raise JournalError(
                    f"{path} does not know {len(unknown)} recipient(s) that "
                    f"{display_path(record.path)} shows as sent content {version[:12]} "
                    f"({_first(unknown)}): it is an older copy or another journal. "
                    f"{restore_hint}"
                )
    if recorded is not None and record_file is not None:
        check_recorded(recorded, journal, record_file, dhpc_id, purpose=purpose)


def supersede(out_dir: Path, stamp: str) -> Path | None:
    """Move the evidence of an earlier journal to ``superseded/<stamp>/``; return where.

    Called for ``--new-journal`` once :func:`check_journal` has found no journal with rows:
    the send state, the distribution records and an empty journal file are kept there.
    """
    names = [
        SEND_STATE_FILE,
        *RECORD_FILES,
        JOURNAL_FILE,
        JOURNAL_FILE + "-wal",
        JOURNAL_FILE + "-shm",
    ]
    present = [name for name in names if (out_dir / name).exists()]
    if not present:
        return None
    target = out_dir / SUPERSEDED_DIR / stamp.replace(":", "")
    try:
        target.mkdir(parents=True, mode=0o700)
        for name in present:
            os.replace(out_dir / name, target / name)
    except OSError as exc:
        raise JournalError(
            f"cannot move the old journal's evidence to {display_path(target)}: "
            f"{exc.strerror or exc}; nothing was sent"
        ) from exc
    return target
