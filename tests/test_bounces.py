"""``dhpc bounces``: delivery reports read from a Maildir or over IMAP into the send journal.

Every test uses a real journal (rows sent the way ``dhpc send`` records them), real files
in a Maildir and, for IMAP, a TLS server on loopback. What must hold whatever comes in: a
recipient is marked only by a report that names their message, everything else is listed,
nothing is a traceback, and reading again changes nothing.
"""

from __future__ import annotations

import csv
import io
import os
import sqlite3
import threading
from pathlib import Path

import pytest
from bounce_helpers import ImapServer, Maildir, auto_reply, dsn, exim_bounce
from click.testing import CliRunner, Result
from send_helpers import (
    CONTENT,
    DHPC_ID,
    FaultyHandler,
    built_letters,
    content_copy,
    make_certificate,
    make_recipients,
    output_with_mailing,
    smtp_environment,
    smtp_server,
    tls_context_for,
)

from dhpc_gen.addresses.recipients import Recipient, write_recipients
from dhpc_gen.build import content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.distribution.bounce_reading import read_report
from dhpc_gen.distribution.journal import (
    JOURNAL_FILE,
    DeliveryKey,
    PlannedDelivery,
    SendJournal,
)
from dhpc_gen.distribution.message import delivery_token, message_id

CHASH = content_hash(load_dhpc(CONTENT))
BOUNCES = "bounces@bounces.example"


def mid(person: Recipient) -> str:
    return message_id(DHPC_ID, CHASH, person.recipient_id, "dhpc.invalid")


def verp(person: Recipient) -> str:
    return f"bounces+{delivery_token(mid(person), person.email)}@bounces.example"


def sent_to(out_root: Path, people: list[Recipient]) -> Path:
    """A journal in which every one of ``people`` was sent the letter; returns it."""
    path = out_root / DHPC_ID / JOURNAL_FILE
    with SendJournal.open(path, DHPC_ID) as journal:
        journal.use_version(CHASH)
        planned = [
            PlannedDelivery(
                DeliveryKey(DHPC_ID, CHASH, p.recipient_id), p.language, p.email, mid(p)
            )
            for p in people
        ]
        journal.add_pending(planned)
        for item in planned:
            assert journal.begin_attempt(item.key, ["pending"], item.address)
            journal.mark_sent(item.key, "250 2.0.0 queued")
    return path


def states(journal: Path) -> dict[str, tuple[str, str, str]]:
    connection = sqlite3.connect(journal)
    try:
        rows = connection.execute(
            "SELECT recipient_id, state, bounce_status, bounce_reason FROM deliveries"
        ).fetchall()
    finally:
        connection.close()
    return {str(r[0]): (str(r[1]), str(r[2]), str(r[3])) for r in rows}


def every_row(journal: Path) -> list[tuple[object, ...]]:
    connection = sqlite3.connect(journal)
    try:
        return [
            *connection.execute("SELECT * FROM deliveries ORDER BY rowid"),
            *connection.execute("SELECT * FROM bounce_reports ORDER BY rowid"),
        ]
    finally:
        connection.close()


def bounces(out_root: Path, *args: str | Path, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(
        main, ["bounces", str(CONTENT), "--out", str(out_root), *map(str, args)], env=env
    )
    assert "Traceback" not in result.output, result.output
    return result


def listing(out_root: Path) -> list[dict[str, str]]:
    text = (out_root / DHPC_ID / "bounce-reports.csv").read_text(encoding="utf-8")
    return list(csv.DictReader(io.StringIO(text)))


@pytest.fixture
def people() -> list[Recipient]:
    return make_recipients(8, seed=9)


# -- reading one message -------------------------------------------------------------------


def test_dsn_actions_status_and_diagnostic_are_read() -> None:
    failed = read_report(dsn(status="5.1.1", envid="a" * 24, message_id="<m@x>"))
    assert (failed.verdict, failed.kind, failed.status) == ("bounced", "DSN", "5.1.1")
    assert failed.reason.startswith("550 5.1.1 <anna@example.fi>: Recipient address rejected")
    assert failed.tokens == ("a" * 24,) and failed.message_ids == ("<m@x>",)
    assert failed.addresses == ("anna@example.fi",)
    assert failed.reported_at == "2019-04-25T08:00:00Z"
    delayed = read_report(dsn(action="delayed", status="4.4.1", diagnostic=""))
    assert (delayed.verdict, delayed.status, delayed.reason) == (
        "deferred",
        "4.4.1",
        "no answer from host",
    )
    delivered = read_report(dsn(action="delivered", status="2.0.0"))
    assert delivered.verdict == "delivered"
    comment = read_report(dsn(action="failed (permanent)", status="5.2.2 (mailbox full)"))
    assert (comment.verdict, comment.status) == ("bounced", "5.2.2")
    exim = read_report(exim_bounce("anna@example.fi", to=BOUNCES, message_id="<m@x>"))
    assert (exim.verdict, exim.kind, exim.status) == ("bounced", "non-standard bounce", "5.2.1")
    assert "Mailbox disabled" in exim.reason and exim.message_ids == ("<m@x>",)
    reply = read_report(auto_reply(BOUNCES))
    assert (reply.verdict, reply.kind) == ("not-a-bounce", "automatic reply")


@pytest.mark.parametrize(
    ("data", "reason"),
    [
        (dsn(fields="Final-Recipient: rfc822; a@example.fi\r\nStatus: 5.1.1\r\n"), "no Action"),
        (dsn(fields="Final-Recipient: rfc822; a@example.fi\r\nAction: failed\r\n"), "no Status"),
        (dsn(action="exploded"), "Action 'exploded'"),
        (dsn(status="five"), "Status 'five'"),
        (dsn(status="2.0.0"), "Action failed but Status 2.0.0"),
        (dsn(fields=""), "no per-recipient fields"),
        (
            dsn().replace(b"Content-Type: message/delivery-status", b"Content-Type: text/plain"),
            "without its delivery-status part",
        ),
    ],
)
def test_a_malformed_dsn_is_malformed(data: bytes, reason: str) -> None:
    reading = read_report(data)
    assert reading.verdict == "malformed" and reason in reading.reason


@pytest.mark.parametrize(
    "data",
    [b"", b"   \r\n", dsn()[:-400], dsn()[:200], b"From: x@example.fi\r\nSubject: cut"],
)
def test_a_message_cut_short_is_incomplete(data: bytes) -> None:
    assert read_report(data).verdict == "incomplete"


def test_hostile_bytes_never_raise() -> None:
    for data in (
        b"\x00\xff" * 500,
        b"Content-Type: multipart/report; boundary=\r\n\r\n--\r\n--\r\n",
        b"Content-Type: message/delivery-status\r\n\r\n\xff\xfe: \x00\r\n\r\n",
        b"Content-Type: text/plain; charset=no-such-charset\r\nDate: yesterday\r\n\r\n550 x\r\n",
        b"From: \r\nTo: \r\nSubject: =?utf-8?b?!!!?=\r\n\r\n550 5.1.1 unknown <@>\r\n",
    ):
        assert read_report(data).verdict in ("malformed", "not-a-bounce", "incomplete")


# -- a Maildir -----------------------------------------------------------------------------


def test_bounces_mark_exactly_the_messages_they_name_and_list_the_rest(
    tmp_path: Path, people: list[Recipient]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people)
    box = Maildir(tmp_path / "Maildir")
    p = people
    box.deliver(dsn(recipient=p[0].email, to=verp(p[0])), "a-verp")
    envid = delivery_token(mid(p[1]), p[1].email)
    box.deliver(dsn(action="delayed", status="4.4.7", recipient=p[1].email, envid=envid), "b-env")
    box.deliver(
        dsn(status="5.2.2", diagnostic="", recipient=p[2].email, message_id=mid(p[2])), "c-mid"
    )
    box.deliver(exim_bounce(p[3].email, to=verp(p[3])), "d-exim")
    box.deliver(exim_bounce("someone.else@example.fi", to=verp(p[4])), "e-other-address")
    box.deliver(auto_reply(verp(p[5]), mid(p[5])), "f-auto-reply")
    box.deliver(dsn(fields="Status: 5.1.1\r\n", to=verp(p[6])), "g-malformed")
    box.deliver(dsn(message_id="<no-names@mta.example>", to=BOUNCES), "h-unknown")
    box.deliver(dsn(to=BOUNCES), "i-nothing")
    result = bounces(out, "--maildir", box.path)
    assert result.exit_code == 0, result.output
    assert "9 message(s) in Maildir" in result.output and "9 new, 0 read before" in result.output
    assert "bounced 3, deferred 1" in result.output
    assert "4 unmatched (listed, not applied):" in result.output
    assert "1 not bounces:" in result.output
    for person in people:
        assert person.email not in result.output, "no address on the terminal"
    found = states(journal)
    assert found[p[0].recipient_id][:2] == ("bounced", "5.1.1")
    assert "User unknown" in found[p[0].recipient_id][2]
    assert found[p[1].recipient_id][:2] == ("deferred", "4.4.7")
    assert found[p[2].recipient_id] == ("bounced", "5.2.2", "mailbox full")
    assert found[p[3].recipient_id][:2] == ("bounced", "5.2.1")
    for person in (p[4], p[5], p[6], p[7]):
        assert found[person.recipient_id][0] == "sent", person.recipient_id
    rows = {r["source"]: r for r in listing(out)}
    assert len(rows) == 9
    assert rows["new/e-other-address"]["result"] == "unmatched"
    assert "another address" in rows["new/e-other-address"]["reason"]
    assert rows["new/f-auto-reply"]["result"] == "not-a-bounce"
    assert rows["new/g-malformed"]["result"] == "malformed"
    assert rows["new/g-malformed"]["recipient_id"] == p[6].recipient_id, "named, not applied"
    assert "did not send" in rows["new/h-unknown"]["reason"]
    assert "names no message" in rows["new/i-nothing"]["reason"]
    assert rows["new/a-verp"]["recipient_id"] == p[0].recipient_id
    assert (out / DHPC_ID / "bounce-reports.csv").stat().st_mode & 0o077 == 0

    before = every_row(journal)
    again = bounces(out, "--maildir", box.path)
    assert again.exit_code == 0 and "0 new, 9 read before" in again.output
    assert every_row(journal) == before, "reading again changes nothing"

    # Later reports: the delay becomes a bounce; an older delay never undoes a bounce.
    box.deliver(dsn(recipient=p[1].email, envid=envid, status="5.4.7"), "j-expired")
    box.deliver(
        dsn(action="delayed", status="4.4.1", recipient=p[0].email, to=verp(p[0])), "k-late"
    )
    later = bounces(out, "--maildir", box.path)
    assert later.exit_code == 0, later.output
    assert "2 new, 9 read before" in later.output and "no change 1" in later.output
    found = states(journal)
    assert found[p[1].recipient_id][:2] == ("bounced", "5.4.7")
    assert found[p[0].recipient_id][:2] == ("bounced", "5.1.1")
    assert (
        "the journal has the message as bounced"
        in {r["source"]: r for r in listing(out)}["new/k-late"]["reason"]
    )


def test_a_bounce_for_a_message_this_tool_never_sent_is_listed(
    tmp_path: Path, people: list[Recipient]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:2])
    box = Maildir(tmp_path / "Maildir")
    # Addressed like ours and naming a recipient of ours, but the message is not one we sent.
    other = message_id(DHPC_ID, CHASH, "not-on-the-list", "dhpc.invalid")
    fake_token = delivery_token(other, people[0].email)
    box.deliver(dsn(recipient=people[0].email, message_id=other, to=f"bounces+{fake_token}@b.e"))
    box.deliver(exim_bounce(people[1].email, to=BOUNCES))  # its address, but no message named
    result = bounces(out, "--maildir", box.path)
    assert result.exit_code == 0, result.output
    assert "bounced 0" in result.output and "2 unmatched" in result.output
    assert "is about a message this journal did not send" in result.output
    assert "names no message" in result.output
    assert {s[0] for s in states(journal).values()} == {"sent"}, "never marked by the address"


def test_a_bounce_for_another_dhpc_is_listed(tmp_path: Path, people: list[Recipient]) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:1])
    box = Maildir(tmp_path / "Maildir")
    theirs = message_id("other-2020", "f" * 64, people[0].recipient_id, "dhpc.invalid")
    box.deliver(dsn(recipient=people[0].email, message_id=theirs, dhpc_id="other-2020"))
    result = bounces(out, "--maildir", box.path)
    assert result.exit_code == 0, result.output
    assert "is about a message of another DHPC (other-2020)" in result.output
    assert states(journal)[people[0].recipient_id][0] == "sent"
    assert [r["result"] for r in listing(out)] == ["unmatched"]


def test_a_maildir_being_written_is_read_as_far_as_it_is_complete(
    tmp_path: Path, people: list[Recipient]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:3])
    box = Maildir(tmp_path / "Maildir")
    whole = dsn(recipient=people[0].email, to=verp(people[0]))
    (box.path / "tmp" / "1.being-delivered").write_bytes(whole[:300])
    (box.path / "new" / "2.copied-halfway").write_bytes(whole[: len(whole) // 2])
    (box.path / "new" / "3.empty").write_bytes(b"")
    box.deliver(dsn(recipient=people[1].email, to=verp(people[1])), "4.whole")
    result = bounces(out, "--maildir", box.path)
    assert result.exit_code == 0, result.output
    assert "bounced 1" in result.output
    assert "2 incomplete or unreadable, read again next time:" in result.output
    assert "new/2.copied-halfway: the message ends before its last part" in result.output
    assert "1 message(s) still being delivered (in tmp/)" in result.output
    assert states(journal)[people[0].recipient_id][0] == "sent", "nothing from a partial file"
    assert len(listing(out)) == 1, "incomplete messages are not recorded"

    # The delivery finishes, and a mail program marks the other message seen.
    os.replace(box.path / "tmp" / "1.being-delivered", box.path / "new" / "1.being-delivered")
    (box.path / "new" / "1.being-delivered").write_bytes(whole)
    (box.path / "new" / "2.copied-halfway").unlink()
    (box.path / "new" / "3.empty").unlink()
    box.mark_seen("4.whole")
    result = bounces(out, "--maildir", box.path)
    assert result.exit_code == 0, result.output
    assert "1 new, 1 read before" in result.output and "incomplete" not in result.output
    assert states(journal)[people[0].recipient_id][0] == "bounced"


def test_a_maildir_changing_under_the_reader_loses_nothing_and_counts_nothing_twice(
    tmp_path: Path,
) -> None:
    people = make_recipients(60, seed=11)
    out = tmp_path / "out"
    journal = sent_to(out, people)
    box = Maildir(tmp_path / "Maildir")
    messages = [dsn(recipient=p.email, to=verp(p)) for p in people]
    messages += [auto_reply(BOUNCES) for _ in range(240)]
    stop = threading.Event()

    def mail_system() -> None:
        """Delivers every message through tmp/, and moves half of them on to cur/."""
        for index, data in enumerate(messages):
            name = f"{index:04d}.test"
            box.deliver(data, name)
            if index % 2:
                box.mark_seen(name)
        stop.set()

    writer = threading.Thread(target=mail_system)
    writer.start()
    runs = 0
    while not stop.is_set() or runs == 0:
        result = bounces(out, "--maildir", box.path)
        assert result.exit_code == 0, result.output
        runs += 1
    writer.join()
    final = bounces(out, "--maildir", box.path)
    assert final.exit_code == 0, final.output
    rows = listing(out)
    assert len(rows) == len(messages), "every message recorded once"
    assert len({r["report_sha256"] for r in rows}) == len(messages)
    assert sum(1 for r in rows if r["result"] == "bounced") == 60
    assert {s[0] for s in states(journal).values()} == {"bounced"}
    again = bounces(out, "--maildir", box.path)
    assert f"{len(messages)} message(s) in Maildir" in again.output
    assert f"0 new, {len(messages)} read before" in again.output


def test_wrong_mailboxes_and_a_missing_journal_are_clear_errors(
    tmp_path: Path, people: list[Recipient]
) -> None:
    out = tmp_path / "out"
    box = Maildir(tmp_path / "Maildir")
    result = bounces(out, "--maildir", box.path)
    assert result.exit_code == 1 and "journal.sqlite does not exist" in result.output
    sent_to(out, people[:1])
    plain = tmp_path / "plain"
    plain.mkdir()
    result = bounces(out, "--maildir", plain)
    assert result.exit_code == 1 and "is not a Maildir: it has no new/ and cur/" in result.output
    assert bounces(out, "--maildir", tmp_path / "nowhere").exit_code == 1
    assert bounces(out).exit_code == 2
    assert bounces(out, "--maildir", box.path, "--imap", "imap.example").exit_code == 2


def test_bounces_wait_while_a_send_uses_the_journal(
    tmp_path: Path, people: list[Recipient]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:1])
    box = Maildir(tmp_path / "Maildir")
    box.deliver(dsn(recipient=people[0].email, to=verp(people[0])))
    with SendJournal.open(journal, DHPC_ID):
        result = bounces(out, "--maildir", box.path)
    assert result.exit_code == 1 and "is using this journal right now" in result.output
    assert states(journal)[people[0].recipient_id][0] == "sent"
    assert bounces(out, "--maildir", box.path).exit_code == 0
    assert states(journal)[people[0].recipient_id][0] == "bounced"


# -- IMAP ----------------------------------------------------------------------------------


@pytest.fixture(scope="module")
def tls(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, Path]:
    return make_certificate(tmp_path_factory.mktemp("imap-tls"))


def imap_env(server: ImapServer, ca_file: Path, **extra: str) -> dict[str, str]:
    return {
        "DHPC_IMAP_PORT": str(server.port),
        "DHPC_IMAP_USER": server.user,
        "DHPC_IMAP_PASSWORD": server.password,
        "DHPC_IMAP_CA_FILE": str(ca_file),
        "DHPC_IMAP_TIMEOUT": "5",
        **extra,
    }


def test_imap_over_tls_is_read_without_changing_the_mailbox(
    tmp_path: Path, people: list[Recipient], tls: tuple[Path, Path]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:3])
    messages = [dsn(recipient=p.email, to=verp(p)) for p in people[:2]]
    messages.append(auto_reply(BOUNCES))
    with ImapServer(messages, tls_context_for(*tls)) as server:
        env = imap_env(server, tls[0])
        result = bounces(out, "--imap", "127.0.0.1", env=env)
        assert result.exit_code == 0, result.output
        assert "3 message(s) in IMAP bounces@127.0.0.1" in result.output
        assert "bounced 2" in result.output and server.password not in result.output
        again = bounces(out, "--imap", "127.0.0.1", env=env)
        assert again.exit_code == 0 and "0 new, 3 read before" in again.output
    assert [s[0] for s in states(journal).values()] == ["bounced", "bounced", "sent"]
    assert "AUTHENTICATE" in server.commands, "a password beyond ASCII goes as UTF-8 PLAIN"
    assert "EXAMINE" in server.commands and "SELECT" not in server.commands
    fetches = [c for c in server.commands if c.startswith("UID FETCH")]
    assert fetches and all(c == "UID FETCH (BODY.PEEK[])" for c in fetches)
    assert not {"STORE", "UID STORE", "EXPUNGE", "COPY", "MOVE"} & set(server.commands)
    sources = [r["source"] for r in listing(out)]
    assert sources[0] == "imap://127.0.0.1/INBOX;UIDVALIDITY=1714/;UID=1"


def test_imap_with_starttls(
    tmp_path: Path, people: list[Recipient], tls: tuple[Path, Path]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:1])
    messages = [dsn(recipient=people[0].email, to=verp(people[0]))]
    with ImapServer(messages, tls_context_for(*tls), starttls=True) as server:
        env = imap_env(server, tls[0], DHPC_IMAP_SECURITY="starttls")
        result = bounces(out, "--imap", "127.0.0.1", env=env)
    assert result.exit_code == 0, result.output
    assert server.commands[:2] == ["CAPABILITY", "STARTTLS"], "TLS before the login"
    assert states(journal)[people[0].recipient_id][0] == "bounced"


def test_imap_refusing_the_login_records_nothing(
    tmp_path: Path, people: list[Recipient], tls: tuple[Path, Path]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:1])
    messages = [dsn(recipient=people[0].email, to=verp(people[0]))]
    with ImapServer(messages, tls_context_for(*tls)) as server:
        for password in ("wrong-password", "wrong-Ä"):
            env = imap_env(server, tls[0], DHPC_IMAP_PASSWORD=password)
            result = bounces(out, "--imap", "127.0.0.1", env=env)
            assert result.exit_code == 1, result.output
            assert "refused the login of user 'bounces'" in result.output
            assert "check the user and password" in result.output
            assert password not in result.output
    assert states(journal)[people[0].recipient_id][0] == "sent"
    assert not (out / DHPC_ID / "bounce-reports.csv").exists()


def test_imap_dropping_the_connection_keeps_what_was_read_and_the_next_run_goes_on(
    tmp_path: Path, people: list[Recipient], tls: tuple[Path, Path]
) -> None:
    out = tmp_path / "out"
    journal = sent_to(out, people[:4])
    messages = [dsn(recipient=p.email, to=verp(p)) for p in people[:4]]
    with ImapServer(messages, tls_context_for(*tls), drop_after=2) as server:
        result = bounces(out, "--imap", "127.0.0.1", env=imap_env(server, tls[0]))
    assert result.exit_code == 1, result.output
    assert "the connection was lost" in result.output and "after 2 of 4 message(s)" in result.output
    assert "run the same command again to read the rest" in result.output
    assert [s[0] for s in states(journal).values()] == ["bounced", "bounced", "sent", "sent"]
    with ImapServer(messages, tls_context_for(*tls)) as server:
        result = bounces(out, "--imap", "127.0.0.1", env=imap_env(server, tls[0]))
    assert result.exit_code == 0 and "2 new, 2 read before" in result.output
    assert {s[0] for s in states(journal).values()} == {"bounced"}


def test_imap_servers_that_cannot_be_used_are_named(
    tmp_path: Path, people: list[Recipient], tls: tuple[Path, Path]
) -> None:
    out = tmp_path / "out"
    sent_to(out, people[:1])
    untrusted = make_certificate(tmp_path / "other")
    with ImapServer([], tls_context_for(*untrusted)) as server:
        result = bounces(out, "--imap", "127.0.0.1", env=imap_env(server, tls[0]))
        assert result.exit_code == 1 and "certificate is not trusted" in result.output
    with ImapServer([], None) as server:  # plain IMAP where TLS is expected
        result = bounces(out, "--imap", "127.0.0.1", env=imap_env(server, tls[0]))
        assert result.exit_code == 1 and "TLS handshake failed" in result.output
    free = ImapServer([], None)
    port = free.port
    free.listener.close()
    env = {**imap_env(free, tls[0]), "DHPC_IMAP_PORT": str(port)}
    result = bounces(out, "--imap", "127.0.0.1", env=env)
    assert result.exit_code == 1 and "connection refused" in result.output
    result = bounces(out, "--imap", "127.0.0.1", env={"DHPC_IMAP_USER": "x"})
    assert result.exit_code == 1 and "has no password: set DHPC_IMAP_PASSWORD" in result.output
    result = bounces(out, "--imap", "127.0.0.1", env={"DHPC_IMAP_SECURITY": "none"})
    assert result.exit_code == 1 and "security must be tls or starttls" in result.output


def test_a_bounced_recipient_is_sent_again_only_at_a_corrected_address(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    people = make_recipients(3, seed=13)
    out = output_with_mailing(tmp_path / "out", built_letters(tmp_path_factory), people)
    handler = FaultyHandler()

    def send(*extra: str) -> Result:
        result = CliRunner().invoke(
            main,
            [
                "send",
                str(content_copy(out)),
                "--out",
                str(out),
                "--no-dry-run",
                "--no-limit",
                *extra,
            ],
            env=smtp_environment(
                server.port,
                DHPC_SMTP_ENVELOPE_FROM=BOUNCES,
                DHPC_SMTP_VERP="true",
            ),
        )
        assert result.exit_code == 0, result.output
        return result

    with smtp_server(handler) as server:
        send()
        return_path = next(
            r.envelope_from for r in handler.received if people[0].email in r.recipients
        )
        box = Maildir(tmp_path / "Maildir")
        box.deliver(dsn(recipient=people[0].email, to=return_path))
        assert "bounced 1" in bounces(out, "--maildir", box.path).output
        assert "1 recipient(s) whose message bounced: not sent again" in send().output
        moved = Recipient(**{**people[0].__dict__, "email": "anna.new@example.fi"})
        write_recipients(out / DHPC_ID / "mailing" / "recipients.csv", [moved, *people[1:]])
        assert "sent 0," in send().output, "a changed address is sent only when asked"
        assert "sent 1," in send("--resend-changed").output
        assert handler.per_recipient()["anna.new@example.fi"] == 1
        assert handler.per_recipient()[people[0].email] == 1
    report = CliRunner().invoke(main, ["report", str(CONTENT), "--out", str(out)])
    assert report.exit_code == 0, report.output
    text = (out / DHPC_ID / "distribution-record.csv").read_text(encoding="utf-8")
    mine = [r for r in csv.DictReader(io.StringIO(text)) if r["recipient_id"] == moved.recipient_id]
    assert [(r["address"], r["state"], r["readdressed"], r["outcome"]) for r in mine] == [
        (people[0].email, "bounced", "yes", "email"),
        ("anna.new@example.fi", "sent", "no", "email"),
    ]
