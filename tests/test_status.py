"""``dhpc status``: the campaign's matrix, country × language, told without rendering."""

from __future__ import annotations

import json
import shutil
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

from dhpc_gen.build import content_hash
from dhpc_gen.campaign_build import build_campaign
from dhpc_gen.cli import main
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.distribution.journal import DeliveryKey, PlannedDelivery, SendJournal
from dhpc_gen.status import _Hashes, built_state
from tests.conftest import CAMPAIGN, EXAMPLE, PROJECT


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example campaign built once; returns the output root."""
    out = tmp_path_factory.mktemp("out")
    build_campaign(load_campaign(CAMPAIGN), out)
    return out


@pytest.fixture
def workspace(built: Path, tmp_path: Path) -> tuple[Path, Path]:
    """A private copy of the campaign and of its built outputs: (content, out)."""
    content = tmp_path / "content" / "fictumab-2026"
    shutil.copytree(CAMPAIGN, content)
    out = tmp_path / "out"
    shutil.copytree(built, out)
    return content, out


def status(content: Path, out: Path) -> dict[str, Any]:
    result = CliRunner().invoke(
        main, ["status", str(content), "--out", str(out), "--format", "json"]
    )
    assert result.exit_code == 0, result.output
    document: dict[str, Any] = json.loads(result.output)
    return document


def cells(document: dict[str, Any]) -> dict[tuple[str, str], dict[str, Any]]:
    return {
        (country, language): cell
        for country, languages in document["countries"].items()
        for language, cell in languages.items()
    }


def changed(before: dict[str, Any], after: dict[str, Any]) -> set[tuple[str, str]]:
    old, new = cells(before), cells(after)
    assert old.keys() == new.keys()
    return {key for key in old if old[key] != new[key]}


def test_the_matrix_of_a_built_campaign(workspace: tuple[Path, Path]) -> None:
    document = status(*workspace)
    matrix = cells(document)
    assert len(matrix) == 13
    assert set(document["countries"]["BE"]) == {"nl", "fr", "de"}
    assert all(cell["built"] == "built" for cell in matrix.values()), matrix
    assert matrix[("IE", "en")]["translated"] == "source"
    assert matrix[("FI", "sv")]["translated"] == "yes"
    assert matrix[("BE", "fr")]["deviations"] == 1
    assert matrix[("BE", "nl")]["deviations"] == 0
    assert all(cell["checks"]["errors"] == 0 for cell in matrix.values())
    assert {cell["reviewed"] for cell in matrix.values()} == {"not recorded"}
    assert all(cell["mailed"] is None and cell["sent"] == {} for cell in matrix.values())


def test_changing_one_translation_changes_its_cells_in_every_country_using_it(
    workspace: tuple[Path, Path],
) -> None:
    content, out = workspace
    before = status(content, out)
    german = content / "de.yaml"
    text = german.read_text(encoding="utf-8")
    # The first bullet left in English: untranslated, an error, and the letters stale.
    start = text.index("  - >-\n    Bei Patienten")
    end = text.index("  - >-\n    Fictumab ist ab sofort")
    english = (
        "  - Cases of acute kidney injury, some of them fatal, have been reported in patients "
        "treated with fictumab.\n"
    )
    german.write_text(text[:start] + english + text[end:], encoding="utf-8")
    after = status(content, out)
    assert changed(before, after) == {("AT", "de"), ("BE", "de"), ("DE", "de")}
    cell = cells(after)[("BE", "de")]
    assert cell["translated"] == "no: 1 untranslated"
    assert cell["checks"]["errors"] >= 1
    assert cell["built"].startswith("stale: the de text")


def test_a_deviation_changes_only_its_country_and_language(workspace: tuple[Path, Path]) -> None:
    content, out = workspace
    before = status(content, out)
    belgium = content / "countries" / "BE.yaml"
    text = belgium.read_text(encoding="utf-8")
    belgium.write_text(
        text.replace("débit de filtration glomérulaire estimé", "débit de filtration estimé"),
        encoding="utf-8",
    )
    after = status(content, out)
    assert changed(before, after) == {("BE", "fr")}
    assert cells(after)[("BE", "fr")]["built"].startswith("stale:")


def test_mailed_and_sent_come_from_the_mailing_list_and_the_journal(
    workspace: tuple[Path, Path],
) -> None:
    content, out = workspace
    national = out / "fictumab-2026" / "FI"
    (national / "mailing").mkdir()
    (national / "mailing" / "report.json").write_text(
        json.dumps({"recipients_per_language": {"fi": 120, "sv": 14}}), encoding="utf-8"
    )
    finland = load_campaign(content).national("FI")
    with SendJournal.open(national / "journal.sqlite", finland.id) as journal:
        journal.use_version(content_hash(finland))
        journal.add_pending(
            PlannedDelivery(
                DeliveryKey(finland.id, content_hash(finland), f"r{n}", "email"),
                "fi" if n < 3 else "sv",
                f"r{n}@x.example",
                f"<r{n}@dhpc.invalid>",
            )
            for n in range(4)
        )
    matrix = cells(status(content, out))
    assert matrix[("FI", "fi")]["mailed"] == 120
    assert matrix[("FI", "sv")]["mailed"] == 14
    assert matrix[("FI", "fi")]["sent"] == {"pending": 3}
    assert matrix[("FI", "sv")]["sent"] == {"pending": 1}
    assert matrix[("SE", "sv")]["mailed"] is None  # Sweden's list is its own


def test_text_and_html_and_a_folder_of_one_country(tmp_path: Path, built: Path) -> None:
    result = CliRunner().invoke(main, ["status", str(CAMPAIGN), "--out", str(built)])
    assert result.exit_code == 0, result.output
    header, *rows = result.output.splitlines()
    assert header.split() == [
        "country", "lang", "translated", "checks", "reviewed", "built", "mailed", "sent",
    ]  # fmt: skip
    assert len(rows) == 13 and rows[0].split()[:3] == ["AT", "de", "yes"]
    page = tmp_path / "status.html"
    result = CliRunner().invoke(
        main,
        ["status", str(CAMPAIGN), "--out", str(built), "--format", "html", "-o", str(page)],
    )
    assert result.exit_code == 0, result.output
    html = page.read_text(encoding="utf-8")
    assert html.count('<td data-country="BE"') == 3
    assert 'aria-label="not sent in fi"' in html  # Belgium has no Finnish letter
    result = CliRunner().invoke(main, ["status", str(EXAMPLE), "--out", str(tmp_path)])
    assert result.exit_code == 0, result.output
    assert [line.split()[:2] for line in result.output.splitlines()[1:]] == [
        ["FI", "sv"],
        ["FI", "fi"],
    ]
    assert "not built" in result.output


def test_reviewed_reads_the_signoff_log_country_by_country(workspace: tuple[Path, Path]) -> None:
    content, out = workspace
    result = CliRunner().invoke(
        main,
        [
            "signoff", str(content), "--country", "BE", "--lang", "fr",
            "--name", "Claire Dubois", "--role", "Medical reviewer",
        ],
    )  # fmt: skip
    assert result.exit_code == 0, result.output
    matrix = cells(status(content, out))
    assert matrix[("BE", "fr")]["reviewed"].startswith("approved by Claire Dubois")
    assert matrix[("BE", "nl")]["reviewed"] == "not recorded"
    belgium = content / "countries" / "BE.yaml"
    belgium.write_text(
        belgium.read_text(encoding="utf-8").replace("débit de filtration", "débit"),
        encoding="utf-8",
    )
    matrix = cells(status(content, out))
    assert matrix[("BE", "fr")]["reviewed"].startswith("NOT APPROVED: changed since approved")
    result = CliRunner().invoke(
        main, ["signoff", str(content), "--lang", "fr", "--name", "A", "--role", "B"]
    )
    assert result.exit_code == 2
    assert "choose it with --country" in result.output


def test_a_shared_letterhead_edited_is_named_as_what_changed(
    campaign_dir: Path, tmp_path: Path
) -> None:
    """A letterhead several countries share is part of each letter: its edit is named."""
    letterheads = tmp_path / "letterheads"
    shutil.copytree(PROJECT / "letterheads" / "example-pharma", letterheads / "example-pharma")
    meta = campaign_dir / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace(
            "countries:\n", "letterhead: example-pharma\ncountries:\n", 1
        ),
        encoding="utf-8",
    )
    out = tmp_path / "out"
    campaign = load_campaign(campaign_dir, letterheads_dir=letterheads)
    build_campaign(campaign, out, countries=["IE", "MT"], jobs=1)
    lines = letterheads / "example-pharma" / "letterhead.yaml"
    lines.write_text(
        lines.read_text(encoding="utf-8").replace("Esimerkkikatu 1 A", "Esimerkkikatu 2 B"),
        encoding="utf-8",
    )
    campaign = load_campaign(campaign_dir, letterheads_dir=letterheads)
    for country in ("IE", "MT"):
        built = built_state(campaign.national(country), "en", out, _Hashes())
        assert built.startswith("stale: ") and built.endswith("letterhead.yaml changed"), built
        assert "text" not in built
