"""``dhpc send``: messages, dry run, and real sending to an SMTP server on 127.0.0.1 with faults."""

from __future__ import annotations

import datetime as dt
import io
import logging
import os
import sqlite3
import stat
import time
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader, PdfWriter
from send_helpers import (
    CONTENT,
    DHPC_ID,
    TEST_CERT,
    Authenticator,
    FaultyHandler,
    built_letters,
    content_copy,
    make_recipients,
    output_with_mailing,
    server_tls_context,
    smtp_environment,
    smtp_server,
)

from dhpc_gen.addresses.recipients import Recipient, write_recipients
from dhpc_gen.build import content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.distribution.address_block import address_block, address_sha256
from dhpc_gen.distribution.journal import JOURNAL_FILE, SendJournal, read_journal
from dhpc_gen.distribution.message import AddressError, MessageComposer, mail_address, message_id
from dhpc_gen.distribution.send import SendOptions, parse_rate, send_dhpc
from dhpc_gen.distribution.smtp import (
    RetryPolicy,
    Secret,
    SmtpConfigError,
    SmtpSettings,
    load_settings,
)
from dhpc_gen.errors import DhpcError, RenderError, UsageError

SUBJECT_WORDS = {
    "sv": "Viktigt meddelande till hälso- och sjukvårdspersonal",
    "fi": "Tärkeä tiedote terveydenhuollon ammattilaisille",
}
GREETING = {"sv": "Bästa", "fi": "Hyvä"}
TITLE_WORDS = {"sv": "Begränsad användning", "fi": "Käytön rajoittaminen"}


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_letters(tmp_path_factory)


@pytest.fixture(scope="module")
def dhpc_and_hash() -> tuple[object, str]:
    dhpc = load_dhpc(CONTENT)
    return dhpc, content_hash(dhpc)


def settings_for(port: int, **changes: object) -> SmtpSettings:
    base = load_settings(None, smtp_environment(port))
    return SmtpSettings(**{**base.__dict__, **changes})


def parse(data: bytes) -> EmailMessage:
    from email import message_from_bytes, policy

    parsed = message_from_bytes(data, policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def attachment_of(message: EmailMessage) -> tuple[str, bytes]:
    parts = list(message.iter_attachments())
    assert len(parts) == 1
    payload = parts[0].get_content()
    assert isinstance(payload, bytes)
    return parts[0].get_filename() or "", payload


def body_text(message: EmailMessage) -> str:
    part = message.get_body(("plain",))
    assert part is not None
    return str(part.get_content())


def body_html(message: EmailMessage) -> str:
    part = message.get_body(("html",))
    assert part is not None
    return str(part.get_content())


def journal_rows(out_root: Path) -> dict[str, tuple[str, int, str]]:
    """recipient_id → (state, attempts, last reply), read straight from SQLite."""
    path = out_root / DHPC_ID / JOURNAL_FILE
    connection = sqlite3.connect(path)
    try:
        rows = connection.execute(
            "SELECT recipient_id, state, attempts, last_reply FROM deliveries"
        ).fetchall()
    finally:
        connection.close()
    return {str(r[0]): (str(r[1]), int(r[2]), str(r[3])) for r in rows}


def run_send(out_root: Path, settings: SmtpSettings, **options: object) -> object:
    dhpc = load_dhpc(content_copy(out_root))
    opts = SendOptions(**{"dry_run": False, "limit": None, **options})  # type: ignore[arg-type]
    return send_dhpc(dhpc, out_root, settings=settings, options=opts, sleep=lambda s: None)


# -- the message -----------------------------------------------------------------------------


def test_message_in_the_recipients_language_with_encoded_names(
    dhpc_and_hash: tuple[object, str], built: Path
) -> None:
    dhpc, chash = dhpc_and_hash
    composer = MessageComposer(dhpc, chash, SmtpSettings(sender="Lääketurva <dhpc@sanofi.example>"))  # type: ignore[arg-type]
    people = make_recipients(2, seed=3)
    when = dt.datetime(2019, 4, 24, 9, 30, tzinfo=dt.UTC)
    for person in people:
        pdf = (built / f"{DHPC_ID}_{person.language}.pdf").read_bytes()
        composed = composer.compose(person, pdf, when=when)
        assert composed.data.isascii(), "SMTPUTF8 is off: the message must be 7-bit"
        assert b"\r\n" in composed.data and b"\n" not in composed.data.replace(b"\r\n", b"")
        message = parse(composed.data)
        language = person.language
        assert not person.full_name.isascii()
        assert message["To"].addresses[0].display_name == person.full_name
        assert message["To"].addresses[0].addr_spec == person.email
        assert message["From"].addresses[0].display_name == "Lääketurva"
        assert SUBJECT_WORDS[language] in message["Subject"]
        assert TITLE_WORDS[language] in message["Subject"]
        assert message["Content-Language"] == language
        assert message["Message-ID"] == composed.message_id
        assert message["Message-ID"] == message_id(
            DHPC_ID, chash, person.recipient_id, "dhpc.invalid"
        )
        assert message["X-DHPC-Hash"] == chash
        text, html = body_text(message), body_html(message)
        assert text.startswith(f"{GREETING[language]} {person.full_name},")
        assert f"{DHPC_ID}_{language}.pdf" in text and TITLE_WORDS[language] in html
        assert "Lemtrada" in text and "Sanofi Oy" in text
        filename, payload = attachment_of(message)
        assert filename == f"{DHPC_ID}_{language}.pdf"
        assert payload == pdf
        assert TITLE_WORDS[language] in " ".join(
            (p.extract_text() or "") for p in PdfReader(io.BytesIO(payload)).pages
        ).replace("\n", " ")


def test_message_id_is_the_same_for_a_copy_and_differs_otherwise() -> None:
    first = message_id("x", "h1", "r1", "dhpc.invalid")
    assert first == message_id("x", "h1", "r1", "dhpc.invalid")
    assert first.startswith("<") and first.endswith("@dhpc.invalid>")
    others = {
        message_id("x", "h2", "r1", "dhpc.invalid"),
        message_id("x", "h1", "r2", "dhpc.invalid"),
        message_id("y", "h1", "r1", "dhpc.invalid"),
    }
    assert first not in others and len(others) == 3
    assert message_id("x", "h1", "r1", "mail.example.com").endswith("@mail.example.com>")


def test_hostile_names_are_escaped_and_cannot_add_headers(
    dhpc_and_hash: tuple[object, str], built: Path
) -> None:
    dhpc, chash = dhpc_and_hash
    person = Recipient(
        "r-x",
        "fi",
        "",
        "<script>alert(1)</script>",
        "Ström\r\nBcc: evil@example.com",
        "",
        "",
        "",
        "",
        "",
        "",
        "FI",
        "anna@example.fi",
        "",
    )
    composer = MessageComposer(dhpc, chash, SmtpSettings())  # type: ignore[arg-type]
    message = parse(composer.compose(person, b"%PDF-1.7", when=dt.datetime.now(dt.UTC)).data)
    assert message["Bcc"] is None
    assert "<script>" not in body_html(message)
    assert "&lt;script&gt;" in body_html(message)
    assert "Bcc: evil" in message["To"].addresses[0].display_name


def test_addresses_idna_and_smtputf8() -> None:
    assert mail_address("anna@läkare.example.fi").addr_spec == "anna@xn--lkare-gra.example.fi"
    with pytest.raises(AddressError, match="smtputf8"):
        mail_address("jörö@example.fi")
    assert mail_address("jörö@example.fi", smtputf8=True).addr_spec == "jörö@example.fi"
    for bad in ("no-at-sign", "a@b", "a b@example.fi", "a@exa_mple.fi", "<a@example.fi>"):
        with pytest.raises(AddressError):
            mail_address(bad)


def test_an_untranslated_email_msgid_is_refused(
    dhpc_and_hash: tuple[object, str], tmp_path: Path
) -> None:
    dhpc, chash = dhpc_and_hash
    email_dir = tmp_path / "email"
    email_dir.mkdir()
    (email_dir / "subject.txt").write_text("{{ _('A phrase nobody translated') }}\n")
    (email_dir / "body.txt").write_text("x\n")
    (email_dir / "body.html").write_text("<p>x</p>\n")
    composer = MessageComposer(dhpc, chash, SmtpSettings(), templates_dir=tmp_path)  # type: ignore[arg-type]
    person = make_recipients(2)[1]
    with pytest.raises(RenderError, match="A phrase nobody translated"):
        composer.render(person)


# -- dry run -----------------------------------------------------------------------------------


def test_dry_run_is_the_default_writes_private_eml_and_leaves_no_journal(
    built: Path, tmp_path: Path
) -> None:
    people = make_recipients(6, without_email=1)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    runner = CliRunner()
    result = runner.invoke(main, ["send", str(CONTENT), "--out", str(out_root)])
    assert result.exit_code == 0, result.output
    outbox = out_root / DHPC_ID / "outbox"
    files = sorted(outbox.glob("*.eml"))
    assert len(files) == 1, "--limit is 1 until --no-limit"
    assert stat.S_IMODE(outbox.stat().st_mode) == 0o700
    assert stat.S_IMODE(files[0].stat().st_mode) == 0o600
    assert not (out_root / DHPC_ID / JOURNAL_FILE).exists()
    assert "nothing was sent" in result.output and "4 message(s) would remain" in result.output

    (outbox / "r-old.eml").write_text("from an earlier dry run")
    result = runner.invoke(main, ["send", str(CONTENT), "--out", str(out_root), "--no-limit"])
    assert result.exit_code == 0, result.output
    files = sorted(outbox.glob("*.eml"))
    assert [f.stem for f in files] == [p.recipient_id for p in people if p.email]
    for file, person in zip(files, people, strict=False):
        message = parse(file.read_bytes())
        assert message["To"].addresses[0].addr_spec == person.email
        assert (
            attachment_of(message)[1] == (built / f"{DHPC_ID}_{person.language}.pdf").read_bytes()
        )
    assert not (out_root / DHPC_ID / JOURNAL_FILE).exists()
    assert "1 recipient(s) without e-mail address (post)" in result.output


def test_limit_and_no_limit_together_is_a_usage_error(built: Path, tmp_path: Path) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(2))
    result = CliRunner().invoke(
        main, ["send", str(CONTENT), "--out", str(out_root), "--limit", "3", "--no-limit"]
    )
    assert result.exit_code == 2 and "cannot be used together" in result.output
    assert "Traceback" not in result.output
    with pytest.raises(UsageError):
        parse_rate("fast")
    assert parse_rate("30/min") == 30 and parse_rate("2/s") == 120 and parse_rate("600/h") == 10


def test_missing_or_stale_letter_pdf_stops_before_anything_is_sent(
    built: Path, tmp_path: Path
) -> None:
    people = make_recipients(2)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    (out_root / DHPC_ID / f"{DHPC_ID}_fi.pdf").unlink()
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        with pytest.raises(DhpcError, match=r"lemtrada-2019_fi\.pdf is missing.*dhpc build"):
            run_send(out_root, settings_for(server.port))
        pdf = out_root / DHPC_ID / f"{DHPC_ID}_sv.pdf"
        pdf.write_bytes(pdf.read_bytes() + b"\n")
        (out_root / DHPC_ID / f"{DHPC_ID}_fi.pdf").write_bytes(
            (built / f"{DHPC_ID}_fi.pdf").read_bytes()
        )
        with pytest.raises(DhpcError, match="has changed since it was built"):
            run_send(out_root, settings_for(server.port))
    assert handler.received == []
    assert not (out_root / DHPC_ID / JOURNAL_FILE).exists(), "refused before the journal"


# -- real sending --------------------------------------------------------------------------------


def test_real_send_delivers_each_language_once_and_records_it(built: Path, tmp_path: Path) -> None:
    people = make_recipients(8, without_email=2)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        env = smtp_environment(server.port)
        result = CliRunner().invoke(
            main,
            [
                "send",
                str(content_copy(out_root)),
                "--out",
                str(out_root),
                "--no-dry-run",
                "--no-limit",
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        assert "sent 6, failed 0" in result.output
        by_address = {r.recipients[0]: r for r in handler.received}
        assert len(handler.received) == 6
        for person in people[:6]:
            message = by_address[person.email].message
            assert by_address[person.email].envelope_from == "dhpc@sanofi.example"
            assert message["Content-Language"] == person.language
            assert SUBJECT_WORDS[person.language] in message["Subject"]
            assert (
                attachment_of(message)[1]
                == (built / f"{DHPC_ID}_{person.language}.pdf").read_bytes()
            )

        journal = out_root / DHPC_ID / JOURNAL_FILE
        assert stat.S_IMODE(journal.stat().st_mode) == 0o600
        connection = sqlite3.connect(journal)
        assert connection.execute("PRAGMA journal_mode").fetchone()[0] == "wal"
        connection.close()
        rows = journal_rows(out_root)
        assert set(rows) == {p.recipient_id for p in people[:6]}
        assert all(state == "sent" and attempts == 1 for state, attempts, _ in rows.values())

        # The same command again, with every option that could send more: nothing is sent.
        result = CliRunner().invoke(
            main,
            [
                "send",
                str(content_copy(out_root)),
                "--out",
                str(out_root),
                "--no-dry-run",
                "--no-limit",
                "--resend-unknown",
                "--retry-failed",
            ],
            env=env,
        )
        assert result.exit_code == 0, result.output
        assert "6 recipient(s) already sent earlier" in result.output
        assert len(handler.received) == 6

        # A dry run reads the journal: nothing left to write.
        result = CliRunner().invoke(
            main, ["send", str(CONTENT), "--out", str(out_root), "--no-limit"], env=env
        )
        assert "0 message(s) written" in result.output


def test_limit_is_one_until_told_otherwise(built: Path, tmp_path: Path) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(4))
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        args = ["send", str(content_copy(out_root)), "--out", str(out_root), "--no-dry-run"]
        env = smtp_environment(server.port)
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        assert len(handler.received) == 1 and "3 message(s) still to send" in result.output
        result = CliRunner().invoke(main, [*args, "--limit", "2"], env=env)
        assert len(handler.received) == 3
    assert sorted(s for s, _, _ in journal_rows(out_root).values()) == [
        "pending",
        "sent",
        "sent",
        "sent",
    ]


def test_451_is_retried_550_fails_and_a_dropped_connection_is_resumed(
    built: Path, tmp_path: Path
) -> None:
    people = make_recipients(12)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    greylisted, refused = people[1].email, people[4].email
    handler = FaultyHandler(
        temporary={greylisted: 2},
        permanent=frozenset({refused}),
        drop_at_rcpt=9,  # mid-run, before the message of that transaction is complete
    )
    with smtp_server(handler) as server:
        summary = run_send(out_root, settings_for(server.port))
    received = handler.per_recipient()
    assert received[refused] == 0
    assert all(received[p.email] == 1 for p in people if p.email != refused)
    assert handler.connections >= 2, "the run reconnected after the drop"
    rows = journal_rows(out_root)
    assert rows[people[1].recipient_id][:2] == ("sent", 3)
    state, attempts, reply = rows[people[4].recipient_id]
    assert (state, attempts) == ("failed", 1) and reply.startswith("550")
    assert sum(1 for s, _, _ in rows.values() if s == "sent") == 11
    assert (summary.sent, summary.failed, summary.unknown) == (11, 1, 0)  # type: ignore[attr-defined]


def test_a_connection_lost_after_the_whole_message_is_unknown_until_asked(
    built: Path, tmp_path: Path
) -> None:
    people = make_recipients(4)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    handler = FaultyHandler(drop_after_data=2)
    with smtp_server(handler) as server:
        settings = settings_for(server.port)
        summary = run_send(out_root, settings)
        assert summary.unknown == 1  # type: ignore[attr-defined]
        rows = journal_rows(out_root)
        assert rows[people[1].recipient_id][0] == "unknown"
        assert handler.per_recipient()[people[1].email] == 0
        assert len(handler.received) == 3

        summary = run_send(out_root, settings)
        assert summary.unknown_waiting == 1 and len(handler.received) == 3  # type: ignore[attr-defined]

        summary = run_send(out_root, settings, resend_unknown=True)
        assert summary.sent == 1  # type: ignore[attr-defined]
    assert handler.per_recipient()[people[1].email] == 1
    assert journal_rows(out_root)[people[1].recipient_id][0] == "sent"
    entry = {
        e.key.recipient_id: e for e in read_journal(out_root / DHPC_ID / JOURNAL_FILE, DHPC_ID)
    }
    assert entry[people[1].recipient_id].unknown_at is not None


def test_temporary_failures_beyond_the_retries_stay_pending_for_the_next_run(
    built: Path, tmp_path: Path
) -> None:
    people = make_recipients(3)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    handler = FaultyHandler(temporary={people[0].email: 4})
    with smtp_server(handler) as server:
        settings = settings_for(server.port, retry=RetryPolicy(attempts=3, delay=0, max_delay=0))
        summary = run_send(out_root, settings)
        assert (summary.deferred, summary.sent) == (1, 2)  # type: ignore[attr-defined]
        state, attempts, reply = journal_rows(out_root)[people[0].recipient_id]
        assert (state, attempts) == ("pending", 3) and reply.startswith("451")
        summary = run_send(out_root, settings)
        assert summary.sent == 1  # type: ignore[attr-defined]
    assert handler.per_recipient()[people[0].email] == 1


def test_unusable_addresses_fail_without_stopping_the_run(built: Path, tmp_path: Path) -> None:
    people = make_recipients(3)
    broken = Recipient(**{**people[1].__dict__, "email": "not an address"})
    twin = Recipient(
        **{**people[2].__dict__, "recipient_id": "r-twin", "email": people[0].email.upper()}
    )
    out_root = output_with_mailing(tmp_path / "out", built, [people[0], broken, people[2], twin])
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        summary = run_send(out_root, settings_for(server.port))
    assert (summary.sent, summary.invalid_addresses, summary.duplicate_addresses) == (2, 1, 1)  # type: ignore[attr-defined]
    state, attempts, reply = journal_rows(out_root)[broken.recipient_id]
    assert (state, attempts) == ("failed", 0) and "not an e-mail address" in reply
    assert sorted(handler.per_recipient().values()) == [1, 1]


def test_a_second_run_on_the_same_journal_is_refused(built: Path, tmp_path: Path) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(2))
    handler = FaultyHandler()
    with (
        smtp_server(handler) as server,
        SendJournal.open(out_root / DHPC_ID / JOURNAL_FILE, DHPC_ID),
        pytest.raises(
            DhpcError, match="another 'dhpc send' or 'dhpc bounces' is using this journal"
        ),
    ):
        run_send(out_root, settings_for(server.port))
    assert handler.received == []


def test_rate_limits_the_messages_per_minute(built: Path, tmp_path: Path) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(5))
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        dhpc = load_dhpc(content_copy(out_root))
        started = time.monotonic()
        send_dhpc(
            dhpc,
            out_root,
            settings=settings_for(server.port),
            options=SendOptions(dry_run=False, limit=None, rate_per_minute=1200),
        )
        elapsed = time.monotonic() - started
    assert len(handler.received) == 5
    assert elapsed >= 4 * 60 / 1200, "five messages at 1200/min take at least four intervals"


def test_an_unreachable_server_stops_the_run_with_everything_pending(
    built: Path, tmp_path: Path
) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(2))
    with smtp_server(FaultyHandler()) as server:
        port = server.port  # free again once the server has stopped
    result = CliRunner().invoke(
        main,
        ["send", str(content_copy(out_root)), "--out", str(out_root), "--no-dry-run", "--no-limit"],
        env=smtp_environment(port, DHPC_SMTP_RETRIES="1"),
    )
    assert result.exit_code == 1
    assert (
        "cannot connect to 127.0.0.1" in result.output
        and "run the same command again" in result.output.lower()
    )
    assert {s for s, _, _ in journal_rows(out_root).values()} == {"pending"}


def test_a_draft_is_never_sent_but_can_be_previewed(
    example_dir: Path, built: Path, tmp_path: Path
) -> None:
    dhpc_yaml = example_dir / "dhpc.yaml"
    dhpc_yaml.write_text(dhpc_yaml.read_text().replace("status: final", "status: draft"))
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(2))
    with pytest.raises(DhpcError, match="status is draft"):
        send_dhpc(
            load_dhpc(example_dir),
            out_root,
            settings=settings_for(25),
            options=SendOptions(dry_run=False),
        )


def test_a_changed_content_needs_new_version_and_fresh_pdfs(
    example_dir: Path, built: Path, tmp_path: Path
) -> None:
    people = make_recipients(2)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        settings = settings_for(server.port)
        run_send(out_root, settings)
        assert len(handler.received) == 2
        fi_yaml = example_dir / "fi.yaml"
        fi_yaml.write_text(fi_yaml.read_text().replace("Käytön rajoittaminen", "Käytön rajaus"))
        changed = load_dhpc(example_dir)
        options = SendOptions(dry_run=False, limit=None)
        with pytest.raises(DhpcError, match=r"already sent another version.*--new-version"):
            send_dhpc(changed, out_root, settings=settings, options=options)
        with pytest.raises(DhpcError, match="built from another version of the content"):
            send_dhpc(
                changed,
                out_root,
                settings=settings,
                options=SendOptions(dry_run=False, limit=None, new_version=True),
            )
    assert len(handler.received) == 2


def test_personalised_letter_is_attached_and_checked(built: Path, tmp_path: Path) -> None:
    people = make_recipients(2)
    out_root = output_with_mailing(tmp_path / "out", built, people)
    out_dir = out_root / DHPC_ID
    personal = out_dir / "letters" / people[1].language / f"{people[1].recipient_id}.pdf"
    personal.parent.mkdir(parents=True)
    writer = PdfWriter()
    writer.add_blank_page(595, 842)
    writer.add_metadata({"/Title": f"Letter for {people[1].recipient_id}"})
    buffer = io.BytesIO()
    writer.write(buffer)
    personal.write_bytes(buffer.getvalue())
    from dhpc_gen.fsutil import sha256_bytes

    manifest = out_dir / "print" / "print-manifest.csv"
    manifest.parent.mkdir()
    letter_file = personal.relative_to(out_dir).as_posix()
    columns = (
        "recipient_id,language,print_file,first_page,last_page,letter_file,letter_sha256,"
        "content_sha256,address_sha256\n"
    )
    version = content_hash(load_dhpc(CONTENT))
    block = address_block(people[1], home="FI", language="fi", name_languages=("sv", "fi"))
    address = address_sha256(block.lines)
    row = f"{people[1].recipient_id},fi,print/fi.pdf,1,2,{letter_file}"
    manifest.write_text(f"{columns}{row},{'0' * 64},{version},{address}\n")
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        settings = settings_for(server.port)
        with pytest.raises(DhpcError, match=r"1 changed since dhpc merge \(letters/fi/r01-00001"):
            run_send(out_root, settings)
        digest = sha256_bytes(personal.read_bytes())
        # A letter merged from another version of the text is never attached.
        manifest.write_text(f"{columns}{row},{digest},{'1' * 64},{address}\n")
        with pytest.raises(DhpcError, match="merged from another version of the content"):
            run_send(out_root, settings)
        # A manifest that does not say which version it was merged from cannot prove it.
        manifest.write_text(columns.replace(",content_sha256", "") + f"{row},{digest},{address}\n")
        with pytest.raises(DhpcError, match=r"does not say which version.*run dhpc merge .* again"):
            run_send(out_root, settings)
        # Nor one that does not say whose address it merged.
        manifest.write_text(columns.replace(",address_sha256", "") + f"{row},{digest},{version}\n")
        with pytest.raises(DhpcError, match=r"does not say whose address"):
            run_send(out_root, settings)
        assert handler.received == []  # refused before anything was sent
        manifest.write_text(f"{columns}{row},{digest},{version},{address}\n")
        run_send(out_root, settings)
    by_address = {r.recipients[0]: r.message for r in handler.received}
    name, payload = attachment_of(by_address[people[1].email])
    assert name == f"{DHPC_ID}_fi.pdf" and payload == personal.read_bytes()
    assert (
        PdfReader(io.BytesIO(payload)).metadata["/Title"] == f"Letter for {people[1].recipient_id}"
    )
    assert (
        attachment_of(by_address[people[0].email])[1] == (built / f"{DHPC_ID}_sv.pdf").read_bytes()
    )


def test_smtputf8_sends_non_ascii_local_parts_when_enabled(built: Path, tmp_path: Path) -> None:
    people = make_recipients(2)
    special = Recipient(**{**people[1].__dict__, "email": "jörö.äijälä@example.fi"})
    out_root = output_with_mailing(tmp_path / "out", built, [people[0], special])
    handler = FaultyHandler()
    with smtp_server(handler, enable_SMTPUTF8=True) as server:
        summary = run_send(out_root, settings_for(server.port))
        assert (summary.sent, summary.failed) == (1, 1)  # type: ignore[attr-defined]
        assert "smtputf8" in journal_rows(out_root)[special.recipient_id][2]
        summary = run_send(out_root, settings_for(server.port, smtputf8=True), retry_failed=True)
        assert summary.sent == 1  # type: ignore[attr-defined]
    assert handler.per_recipient()["jörö.äijälä@example.fi"] == 1


# -- settings, TLS and the password ---------------------------------------------------------------


def test_settings_from_toml_yaml_and_environment(tmp_path: Path) -> None:
    toml = tmp_path / "smtp.toml"
    toml.write_text(
        'host = "mail.example.com"\nsecurity = "tls"\nuser = "dhpc"\nfrom = "Sanofi Oy <a@b.fi>"\n'
        "retries = 2\nretry_delay = 0.5\n"
    )
    settings = load_settings(toml, {})
    assert (settings.host, settings.effective_port, settings.security) == (
        "mail.example.com",
        465,
        "tls",
    )
    assert settings.retry.attempts == 3 and settings.retry.delay == 0.5
    assert settings.password is None
    settings = load_settings(toml, {"DHPC_SMTP_PORT": "2525", "DHPC_SMTP_PASSWORD": "pw"})
    assert settings.effective_port == 2525 and settings.password is not None
    assert "pw" not in repr(settings) and "pw" not in settings.describe()

    yaml = tmp_path / "smtp.yaml"
    yaml.write_text("smtp:\n  host: relay.example.com\n  security: starttls\n  smtputf8: true\n")
    settings = load_settings(yaml, {})
    assert (settings.host, settings.effective_port, settings.smtputf8) == (
        "relay.example.com",
        587,
        True,
    )

    yaml.write_text("host: x\nhots: typo\n")
    with pytest.raises(SmtpConfigError, match="unknown key hots"):
        load_settings(yaml, {})
    with pytest.raises(SmtpConfigError, match="security must be one of"):
        load_settings(None, {"DHPC_SMTP_SECURITY": "ssl"})
    secret_file = tmp_path / "secret.toml"
    secret_file.write_text('host = "x"\npassword = "hunter2"\n')
    os.chmod(secret_file, 0o644)
    with pytest.raises(SmtpConfigError, match="chmod 600") as caught:
        load_settings(secret_file, {})
    assert "hunter2" not in str(caught.value)
    os.chmod(secret_file, 0o600)
    assert load_settings(secret_file, {}).password is not None


def test_password_is_used_but_never_shown(
    built: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    password = "Salasana-ÅÄÖ-7c1f9e"
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(3))
    authenticator = Authenticator("dhpc-sender", password)
    handler = FaultyHandler()
    caplog.set_level(logging.DEBUG)
    with smtp_server(
        handler,
        tls_context=server_tls_context(tmp_path),
        require_starttls=True,
        authenticator=authenticator,
        auth_required=True,
    ) as server:
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(TEST_CERT)
        env = smtp_environment(
            server.port,
            DHPC_SMTP_SECURITY="starttls",
            DHPC_SMTP_USER="dhpc-sender",
            DHPC_SMTP_PASSWORD=password,
            DHPC_SMTP_CA_FILE=str(ca_file),
        )
        args = [
            "send",
            str(content_copy(out_root)),
            "--out",
            str(out_root),
            "--no-dry-run",
            "--no-limit",
        ]
        result = CliRunner().invoke(main, args, env=env)
        assert result.exit_code == 0, result.output
        assert len(handler.received) == 3
        assert ("dhpc-sender", password) in authenticator.tried

        wrong = CliRunner().invoke(
            main, [*args, "--retry-failed"], env={**env, "DHPC_SMTP_PASSWORD": "wrong-Ö"}
        )
        assert wrong.exit_code == 0  # nothing left to send: no login needed

        (out_root / DHPC_ID / JOURNAL_FILE).unlink()
        for suffix in ("-wal", "-shm"):
            (out_root / DHPC_ID / (JOURNAL_FILE + suffix)).unlink(missing_ok=True)
        refused = CliRunner().invoke(
            main, [*args, "--new-journal"], env={**env, "DHPC_SMTP_PASSWORD": "wrong-Ö"}
        )
        assert (
            refused.exit_code == 1 and "refused the login of user 'dhpc-sender'" in refused.output
        )
        assert "wrong-Ö" not in refused.output

    everything = result.output + wrong.output + refused.output + caplog.text
    everything += "".join(str(r.args) for r in caplog.records)
    assert password not in everything and "wrong-Ö" not in everything
    for path in (out_root / DHPC_ID).rglob("*"):
        if path.is_file():
            assert password.encode() not in path.read_bytes(), path
    help_text = CliRunner().invoke(main, ["send", "--help"]).output
    assert "--password" not in help_text


def test_implicit_tls_needs_a_trusted_certificate(built: Path, tmp_path: Path) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(2))
    handler = FaultyHandler()
    with smtp_server(handler, ssl_context=server_tls_context(tmp_path)) as server:
        with pytest.raises(SmtpConfigError, match="not trusted"):
            run_send(out_root, settings_for(server.port, security="tls"))
        ca_file = tmp_path / "ca.pem"
        ca_file.write_text(TEST_CERT)
        run_send(out_root, settings_for(server.port, security="tls", ca_file=ca_file))
    assert len(handler.received) == 2


def test_starttls_that_the_server_does_not_offer_is_an_error(built: Path, tmp_path: Path) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(1))
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        with pytest.raises(SmtpConfigError, match="does not offer STARTTLS"):
            run_send(out_root, settings_for(server.port, security="starttls"))
        with pytest.raises(SmtpConfigError, match="unencrypted"):
            run_send(
                out_root,
                settings_for(server.port, host="mail.example.com", user="u", password=Secret("pw")),
            )
    assert handler.received == []


def test_recipients_in_a_language_the_dhpc_lacks_are_named(built: Path, tmp_path: Path) -> None:
    people = make_recipients(2)
    people[1] = Recipient(**{**people[1].__dict__, "language": "de"})
    out_root = output_with_mailing(tmp_path / "out", built)
    write_recipients(out_root / DHPC_ID / "mailing" / "recipients.csv", people)
    with pytest.raises(DhpcError, match=r"recipients\.csv:3: language 'de'"):
        run_send(out_root, settings_for(25))


def test_a_real_send_without_a_server_says_so_first(built: Path, tmp_path: Path) -> None:
    out_root = output_with_mailing(tmp_path / "out", built, make_recipients(2))
    result = CliRunner().invoke(
        main,
        ["send", str(content_copy(out_root)), "--out", str(out_root), "--no-dry-run"],
        env={"DHPC_SMTP_HOST": None, "DHPC_SMTP_USER": "u", "DHPC_SMTP_PASSWORD": None},
    )
    assert result.exit_code == 1
    assert "no SMTP server: set DHPC_SMTP_HOST" in result.output
    assert "Sending through" not in result.output  # not announced before the refusal
    assert not (out_root / DHPC_ID / JOURNAL_FILE).exists()
