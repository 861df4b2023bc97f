"""``dhpc build`` of a campaign: every country × language, in parallel, a manifest per country."""

from __future__ import annotations

import json
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from dhpc_gen.build import TEMPLATE_VERSION
from dhpc_gen.campaign_build import build_campaign, check_campaign
from dhpc_gen.cli import main
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.fsutil import sha256_file
from tests.conftest import CAMPAIGN
from tests.pdf_helpers import pdftotext

GOLDEN = Path(__file__).parent / "data" / "golden-fictumab-2026.json"

LETTERS = [
    "AT/fictumab-2026_AT_de.pdf",
    "BE/fictumab-2026_BE_de.pdf",
    "BE/fictumab-2026_BE_fr.pdf",
    "BE/fictumab-2026_BE_nl.pdf",
    "CY/fictumab-2026_CY_el.pdf",
    "DE/fictumab-2026_DE_de.pdf",
    "FI/fictumab-2026_FI_fi.pdf",
    "FI/fictumab-2026_FI_sv.pdf",
    "GR/fictumab-2026_GR_el.pdf",
    "IE/fictumab-2026_IE_en.pdf",
    "MT/fictumab-2026_MT_en.pdf",
    "NL/fictumab-2026_NL_nl.pdf",
    "SE/fictumab-2026_SE_sv.pdf",
]


def files_below(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes() for p in folder.rglob("*") if p.is_file()
    }


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example campaign built once, in parallel; returns output/<id>."""
    out = tmp_path_factory.mktemp("out")
    build_campaign(load_campaign(CAMPAIGN), out, jobs=2)
    return out / "fictumab-2026"


def test_one_folder_and_manifest_per_country_and_one_for_the_campaign(built: Path) -> None:
    pdfs = sorted(p.relative_to(built).as_posix() for p in built.rglob("*.pdf"))
    assert pdfs == LETTERS
    campaign = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["country"] for entry in campaign["countries"]] == [
        "AT", "BE", "CY", "DE", "FI", "GR", "IE", "MT", "NL", "SE",
    ]  # fmt: skip
    for entry in campaign["countries"]:
        assert entry["sha256"] == sha256_file(built / entry["manifest"])
    belgium = json.loads((built / "BE" / "manifest.json").read_text(encoding="utf-8"))
    assert belgium["dhpc"] == "fictumab-2026" and belgium["country"] == "BE"
    assert [o["path"] for o in belgium["outputs"]] == [
        "fictumab-2026_BE_de.pdf",
        "fictumab-2026_BE_fr.pdf",
        "fictumab-2026_BE_nl.pdf",
    ]
    inputs = [entry["path"] for entry in belgium["inputs"]]
    assert inputs[:6] == [
        "fictumab-2026/dhpc.yaml",
        "fictumab-2026/countries/BE.yaml",
        "fictumab-2026/nl.yaml",
        "fictumab-2026/fr.yaml",
        "fictumab-2026/de.yaml",
        "fictumab-2026/en.yaml",
    ]
    assert "dhpc_gen/regulators/data/BE.yaml" in inputs
    assert "fictumab-2026/fi.yaml" not in inputs


def words(pdf: Path) -> str:
    """The text of a letter on one line, words the layout hyphenated whole again."""
    return " ".join(pdftotext(pdf).replace("\u2010\n", "").split())


def test_each_letter_has_its_countrys_facts_and_the_shared_text(built: Path) -> None:
    de = words(built / "DE" / "fictumab-2026_DE_de.pdf")
    at = words(built / "AT" / "fictumab-2026_AT_de.pdf")
    be_de = words(built / "BE" / "fictumab-2026_BE_de.pdf")
    be_fr = words(built / "BE" / "fictumab-2026_BE_fr.pdf")
    shared = "in den ersten 3 Monaten alle 4 Wochen und danach alle 3 Monate"
    assert shared in de and shared in at and shared in be_de
    assert "und dem Paul-Ehrlich-Institut (PEI) über Folgendes" in de
    assert "Paul-Ehrlich-Str. 51-59" in de and "Stufenplanbeauftragte" in de
    assert "dem Bundesamt für Sicherheit im Gesundheitswesen (BASG)" in at
    assert "Arzneispezialitätenregister des BASG" in at
    assert "Arzneispezialitätenregister" not in de
    assert "Föderalagentur für Arzneimittel und Gesundheitsprodukte" in be_de
    assert "Fictapharm Belgium SA/NV, Medizinische Information" in be_de
    assert "débit de filtration glomérulaire estimé" in be_fr
    assert "4 novembre 2026" in be_fr and "www.afmps.be" in be_fr


def test_the_campaign_builds_the_recorded_bytes(built: Path) -> None:
    """Every letter and manifest of the example campaign is the bytes of the golden file.

    A deliberate layout change raises TEMPLATE_VERSION and updates the golden file with it.
    """
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    assert golden["template_version"] == TEMPLATE_VERSION, (
        "TEMPLATE_VERSION changed: record the new hashes in tests/data/golden-fictumab-2026.json"
    )
    actual = {
        p.relative_to(built).as_posix(): sha256_file(p) for p in built.rglob("*") if p.is_file()
    }
    assert actual == golden["files"], (
        "the example campaign no longer builds the recorded bytes: if the layout changed on "
        "purpose, raise TEMPLATE_VERSION and update tests/data/golden-fictumab-2026.json"
    )


def test_parallel_build_is_byte_identical_to_one_after_another(built: Path, tmp_path: Path) -> None:
    build_campaign(load_campaign(CAMPAIGN), tmp_path, jobs=1)
    assert files_below(tmp_path / "fictumab-2026") == files_below(built)
    assert check_campaign(load_campaign(CAMPAIGN), built.parent) == []


def test_country_and_lang_select_and_keep_the_rest(campaign_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    args = ["build", str(campaign_dir), "--out", str(tmp_path)]
    result = runner.invoke(main, [*args, "--country", "be", "--lang", "fr", "--lang", "de"])
    assert result.exit_code == 0, result.output
    out = tmp_path / "fictumab-2026"
    assert sorted(p.relative_to(out).as_posix() for p in out.rglob("*.pdf")) == [
        "BE/fictumab-2026_BE_de.pdf",
        "BE/fictumab-2026_BE_fr.pdf",
    ]
    campaign = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["country"] for entry in campaign["countries"]] == ["BE"]
    result = runner.invoke(main, [*args, "--lang", "sv"])
    assert result.exit_code == 0, result.output
    assert (out / "FI" / "fictumab-2026_FI_sv.pdf").is_file()
    assert (out / "SE" / "fictumab-2026_SE_sv.pdf").is_file()
    assert not (out / "FI" / "fictumab-2026_FI_fi.pdf").exists()
    campaign = json.loads((out / "manifest.json").read_text(encoding="utf-8"))
    assert [entry["country"] for entry in campaign["countries"]] == ["BE", "FI", "SE"]
    result = runner.invoke(main, [*args, "--country", "NL", "--lang", "fr"])
    assert result.exit_code == 2
    assert "--lang fr: fictumab-2026 is not sent in it: NL sends in nl" in result.output
    result = runner.invoke(main, [*args, "--country", "LU"])
    assert result.exit_code == 2
    assert (
        "--country LU: fictumab-2026 is sent in AT, BE, CY, DE, FI, GR, IE, MT, NL, SE"
        in result.output
    )


def test_check_names_only_the_letters_of_the_changed_language(
    built: Path, campaign_dir: Path, tmp_path: Path
) -> None:
    out = tmp_path / "out"
    shutil.copytree(built, out / "fictumab-2026")
    before = {p: p.stat().st_mtime_ns for p in out.rglob("*")}
    result = CliRunner().invoke(main, ["build", str(campaign_dir), "--out", str(out), "--check"])
    assert result.exit_code == 0, result.output
    assert "fictumab-2026: outputs in" in result.output
    german = campaign_dir / "de.yaml"
    german.write_text(
        german.read_text(encoding="utf-8").replace("umgehend ärztliche", "sofort ärztliche"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["build", str(campaign_dir), "--out", str(out), "--check"])
    assert result.exit_code == 1
    stale = sorted(re.findall(r"fictumab-2026/(\S+): differs", result.output))
    assert stale == [
        "AT/fictumab-2026_AT_de.pdf",
        "AT/manifest.json",
        "BE/fictumab-2026_BE_de.pdf",
        "BE/manifest.json",
        "DE/fictumab-2026_DE_de.pdf",
        "DE/manifest.json",
        "manifest.json",
    ]
    assert {p: p.stat().st_mtime_ns for p in out.rglob("*")} == before


def test_nothing_is_written_unless_every_country_renders(
    campaign_dir: Path, tmp_path: Path
) -> None:
    dutch = campaign_dir / "nl.yaml"
    text = dutch.read_text(encoding="utf-8")
    start = text.index("  - >-\n    Adviseer")
    end = text.index("background:")
    dutch.write_text(text[:start] + "\n" + text[end:], encoding="utf-8")
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(campaign_dir), "--out", str(out)])
    assert result.exit_code == 1
    assert re.search(
        r"nl\.yaml:\d+ summary: has 4 but the source language 'en' has 5", result.output
    )
    assert result.output.count("summary: has 4") == 1  # one shared file: reported once
    assert not out.exists()


def test_a_build_without_html_removes_the_html_copy_of_an_older_one(
    campaign_dir: Path, tmp_path: Path
) -> None:
    """The HTML copy beside a letter is that letter: a build without --html takes it away."""
    out = tmp_path / "out"
    args = ["build", str(campaign_dir), "--country", "IE", "--out", str(out)]
    assert CliRunner().invoke(main, [*args, "--html"]).exit_code == 0
    html = out / "fictumab-2026" / "IE" / "fictumab-2026_IE_en.html"
    assert html.is_file()
    english = campaign_dir / "en.yaml"
    english.write_text(
        english.read_text(encoding="utf-8").replace("41 cases", "42 cases"), encoding="utf-8"
    )
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    assert not html.exists()
    assert (out / "fictumab-2026" / "IE" / "fictumab-2026_IE_en.pdf").is_file()
