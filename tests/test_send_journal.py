"""The send journal: states, crash recovery, the lock, and file permissions."""

from __future__ import annotations

import sqlite3
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from send_helpers import subprocess_env

from dhpc_gen.distribution.journal import (
    DeliveryKey,
    JournalError,
    PlannedDelivery,
    SendJournal,
    is_running,
    read_journal,
)


def planned(*ids: str, chash: str = "h1") -> list[PlannedDelivery]:
    return [
        PlannedDelivery(DeliveryKey("d", chash, rid), "fi", f"{rid}@example.fi", f"<{rid}@x>")
        for rid in ids
    ]


def states(path: Path) -> dict[str, str]:
    return {e.key.recipient_id: e.state for e in read_journal(path, "d")}


def test_a_row_goes_pending_sending_sent_and_is_never_sent_again(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with SendJournal.open(path, "d") as journal:
        assert journal.add_pending(planned("a", "b")) == 2
        assert journal.add_pending(planned("a", "b", "c")) == 1, "existing rows are kept"
        key = DeliveryKey("d", "h1", "a")
        assert journal.begin_attempt(key, ["pending"], "a@example.fi")
        journal.mark_sent(key, "250 queued")
        for allowed in (["pending"], ["pending", "unknown", "failed"], ["sent"]):
            assert not journal.begin_attempt(key, allowed, "a@example.fi")  # type: ignore[arg-type]
        entry = {e.key.recipient_id: e for e in journal.entries("d")}["a"]
        assert (entry.state, entry.attempts, entry.last_reply) == ("sent", 1, "250 queued")
        assert entry.sent_at is not None and entry.sent_at.endswith("Z")
        with pytest.raises(JournalError, match="not in state sending"):
            journal.mark_sent(DeliveryKey("d", "h1", "b"), "250")
    assert states(path) == {"a": "sent", "b": "pending", "c": "pending"}


def test_a_row_left_sending_becomes_unknown_at_the_next_open(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    script = (
        "import os, sys\n"
        "from pathlib import Path\n"
        "from dhpc_gen.distribution.journal import SendJournal, DeliveryKey, PlannedDelivery\n"
        "j = SendJournal.open(Path(sys.argv[1]), 'd')\n"
        "k = DeliveryKey('d', 'h1', 'a')\n"
        "j.add_pending([PlannedDelivery(k, 'fi', 'a@example.fi', '<a@x>')])\n"
        "j.begin_attempt(k, ['pending'], 'a@example.fi')\n"
        "os._exit(9)  # dies without closing anything, like a killed process\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script, str(path)], check=False, env=subprocess_env({})
    )
    assert done.returncode == 9
    assert not is_running(path), "the lock dies with its process"
    assert states(path) == {"a": "unknown"}, "readers see a dead run's 'sending' as unknown"
    with SendJournal.open(path, "d") as journal:
        assert journal.recover("d") == 1
        assert journal.recover("d") == 0
        entry = journal.entries("d")[0]
        assert entry.state == "unknown" and entry.unknown_at is not None
        assert "may or may not" in entry.last_reply
        key = DeliveryKey("d", "h1", "a")
        assert not journal.begin_attempt(key, ["pending"], "a@example.fi")
        assert journal.begin_attempt(key, ["pending", "unknown"], "a@example.fi")
        journal.mark_sent(key, "250")
        assert journal.entries("d")[0].unknown_at is not None, "the record keeps that it was"


def test_only_one_sending_run_at_a_time(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with SendJournal.open(path, "d") as journal:
        journal.add_pending(planned("a"))
        journal.begin_attempt(DeliveryKey("d", "h1", "a"), ["pending"], "a@example.fi")
        assert is_running(path)
        with pytest.raises(JournalError, match="another 'dhpc send'"):
            SendJournal.open(path, "d")
        assert states(path) == {"a": "sending"}, "a live run's row is shown as it is"
    assert not is_running(path)
    SendJournal.open(path, "d").close()


def test_the_journal_is_private_wal_and_versioned(tmp_path: Path) -> None:
    path = tmp_path / "out" / "journal.sqlite"
    with SendJournal.open(path, "d") as journal:
        journal.add_pending(planned("a"))
        for name in ("journal.sqlite", "journal.sqlite-wal", "journal.sqlite.lock"):
            file = path.parent / name
            assert stat.S_IMODE(file.stat().st_mode) == 0o600, name
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
    connection.execute("PRAGMA user_version = 99")
    connection.close()
    with pytest.raises(JournalError, match="newer dhpc_gen"):
        SendJournal.open(path, "d")
    garbage = tmp_path / "garbage.sqlite"
    garbage.write_bytes(b"not a database at all" * 100)
    with pytest.raises(JournalError, match="not a readable send journal"):
        SendJournal.open(garbage, "d")


def test_other_versions_are_counted_apart(tmp_path: Path) -> None:
    path = tmp_path / "journal.sqlite"
    with SendJournal.open(path, "d") as journal:
        journal.add_pending(planned("a", chash="old"))
        key = DeliveryKey("d", "old", "a")
        journal.begin_attempt(key, ["pending"], "a@example.fi")
        journal.mark_sent(key, "250")
        journal.add_pending(planned("a", chash="new"))
        assert journal.sent_elsewhere("d", "new") == 1
        assert journal.sent_elsewhere("d", "old") == 0
        assert [e.state for e in journal.entries("d", "new")] == ["pending"]
