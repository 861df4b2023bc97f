"""``dhpc report``: the distribution record from the send journal and the print manifest."""

from __future__ import annotations

import csv
import io
import json
import stat
from pathlib import Path

import pytest
from click.testing import CliRunner
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

from dhpc_gen.addresses.recipients import Recipient
from dhpc_gen.build import content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.distribution.journal import JOURNAL_FILE, DeliveryKey, SendJournal

MANIFEST_HEADER = (
    "recipient_id,language,print_file,first_page,last_page,letter_file,letter_sha256\n"
)


@pytest.fixture(scope="module")
def distributed(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, list[Recipient]]:
    """Six people: four e-mailed (one refused by the server), all six in the print file."""
    built = built_letters(tmp_path_factory)
    people = make_recipients(6, without_email=2)
    people[2] = Recipient(**{**people[2].__dict__, "first_name": "=HYPERLINK(1)"})
    out_root = output_with_mailing(tmp_path_factory.mktemp("report") / "out", built, people)
    handler = FaultyHandler(permanent=frozenset({people[3].email}))
    with smtp_server(handler) as server:
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
            env=smtp_environment(server.port),
        )
        assert result.exit_code == 0, result.output
    rows = [
        f"{p.recipient_id},{p.language},print/{DHPC_ID}_{p.language}_print.pdf,{2 * i + 1},"
        f"{2 * i + 2},,\n"
        for i, p in enumerate(people)
    ]
    rows.append("r-nopost,fi,,,,letters/fi/r-nopost.pdf,abc\n")
    manifest = out_root / DHPC_ID / "print" / "print-manifest.csv"
    manifest.parent.mkdir()
    manifest.write_text(MANIFEST_HEADER + "".join(rows))
    return out_root, people


def test_record_lists_every_recipient_per_channel_in_a_private_file(
    distributed: tuple[Path, list[Recipient]],
) -> None:
    out_root, people = distributed
    result = CliRunner().invoke(main, ["report", str(CONTENT), "--out", str(out_root)])
    assert result.exit_code == 0, result.output
    record = out_root / DHPC_ID / "distribution-record.csv"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    rows = list(csv.DictReader(io.StringIO(record.read_text(encoding="utf-8"))))
    chash = content_hash(load_dhpc(CONTENT))
    email = {r["recipient_id"]: r for r in rows if r["channel"] == "email"}
    post = {r["recipient_id"]: r for r in rows if r["channel"] == "post"}
    assert set(email) == {p.recipient_id for p in people[:4]}
    assert set(post) == {p.recipient_id for p in people}, "no print file: not posted"
    assert email[people[0].recipient_id]["state"] == "sent"
    assert email[people[3].recipient_id]["state"] == "failed"
    assert email[people[3].recipient_id]["reply"].startswith("550")
    assert all(r["content_hash"] == chash for r in rows)
    assert all(r["state"] == "printed" for r in post.values())
    for person in people[:4]:
        row = email[person.recipient_id]
        assert row["language"] == person.language and row["address"] == person.email
        assert row["message_id"].endswith("@dhpc.invalid>") and row["time"].endswith("Z")
    assert post[people[5].recipient_id]["address"].endswith(f"{people[5].city}, FI")
    assert email[people[2].recipient_id]["name"].startswith("'=HYPERLINK"), "formula neutralised"

    # The terminal shows counts only.
    for person in people:
        for value in (person.email, person.last_name, person.street):
            if value:
                assert value not in result.output
    assert "total: failed 1, printed 6, sent 3" in result.output
    lines = [line.split() for line in result.output.splitlines()]
    assert [chash[:12], "email", people[0].language, "sent"] in [line[:4] for line in lines]


def test_record_as_json_to_a_chosen_file(
    distributed: tuple[Path, list[Recipient]], tmp_path: Path
) -> None:
    out_root, people = distributed
    target = tmp_path / "record.json"
    result = CliRunner().invoke(
        main,
        ["report", str(CONTENT), "--out", str(out_root), "--format", "json", "-o", str(target)],
    )
    assert result.exit_code == 0, result.output
    assert stat.S_IMODE(target.stat().st_mode) == 0o600
    document = json.loads(target.read_text(encoding="utf-8"))
    assert document["dhpc"] == DHPC_ID
    totals = {(t["channel"], t["language"], t["state"]): t["count"] for t in document["totals"]}
    languages = {p.language for p in people[:4]}
    assert sum(c for (ch, _, s), c in totals.items() if ch == "email" and s == "sent") == 3
    assert {lang for (ch, lang, _) in totals if ch == "email"} == languages
    assert sum(totals.values()) == len(document["recipients"]) == 10
    assert all(isinstance(r["was_unknown"], bool) for r in document["recipients"])


def test_a_row_left_sending_by_a_dead_run_is_reported_unknown(tmp_path: Path) -> None:
    dhpc = load_dhpc(CONTENT)
    out_dir = tmp_path / "out" / DHPC_ID
    with SendJournal.open(out_dir / JOURNAL_FILE, DHPC_ID) as journal:
        from dhpc_gen.distribution.journal import PlannedDelivery

        key = DeliveryKey(DHPC_ID, content_hash(dhpc), "r-1")
        journal.add_pending([PlannedDelivery(key, "fi", "a@example.fi", "<x@dhpc.invalid>")])
        journal.begin_attempt(key, ["pending"], "a@example.fi")
    result = CliRunner().invoke(main, ["report", str(CONTENT), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    assert "total: unknown 1" in result.output


def test_nothing_distributed_yet_is_an_error(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["report", str(CONTENT), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "nothing distributed yet" in result.output and "Traceback" not in result.output


def test_post_rows_carry_the_version_that_was_merged(tmp_path: Path) -> None:
    """Letters printed before the text changed are recorded as the old version."""
    manifest = tmp_path / "out" / DHPC_ID / "print" / "print-manifest.csv"
    manifest.parent.mkdir(parents=True)
    older = "a" * 64
    manifest.write_text(
        MANIFEST_HEADER.replace("\n", ",content_sha256\n")
        + f"r-1,fi,print/{DHPC_ID}_fi_print.pdf,1,4,,,{older}\n"
    )
    result = CliRunner().invoke(main, ["report", str(CONTENT), "--out", str(tmp_path / "out")])
    assert result.exit_code == 0, result.output
    record = tmp_path / "out" / DHPC_ID / "distribution-record.csv"
    rows = list(csv.DictReader(io.StringIO(record.read_text(encoding="utf-8"))))
    assert [(r["channel"], r["content_hash"]) for r in rows] == [("post", older)]
    assert content_hash(load_dhpc(CONTENT)) != older
