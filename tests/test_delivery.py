"""The delivery loop end to end through a real Postfix on loopback.

200 recipients, 30 of them without an e-mail address: ``dhpc send`` hands 170 signed
messages to Postfix over STARTTLS; Postfix relays them to a sink that refuses 20 recipients
with 550 after Postfix accepted them, so Postfix writes 20 real DSNs into the bounce
Maildir. ``dhpc bounces --maildir`` marks exactly those 20 (and reading again changes
nothing), ``dhpc merge --only bounced,no-email`` prints exactly those 20 and the 30 without
e-mail, and ``dhpc report`` accounts for all 200, each in one final channel. Every message
the sink received verifies with DKIM against the key the test published.
"""

from __future__ import annotations

import csv
import io
import shutil
import sqlite3
import time
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner, Result
from postfix_helpers import BOUNCE_DOMAIN, dkim_key, dns_with, running_postfix
from pypdf import PdfReader
from send_helpers import (
    DHPC_ID,
    built_letters,
    content_copy,
    make_recipients,
    output_with_mailing,
)

from dhpc_gen.cli import main

PEOPLE = 200
WITHOUT_EMAIL = 30
SELECTOR = "dhpc2026"
SIGNING_DOMAIN = "sanofi.example"


def dhpc(*args: str | Path, env: dict[str, str] | None = None) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args], env=env)
    assert "Traceback" not in result.output, result.output
    return result


def journal_tables(path: Path) -> dict[str, list[tuple[object, ...]]]:
    connection = sqlite3.connect(path)
    try:
        return {
            table: connection.execute(f"SELECT * FROM {table} ORDER BY rowid").fetchall()
            for table in ("deliveries", "earlier_deliveries", "bounce_reports", "versions")
        }
    finally:
        connection.close()


def test_send_bounce_post_and_report_through_postfix(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    people = make_recipients(PEOPLE, without_email=WITHOUT_EMAIL, seed=7)
    with_email = [p for p in people if p.email]
    rejected = {p.recipient_id: p.email for p in with_email[3::8][:20]}
    assert len(rejected) == 20
    out = output_with_mailing(tmp_path / "out", built_letters(tmp_path_factory), people)
    out_dir = out / DHPC_ID
    key_file, txt = dkim_key(tmp_path / "keys")
    assert dhpc("merge", content_copy(out), "--out", out, "--per-recipient").exit_code == 0

    with running_postfix(frozenset(rejected.values())) as postfix:
        env = {
            "DHPC_SMTP_HOST": "127.0.0.1",
            "DHPC_SMTP_PORT": str(postfix.port),
            "DHPC_SMTP_SECURITY": "starttls",
            "DHPC_SMTP_CA_FILE": str(postfix.ca_file),
            "DHPC_SMTP_FROM": f"Sanofi Oy <dhpc@{SIGNING_DOMAIN}>",
            "DHPC_SMTP_ENVELOPE_FROM": f"bounces@{BOUNCE_DOMAIN}",
            "DHPC_SMTP_VERP": "true",
            "DHPC_SMTP_DKIM_KEY_FILE": str(key_file),
            "DHPC_SMTP_DKIM_SELECTOR": SELECTOR,
        }
        sent = dhpc("send", content_copy(out), "--out", out, "--no-dry-run", "--no-limit", env=env)
        assert sent.exit_code == 0, sent.output
        assert "sent 170, failed 0, deferred 0, unknown 0" in sent.output
        assert f"{WITHOUT_EMAIL} recipient(s) without e-mail address" in sent.output
        postfix.wait_for(delivered=150, bounces=20)
        time.sleep(1.0)  # nothing more is on its way: Postfix has no other message queued
        received = list(postfix.sink.received)
        maildir = tmp_path / "bounce-maildir"  # the instance's folder goes with it
        shutil.copytree(postfix.maildir, maildir, symlinks=True)
        bounce_files = sorted((maildir / "new").iterdir())

    # What the recipients' server received: 150 messages, each signed, one per address.
    assert len(received) == 150 and len(bounce_files) == 20
    assert sorted(postfix.sink.refused) == sorted(rejected.values())
    delivered_to = sorted(r for item in received for r in item.recipients)
    assert delivered_to == sorted(p.email for p in with_email if p.email not in rejected.values())
    lookup = dns_with({f"{SELECTOR}._domainkey.{SIGNING_DOMAIN}": txt})
    for item in received:
        assert dkim.verify(item.data, dnsfunc=lookup), "every message verifies with DKIM"
        message = message_from_bytes(item.data, policy=policy.default)
        assert message["Auto-Submitted"] == "auto-generated"
        assert "List-Unsubscribe" not in message and "Precedence" not in message
        local, _, domain = item.envelope_from.partition("@")
        assert domain == BOUNCE_DOMAIN and local.startswith("bounces+") and len(local) == 32
    assert len({item.envelope_from for item in received}) == 150, "a return path per message"
    tampered = received[0].data.replace(b"Subject:", b"Subject: [changed]", 1)
    assert not dkim.verify(tampered, dnsfunc=lookup)

    # Postfix's DSNs go to the message's own return path and name its token as the envelope id.
    for path in bounce_files:
        dsn = message_from_bytes(path.read_bytes(), policy=policy.default)
        token = str(dsn["X-Original-To"]).split("+", 1)[1].split("@", 1)[0]
        assert f"Original-Envelope-Id: {token}".encode() in path.read_bytes()
        assert dsn.get_content_type() == "multipart/report"

    # The bounces: exactly the 20 refused recipients, with Postfix's own words.
    result = dhpc("bounces", content_copy(out), "--out", out, "--maildir", maildir)
    assert result.exit_code == 0, result.output
    assert "20 message(s) in Maildir" in result.output and "20 new, 0 read before" in result.output
    assert "bounced 20, deferred 0" in result.output and "unmatched" not in result.output
    for address in rejected.values():
        assert address not in result.output, "no address on the terminal"
    tables = journal_tables(out_dir / "journal.sqlite")
    connection = sqlite3.connect(out_dir / "journal.sqlite")
    rows = connection.execute(
        "SELECT recipient_id, state, bounce_status, bounce_reason, bounced_at, sent_at "
        "FROM deliveries"
    ).fetchall()
    connection.close()
    bounced = {r[0]: r for r in rows if r[1] == "bounced"}
    assert set(bounced) == set(rejected)
    assert {r[1] for r in rows if r[0] not in rejected} == {"sent"}
    for _, _, status, reason, bounced_at, sent_at in bounced.values():
        assert status == "5.1.1" and "User unknown" in reason
        assert bounced_at.endswith("Z") and sent_at <= bounced_at
    listing = list(csv.DictReader(io.StringIO((out_dir / "bounce-reports.csv").read_text())))
    assert sorted(r["recipient_id"] for r in listing) == sorted(rejected)
    assert {r["result"] for r in listing} == {"bounced"}

    # Reading the same Maildir again changes nothing.
    listing_bytes = (out_dir / "bounce-reports.csv").read_bytes()
    again = dhpc("bounces", content_copy(out), "--out", out, "--maildir", maildir)
    assert again.exit_code == 0, again.output
    assert "0 new, 20 read before" in again.output and "bounced 0" in again.output
    assert journal_tables(out_dir / "journal.sqlite") == tables
    assert (out_dir / "bounce-reports.csv").read_bytes() == listing_bytes

    # The postal fallback: exactly the bounced and those without e-mail are printed.
    merged = dhpc("merge", content_copy(out), "--out", out, "--only", "bounced,no-email")
    assert merged.exit_code == 0, merged.output
    assert "--only bounced,no-email: 50 of 200 recipient(s) (bounced 20, no-email 30)" in (
        merged.output
    )
    manifest = list(
        csv.DictReader(io.StringIO((out_dir / "print" / "print-manifest.csv").read_text()))
    )
    printed = {r["recipient_id"]: r for r in manifest if r["print_file"]}
    expected = set(rejected) | {p.recipient_id for p in people if not p.email}
    assert set(printed) == expected
    assert len(manifest) == PEOPLE, "the letters e-mail attached stay listed"
    by_language: dict[str, list[dict[str, str]]] = {}
    for row in printed.values():
        by_language.setdefault(row["language"], []).append(row)
    for language, letters in by_language.items():
        letter_pages = len(PdfReader(out_dir / letters[0]["letter_file"]).pages)
        per_letter = letter_pages + letter_pages % 2
        assert {int(r["last_page"]) - int(r["first_page"]) + 1 for r in letters} == {per_letter}
        pdf = PdfReader(out_dir / "print" / f"{DHPC_ID}_{language}_print.pdf")
        assert len(pdf.pages) == per_letter * len(letters)
    assert {p.language for p in people if p.recipient_id in expected} == set(by_language)

    # The record: all 200, each in exactly one final channel; the regulator's summary.
    reported = dhpc("report", content_copy(out), "--out", out, "--pdf")
    assert reported.exit_code == 0, reported.output
    assert (
        "200 recipient(s): e-mail delivered 150, bounced then printed 20, printed 30, "
        "e-mail in doubt 0, not reached 0"
    ) in reported.output
    record = list(csv.DictReader(io.StringIO((out_dir / "distribution-record.csv").read_text())))
    outcomes: dict[str, set[str]] = {}
    for row in record:
        outcomes.setdefault(row["recipient_id"], set()).add(row["outcome"])
    assert set(outcomes) == {p.recipient_id for p in people}
    assert all(len(found) == 1 for found in outcomes.values()), "one final channel each"
    final = {rid: found.pop() for rid, found in outcomes.items()}
    for person in people:
        rid = person.recipient_id
        want = (
            "bounced-then-printed"
            if rid in rejected
            else "printed"
            if not person.email
            else "email"
        )
        assert final[rid] == want, rid
    bounced_rows = [r for r in record if r["state"] == "bounced"]
    assert len(bounced_rows) == 20 and all(r["bounce_status"] == "5.1.1" for r in bounced_rows)
    lines = list(csv.DictReader(io.StringIO((out_dir / "distribution-summary.csv").read_text())))
    total = next(line for line in lines if line["language"] == "all")
    assert (total["recipients"], total["email"], total["bounced_then_printed"]) == (
        "200",
        "150",
        "20",
    )
    assert (total["printed"], total["reached"], total["not_reached"]) == ("30", "200", "0")
    assert sum(int(line["recipients"]) for line in lines if line["language"] != "all") == 200
    pdf = PdfReader(out_dir / "distribution-summary.pdf")
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    assert "All languages 200 150 20 30 200 0 0" in text
    for person in people[:5]:
        assert person.last_name not in text, "no personal data in the summary"

    # Sending again sends nobody twice, and still checks every attachment it would use.
    offline = {k: v for k, v in env.items() if k != "DHPC_SMTP_CA_FILE"}  # went with Postfix
    dry = dhpc("send", content_copy(out), "--out", out, env=offline)
    assert dry.exit_code == 0, dry.output
    assert "150 recipient(s) already sent earlier" in dry.output
    assert "20 recipient(s) whose message bounced" in dry.output
