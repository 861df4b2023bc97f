"""A campaign: one core, shared language texts, national facts and deviations per country."""

from __future__ import annotations

import re
from pathlib import Path

import pytest

from dhpc_gen.content import load_dhpc
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.errors import ContentError, UsageError
from tests.conftest import EXAMPLE


def replace_in(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text, f"{old!r} not in {path}"
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def line_of(path: Path, needle: str) -> int:
    for number, line in enumerate(path.read_text(encoding="utf-8").splitlines(), start=1):
        if needle in line:
            return number
    raise AssertionError(needle)


def problems_of(directory: Path) -> list[str]:
    with pytest.raises(ContentError) as caught:
        load_campaign(directory)
    return [str(p) for p in caught.value.problems]


def test_the_example_campaign_shares_each_language_between_its_countries(
    campaign_dir: Path,
) -> None:
    campaign = load_campaign(campaign_dir)
    assert not campaign.single
    assert campaign.countries["BE"] == ("nl", "fr", "de")
    assert campaign.countries_using("de") == ["AT", "BE", "DE"]
    assert campaign.languages[0] == "en"
    # One shared German text: the three national versions differ only where national.
    texts = {code: campaign.national(code).text("de") for code in ("AT", "BE", "DE")}
    assert texts["DE"].summary == texts["BE"].summary
    assert "dem Paul-Ehrlich-Institut (PEI)" in texts["DE"].opening
    assert "der Föderalagentur für Arzneimittel" in texts["BE"].opening
    assert "{authority}" in campaign.shared.text("de").opening
    assert texts["AT"].background[2] != texts["DE"].background[2]
    assert "Arzneispezialitätenregister" in texts["AT"].background[2]


def test_national_facts_are_written_per_language(campaign_dir: Path) -> None:
    belgium = load_campaign(campaign_dir).national("be")
    assert belgium.meta.country == "BE"
    assert belgium.meta.languages == ("nl", "fr", "de")
    assert belgium.meta.source_language == "en"
    assert [cp.department for cp in belgium.text("fr").contact_points] == ["Information médicale"]
    assert belgium.text("nl").signatory_titles == ("Medisch directeur",)
    assert belgium.text("de").signatory_titles == ("Medizinische Direktorin",)
    assert "débit de filtration glomérulaire estimé" in belgium.text("fr").summary[1]
    assert "débit de filtration" not in load_campaign(campaign_dir).shared.text("fr").summary[1]
    assert [(d.language, d.field) for d in belgium.deviations] == [("fr", "summary[1]")]
    assert belgium.meta.authority_approval is not None
    assert belgium.file_stem == "fictumab-2026_BE"
    assert [belgium.relative(p) for p in belgium.files] == [
        "dhpc.yaml",
        "countries/BE.yaml",
        "nl.yaml",
        "fr.yaml",
        "de.yaml",
        "en.yaml",
    ]
    assert [belgium.relative(p) for p in belgium.inputs_of("fr")] == [
        "dhpc.yaml",
        "countries/BE.yaml",
        "fr.yaml",
    ]


def test_a_folder_of_one_country_is_a_campaign_of_one() -> None:
    campaign = load_campaign(EXAMPLE)
    assert campaign.single
    assert campaign.countries == {"FI": ("sv", "fi")}
    dhpc = campaign.only(None, "merge")
    assert dhpc == load_dhpc(EXAMPLE)
    assert not dhpc.in_campaign and dhpc.file_stem == "lemtrada-2019"
    assert dhpc.output_dir(Path("/tmp/out")) == Path("/tmp/out/lemtrada-2019").resolve()


def test_commands_of_one_country_ask_which(campaign_dir: Path) -> None:
    campaign = load_campaign(campaign_dir)
    with pytest.raises(UsageError, match="choose it with --country"):
        campaign.only(None, "merge")
    with pytest.raises(UsageError, match=r"--country XX: fictumab-2026 is sent in AT, BE, CY, DE"):
        campaign.national("XX")
    assert [d.meta.country for d in campaign.select(["fi", "AT", "FI"])] == ["FI", "AT"]


def test_load_dhpc_of_a_campaign_folder_says_what_it_is(campaign_dir: Path) -> None:
    with pytest.raises(ContentError, match="campaign of several countries"):
        load_dhpc(campaign_dir)


def test_every_problem_of_a_campaign_at_once_with_file_line_and_field(campaign_dir: Path) -> None:
    meta = campaign_dir / "dhpc.yaml"
    replace_in(meta, "  SE: [sv]\n", "  SE: [sv]\n  XX: [en]\n  LI: [de]\n  IE: [en, fr]\n")
    replace_in(meta, "  IE: [en]\n", "")
    (campaign_dir / "countries" / "IS.yaml").write_text("date: 2026-11-01\n", encoding="utf-8")
    belgium = campaign_dir / "countries" / "BE.yaml"
    replace_in(belgium, "field: summary[1]", "field: summary[9]")
    replace_in(
        belgium,
        "deviations:\n",
        "deviations:\n  - {language: sv, field: key_message, text: X, reference: Y}\n",
    )
    finland = campaign_dir / "countries" / "FI.yaml"
    replace_in(finland, "      sv: medicinsk direktör\n", "")
    sweden = campaign_dir / "countries" / "SE.yaml"
    replace_in(sweden, "  authority: Läkemedelsverket\n", "")
    dutch = campaign_dir / "nl.yaml"
    dutch.write_text(
        dutch.read_text(encoding="utf-8") + "signatory_titles: [Directeur]\n", encoding="utf-8"
    )
    (campaign_dir / "countries" / "MT.yaml").unlink()

    problems = problems_of(campaign_dir)
    joined = "\n".join(problems)
    shown = str(campaign_dir)
    assert f"dhpc.yaml:{line_of(meta, 'XX: [en]')} countries.XX: unknown country 'XX'" in joined
    assert f"dhpc.yaml:{line_of(meta, 'LI: [de]')} countries.LI: Liechtenstein (LI)" in joined
    assert "no other source for it is known yet" in joined
    assert (
        f"dhpc.yaml:{line_of(meta, 'IE: [en, fr]')} countries.IE[1]: the regulator registry "
        "has no 'fr' reporting block for IE (it has en)"
    ) in joined
    assert re.search(r"countries/MT\.yaml: missing: dhpc\.yaml lists MT \(line \d+\)", joined)
    assert "countries/IS.yaml: IS is not one of the countries in dhpc.yaml" in joined
    line = line_of(belgium, "field: summary[9]")
    assert f"countries/BE.yaml:{line} deviations[1].field: fr.yaml has no field 'summary[9]'" in (
        joined
    )
    line = line_of(belgium, "language: sv")
    assert (
        f"countries/BE.yaml:{line} deviations[0].language: BE does not send in 'sv' "
        "(BE sends in nl, fr, de)"
    ) in joined
    line = line_of(finland, "title:")
    assert f"countries/FI.yaml:{line} signatories[0].title: no 'sv' wording" in joined
    assert re.search(
        r"countries/SE\.yaml:\d+ placeholders: sv\.yaml uses \{authority\} \(opening\)", joined
    )
    line = line_of(dutch, "signatory_titles")
    assert (
        f"nl.yaml:{line} signatory_titles: is national in a campaign: give it in "
        "countries/<CC>.yaml as signatories[].title"
    ) in joined
    assert all(p.startswith(shown) or p.startswith("content/") for p in problems), problems


def test_a_deviation_that_breaks_a_rule_names_its_line(campaign_dir: Path) -> None:
    austria = campaign_dir / "countries" / "AT.yaml"
    text = austria.read_text(encoding="utf-8")
    start = text.index("    text: >-")
    end = text.index("    reference: BASG, Schreiben")
    austria.write_text(text[:start] + '    text: "   "\n' + text[end:], encoding="utf-8")
    (problem,) = problems_of(campaign_dir)
    assert re.search(
        r"countries/AT\.yaml:\d+ deviations\[0\]\.text: String should have at least 1", problem
    ), problem


def test_a_country_is_added_to_a_campaign_with_data_only_as_the_readme_shows(
    campaign_dir: Path, tmp_path: Path
) -> None:
    from click.testing import CliRunner

    from dhpc_gen.cli import main
    from tests.conftest import PROJECT
    from tests.pdf_helpers import pdftotext

    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    section = readme[readme.index("#### Adding a country to a campaign") :]
    country_file = re.search(r"```yaml\n(.*?)```", section, re.DOTALL)
    assert country_file is not None
    lines = country_file.group(1).splitlines()
    indent = len(lines[0]) - len(lines[0].lstrip())
    (campaign_dir / "countries" / "PT.yaml").write_text(
        "\n".join(line[indent:] for line in lines) + "\n", encoding="utf-8"
    )
    replace_in(campaign_dir / "dhpc.yaml", "  SE: [sv]\n", "  SE: [sv]\n  PT: [pt]\n")
    # A stand-in for the Portuguese translation: the core's text, labelled pt.
    english = (campaign_dir / "en.yaml").read_text(encoding="utf-8")
    (campaign_dir / "pt.yaml").write_text(
        english.replace("language: en", "language: pt"), encoding="utf-8"
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["build", str(campaign_dir), "--country", "PT", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    letter = " ".join(pdftotext(out / "fictumab-2026" / "PT" / "fictumab-2026_PT_pt.pdf").split())
    assert "Fictapharm Portugal, Lda., in agreement with" in letter
    assert "and o INFARMED, I.P." in letter  # the stand-in text with Portugal's wording
    assert "Informação Médica" in letter and "www.infarmed.pt" in letter


def test_xliff_exchanges_a_shared_language_of_a_campaign(
    campaign_dir: Path, tmp_path: Path
) -> None:
    from dhpc_gen.exchange.xliff import export_xliff, import_xliff

    before = (campaign_dir / "de.yaml").read_bytes()
    exported = export_xliff(campaign_dir, tmp_path / "de.xlf", target="de")
    assert exported.units == exported.translated == 11
    note = (tmp_path / "de.xlf").read_text(encoding="utf-8")
    assert "for AT, BE, CY, DE, FI, GR, IE, MT, NL, SE" in note
    imported = import_xliff(campaign_dir, tmp_path / "de.xlf")
    assert not imported.changed and not imported.written
    assert (campaign_dir / "de.yaml").read_bytes() == before
    # A language a new country brings is exported before its file exists.
    replace_in(campaign_dir / "dhpc.yaml", "  SE: [sv]\n", "  SE: [sv]\n  PT: [pt]\n")
    fresh = export_xliff(campaign_dir, tmp_path / "pt.xlf", target="pt")
    assert fresh.units == 11 and fresh.translated == 0


def test_norway_is_sent_in_bokmal(campaign_dir: Path) -> None:
    """Norway's letters are written in nb: the campaign reads, with the DMP's block."""
    replace_in(campaign_dir / "dhpc.yaml", "  SE: [sv]\n", "  SE: [sv]\n  NO: [nb]\n")
    norwegian = (campaign_dir / "en.yaml").read_text(encoding="utf-8")
    (campaign_dir / "nb.yaml").write_text(
        norwegian.replace("language: en", "language: nb"), encoding="utf-8"
    )
    (campaign_dir / "countries" / "NO.yaml").write_text(
        "date: 2026-11-09\n"
        "mahs:\n"
        "  - {name: Fictapharm Norge AS, email: medinfo.no@fictapharm.example,"
        " phone: +47 22 55 50 10, department: Medisinsk informasjon}\n"
        "authorities: [EMA, DMP]\n"
        "signatories:\n"
        "  - {name: Dr. Ingrid Hansen, title: Medisinsk direktør, company: Fictapharm Norge AS}\n"
        "placeholders: {mah: Fictapharm Norge AS, authority: DMP}\n",
        encoding="utf-8",
    )
    norway = load_campaign(campaign_dir).national("NO")
    assert norway.meta.languages == ("nb",)
    assert "Fictapharm Norge AS" in norway.text("nb").opening


def test_germany_chooses_the_bfarm_or_the_pei(campaign_dir: Path, tmp_path: Path) -> None:
    """Germany has two reporting authorities: a country file names the competent one."""
    from click.testing import CliRunner

    from dhpc_gen.cli import main
    from dhpc_gen.review.checks import check_regulator
    from tests.pdf_helpers import pdftotext

    country_file = campaign_dir / "countries" / "DE.yaml"
    replace_in(country_file, "reporting_authority: PEI\n", "")
    germany = load_campaign(campaign_dir).national("DE")
    assert germany.meta.reporting_authority is None
    (note,) = [f for f in check_regulator(germany) if f.code == "authority-default"]
    assert note.severity == "note" and "PEI, BfArM" in note.message
    assert note.file.endswith("countries/DE.yaml")

    replace_in(country_file, "authorities: [", "reporting_authority: BfArM\nauthorities: [")
    germany = load_campaign(campaign_dir).national("DE")
    assert germany.meta.reporting_authority == "BfArM"
    assert not [f for f in check_regulator(germany) if f.code == "authority-default"]
    out = tmp_path / "out"
    result = CliRunner().invoke(
        main, ["build", str(campaign_dir), "--country", "DE", "--out", str(out)]
    )
    assert result.exit_code == 0, result.output
    letter = pdftotext(out / "fictumab-2026" / "DE" / "fictumab-2026_DE_de.pdf")
    assert "Kurt-Georg-Kiesinger-Allee 3" in letter and "www.bfarm.de" in letter
    assert "www.pei.de" not in letter

    replace_in(country_file, "reporting_authority: BfArM", "reporting_authority: BfArm-Bonn")
    (problem,) = problems_of(campaign_dir)
    line = line_of(country_file, "reporting_authority")

    assert f"DE.yaml:{line} reporting_authority:" in problem
    assert "DE has the authorities PEI, BfArM" in problem


def test_a_country_of_one_authority_refuses_a_choice(campaign_dir: Path) -> None:
    replace_in(
        campaign_dir / "countries" / "FI.yaml",
        "authorities: [",
        "reporting_authority: PEI\nauthorities: [",
    )
    (problem,) = problems_of(campaign_dir)
    assert "FI.yaml:" in problem and "FI has one reporting authority in 'fi'" in problem


def test_a_language_file_no_country_sends_in_is_named(campaign_dir: Path) -> None:
    slovak = (campaign_dir / "en.yaml").read_text(encoding="utf-8").replace("language: en", "sk")
    (campaign_dir / "sk.yaml").write_text(slovak, encoding="utf-8")
    (campaign_dir / "terms.yaml").write_text("terms: []\n", encoding="utf-8")  # not a language
    (problem,) = problems_of(campaign_dir)
    assert "sk.yaml: no country in dhpc.yaml sends in 'sk'" in problem
    assert f"under countries: (line {line_of(campaign_dir / 'dhpc.yaml', 'countries:')})" in problem


def test_country_codes_and_an_empty_matrix_are_told_in_words(campaign_dir: Path) -> None:
    meta = campaign_dir / "dhpc.yaml"
    replace_in(meta, "  SE: [sv]\n", "  se: [sv]\n")
    (problem,) = problems_of(campaign_dir)
    assert f"dhpc.yaml:{line_of(meta, 'se: [sv]')} countries.se:" in problem
    assert "a two-letter country code in capitals, such as 'FI' or 'BE'" in problem
    text = meta.read_text(encoding="utf-8")
    meta.write_text(text[: text.index("countries:")] + "countries: {}\n", encoding="utf-8")
    (problem,) = problems_of(campaign_dir)
    assert "countries: lists no country: give each country with its languages" in problem
