"""``dhpc merge --only`` (the postal fallback) and what ``dhpc report`` makes of the outcome.

A journal with every e-mail state, built the way send and bounces record them; real print
files read back with pypdf; the summary PDF read back as text.
"""

from __future__ import annotations

import csv
import io
import json
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from pypdf import PdfReader
from send_helpers import CONTENT, DHPC_ID, built_letters, make_recipients, output_with_mailing

from dhpc_gen.addresses.recipients import Recipient
from dhpc_gen.build import content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.distribution.journal import (
    JOURNAL_FILE,
    BounceReport,
    DeliveryKey,
    PlannedDelivery,
    SendJournal,
)
from dhpc_gen.distribution.message import message_id

CHASH = content_hash(load_dhpc(CONTENT))
STATES = ("sent", "bounced", "failed", "deferred", "pending", "unknown", "sent", "bounced")
"""The e-mail state of each of the first eight recipients; the last two have no e-mail."""


def dhpc(*args: str | Path) -> Result:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output, result.output
    return result


def journal_with_every_state(out: Path, people: list[Recipient]) -> None:
    with SendJournal.open(out / DHPC_ID / JOURNAL_FILE, DHPC_ID) as journal:
        journal.use_version(CHASH)
        for person, state in zip(people, STATES, strict=False):
            key = DeliveryKey(DHPC_ID, CHASH, person.recipient_id)
            mid = message_id(DHPC_ID, CHASH, person.recipient_id, "dhpc.invalid")
            journal.add_pending([PlannedDelivery(key, person.language, person.email, mid)])
            if state == "pending":
                continue
            journal.begin_attempt(key, ["pending"], person.email)
            if state == "failed":
                journal.mark_failed(key, "550 5.1.1 no such user")
                continue
            if state == "unknown":
                journal.mark_unknown(key, "connection lost awaiting the answer")
                continue
            journal.mark_sent(key, "250 ok")
            if state in ("bounced", "deferred"):
                (target,) = [e for e in journal.entries(DHPC_ID) if e.key == key]
                report = BounceReport(
                    f"r-{person.recipient_id}",
                    f"new/{person.recipient_id}",
                    "2026-12-03T10:00:00Z",
                    state,  # type: ignore[arg-type]
                    person.recipient_id,
                    CHASH,
                    "5.1.1" if state == "bounced" else "4.4.1",
                    "User unknown" if state == "bounced" else "no answer from host",
                )
                assert journal.record_report(report, target).result == state


@pytest.fixture
def distributed(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> tuple[Path, list[Recipient]]:
    people = make_recipients(10, without_email=2, seed=21)
    out = output_with_mailing(tmp_path / "out", built_letters(tmp_path_factory), people)
    journal_with_every_state(out, people)
    return out, people


def printed(out: Path) -> dict[str, dict[str, str]]:
    text = (out / DHPC_ID / "print" / "print-manifest.csv").read_text(encoding="utf-8")
    return {r["recipient_id"]: r for r in csv.DictReader(io.StringIO(text)) if r["print_file"]}


def test_only_prints_the_recipients_email_did_not_reach(
    distributed: tuple[Path, list[Recipient]],
) -> None:
    out, people = distributed
    ids = [p.recipient_id for p in people]
    result = dhpc("merge", CONTENT, "--out", out, "--only", "bounced,no-email", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert "--only bounced,no-email: 4 of 10 recipient(s) (bounced 2, no-email 2)" in result.output
    assert "the bounce mailbox was never read" in result.output
    assert "6 recipient(s) not selected by --only" in result.output
    assert set(printed(out)) == {ids[1], ids[7], ids[8], ids[9]}
    for language in {p.language for p in people if p.recipient_id in printed(out)}:
        pdf = PdfReader(out / DHPC_ID / "print" / f"{DHPC_ID}_{language}_print.pdf")
        rows = [r for r in printed(out).values() if r["language"] == language]
        assert len(pdf.pages) == sum(int(r["last_page"]) - int(r["first_page"]) + 1 for r in rows)
        text = " ".join(page.extract_text() for page in pdf.pages)
        for person in people:
            if person.language == language:  # the reference line names the recipient
                inside = person.recipient_id in text
                assert inside == (person.recipient_id in printed(out)), person.recipient_id

    result = dhpc(
        "merge", CONTENT, "--out", out, "--only", "failed,deferred,unknown,not-sent", "--jobs", "1"
    )
    assert result.exit_code == 0, result.output
    assert "(deferred 1, failed 1, unknown 1, not-sent 1)" in result.output
    assert set(printed(out)) == {ids[2], ids[3], ids[4], ids[5]}


def test_only_needs_words_it_knows_and_a_journal_for_email_states(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    people = make_recipients(4, without_email=1, seed=22)
    out = output_with_mailing(tmp_path / "out", built_letters(tmp_path_factory), people)
    for args, expected in (
        (("--only", "bounced,spam"), "give one or more of bounced, deferred, failed"),
        (("--only", ","), "give one or more of"),
        (("--only", "bounced", "--per-recipient"), "cannot be used with --per-recipient"),
        (("--only", "bounced"), "journal.sqlite does not exist"),
    ):
        result = dhpc("merge", CONTENT, "--out", out, *args)
        assert result.exit_code == 2, result.output
        assert expected in result.output
    result = dhpc("merge", CONTENT, "--out", out, "--only", "no-email", "--jobs", "1")
    assert result.exit_code == 0, result.output
    assert set(printed(out)) == {people[3].recipient_id}


def test_only_keeps_the_letters_email_attaches_listed(
    distributed: tuple[Path, list[Recipient]],
) -> None:
    out, people = distributed
    assert dhpc("merge", CONTENT, "--out", out, "--per-recipient", "--jobs", "1").exit_code == 0
    before = (out / DHPC_ID / "print" / "print-manifest.csv").read_text()
    letters = {r.split(",")[0]: r.split(",")[5:7] for r in before.splitlines()[1:]}
    result = dhpc("merge", CONTENT, "--out", out, "--only", "bounced", "--jobs", "1")
    assert result.exit_code == 0, result.output
    manifest = (out / DHPC_ID / "print" / "print-manifest.csv").read_text()
    rows = list(csv.DictReader(io.StringIO(manifest)))
    assert len(rows) == 10
    assert {r["recipient_id"]: [r["letter_file"], r["letter_sha256"]] for r in rows} == letters
    assert {r["recipient_id"] for r in rows if r["print_file"]} == {
        people[1].recipient_id,
        people[7].recipient_id,
    }
    # dhpc send still accepts every personalised letter it would attach.
    sent = dhpc("send", CONTENT, "--out", out, "--retry-failed")
    assert sent.exit_code == 0, sent.output
    assert "Dry run: 1 message(s) written" in sent.output


def test_report_gives_each_recipient_one_outcome_and_a_summary_without_names(
    distributed: tuple[Path, list[Recipient]], tmp_path: Path
) -> None:
    out, people = distributed
    merged = dhpc("merge", CONTENT, "--out", out, "--only", "bounced,no-email", "--jobs", "1")
    assert merged.exit_code == 0, merged.output
    result = dhpc("report", CONTENT, "--out", out, "--pdf")
    assert result.exit_code == 0, result.output
    assert (
        "10 recipient(s): e-mail delivered 2, bounced then printed 2, printed 2, "
        "e-mail in doubt 2, not reached 2"
    ) in result.output
    folder = out / DHPC_ID
    record = list(csv.DictReader(io.StringIO((folder / "distribution-record.csv").read_text())))
    outcome = {r["recipient_id"]: r["outcome"] for r in record}
    ids = [p.recipient_id for p in people]
    assert [outcome[i] for i in ids] == [
        "email",
        "bounced-then-printed",
        "not-reached",  # refused by the server, not printed
        "email-in-doubt",
        "not-reached",  # pending
        "email-in-doubt",
        "email",
        "bounced-then-printed",
        "printed",
        "printed",
    ]
    bounced = next(r for r in record if r["recipient_id"] == ids[1] and r["channel"] == "email")
    assert (bounced["state"], bounced["bounce_status"], bounced["bounce_reason"]) == (
        "bounced",
        "5.1.1",
        "User unknown",
    )
    assert bounced["time"] == "2026-12-03T10:00:00Z", "when the report was written"
    assert bounced["sent_at"].endswith("Z") and bounced["sent_at"] != bounced["time"]
    lines = {
        line["language"]: line
        for line in csv.DictReader(io.StringIO((folder / "distribution-summary.csv").read_text()))
    }
    assert set(lines) == {"sv", "fi", "all"}
    assert lines["all"]["recipients"] == "10" and lines["all"]["reached"] == "6"
    assert lines["all"]["emails_accepted"] == "5" and lines["all"]["refused"] == "1"
    assert (lines["all"]["bounced"], lines["all"]["deferred"]) == ("2", "1")
    assert lines["all"]["letters_printed"] == "4"
    assert int(lines["sv"]["recipients"]) + int(lines["fi"]["recipients"]) == 10
    for path in (folder / "distribution-summary.csv", folder / "distribution-summary.pdf"):
        assert path.stat().st_mode & 0o077 == 0
    pdf = PdfReader(folder / "distribution-summary.pdf")
    assert len(pdf.pages) == 1
    text = " ".join(pdf.pages[0].extract_text().split())
    assert "Distribution summary".upper() in text.upper() and DHPC_ID in text
    assert "All languages 10 2 2 2 6 2 2" in text, "what reached each recipient"
    assert "All languages 5 2 1 1 4" in text, "the channels"
    for person in people:
        assert person.last_name not in text and person.street not in text

    target = tmp_path / "record.json"
    result = dhpc("report", CONTENT, "--out", out, "--format", "json", "-o", target)
    assert result.exit_code == 0, result.output
    summary = json.loads((tmp_path / "record-summary.json").read_text())
    assert summary["content_sha256"] == CHASH and summary["lines"][-1]["language"] == "all"
    assert summary["lines"][-1]["not_reached"] == 2 and summary["unmatched_reports"] == 0
