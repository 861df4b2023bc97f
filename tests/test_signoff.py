"""``dhpc signoff``: an append-only, hash-chained log of approvals, and what requires it."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from approval_helpers import (
    approve,
    commit_all,
    content_repository,
    dhpc,
    edit_fi_sentence,
)
from send_helpers import make_recipients

from dhpc_gen.addresses.recipients import write_recipients
from dhpc_gen.approval.log import GENESIS, LOG_FILE, entry_hash
from dhpc_gen.approval.state import approval_state
from dhpc_gen.build import language_hash
from dhpc_gen.content import load_dhpc


@pytest.fixture
def content(tmp_path: Path) -> Path:
    return content_repository(tmp_path)


def entries(content: Path) -> list[dict[str, object]]:
    lines = (content / LOG_FILE).read_text(encoding="utf-8").splitlines()
    return [json.loads(line) for line in lines]


def test_signoff_records_the_exact_version_chained_to_the_entry_before(content: Path) -> None:
    approve(content, "sv")
    approve(content, "fi", name="Matti Virtanen")
    first, second = entries(content)
    dhpc_ = load_dhpc(content)
    assert first["content_sha256"] == language_hash(dhpc_, "sv")
    assert second["content_sha256"] == language_hash(dhpc_, "fi")
    assert set(first["files"]) == {"dhpc.yaml", "sv.yaml"}  # type: ignore[arg-type]
    assert (first["seq"], second["seq"]) == (1, 2)
    assert first["prev"] == GENESIS and second["prev"] == first["hash"]
    body = {k: v for k, v in second.items() if k != "hash"}
    assert entry_hash(body) == second["hash"]
    assert first["revision"] == second["revision"] is not None, "the committed text is named"
    assert second["name"] == "Matti Virtanen" and second["role"] == "Medical reviewer"
    assert str(second["time"]).endswith("Z")
    state = approval_state(dhpc_, "fi")
    assert state.approved and state.approval is not None and state.approval.seq == 2


def test_done_when_one_finnish_sentence_is_edited_after_approval(
    content: Path, tmp_path: Path
) -> None:
    approve(content, "sv", "fi")
    commit_all(content, "approved")
    edit_fi_sentence(content)

    code, out, _ = dhpc("check", content)
    assert "sv: approved by Anna Berg (Medical reviewer)" in out
    assert "fi: NOT APPROVED: changed since approved by Anna Berg" in out
    assert "1 field changed since:" in out
    assert "sections[1].paragraphs[0]: changed" in out and "[-1-3-]{+1-4+}" in out
    document = json.loads(dhpc("check", content, "--format", "json")[1])
    states = {a["language"]: a for a in document["approvals"]}
    assert states["sv"]["approved"] and not states["fi"]["approved"]
    assert states["fi"]["state"] == "changed"
    (change,) = states["fi"]["changes_since_approval"]["changes"]
    assert change["path"] == "sections[1].paragraphs[0]"

    code, out, _ = dhpc("diff", content, "--from", "HEAD")
    assert code == 0 and out.count(": changed") == 1 and "[-1-3-]{+1-4+}" in out

    out_root = tmp_path / "out"
    code, out, err = dhpc("build", content, "--require-signoff", "--out", out_root)
    assert code == 1
    assert "not approved, refused: fi" in err and "sv" not in err.split("refused:")[1][:5]
    built = sorted(p.name for p in (out_root / "lemtrada-2019").iterdir())
    assert built == ["lemtrada-2019_sv.pdf", "manifest.json"]
    manifest = json.loads((out_root / "lemtrada-2019" / "manifest.json").read_text())
    assert [o["language"] for o in manifest["outputs"]] == ["sv"]

    approve(content, "fi")
    code, _, err = dhpc("build", content, "--require-signoff", "--out", out_root)
    assert code == 0, err
    assert (out_root / "lemtrada-2019" / "lemtrada-2019_fi.pdf").is_file()


def test_nothing_approved_builds_nothing(content: Path, tmp_path: Path) -> None:
    code, _, err = dhpc("build", content, "--require-signoff", "--out", tmp_path / "out")
    assert code == 1 and "refused: sv, fi" in err and "nothing was built" in err
    assert "no sign-off recorded" in err
    assert not (tmp_path / "out").exists()


def test_a_rejection_after_the_approval_withdraws_it(content: Path) -> None:
    approve(content, "fi")
    code, _, _ = dhpc(
        "signoff",
        content,
        "--lang",
        "fi",
        "--name",
        "Eva",
        "--role",
        "QPPV",
        "--reject",
        "--comment",
        "the dose table is missing",
    )
    assert code == 0
    state = approval_state(load_dhpc(content), "fi")
    assert not state.approved and state.state == "rejected"
    assert "REJECTED by Eva (QPPV)" in state.describe() and "dose table" in state.describe()
    approve(content, "fi")
    assert approval_state(load_dhpc(content), "fi").approved


def tamper(content: Path, change: object) -> None:
    path = content / LOG_FILE
    lines = path.read_text(encoding="utf-8").splitlines(keepends=True)
    assert callable(change)
    path.write_text("".join(change(lines)), encoding="utf-8")


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (
            lambda lines: [lines[0].replace("Anna Berg", "Anna Borg"), *lines[1:]],
            "signoffs.jsonl:1: entry 1 was changed after it was recorded",
        ),
        (lambda lines: lines[1:], "signoffs.jsonl:1: entry 2 does not follow the entry before"),
        (
            lambda lines: [lines[1], lines[0], *lines[2:]],
            "signoffs.jsonl:1: entry 2 does not follow",
        ),
        (lambda lines: [*lines[:-1], lines[-1].rstrip("\n")], "the last line is cut off"),
        (lambda lines: [*lines, "{not json\n"], "signoffs.jsonl:4: not a sign-off entry"),
    ],
    ids=["edited", "first-removed", "reordered", "cut-off", "garbage"],
)
def test_a_tampered_log_is_detected_everywhere(
    content: Path, tmp_path: Path, change: object, message: str
) -> None:
    approve(content, "sv")
    approve(content, "fi")
    approve(content, "sv", name="Sara Lind")
    before = (content / LOG_FILE).read_bytes()
    tamper(content, change)
    tampered = (content / LOG_FILE).read_bytes()
    assert tampered != before
    code, out, err = dhpc("check", content)
    assert code == 1 and message in err and "0 errors" in out
    code, _, err = dhpc("build", content, "--require-signoff", "--out", tmp_path / "out")
    assert code == 1 and message in err and not (tmp_path / "out").exists()
    code, _, err = dhpc("signoff", content, "--lang", "fi", "--name", "X", "--role", "Y")
    assert code == 1 and message in err
    assert (content / LOG_FILE).read_bytes() == tampered, "nothing appended to a damaged log"


def test_removing_the_last_committed_entry_is_detected_by_git(content: Path) -> None:
    approve(content, "sv", "fi")
    commit_all(content, "approvals")
    tamper(content, lambda lines: lines[:-1])  # still a valid chain, one entry short
    code, _, err = dhpc("check", content)
    assert code == 1 and "committed in git (HEAD) are no longer all in the file" in err
    # A new decision after the committed ones is what append-only allows.
    tamper(content, lambda lines: lines)
    commit_all(content, "restore")


def test_signoff_bad_input(content: Path) -> None:
    code, _, err = dhpc("signoff", content, "--lang", "de", "--name", "A", "--role", "B")
    assert code == 2 and "has only sv, fi" in err
    code, _, err = dhpc("signoff", content, "--lang", "fi", "--role", "B")
    assert code == 2
    code, _, err = dhpc("signoff", content, "--lang", "fi", "--name", "  ", "--role", "B")
    assert code == 1 and "give the reviewer's name" in err
    code, _, err = dhpc(
        "signoff", content, "--lang", "fi", "--name", "A", "--role", "B", "--country", "SE"
    )
    assert code == 2 and "is for FI" in err
    assert not (content / LOG_FILE).exists()


def test_uncommitted_text_is_approved_with_a_note(content: Path) -> None:
    edit_fi_sentence(content)
    code, _, err = dhpc("signoff", content, "--lang", "fi", "--name", "A", "--role", "B")
    assert code == 0 and "not committed in git" in err
    (entry,) = entries(content)
    assert entry["revision"] is None
    assert approval_state(load_dhpc(content), "fi").approved


def test_merge_and_send_refuse_before_writing_anything(content: Path, tmp_path: Path) -> None:
    approve(content, "sv")
    out_root = tmp_path / "out"
    (out_root / "lemtrada-2019" / "mailing").mkdir(parents=True)
    write_recipients(out_root / "lemtrada-2019" / "mailing" / "recipients.csv", make_recipients(4))
    before = sorted(p.name for p in (out_root / "lemtrada-2019").iterdir())
    code, _, err = dhpc("merge", content, "--out", out_root, "--require-signoff")
    assert code == 1 and "refused: fi" in err
    code, _, err = dhpc("send", content, "--out", out_root, "--require-signoff")
    assert code == 1 and "refused: fi" in err
    assert sorted(p.name for p in (out_root / "lemtrada-2019").iterdir()) == before


def test_emails_and_the_record_name_the_approved_version(content: Path, tmp_path: Path) -> None:
    from email import message_from_bytes, policy

    approve(content, "sv", "fi")
    out_root = tmp_path / "out"
    out_dir = out_root / "lemtrada-2019"
    assert dhpc("build", content, "--out", out_root)[0] == 0
    write_recipients(out_dir / "mailing" / "recipients.csv", make_recipients(2))
    code, _, err = dhpc("send", content, "--out", out_root, "--no-limit", "--require-signoff")
    assert code == 0, err
    dhpc_ = load_dhpc(content)
    log = {e["language"]: e for e in entries(content)}
    emails = sorted((out_dir / "outbox").glob("*.eml"))
    assert len(emails) == 2
    for eml in emails:
        message = message_from_bytes(eml.read_bytes(), policy=policy.default)
        language = str(message["Content-Language"])
        assert message["X-DHPC-Text"] == language_hash(dhpc_, language)
        entry = log[language]
        assert message["X-DHPC-Approval"] == f"entry {entry['seq']} {str(entry['hash'])[:32]}"

    assert dhpc("merge", content, "--out", out_root, "--require-signoff")[0] == 0
    report = out_dir / "record.json"
    assert dhpc("report", content, "--out", out_root, "--format", "json", "-o", report)[0] == 0
    rows = json.loads(report.read_text(encoding="utf-8"))["recipients"]
    assert {r["channel"] for r in rows} == {"post"} and len(rows) == 2
    for row in rows:
        assert row["language_sha256"] == language_hash(dhpc_, row["language"])
        assert row["approval"] == log[row["language"]]["hash"]
        assert row["approved_by"] == "Anna Berg (Medical reviewer)"


def test_review_opens_with_the_changes_since_the_last_approval(content: Path) -> None:
    approve(content, "sv", "fi")
    commit_all(content, "approved")
    edit_fi_sentence(content)
    review = content.parent / "review.html"
    code, _, err = dhpc("review", content, "-o", review, "--no-thumbnails")
    assert code == 0, err
    page = review.read_text(encoding="utf-8")
    assert page.index('id="approvals"') < page.index('id="summary"')
    assert 'data-language="fi" data-state="changed"' in page
    assert 'data-language="sv" data-state="approved"' in page
    section = page[page.index('id="approvals"') : page.index('id="summary"')]
    assert section.count('class="change changed"') == 1
    assert "<del>1-3</del><ins>1-4</ins>" in section
