"""A campaign's versions: ``dhpc diff`` per language and country, sign-offs in ``dhpc check``."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from approval_helpers import commit_all, dhpc, git
from pdf_helpers import pdftotext

from dhpc_gen.content.loader import line_of as loader_line_of
from dhpc_gen.content.loader import parse_loc, read_yaml
from dhpc_gen.errors import display_path
from tests.conftest import CAMPAIGN, EXAMPLE

FR_BULLET = "toutes les\n    4 semaines pendant les 3 premiers mois"
DEVIATION = "(débit de filtration glomérulaire estimé [eGFR] inférieur à\n      30 ml/min/1,73 m²)"


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert text.count(old) == 1, f"{old!r} in {path}"
    path.write_text(text.replace(old, new), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    lines = path.read_text(encoding="utf-8").splitlines()
    return next(n for n, line in enumerate(lines, start=1) if needle in line)


def field_line(path: Path, field: str) -> int | None:
    """The line a field path starts on, as the content loader tells it."""
    data, _ = read_yaml(path, path.name)
    return loader_line_of(data, parse_loc(field))


@pytest.fixture
def repo_campaign(tmp_path: Path) -> Path:
    """The example campaign in a git repository of its own, committed once."""
    repo = tmp_path / "repo"
    content = repo / "content" / CAMPAIGN.name
    shutil.copytree(CAMPAIGN, content)
    git(repo, "init", "-q", "-b", "main")
    commit_all(content, "the campaign as agreed")
    return content


def _edit(content: Path) -> None:
    """A shared text, a deviation, a national fact and the core, edited at once."""
    replace_in(content / "fr.yaml", FR_BULLET, FR_BULLET.replace("3 premiers", "2 premiers"))
    replace_in(content / "fr.yaml", "est désormais contre-indiqué", "est dorénavant contre-indiqué")
    belgium = content / "countries" / "BE.yaml"
    replace_in(belgium, DEVIATION, DEVIATION.replace("30 ml", "25 ml"))
    replace_in(belgium, "courriel du 12 octobre", "courriel du 14 octobre")
    replace_in(content / "countries" / "DE.yaml", "date: 2026-11-0", "date: 2026-12-0")
    replace_in(content / "dhpc.yaml", "  SE: [sv]\n", "")
    (content / "countries" / "SE.yaml").unlink()


def test_diff_of_two_campaign_folders_per_language_and_country(tmp_path: Path) -> None:
    old = tmp_path / "old" / CAMPAIGN.name
    new = tmp_path / "new" / CAMPAIGN.name
    shutil.copytree(CAMPAIGN, old)
    shutil.copytree(CAMPAIGN, new)
    _edit(new)
    code, out, err = dhpc("diff", old, new)
    assert code == 0, err
    was, now = display_path(old), display_path(new)
    fr, belgium = new / "fr.yaml", new / "countries" / "BE.yaml"
    assert out.splitlines() == [
        f"fictumab-2026: {was} → {now}",
        # The core: Sweden left the campaign.
        "dhpc.yaml: 1 field changed",
        f"  {was}/dhpc.yaml:{line_of(old / 'dhpc.yaml', 'SE: [sv]')} countries.SE[0]: removed",
        "      [-sv-]",
        # The shared French text, named with the countries it goes to; the change of a
        # field Belgium replaces by its deviation does not reach Belgium's letter.
        "fr (BE): 2 fields changed, 1 with changed numbers or doses",
        f"  {now}/fr.yaml:{field_line(fr, 'summary[1]')} summary[1]: changed",
        "      Le fictumab est [-désormais-]{+dorénavant+} contre-indiqué chez les patients "
        "présentant une insuffisance rénale sévère (eGFR inférieur…",
        "    not in the letters of BE: a deviation replaces this field",
        f"  {now}/fr.yaml:{field_line(fr, 'summary[2]')} summary[2]: changed",
        "      …avant le début du traitement, toutes les 4 semaines pendant les [-3-]{+2+} "
        "premiers mois, puis tous les 3 mois.",
        "      ! number changed: 3 → 2",
        # Belgium: its deviation reworded (the dose flagged) and its reference.
        f"BE ({now}/countries/BE.yaml): 1 deviation changed",
        "  deviation of fr summary[1] changed (AFMPS, courriel du 14 octobre 2026):",
        f"    {now}/countries/BE.yaml:{field_line(belgium, 'deviations[0].text')} "
        "deviations[0].text: changed",
        "        …insuffisance rénale sévère (débit de filtration glomérulaire estimé [eGFR] "
        "inférieur à [-30-]{+25+} ml/min/1,73 m²).",
        "        ! dose changed: 30 ml/min/1,73 m² → 25 ml/min/1,73 m²",
        f"    {now}/countries/BE.yaml:{field_line(belgium, 'deviations[0].reference')} "
        "deviations[0].reference: changed",
        "        AFMPS, courriel du [-12-]{+14+} octobre 2026",
        # Germany's date; Sweden's file is gone.
        f"DE ({now}/countries/DE.yaml): 1 fact changed",
        f"  {now}/countries/DE.yaml:2 date: changed",
        "      [-2026-11-05-]{+2026-12-05+}",
        "      ! date changed: 2026-11-05 → 2026-12-05",
        f"SE ({was}/countries/SE.yaml): country removed",
    ]

    code, out, _ = dhpc("diff", old, new, "--format", "json")
    document = json.loads(out)
    countries = {c["country"]: c for c in document["countries"]}
    assert countries["AT"]["status"] == "unchanged" and countries["SE"]["status"] == "removed"
    assert countries["BE"]["languages"] == ["nl", "fr", "de"]
    (deviation,) = countries["BE"]["deviations"]
    assert (deviation["language"], deviation["field"], deviation["kind"]) == (
        "fr",
        "summary[1]",
        "changed",
    )
    text, reference = deviation["changes"]
    assert text["facts"] == [
        {"kind": "dose", "old": ["30 ml/min/1,73 m²"], "new": ["25 ml/min/1,73 m²"]}
    ]
    assert reference["path"] == "deviations[0].reference"
    assert document["deviated"] == {"de": {"background[2]": ["AT"]}, "fr": {"summary[1]": ["BE"]}}
    assert document["sent_in"]["de"] == ["AT", "BE", "DE"]
    assert [d["language"] for d in document["languages"] if d["status"] == "changed"] == ["fr"]

    # One country: its file and its languages only.
    code, out, _ = dhpc("diff", old, new, "--country", "be")
    assert "fr (BE): 2 fields changed" in out and "BE (" in out
    assert "DE (" not in out and "SE (" not in out
    code, out, _ = dhpc("diff", old, new, "--country", "AT")
    assert out.splitlines()[1:] == [
        "dhpc.yaml: 1 field changed",
        f"  {was}/dhpc.yaml:{line_of(old / 'dhpc.yaml', 'SE: [sv]')} countries.SE[0]: removed",
        "      [-sv-]",
    ]
    code, _, err = dhpc("diff", old, new, "--country", "PT")
    assert code == 2 and "--country PT: fictumab-2026 is sent in AT, BE" in err

    # The redline: each changed country's file, the deviation named.
    pdf = tmp_path / "changes.pdf"
    code, _, err = dhpc("diff", old, new, "--format", "pdf", "-o", pdf)
    assert code == 0, err
    redline = " ".join(pdftotext(pdf).split())
    assert "French (fr) · BE" in redline and "Not in the letters of BE" in redline
    assert "BE · " in redline and "countries/BE.yaml" in redline
    assert "Deviation of fr summary[1] changed" in redline
    assert "AT · " not in redline  # an unchanged country is left out


def test_diff_of_campaign_revisions_reads_the_country_files_from_git(repo_campaign: Path) -> None:
    _edit(repo_campaign)
    code, out, err = dhpc("diff", repo_campaign, "--from", "HEAD")
    assert code == 0, err
    label = "HEAD:content/fictumab-2026"
    now = display_path(repo_campaign)
    assert out.splitlines()[0] == f"fictumab-2026: {label} → {now}"
    assert f"BE ({now}/countries/BE.yaml): 1 deviation changed" in out
    assert f"SE ({label}/countries/SE.yaml): country removed" in out
    commit_all(repo_campaign, "second round")
    code, again, _ = dhpc("diff", repo_campaign, "--from", "HEAD~1", "--to", "HEAD")
    assert again == out.replace(label, "HEAD~1:content/fictumab-2026").replace(now, label)
    code, none, _ = dhpc("diff", repo_campaign, "--from", "HEAD")
    assert none.splitlines()[1:] == ["no text changed"]


def test_a_campaign_and_a_folder_of_one_country_are_not_compared(tmp_path: Path) -> None:
    code, _, err = dhpc("diff", EXAMPLE, CAMPAIGN)
    assert code == 1
    assert "is a folder of one country and" in err and "a campaign" in err


def test_check_shows_the_signoff_of_every_letter_country_by_country(repo_campaign: Path) -> None:
    code, out, err = dhpc(
        "signoff", repo_campaign, "--country", "BE", "--lang", "fr", "--lang", "nl",
        "--name", "Claire Dubois", "--role", "Medical reviewer",
    )  # fmt: skip
    assert code == 0, err
    # The national letter approved is named as check names it, country and language.
    assert out.startswith("fictumab-2026 BE fr: approved by Claire Dubois (Medical reviewer)")
    commit_all(repo_campaign, "BE fr and nl approved")
    code, out, _ = dhpc("check", repo_campaign)
    assert code == 0
    block = out[out.index("approval (") :].splitlines()
    assert block[0].endswith("signoffs.jsonl):")
    labels = [line.split(":")[0].strip() for line in block[1:]]
    assert labels == [
        "AT de", "BE nl", "BE fr", "BE de", "CY el", "DE de", "FI fi", "FI sv",
        "GR el", "IE en", "MT en", "NL nl", "SE sv",
    ]  # fmt: skip
    assert block[3].startswith("  BE fr: approved by Claire Dubois (Medical reviewer) on ")
    assert block[1] == "  AT de: NOT APPROVED: no sign-off recorded"

    # The deviation is reworded: Belgium's French letter only, with the words changed,
    # named in Belgium's file; its Dutch letter is still approved.
    belgium = repo_campaign / "countries" / "BE.yaml"
    replace_in(belgium, DEVIATION, DEVIATION.replace("30 ml", "25 ml"))
    code, out, _ = dhpc("check", repo_campaign, "--country", "BE")
    block = out[out.index("approval (") :].splitlines()
    assert [line.split(":")[0].strip() for line in block if line.startswith("  B")] == [
        "BE nl",
        "BE fr",
        "BE de",
    ]
    assert block[1].startswith("  BE nl: approved by Claire Dubois")
    assert block[2].startswith("  BE fr: NOT APPROVED: changed since approved by Claire Dubois")
    assert block[3] == "    1 field changed since:"
    shown = block[4].strip()
    assert shown.endswith(f"countries/BE.yaml:{line_of(belgium, 'text: >-')} summary[1]: changed")
    assert "[-30-]{+25+} ml/min" in block[5]
    assert block[6].strip() == "! dose changed: 30 ml/min/1,73 m² → 25 ml/min/1,73 m²"

    code, out, _ = dhpc("check", repo_campaign, "--country", "BE", "--format", "json")
    approvals = {(a["country"], a["language"]): a for a in json.loads(out)["approvals"]}
    assert set(approvals) == {("BE", "nl"), ("BE", "fr"), ("BE", "de")}
    assert approvals[("BE", "fr")]["state"] == "changed"
    (change,) = approvals[("BE", "fr")]["changes_since_approval"]["changes"]
    assert change["path"] == "summary[1]" and change["file"].endswith("countries/BE.yaml")
    assert approvals[("BE", "nl")]["state"] == "approved"


def test_review_of_the_whole_campaign_shows_the_signoffs_country_by_country(
    repo_campaign: Path, tmp_path: Path
) -> None:
    code, _, err = dhpc(
        "signoff", repo_campaign, "--country", "BE", "--lang", "fr",
        "--name", "Claire Dubois", "--role", "Medical reviewer",
    )  # fmt: skip
    assert code == 0, err
    commit_all(repo_campaign, "BE fr approved")
    out = tmp_path / "review.html"
    code, _, err = dhpc("review", repo_campaign, "--no-thumbnails", "-o", out)
    assert code == 0, err
    html = out.read_text(encoding="utf-8")
    rows = re.findall(
        r'<tr class="\w+" data-language="(\w+)" data-country="(\w+)" data-state="(\w+)">', html
    )
    states = {(country, language): state for language, country, state in rows}
    assert len(states) == 13, rows  # every letter of the campaign, once
    assert states[("BE", "fr")] == "approved"
    assert states[("BE", "nl")] == states[("FI", "fi")] == "never"
    assert "BE · French (fr)" in html and "approved by Claire Dubois" in html


def test_check_of_a_folder_of_one_country_still_names_languages_only(example_dir: Path) -> None:
    code, out, _ = dhpc("check", example_dir)
    assert code == 0
    block = out[out.index("approval (") :].splitlines()
    assert block[1:] == [
        "  sv: NOT APPROVED: no sign-off recorded",
        "  fi: NOT APPROVED: no sign-off recorded",
    ]
