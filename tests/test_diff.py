"""``dhpc diff``: what changed between two versions, per language and field, word by word."""

from __future__ import annotations

import json
import shutil
from pathlib import Path

import pytest
from approval_helpers import (
    EXAMPLE,
    FI_EDITED,
    commit_all,
    content_repository,
    dhpc,
    edit_fi_sentence,
    git,
)
from pdf_helpers import pdftotext
from review_helpers import edit_yaml

from dhpc_gen.approval.diff import compare
from dhpc_gen.approval.versions import compare_folders
from dhpc_gen.approval.words import Segment, marked, word_diff
from dhpc_gen.content import load_dhpc


@pytest.fixture
def two_folders(tmp_path: Path) -> tuple[Path, Path]:
    old = tmp_path / "old" / EXAMPLE.name
    new = tmp_path / "new" / EXAMPLE.name
    shutil.copytree(EXAMPLE, old)
    shutil.copytree(EXAMPLE, new)
    return old, new


def test_words_replaced_side_by_side_read_as_one_change() -> None:
    segments = word_diff(
        "The patient took two tablets daily.", "The patient takes one tablet daily."
    )
    assert segments == (
        Segment("equal", "The patient "),
        Segment("delete", "took two tablets"),
        Segment("insert", "takes one tablet"),
        Segment("equal", " daily."),
    )
    assert marked(segments) == "The patient [-took two tablets-]{+takes one tablet+} daily."


def test_a_range_is_replaced_whole_and_spacing_is_no_change() -> None:
    assert word_diff("within 1-3 days", "within  1-4\ndays") == (
        Segment("equal", "within "),
        Segment("delete", "1-3"),
        Segment("insert", "1-4"),
        Segment("equal", " days"),
    )
    assert word_diff("a  b\nc", "a b c") == (Segment("equal", "a b c"),)


def test_one_edited_sentence_is_exactly_one_change(two_folders: tuple[Path, Path]) -> None:
    old, new = two_folders
    edit_fi_sentence(new)
    diff = compare_folders(old, new)
    assert diff.meta.changes == ()
    by_language = {d.language: d for d in diff.languages}
    assert by_language["sv"].status == "unchanged" and by_language["sv"].changes == ()
    (change,) = by_language["fi"].changes
    assert change.kind == "changed" and change.path == "sections[1].paragraphs[0]"
    assert change.line is not None and change.file.endswith("fi.yaml")
    assert [s for s in change.segments if s.op != "equal"] == [
        Segment("delete", "1-3"),
        Segment("insert", "1-4"),
    ]
    assert [f.describe() for f in change.facts] == ["range changed: 1-3 → 1-4"]
    assert by_language["fi"].old_sha256 != by_language["fi"].new_sha256


def test_inserted_bullet_is_one_addition_and_swapped_paragraphs_one_move(
    two_folders: tuple[Path, Path],
) -> None:
    old, new = two_folders

    def change(data: dict[str, list[str]]) -> None:
        data["summary"].insert(1, "Uusi kohta: enimmäisannos on 12 mg vuorokaudessa.")
        background = data["background"]
        background[0], background[1] = background[1], background[0]

    edit_yaml(new / "fi.yaml", change)
    fi = {d.language: d for d in compare_folders(old, new).languages}["fi"]
    (added,) = fi.changes
    assert (added.kind, added.path, added.old) == ("added", "summary[1]", None)
    assert [f.describe() for f in added.facts] == ["dose added: 12 mg"]
    (moved,) = fi.moved
    assert moved.kind == "moved" and {moved.path, moved.old_path} == {
        "background[0]",
        "background[1]",
    }


def test_removed_paragraph_and_changed_dose_and_facts_of_dhpc_yaml(
    two_folders: tuple[Path, Path],
) -> None:
    old, new = two_folders
    for folder in (old, new):
        edit_yaml(
            folder / "sv.yaml",
            lambda data: data["summary"].append("Dosen är 12 mg en gång dagligen."),
        )
        edit_yaml(
            folder / "fi.yaml",
            lambda data: data["summary"].append("Annos on 12 mg kerran vuorokaudessa."),
        )
    text = (new / "sv.yaml").read_text(encoding="utf-8")
    (new / "sv.yaml").write_text(text.replace("Dosen är 12 mg", "Dosen är 10 mg"), "utf-8")
    edit_yaml(new / "sv.yaml", lambda data: data["background"].pop(2))
    edit_yaml(new / "fi.yaml", lambda data: data["background"].pop(2))
    edit_yaml(new / "dhpc.yaml", lambda data: data.update(date="2019-05-02"))
    diff = compare_folders(old, new)
    (date,) = diff.meta.changes
    assert (date.path, date.old, date.new) == ("date", "2019-04-24", "2019-05-02")
    assert [f.describe() for f in date.facts] == ["date changed: 2019-04-24 → 2019-05-02"]
    sv = {d.language: d for d in diff.languages}["sv"]
    kinds = [(c.kind, c.path) for c in sv.changes]
    assert ("removed", "background[2]") in kinds
    dose = next(c for c in sv.changes if c.kind == "changed")
    assert [f.describe() for f in dose.facts] == ["dose changed: 12 mg → 10 mg"]


def test_unchanged_versions_report_nothing() -> None:
    dhpc_ = load_dhpc(EXAMPLE)
    diff = compare(dhpc_, dhpc_, old_label="a", new_label="b")
    assert not diff.changed and diff.change_count() == 0


# -- the command, on git revisions -------------------------------------------------------------


def test_git_revision_against_the_files_now_and_between_revisions(tmp_path: Path) -> None:
    content = content_repository(tmp_path)
    edit_fi_sentence(content)
    code, out, _ = dhpc("diff", content, "--from", "HEAD")
    assert code == 0
    assert "fi: 1 field changed, 1 with changed numbers or doses" in out
    assert "sections[1].paragraphs[0]: changed" in out
    assert "[-1-3-]{+1-4+}" in out and "! range changed: 1-3 → 1-4" in out
    assert "sv:" not in out.replace("HEAD:", "")
    commit_all(content, "fi: 1-4 days")
    code, out, _ = dhpc("diff", content, "--from", "HEAD~1", "--to", "HEAD", "--format", "json")
    document = json.loads(out)
    assert (
        code == 0 and document["old"].startswith("HEAD~1:") and document["new"].startswith("HEAD:")
    )
    (fi,) = [d for d in document["languages"] if d["language"] == "fi"]
    (change,) = fi["changes"]
    assert change["new"].count(FI_EDITED) == 1
    code, out, _ = dhpc("diff", content, "--from", "HEAD", "--to", "HEAD")
    assert code == 0 and out.rstrip().endswith("no text changed")


def test_redline_html_is_self_contained_and_the_pdf_reads_back(tmp_path: Path) -> None:
    content = content_repository(tmp_path)
    edit_fi_sentence(content)
    html = tmp_path / "redline.html"
    pdf = tmp_path / "redline.pdf"
    assert dhpc("diff", content, "--from", "HEAD", "--format", "html", "-o", html)[0] == 0
    page = html.read_text(encoding="utf-8")
    assert "<del>1-3</del><ins>1-4</ins>" in page
    assert "range changed: 1-3 → 1-4" in page
    assert (
        "url(" not in page and "<script" not in page and "<link" not in page and "src=" not in page
    )
    assert dhpc("diff", content, "--from", "HEAD", "--format", "pdf", "-o", pdf)[0] == 0
    first = pdf.read_bytes()
    text = pdftotext(pdf)
    assert "range changed: 1-3 → 1-4" in text and "sections[1].paragraphs[0]" in text
    assert dhpc("diff", content, "--from", "HEAD", "--format", "pdf", "-o", pdf)[0] == 0
    assert pdf.read_bytes() == first, "the same comparison gives the same PDF"


def test_bad_revisions_folders_and_usage(tmp_path: Path) -> None:
    content = content_repository(tmp_path)
    out = tmp_path / "redline.html"
    code, _, err = dhpc("diff", content, "--from", "v9.9", "--format", "html", "-o", out)
    assert code == 1 and "--from v9.9: no such revision" in err and not out.exists()
    code, _, err = dhpc("diff", content, "--from", "HEAD", "--to", "nope")
    assert code == 1 and "--to nope: no such revision" in err
    outside = tmp_path / "outside" / EXAMPLE.name
    shutil.copytree(EXAMPLE, outside)
    code, _, err = dhpc("diff", outside, "--from", "HEAD")
    assert code == 1 and "is not in a git repository" in err
    code, _, err = dhpc("diff", content, "--from", "--help")
    assert code == 2
    assert dhpc("diff", content)[0] == 2
    assert dhpc("diff", content, outside, "--from", "HEAD")[0] == 2
    assert dhpc("diff", content, "--from", "HEAD", "--format", "pdf")[0] == 2
    # A revision in which the folder is not there.
    repo = content.parents[1]
    git(repo, "checkout", "-q", "--orphan", "other")
    git(repo, "rm", "-rq", "--cached", ".")
    git(repo, "commit", "-q", "--allow-empty", "-m", "nothing")
    code, _, err = dhpc("diff", content, "--from", "HEAD")
    assert code == 1 and "is not in that revision" in err


def test_an_invalid_old_version_is_named_by_its_revision(tmp_path: Path) -> None:
    content = content_repository(tmp_path)
    text = (content / "dhpc.yaml").read_text(encoding="utf-8")
    (content / "dhpc.yaml").write_text(text.replace("status: final", "status: maybe"), "utf-8")
    commit_all(content, "broken")
    (content / "dhpc.yaml").write_text(text, encoding="utf-8")
    code, _, err = dhpc("diff", content, "--from", "HEAD")
    assert code == 1
    assert "HEAD:content/lemtrada-2019/dhpc.yaml:" in err and "status" in err
    assert "dhpc-version-" not in err


def test_a_rate_is_compared_with_its_whole_unit() -> None:
    """ "2 ml/kg/h" → "2 ml/kg/min" is a changed dose, and a rate is shown whole."""
    from dhpc_gen.approval.diff import fact_changes

    (rate,) = fact_changes("höchstens 2 ml/kg/h infundieren", "höchstens 2 ml/kg/min", "de")
    assert rate.describe() == "dose changed: 2 ml/kg/h → 2 ml/kg/min"
    (lower,) = fact_changes("no more than 2 mL/kg/h", "no more than 1 mL/kg/h", "en")
    assert lower.describe() == "dose changed: 2 mL/kg/h → 1 mL/kg/h"
    (egfr,) = fact_changes("below 30 mL/min/1.73 m²", "below 60 mL/min/1.73 m²", "en")
    assert egfr.describe() == "dose changed: 30 mL/min/1.73 m² → 60 mL/min/1.73 m²"
