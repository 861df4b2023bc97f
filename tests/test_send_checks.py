"""``dhpc send`` and ``dhpc report`` check the files they would otherwise trust.

Letters from a real ``dhpc merge --per-recipient``, a real SMTP server on 127.0.0.1. Each
test feeds a file that was altered, emptied, replaced or moved in from elsewhere and
asserts the message, the exit code, and that nothing was sent or written: the server
received nothing, and the output folder (journal, outbox, record) is byte for byte as it
was.
"""

from __future__ import annotations

import csv
import hashlib
import io
import shutil
import sqlite3
from collections.abc import Iterator, Mapping
from email import message_from_bytes, policy
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from send_helpers import (
    CONTENT,
    DHPC_ID,
    FaultyHandler,
    built_letters,
    content_copy,
    make_recipients,
    output_with_mailing,
    smtp_environment,
    smtp_server,
)

from dhpc_gen.addresses.recipients import Recipient, write_recipients
from dhpc_gen.build import content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.distribution.journal import (
    JOURNAL_FILE,
    DeliveryKey,
    PlannedDelivery,
    SendJournal,
)
from dhpc_gen.distribution.merge import merge

PEOPLE = make_recipients(6, seed=7)
RECIPIENTS = Path("mailing") / "recipients.csv"


@pytest.fixture(scope="module")
def merged(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Built letters, the mailing list and every recipient's personalised letter."""
    root = output_with_mailing(
        tmp_path_factory.mktemp("merged") / "out", built_letters(tmp_path_factory), PEOPLE
    )
    merge(load_dhpc(CONTENT), root / DHPC_ID / "mailing", root, per_recipient=True, jobs=1)
    return root


@pytest.fixture
def out_root(merged: Path, tmp_path: Path) -> Path:
    shutil.copytree(merged, tmp_path / "out")
    return tmp_path / "out"


@pytest.fixture
def server() -> Iterator[tuple[FaultyHandler, dict[str, str]]]:
    handler = FaultyHandler()
    with smtp_server(handler) as controller:
        yield handler, smtp_environment(controller.port)


def files(out_root: Path) -> dict[str, str]:
    """Every file below the DHPC's output folder → its SHA-256 (the lock file aside)."""
    return {
        path.relative_to(out_root).as_posix(): hashlib.sha256(path.read_bytes()).hexdigest()
        for path in sorted((out_root / DHPC_ID).rglob("*"))
        if path.is_file() and not path.name.endswith(".lock")
    }


def dhpc(out_root: Path, command: str, *args: str, env: Mapping[str, str] | None = None) -> Result:
    content = content_copy(out_root)
    return CliRunner().invoke(main, [command, str(content), "--out", str(out_root), *args], env=env)


def send_all(out_root: Path, env: Mapping[str, str], *args: str) -> Result:
    return dhpc(out_root, "send", "--no-dry-run", "--no-limit", *args, env=env)


def assert_refused(result: Result, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)
    for person in PEOPLE:  # counts and recipient ids only, never a person's data
        for value in (person.email, person.last_name, person.street):
            assert value not in result.output


def rewrite_mailing(out_root: Path, people: list[Recipient]) -> None:
    write_recipients(out_root / DHPC_ID / RECIPIENTS, people)


def record_rows(out_root: Path) -> list[dict[str, str]]:
    text = (out_root / DHPC_ID / "distribution-record.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


# -- attachments -------------------------------------------------------------------------------


def test_a_letter_altered_after_merge_stops_the_run_before_the_first_message(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    letter = out_root / DHPC_ID / "letters" / PEOPLE[3].language / f"{PEOPLE[3].recipient_id}.pdf"
    letter.write_bytes(letter.read_bytes() + b"\n% altered\n")
    assert dhpc(out_root, "send", "--no-limit").exit_code == 1  # dry run
    before = files(out_root)
    for result in (dhpc(out_root, "send", "--no-limit"), send_all(out_root, env)):
        assert_refused(
            result,
            "1 personalised letter(s)",
            f"1 changed since dhpc merge (letters/fi/{PEOPLE[3].recipient_id}.pdf)",
            "Nothing was sent or written",
            "--per-recipient again",
        )
    assert handler.received == []
    assert files(out_root) == before, "no journal, no outbox, no send state"
    assert not (out_root / DHPC_ID / "outbox").exists()


def test_many_problems_are_counted_and_the_first_few_named(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    for person in PEOPLE[:4]:
        letter = out_root / DHPC_ID / "letters" / person.language / f"{person.recipient_id}.pdf"
        letter.write_bytes(letter.read_bytes() + b"%")
    (out_root / DHPC_ID / "letters" / PEOPLE[5].language / f"{PEOPLE[5].recipient_id}.pdf").unlink()
    before = files(out_root)
    assert_refused(
        send_all(out_root, env),
        "5 personalised letter(s)",
        "4 changed since dhpc merge (",
        " and 1 more);",
        f"1 missing (letters/{PEOPLE[5].language}/{PEOPLE[5].recipient_id}.pdf)",
    )
    assert handler.received == [] and files(out_root) == before


def test_a_letter_merged_for_someone_else_is_never_attached(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    """Recipient ids reused for other people: the letters carry the old people's addresses."""
    handler, env = server
    swapped = list(PEOPLE)
    first, second = PEOPLE[1], PEOPLE[3]  # both Finnish
    swapped[1] = Recipient(**{**first.__dict__, "recipient_id": second.recipient_id})
    swapped[3] = Recipient(**{**second.__dict__, "recipient_id": first.recipient_id})
    moved = Recipient(**{**PEOPLE[0].__dict__, "language": "fi"})
    rewrite_mailing(out_root, [moved, *swapped[1:]])
    before = files(out_root)
    assert_refused(
        send_all(out_root, env),
        "3 personalised letter(s)",
        "2 merged for another name or address than the mailing list has now",
        f"1 merged in another language than the mailing list has now "
        f"(letters/sv/{PEOPLE[0].recipient_id}.pdf)",
    )
    assert handler.received == [] and files(out_root) == before


def test_a_letter_the_manifest_does_not_list_is_refused(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    stranger = Recipient(**{**PEOPLE[1].__dict__, "recipient_id": "r-new", "email": "n@x.fi"})
    rewrite_mailing(out_root, [*PEOPLE, stranger])
    letters = out_root / DHPC_ID / "letters" / "fi"
    shutil.copy(letters / f"{PEOPLE[1].recipient_id}.pdf", letters / "r-new.pdf")
    before = files(out_root)
    assert_refused(
        send_all(out_root, env), "1 not listed in print/print-manifest.csv (letters/fi/r-new.pdf)"
    )
    assert handler.received == [] and files(out_root) == before


def test_the_outbox_of_a_dry_run_is_never_what_is_sent(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    assert dhpc(out_root, "send", "--no-limit").exit_code == 0
    eml = out_root / DHPC_ID / "outbox" / f"{PEOPLE[0].recipient_id}.eml"
    eml.write_bytes(eml.read_bytes().replace(b"Lemtrada", b"Tampered"))
    assert send_all(out_root, env).exit_code == 0
    letter = out_root / DHPC_ID / "letters" / PEOPLE[0].language / f"{PEOPLE[0].recipient_id}.pdf"
    message = next(r for r in handler.received if r.recipients == (PEOPLE[0].email,))
    parsed = message_from_bytes(message.data, policy=policy.default)
    attachment = next(parsed.iter_attachments()).get_content()  # type: ignore[attr-defined]
    assert attachment == letter.read_bytes() and b"Tampered" not in message.data


def test_a_recipient_id_twice_in_the_mailing_list_is_refused(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    twin = Recipient(**{**PEOPLE[2].__dict__, "recipient_id": PEOPLE[0].recipient_id})
    rewrite_mailing(out_root, [*PEOPLE[:2], twin, *PEOPLE[3:]])
    before = files(out_root)
    assert_refused(
        send_all(out_root, env),
        f"recipients.csv:4: recipient_id {PEOPLE[0].recipient_id} appears twice",
    )
    assert handler.received == [] and files(out_root) == before


# -- the journal -------------------------------------------------------------------------------


def test_an_emptied_journal_is_not_a_fresh_start(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    assert send_all(out_root, env).exit_code == 0
    assert dhpc(out_root, "report").exit_code == 0
    journal = out_root / DHPC_ID / JOURNAL_FILE
    journal.write_bytes(b"")
    for companion in ("-wal", "-shm"):
        journal.with_name(JOURNAL_FILE + companion).unlink(missing_ok=True)
    before, received = files(out_root), len(handler.received)
    for result in (send_all(out_root, env), dhpc(out_root, "send", "--no-limit")):
        assert_refused(
            result,
            "journal.sqlite is empty (0 bytes)",
            "send-state.json (6 message(s) sent or maybe sent",
            "distribution-record.csv (6 recipient(s) sent or maybe sent)",
            "Restore journal.sqlite from a backup",
            "--new-journal",
        )
    assert_refused(dhpc(out_root, "report"), "journal.sqlite is empty", "lose every e-mail row")
    assert len(handler.received) == received and files(out_root) == before


def test_a_missing_journal_with_only_the_record_left_is_refused(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    assert dhpc(out_root, "send", "--no-dry-run", "--limit", "2", env=env).exit_code == 0
    assert dhpc(out_root, "report").exit_code == 0
    for name in ("send-state.json", JOURNAL_FILE, JOURNAL_FILE + "-wal", JOURNAL_FILE + "-shm"):
        (out_root / DHPC_ID / name).unlink(missing_ok=True)
    before = files(out_root)
    assert_refused(
        send_all(out_root, env),
        "journal.sqlite is missing",
        "distribution-record.csv (2 recipient(s) sent or maybe sent)",
    )
    assert len(handler.received) == 2 and files(out_root) == before


def test_new_journal_starts_over_on_purpose_and_keeps_the_old_evidence(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    assert send_all(out_root, env).exit_code == 0
    journal = out_root / DHPC_ID / JOURNAL_FILE
    assert_refused(
        send_all(out_root, env, "--new-journal"), "--new-journal starts an empty journal"
    )
    old_state = (out_root / DHPC_ID / "send-state.json").read_bytes()
    journal.write_bytes(b"")
    result = send_all(out_root, env, "--new-journal")
    assert result.exit_code == 0, result.output
    assert "sent 6, failed 0" in result.output and "superseded/" in result.output
    kept = list((out_root / DHPC_ID / "superseded").iterdir())
    assert len(kept) == 1 and (kept[0] / "send-state.json").read_bytes() == old_state
    assert (kept[0] / JOURNAL_FILE).stat().st_size == 0
    assert len(handler.received) == 12
    assert send_all(out_root, env).exit_code == 0 and len(handler.received) == 12


def test_the_journal_of_another_dhpc_is_refused(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]], tmp_path: Path
) -> None:
    handler, env = server
    with SendJournal.open(out_root / DHPC_ID / JOURNAL_FILE, "other-dhpc-2024") as journal:
        key = DeliveryKey("other-dhpc-2024", "b" * 64, "x-1")
        journal.add_pending([PlannedDelivery(key, "fi", "x@example.fi", "<x@dhpc.invalid>")])
    before = files(out_root)
    for result in (
        send_all(out_root, env),
        dhpc(out_root, "send", "--no-limit"),
        dhpc(out_root, "report"),
        send_all(out_root, env, "--new-journal"),
    ):
        assert_refused(
            result,
            "journal.sqlite is the send journal of other-dhpc-2024, not of lemtrada-2019",
            "Put lemtrada-2019's own journal back",
        )
    assert handler.received == [] and files(out_root) == before
    assert not (out_root / DHPC_ID / "distribution-record.csv").exists()


def test_an_older_copy_of_the_journal_is_refused(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]], tmp_path: Path
) -> None:
    handler, env = server
    assert dhpc(out_root, "send", "--no-dry-run", "--limit", "2", env=env).exit_code == 0
    backup = tmp_path / "backup"
    backup.mkdir()
    for path in (out_root / DHPC_ID).glob(JOURNAL_FILE + "*"):
        shutil.copy(path, backup / path.name)
    assert send_all(out_root, env).exit_code == 0
    for path in (out_root / DHPC_ID).glob(JOURNAL_FILE + "*"):
        path.unlink()
    for path in backup.iterdir():
        shutil.copy(path, out_root / DHPC_ID / path.name)
    before = files(out_root)
    assert_refused(
        send_all(out_root, env),
        "journal.sqlite is an older copy: it knows 2 message(s)",
        "send-state.json 6",
        "Put back the latest copy",
    )
    assert len(handler.received) == 6 and files(out_root) == before


def test_a_journal_that_is_not_the_one_that_sent_is_refused(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]], tmp_path: Path
) -> None:
    """Another journal of the same DHPC: of an older content version, made elsewhere."""
    handler, env = server
    assert send_all(out_root, env).exit_code == 0
    assert dhpc(out_root, "report").exit_code == 0
    stranger = tmp_path / "elsewhere" / JOURNAL_FILE
    with SendJournal.open(stranger, DHPC_ID) as journal:
        key = DeliveryKey(DHPC_ID, "a" * 64, PEOPLE[0].recipient_id)
        journal.add_pending([PlannedDelivery(key, "sv", PEOPLE[0].email, "<y@dhpc.invalid>")])
        journal.begin_attempt(key, ["pending"], PEOPLE[0].email)
        journal.mark_sent(key, "250 OK")
    for path in (out_root / DHPC_ID).glob(JOURNAL_FILE + "*"):
        path.unlink()
    for path in stranger.parent.glob(JOURNAL_FILE + "*"):
        if not path.name.endswith(".lock"):
            shutil.copy(path, out_root / DHPC_ID / path.name)
    before = files(out_root)
    assert_refused(send_all(out_root, env), "is not the journal that sent the earlier messages")
    # Without the send state, the distribution record tells the same.
    (out_root / DHPC_ID / "send-state.json").unlink()
    before = files(out_root)
    assert_refused(
        send_all(out_root, env),
        "does not know 6 recipient(s) that",
        "distribution-record.csv shows as sent content",
    )
    assert_refused(dhpc(out_root, "report"), "does not know 6 recipient(s)")
    assert len(handler.received) == 6 and files(out_root) == before


def test_a_journal_of_the_first_format_is_migrated(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    assert dhpc(out_root, "send", "--no-dry-run", "--limit", "2", env=env).exit_code == 0
    journal = out_root / DHPC_ID / JOURNAL_FILE
    (out_root / DHPC_ID / "send-state.json").unlink()
    (content_copy(out_root) / "distribution.yaml").unlink()  # neither existed then
    connection = sqlite3.connect(journal)
    connection.executescript(
        "DROP TABLE meta; DROP TABLE versions; DROP TABLE earlier_deliveries; "
        "PRAGMA user_version = 1;"
    )
    connection.close()
    assert send_all(out_root, env).exit_code == 0
    assert len(handler.received) == 6 and sorted(handler.per_recipient().values()) == [1] * 6
    connection = sqlite3.connect(journal)
    meta = dict(connection.execute("SELECT key, value FROM meta").fetchall())
    connection.close()
    assert meta["dhpc_id"] == DHPC_ID and len(meta["journal_id"]) == 32


def test_a_plain_merge_after_per_recipient_supersedes_the_letters(out_root: Path) -> None:
    """The last merge's manifest says what e-mail attaches; send and merge agree on it."""
    letters = out_root / DHPC_ID / "letters"
    assert letters.is_dir()
    result = dhpc(out_root, "merge", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "letters/ of an earlier merge --per-recipient removed" in result.output
    assert not letters.exists()
    result = dhpc(out_root, "send", "--no-limit")
    assert result.exit_code == 0, result.output
    assert f"{len(PEOPLE)} message(s) written" in result.output
    built = {
        lang: (out_root / DHPC_ID / f"{DHPC_ID}_{lang}.pdf").read_bytes() for lang in ("fi", "sv")
    }
    for person in PEOPLE:
        eml = (out_root / DHPC_ID / "outbox" / f"{person.recipient_id}.eml").read_bytes()
        message = message_from_bytes(eml, policy=policy.default)
        (attachment,) = message.iter_attachments()  # type: ignore[attr-defined]
        assert attachment.get_content() == built[person.language]
    # --per-recipient again brings them back, and send attaches them.
    assert dhpc(out_root, "merge", "--per-recipient", "--jobs", "1").exit_code == 0
    assert dhpc(out_root, "send", "--no-limit").exit_code == 0


# -- the record in the content folder ---------------------------------------------------------


def test_a_lost_output_folder_never_sends_the_letter_again(
    out_root: Path, merged: Path, server: tuple[FaultyHandler, dict[str, str]], tmp_path: Path
) -> None:
    """``make clean`` or a new ``--out`` loses the journal; the content folder remembers."""
    handler, env = server
    assert send_all(out_root, env).exit_code == 0
    record = content_copy(out_root) / "distribution.yaml"
    text = record.read_text(encoding="utf-8")
    journal_id = dict(
        sqlite3.connect(out_root / DHPC_ID / JOURNAL_FILE).execute("SELECT key, value FROM meta")
    )["journal_id"]
    assert f'journal: "{journal_id}"' in text and "running: false" in text
    assert f'{content_hash(load_dhpc(CONTENT))}": 6' in text
    for person in PEOPLE:  # counts and times only
        assert person.email not in text and person.last_name not in text
        assert person.recipient_id not in text

    shutil.rmtree(out_root / DHPC_ID)  # what make clean does
    shutil.copytree(merged / DHPC_ID, out_root / DHPC_ID)  # built, listed, merged again
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(merged, elsewhere)
    for result in (
        send_all(out_root, env),
        dhpc(out_root, "send", "--no-limit"),
        dhpc(elsewhere, "send", "--no-dry-run", "--no-limit", env=env),
    ):
        assert_refused(
            result,
            "journal.sqlite is missing",
            f"distribution.yaml (FI: journal {journal_id[:8]}",
            "6 message(s) sent or maybe sent",
            "Restore journal.sqlite",
            "--new-journal",
            "the decision is recorded in",
        )
    assert_refused(dhpc(out_root, "report"), "journal.sqlite is missing", "lose every e-mail row")
    assert len(handler.received) == 6
    assert not (out_root / DHPC_ID / JOURNAL_FILE).exists()

    # A person decides that everyone gets the letter again: sent, and the decision recorded.
    result = send_all(out_root, env, "--new-journal")
    assert result.exit_code == 0, result.output
    assert "sent 6, failed 0" in result.output and "decision" in result.output
    assert len(handler.received) == 12
    text = record.read_text(encoding="utf-8")
    assert "decision: new journal" in text and f'given_up: "{journal_id}"' in text
    assert f'journal: "{journal_id}"' not in text
    # The new journal is now the one: another output folder is refused again.
    assert_refused(
        dhpc(elsewhere, "send", "--no-dry-run", "--no-limit", env=env), "journal.sqlite is missing"
    )
    assert send_all(out_root, env).exit_code == 0 and len(handler.received) == 12


def test_a_journal_other_than_the_recorded_one_is_refused(
    out_root: Path, merged: Path, server: tuple[FaultyHandler, dict[str, str]], tmp_path: Path
) -> None:
    handler, env = server
    assert dhpc(out_root, "send", "--no-dry-run", "--limit", "2", env=env).exit_code == 0
    # A second output folder that sent with a journal of its own (the record was not there).
    elsewhere = tmp_path / "elsewhere"
    shutil.copytree(merged, elsewhere)
    record = content_copy(out_root) / "distribution.yaml"
    kept = record.read_bytes()
    record.unlink()
    assert dhpc(elsewhere, "send", "--no-dry-run", "--limit", "1", env=env).exit_code == 0
    record.write_bytes(kept)
    shutil.rmtree(out_root / DHPC_ID)
    shutil.copytree(elsewhere / DHPC_ID, out_root / DHPC_ID)  # the other journal, moved in
    (out_root / DHPC_ID / "send-state.json").unlink()
    before = files(out_root)
    assert_refused(
        send_all(out_root, env),
        "is not the journal that sends FI",
        "distribution.yaml records journal",
        "Put back the recorded journal",
    )
    assert len(handler.received) == 3 and files(out_root) == before


# -- changed addresses -------------------------------------------------------------------------


def test_a_changed_address_is_reported_and_resent_only_when_asked(
    out_root: Path, server: tuple[FaultyHandler, dict[str, str]]
) -> None:
    handler, env = server
    assert send_all(out_root, env).exit_code == 0
    moved = Recipient(**{**PEOPLE[1].__dict__, "email": "new.address@example.fi"})
    # PEOPLE[2] now gives PEOPLE[4]'s address: that address has had the letter once.
    shared = Recipient(**{**PEOPLE[2].__dict__, "email": PEOPLE[4].email})
    rewrite_mailing(out_root, [PEOPLE[0], moved, shared, *PEOPLE[3:]])
    result = send_all(out_root, env)
    assert result.exit_code == 0, result.output
    assert "1 recipient(s) sent earlier at an address that has since changed" in result.output
    assert "--resend-changed" in result.output and "sent 0," in result.output
    assert len(handler.received) == 6

    result = send_all(out_root, env, "--resend-changed")
    assert result.exit_code == 0, result.output
    assert "sent 1," in result.output and "1 recipient(s) sent the letter again" in result.output
    assert handler.per_recipient()["new.address@example.fi"] == 1
    assert handler.per_recipient()[PEOPLE[4].email] == 1, "once per address"
    assert len(handler.received) == 7
    assert send_all(out_root, env, "--resend-changed").exit_code == 0
    assert len(handler.received) == 7, "never twice to the same address"

    assert dhpc(out_root, "report").exit_code == 0
    mine = [r for r in record_rows(out_root) if r["recipient_id"] == moved.recipient_id]
    mine = [r for r in mine if r["channel"] == "email"]
    assert [(r["address"], r["state"], r["readdressed"]) for r in mine] == [
        (PEOPLE[1].email, "sent", "yes"),
        ("new.address@example.fi", "sent", "no"),
    ]
    assert mine[0]["message_id"] == mine[1]["message_id"], "the same letter to the same person"
