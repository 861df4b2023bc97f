"""Word in and out of a campaign: a country's letter, or a language's shared text.

One LibreOffice run (module fixture) re-saves Belgium's French letter, the shared
German text, a returned Belgian letter with tracked changes and a German letter
without the export's properties (as an authority's own document would be).
"""

from __future__ import annotations

import json
import shutil
import zipfile
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner

from dhpc_gen.build import language_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.exchange.docx_campaign import PROPERTY_COUNTRY, PROPERTY_TEXT
from dhpc_gen.exchange.docx_write import PROPERTY_CONTENT, export_docx
from tests.conftest import CAMPAIGN, EXAMPLE
from tests.docx_helpers import (
    add_comments,
    edit_document,
    libreoffice_convert,
    paragraph,
    read_parts,
    tracked_replace,
    write_parts,
)

WHEN = "2026-10-20T09:00:00Z"


def run(*args: str | Path) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, [str(a) for a in args])
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def properties(path: Path) -> dict[str, str]:
    """The custom properties of a Word file (docProps/custom.xml)."""
    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        if "docProps/custom.xml" not in archive.namelist():
            return {}
        root = etree.fromstring(archive.read("docProps/custom.xml"))
    return {p.get("name"): "".join(p.itertext()) for p in root}


def words(path: Path) -> str:
    document = docx.Document(str(path))
    cells = [p.text for t in document.tables for c in t._cells for p in c.paragraphs]
    return "\n".join([p.text for p in document.paragraphs] + cells)


def make_returned(exported: Path, target: Path) -> None:
    """Belgium's French letter as the AFMPS might send it back."""

    def edit(root: object, parts: dict[str, bytes]) -> None:
        monitoring = paragraph(root, "Mesurez la créatinine")
        tracked_replace(
            monitoring, "3 premiers mois", "2 premiers mois", author="AFMPS", date=WHEN, number=10
        )
        deviated = paragraph(root, "Le fictumab est désormais")
        tracked_replace(
            deviated, "débit de filtration", "débit de la filtration", author="AFMPS", date=WHEN,
            number=20,
        )  # fmt: skip
        contact = paragraph(root, "Fictapharm Belgium SA/NV, Information médicale")
        tracked_replace(
            contact, "Information médicale", "Information scientifique", author="AFMPS",
            date=WHEN, number=30,
        )  # fmt: skip
        add_comments(root, parts, [(monitoring, "2 premiers", "AFMPS", WHEN, "Comme convenu.")])

    edit_document(exported, target, edit)


def without_properties(source: Path, target: Path) -> None:
    parts = read_parts(source)
    del parts["docProps/custom.xml"]
    rels = parts["_rels/.rels"].decode()
    start = rels.index("<Relationship", rels.index("custom-properties") - 200)
    rels = rels[:start] + rels[rels.index("/>", rels.index("custom-properties")) + 2 :]
    parts["_rels/.rels"] = rels.encode()
    write_parts(target, parts)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    work = tmp_path_factory.mktemp("libreoffice-campaign")
    sources = work / "in"
    sources.mkdir()
    export_docx(CAMPAIGN, sources / "be_fr.docx", language="fr", country="BE")
    export_docx(CAMPAIGN, sources / "shared_de.docx", language="de")
    export_docx(CAMPAIGN, sources / "de_de.docx", language="de", country="DE")
    make_returned(sources / "be_fr.docx", sources / "returned_be_fr.docx")
    without_properties(sources / "de_de.docx", sources / "authority_de.docx")
    files = [sources / f"{name}.docx" for name in ("be_fr", "shared_de", "returned_be_fr")]
    files.append(sources / "authority_de.docx")
    converted = libreoffice_convert(files, work / "out", work / "profile")
    found = {path.stem: path for path in converted}
    found["returned_be_fr_python"] = sources / "returned_be_fr.docx"
    return found


def test_a_countrys_letter_and_a_languages_shared_text(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # The default path is relative to the working directory: work in tmp_path, so the
    # letters a build left in the project's output/ stay where they are.
    monkeypatch.chdir(tmp_path)
    belgium = load_campaign(CAMPAIGN).national("BE")
    code, out, err = run("export-docx", CAMPAIGN, "--lang", "fr", "--country", "be")
    assert code == 0, err
    national = Path("output/fictumab-2026/BE/fictumab-2026_BE_fr.docx")
    assert out.startswith(f"{national}: fr, BE's national letter (BE's placeholders")
    text = words(national)
    # Belgium's letter as it prints: its wording of the placeholders, its deviation.
    assert "de santé (AFMPS), Fictapharm Belgium SA/NV souhaite" in text
    assert "(débit de filtration glomérulaire estimé [eGFR] inférieur à 30" in text
    assert "Directrice médicale, Fictapharm Belgium SA/NV" in text
    found = properties(national)
    assert (found[PROPERTY_COUNTRY], found[PROPERTY_TEXT]) == ("BE", "national")
    assert found[PROPERTY_CONTENT] == language_hash(belgium, "fr")
    shared = tmp_path / "fr.docx"
    code, out, err = run("export-docx", CAMPAIGN, "--lang", "fr", "-o", shared)
    assert code == 0, err
    assert "fr, the shared fr text ({placeholders} as written, in BE's frame" in out
    text = words(shared)
    assert "{authority}, {mah} souhaite vous informer" in text
    assert "(eGFR inférieur à 30" in text and "débit de filtration" not in text
    assert "Fictapharm Belgium SA/NV, Information médicale" in text  # the frame: BE's
    assert (properties(shared)[PROPERTY_COUNTRY], properties(shared)[PROPERTY_TEXT]) == (
        "BE",
        "shared",
    )
    for args, message in (
        (("--lang", "fr", "--country", "DE"), "--lang fr: DE is sent in de"),
        (("--lang", "fr", "--country", "PT"), "--country PT: fictumab-2026 is sent in AT"),
        (("--lang", "pt"), "--lang pt: fictumab-2026 is sent in en"),
    ):
        code, _, err = run("export-docx", CAMPAIGN, *args, "-o", tmp_path / "x.docx")
        assert code == 2 and message in err, err
    code, _, err = run("export-docx", EXAMPLE, "--country", "SE", "-o", tmp_path / "x.docx")
    assert code == 2 and "--country SE: lemtrada-2019 is for FI" in err
    assert not (tmp_path / "x.docx").exists()


def test_unchanged_exports_saved_by_libreoffice_change_no_byte(
    campaign_dir: Path, saved: dict[str, Path]
) -> None:
    before = {p.name: p.read_bytes() for p in campaign_dir.rglob("*.yaml")}
    code, out, err = run("import-docx", saved["be_fr"], campaign_dir)
    assert code == 0, err
    assert "country BE, its national text (by the document)" in out.splitlines()[0]
    assert out.splitlines()[-1].endswith(": 0 changed, 0 added, 0 removed, 11 unchanged")
    code, out, err = run("import-docx", saved["shared_de"], campaign_dir)
    assert code == 0, err
    assert "country AT, the shared text (framed by AT's facts)" in out.splitlines()[0]
    assert out.splitlines()[-1].endswith(": 0 changed, 0 added, 0 removed, 11 unchanged")
    assert {p.name: p.read_bytes() for p in campaign_dir.rglob("*.yaml")} == before


@pytest.mark.parametrize("version", ["returned_be_fr", "returned_be_fr_python"])
def test_a_returned_letter_writes_the_shared_text_and_reports_the_national(
    campaign_dir: Path, saved: dict[str, Path], version: str
) -> None:
    belgium = campaign_dir / "countries" / "BE.yaml"
    national_before = belgium.read_bytes()
    others = {p: p.read_bytes() for p in campaign_dir.glob("*.yaml") if p.name != "fr.yaml"}
    code, out, err = run("import-docx", saved[version], campaign_dir, "--format", "json")
    assert code == 0, err
    result = json.loads(out)
    assert result["text"] == "national" and result["country"] == "BE"
    assert result["meta_file"].endswith("countries/BE.yaml")
    assert result["fields"]["changed"] == ["summary[2]"]
    assert [(c["field"], c["kind"]) for c in result["tracked_changes"]] == [
        ("summary[1]", "deleted"),
        ("summary[1]", "inserted"),
        ("summary[2]", "deleted"),
        ("summary[2]", "inserted"),
        ("contact_points[0]", "deleted"),
        ("contact_points[0]", "inserted"),
    ]
    kinds = {f["kind"]: f["message"] for f in result["findings"] if f["kind"] != "note"}
    assert "summary[1] is BE's deviation (countries/BE.yaml deviations[0])" in kinds["deviation"]
    assert "débit de {+la +}filtration" in kinds["deviation"]
    department = [f for f in result["findings"] if "department" in f["message"]]
    assert department[0]["paragraph"] > 0 and [f["message"] for f in department] == [
        "contact_points[0].department reads 'Information scientifique', countries/BE.yaml has "
        "'Information médicale' (a national fact: countries/BE.yaml is not changed)"
    ]
    # Only the shared French text changed, and only the bullet the change was in; its
    # placeholders are written back as placeholders.
    text = load_campaign(campaign_dir).shared.text("fr")
    assert "pendant les 2 premiers mois" in text.summary[2]
    assert text.opening.startswith("En accord avec l'Agence européenne des médicaments (EMA) et")
    assert "{authority}, {mah} souhaite" in text.opening
    assert "(eGFR inférieur à 30" in text.summary[1]  # the shared bullet, not the deviation
    assert belgium.read_bytes() == national_before
    assert {p: p.read_bytes() for p in others} == others


def test_a_letter_without_properties_is_told_by_its_reporting_block(
    campaign_dir: Path, saved: dict[str, Path]
) -> None:
    before = (campaign_dir / "de.yaml").read_bytes()
    code, out, err = run("import-docx", saved["authority_de"], campaign_dir, "--dry-run")
    assert code == 0, err
    assert "country DE, its national text (by the reporting block)" in out.splitlines()[0]
    assert out.splitlines()[-1].endswith("0 changed, 0 added, 0 removed, 11 unchanged")
    # Read as Austria's, what is Germany's is said: the reporting block, the company.
    code, out, err = run(
        "import-docx", saved["authority_de"], campaign_dir, "--country", "AT", "--dry-run"
    )
    assert code == 0, err
    assert "country AT, its national text (by --country)" in out.splitlines()[0]
    assert "Differences from " in out and "countries/AT.yaml" in out
    assert "the company name reads 'Fictapharm Deutschland GmbH', countries/AT.yaml" in out
    assert "reads like DE's" in out
    code, _, err = run("import-docx", saved["be_fr"], campaign_dir, "--country", "FI")
    assert code == 2 and "the document was exported for BE" in err
    assert (campaign_dir / "de.yaml").read_bytes() == before


def test_a_placeholder_the_document_does_not_word_as_its_country_is_not_written(
    campaign_dir: Path, saved: dict[str, Path], tmp_path: Path
) -> None:
    edited = tmp_path / "edited.docx"

    def edit(root: object, parts: dict[str, bytes]) -> None:
        opening = paragraph(root, "En accord avec")
        tracked_replace(
            opening,
            "l'Agence fédérale des médicaments et des produits de santé (AFMPS)",
            "l'AFMPS",
            author="AFMPS",
            date=WHEN,
            number=40,
        )

    edit_document(saved["returned_be_fr_python"], edited, edit)
    code, out, err = run("import-docx", edited, campaign_dir)
    assert code == 0, err
    assert (
        "opening: the shared text has {authority}, and the document does not read as BE's "
        "wording of it (countries/BE.yaml placeholders): the field is not written"
    ) in out
    text = load_campaign(campaign_dir).shared.text("fr")
    assert "{authority}, {mah} souhaite" in text.opening and "l'AFMPS" not in text.opening
    assert "2 premiers mois" in text.summary[2]


def test_a_new_folder_from_a_campaigns_letter_is_a_folder_of_one_country(
    tmp_path: Path, saved: dict[str, Path]
) -> None:
    target = tmp_path / "fictumab-be"
    code, out, err = run("import-docx", saved["be_fr"], target)
    assert code == 0, err
    assert f"{target.name}/dhpc.yaml created" in out
    meta = (target / "dhpc.yaml").read_text("utf-8")
    assert "country: BE" in meta and "countries:" not in meta
    dhpc = load_dhpc(target)
    assert dhpc.meta.languages == ("fr",) and dhpc.meta.mahs[0].name == "Fictapharm Belgium SA/NV"
    assert "Fictapharm Belgium SA/NV souhaite" in dhpc.text("fr").opening


def test_a_letter_to_the_bfarm_starts_a_folder_that_names_the_bfarm(tmp_path: Path) -> None:
    """Germany has two reporting blocks: a new folder keeps the one the letter has."""
    campaign = tmp_path / "campaign"
    shutil.copytree(CAMPAIGN, campaign)
    germany = campaign / "countries" / "DE.yaml"
    germany.write_text(
        germany.read_text(encoding="utf-8").replace(
            "reporting_authority: PEI", "reporting_authority: BfArM"
        ),
        encoding="utf-8",
    )
    export_docx(campaign, tmp_path / "de.docx", language="de", country="DE")
    code, out, err = run("import-docx", tmp_path / "de.docx", tmp_path / "new")
    assert code == 0, err
    assert "country DE" in out
    new = load_dhpc(tmp_path / "new")
    assert new.meta.reporting_authority == "BfArM"
    assert new.meta.authorities == ("EMA", "BfArM")
