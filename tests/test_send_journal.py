"""The send journal: states, crash recovery, the lock, and file permissions."""

from __future__ import annotations

import os
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


# -- format 3: bounces ---------------------------------------------------------------------

_FORMAT_2_COLUMNS = """
    dhpc_id TEXT NOT NULL, content_hash TEXT NOT NULL, recipient_id TEXT NOT NULL,
    channel TEXT NOT NULL, language TEXT NOT NULL, address TEXT NOT NULL,
    message_id TEXT NOT NULL,
    state TEXT NOT NULL CHECK (state IN ('pending', 'sending', 'sent', 'failed', 'unknown')),
    attempts INTEGER NOT NULL DEFAULT 0, last_reply TEXT NOT NULL DEFAULT '',
    created_at TEXT NOT NULL, updated_at TEXT NOT NULL, sent_at TEXT, unknown_at TEXT"""


def format_2_journal(path: Path, rows: int) -> None:
    """A journal as dhpc_gen wrote it before bounces were recorded (format 2)."""
    connection = sqlite3.connect(path)
    connection.executescript(
        f"""
        PRAGMA journal_mode = WAL;
        CREATE TABLE deliveries ({_FORMAT_2_COLUMNS},
            PRIMARY KEY (dhpc_id, content_hash, recipient_id, channel));
        CREATE INDEX deliveries_state ON deliveries (dhpc_id, state);
        CREATE TABLE meta (key TEXT PRIMARY KEY, value TEXT NOT NULL);
        CREATE TABLE versions (content_hash TEXT PRIMARY KEY, first_used_at TEXT NOT NULL);
        CREATE TABLE earlier_deliveries ({_FORMAT_2_COLUMNS}, replaced_at TEXT NOT NULL);
        INSERT INTO meta VALUES ('dhpc_id', 'd'), ('journal_id', '{"7" * 32}');
        INSERT INTO versions VALUES ('h1', '2019-04-24T08:00:00Z');
        PRAGMA user_version = 2;
        """
    )
    # Rows in an order the primary key would not give, to see that it is kept.
    ids = [f"r{n:06d}" for n in range(rows)][::-1]
    connection.executemany(
        "INSERT INTO deliveries VALUES ('d', 'h1', ?, 'email', 'fi', ?, ?, ?, 1, '250 ok', "
        "'2019-04-24T08:00:00Z', '2019-04-24T08:00:01Z', ?, NULL)",
        [
            (rid, f"{rid}@example.fi", f"<{rid}@x>", "sent" if n % 3 else "pending", None)
            for n, rid in enumerate(ids)
        ],
    )
    connection.execute(
        "INSERT INTO earlier_deliveries VALUES ('d', 'h1', ?, 'email', 'fi', 'old@example.fi', "
        "?, 'sent', 1, '250 ok', 'a', 'b', 'c', NULL, '2019-04-25T08:00:00Z')",
        (ids[1], f"<{ids[1]}@x>"),
    )
    connection.commit()
    connection.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    connection.close()


def table_rows(path: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(path)
    try:
        return {
            t: connection.execute(f"SELECT rowid, * FROM {t} ORDER BY rowid").fetchall()
            for t in ("deliveries", "earlier_deliveries")
        }
    finally:
        connection.close()


def test_a_journal_of_format_2_gets_the_bounce_states_and_keeps_every_row(
    tmp_path: Path,
) -> None:
    from dhpc_gen.distribution.journal import BounceReport, read_snapshot

    path = tmp_path / "journal.sqlite"
    format_2_journal(path, 5)
    before = table_rows(path)
    read = read_snapshot(path)
    assert read is not None and [e.state for e in read.entries][:2] == ["pending", "sent"]
    assert read.entries[1].bounce_status == "" and read.reports == ()
    assert table_rows(path) == before, "reading does not migrate"
    with SendJournal.open(path, "d") as journal:
        migrated = table_rows(path)
        assert [row[:15] for row in migrated["deliveries"]] == before["deliveries"]
        assert [row[:15] for row in migrated["earlier_deliveries"]] == [
            row[:15] for row in before["earlier_deliveries"]
        ]
        snapshot = journal.snapshot()
        assert snapshot.journal_id == "7" * 32
        sent = snapshot.entries[1]
        earlier = snapshot.earlier[0]
        for target in (sent, earlier):
            recorded = journal.record_report(
                BounceReport(
                    f"report-{target.rowid}-{target.replaced_at}",
                    "new/1",
                    "2019-04-26T10:00:00Z",
                    "bounced",
                    target.key.recipient_id,
                    "h1",
                    "5.1.1",
                    "550 5.1.1 User unknown",
                ),
                target,
            )
            assert recorded.result == "bounced"
    connection = sqlite3.connect(path)
    assert connection.execute("PRAGMA user_version").fetchone()[0] == 4
    for table in ("deliveries", "earlier_deliveries"):
        columns = {row[1] for row in connection.execute(f"PRAGMA table_info({table})")}
        assert {"person_key", "former_ids"} <= columns
    states = connection.execute("SELECT state, bounce_status FROM deliveries").fetchall()
    assert ("bounced", "5.1.1") in states
    assert connection.execute("SELECT state FROM earlier_deliveries").fetchone()[0] == "bounced"
    assert connection.execute("SELECT COUNT(*) FROM bounce_reports").fetchone()[0] == 2
    indexes = connection.execute("SELECT name FROM sqlite_master WHERE type = 'index'").fetchall()
    assert ("deliveries_state",) in indexes
    connection.close()


def test_a_migration_that_cannot_finish_leaves_the_journal_of_format_2(tmp_path: Path) -> None:
    """The disk fills while the tables are copied: the journal stays whole, in format 2."""
    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mount -t tmpfs was refused (it needs root): {mounted.stderr.strip()}")
    try:
        path = disk / "journal.sqlite"
        format_2_journal(path, 12000)
        before = table_rows(path)
        filler = disk / ".filler"
        free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
        filler.write_bytes(b"\0" * max(0, free - path.stat().st_size // 3))
        with pytest.raises(JournalError, match="cannot prepare the send journal") as caught:
            SendJournal.open(path, "d")
        assert "full" in str(caught.value)
        filler.unlink()
        connection = sqlite3.connect(path)
        assert connection.execute("PRAGMA user_version").fetchone()[0] == 2
        connection.close()
        assert table_rows(path) == before
        with SendJournal.open(path, "d") as journal:
            assert len(journal.entries("d")) == 12000
        assert [row[:15] for row in table_rows(path)["deliveries"]] == before["deliveries"]
    finally:
        subprocess.run(["umount", str(disk)], check=True)


def test_a_full_disk_during_send_names_the_journal_as_given(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    """Whatever part of the journal the disk fills under, the message names the journal."""
    from click.testing import CliRunner
    from send_helpers import (
        FaultyHandler,
        built_letters,
        content_copy,
        make_recipients,
        output_with_mailing,
        smtp_environment,
        smtp_server,
    )

    from dhpc_gen.approval.sent import record_versions
    from dhpc_gen.cli import main
    from dhpc_gen.content import load_dhpc

    disk = tmp_path / "disk"
    disk.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=4m", "tmpfs", str(disk)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(f"mount -t tmpfs was refused (it needs root): {mounted.stderr.strip()}")
    cwd = Path.cwd()
    os.chdir(disk)
    try:
        out = output_with_mailing(disk / "out", built_letters(tmp_path_factory), make_recipients(3))
        content = content_copy(tmp_path / "elsewhere" / "out")  # on the ordinary disk
        journal = out / "lemtrada-2019" / "journal.sqlite"
        record_versions(load_dhpc(content), out / "lemtrada-2019")  # written before, as it is
        seen = set()
        handler = FaultyHandler()
        with smtp_server(handler) as server:
            for room in (0, 4, 16, 48, 96):
                for path in journal.parent.glob("journal.sqlite*"):
                    path.unlink()
                (content / "distribution.yaml").unlink(missing_ok=True)
                (disk / ".filler").unlink(missing_ok=True)
                free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
                (disk / ".filler").write_bytes(b"\0" * max(0, free - room * 1024))
                result = CliRunner().invoke(
                    main,
                    ["send", str(content), "--out", "out", "--no-dry-run", "--no-limit"],
                    env=smtp_environment(server.port),
                )
                assert result.exit_code == 1, (room, result.output)
                assert "Traceback" not in result.output and "a file" not in result.output
                error = result.output[result.output.index("Error: ") :]
                assert "the disk is full" in error, (room, error)
                if "journal" in error:
                    assert error.startswith("Error: out/lemtrada-2019/journal.sqlite: "), error
                    seen.add(error.split(": ")[2])
        assert handler.received == []
        assert len(seen) >= 3, seen  # the lock file, opening, preparing, writing
    finally:
        os.chdir(cwd)
        subprocess.run(["umount", str(disk)], check=True)
