"""``DIR/distribution.yaml``: which journal sends each country, kept with the content."""

from __future__ import annotations

import threading
from pathlib import Path

import pytest

from dhpc_gen.distribution.journal import (
    JOURNAL_FILE,
    DeliveryKey,
    JournalError,
    PlannedDelivery,
    SendJournal,
    read_snapshot,
)
from dhpc_gen.distribution.send_state import check_journal
from dhpc_gen.distribution.sending_record import (
    RECORD_FILE,
    read_record,
    record_run,
    recorded_sending,
)
from dhpc_gen.errors import DhpcError

DHPC = "fictumab-2026"
VERSION = "c" * 64


def sent_journal(out_dir: Path, count: int) -> Path:
    """A journal that sent ``count`` messages."""
    path = out_dir / JOURNAL_FILE
    with SendJournal.open(path, DHPC) as journal:
        for number in range(count):
            key = DeliveryKey(DHPC, VERSION, f"r-{number:012d}")
            address = f"hcp{number}@example.fi"
            journal.add_pending([PlannedDelivery(key, "fi", address, f"<{number}@x.invalid>")])
            journal.begin_attempt(key, ["pending"], address)
            journal.mark_sent(key, "250 OK")
    return path


def record(content: Path, country: str, out_dir: Path, *, running: bool = False) -> None:
    snapshot = read_snapshot(out_dir / JOURNAL_FILE)
    assert snapshot is not None
    record_run(content, DHPC, country, snapshot, running=running, now="2026-11-02T09:00:00Z")


def check(content: Path, country: str, out_dir: Path, **options: bool) -> None:
    check_journal(
        out_dir,
        DHPC,
        read_snapshot(out_dir / JOURNAL_FILE),
        purpose="send",
        recorded=recorded_sending(content, DHPC, country),
        record_file=content / RECORD_FILE,
        **options,
    )


def test_each_country_of_a_campaign_has_its_own_journal(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    fi, se = tmp_path / "out" / "FI", tmp_path / "out" / "SE"
    sent_journal(fi, 3)
    record(content, "FI", fi)
    check(content, "FI", fi)
    check(content, "SE", se)  # Sweden has sent nothing: its fresh journal is fine
    sent_journal(se, 1)
    record(content, "SE", se)
    text = (content / RECORD_FILE).read_text(encoding="utf-8")
    assert text.index("  FI:") < text.index("  SE:") and "hcp" not in text
    parsed = read_record(content, DHPC)
    assert parsed is not None
    assert {c: e.total for c, e in parsed.countries.items()} == {"FI": 3, "SE": 1}

    (fi / JOURNAL_FILE).unlink()
    with pytest.raises(JournalError, match=r"journal.sqlite is missing.*FI: journal .*3 message"):
        check(content, "FI", fi)
    check(content, "SE", se)  # Finland's loss does not stop Sweden
    with pytest.raises(JournalError, match="is not the journal that sends FI"):
        check(content, "FI", se)  # Sweden's journal is not Finland's
    check(content, "FI", fi, new_journal=True)  # a person decided: allowed, then recorded


def test_two_runs_with_different_output_folders_cannot_both_record(tmp_path: Path) -> None:
    """The record is checked again under a lock when a run starts."""
    content = tmp_path / "content"
    content.mkdir()
    first, second = tmp_path / "out1", tmp_path / "out2"
    sent_journal(first, 2)
    record(content, "FI", first, running=True)
    with SendJournal.open(second / JOURNAL_FILE, DHPC):
        pass  # a fresh journal, created by the second run after its own check
    with pytest.raises(JournalError, match=r"is empty, but .*distribution.yaml records"):
        record(content, "FI", second, running=True)
    entry = recorded_sending(content, DHPC, "FI")
    assert entry is not None and entry.total == 2 and entry.running

    errors: list[BaseException] = []

    def start(out_dir: Path) -> None:
        try:
            record(content, "SE", out_dir, running=True)
        except JournalError as exc:
            errors.append(exc)

    third, fourth = tmp_path / "out3", tmp_path / "out4"
    sent_journal(third, 1)
    sent_journal(fourth, 1)
    threads = [threading.Thread(target=start, args=(d,)) for d in (third, fourth)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert len(errors) == 1, "one of two simultaneous runs is refused"


def test_a_damaged_or_foreign_record_is_refused(tmp_path: Path) -> None:
    content = tmp_path / "content"
    content.mkdir()
    (content / RECORD_FILE).write_text("dhpc: other-2020\ncountries: {}\n", encoding="utf-8")
    with pytest.raises(DhpcError, match="record of other-2020, not of fictumab-2026"):
        recorded_sending(content, DHPC, "FI")
    (content / RECORD_FILE).write_text(
        "dhpc: fictumab-2026\ncountries:\n  FI:\n    messages: {x: many}\n", encoding="utf-8"
    )
    with pytest.raises(DhpcError, match=r"countries.FI.messages.x is not a count.*git"):
        recorded_sending(content, DHPC, "FI")
