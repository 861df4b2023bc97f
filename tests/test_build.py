"""``dhpc build``: PDFs per language, metadata, archival form, reproducibility, manifest."""

from __future__ import annotations

import difflib
import json
import logging
import re
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader

from dhpc_gen.build import TEMPLATE_VERSION, build, check_outputs, render_letter, render_letters
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.fsutil import sha256_bytes, sha256_file
from dhpc_gen.render.letter import render_html
from dhpc_gen.render.renderer import LetterRenderer
from tests.conftest import EXAMPLE
from tests.pdf_helpers import font_rows, page_texts, pdftotext

REFERENCE = Path(__file__).parent / "data" / "reference_lemtrada-2019_sv.txt"
GOLDEN = Path(__file__).parent / "data" / "golden-lemtrada-2019.json"


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example built once for the whole module; returns output/<id>."""
    out = tmp_path_factory.mktemp("out")
    build(load_dhpc(EXAMPLE), out)
    return out / "lemtrada-2019"


def test_one_pdf_per_language_and_a_manifest(built: Path) -> None:
    assert sorted(p.name for p in built.iterdir()) == [
        "lemtrada-2019_fi.pdf",
        "lemtrada-2019_sv.pdf",
        "manifest.json",
    ]
    manifest = json.loads((built / "manifest.json").read_text(encoding="utf-8"))
    outputs = {entry["language"]: entry for entry in manifest["outputs"]}
    for language in ("sv", "fi"):
        pdf = built / f"lemtrada-2019_{language}.pdf"
        assert outputs[language]["sha256"] == sha256_file(pdf)
        assert outputs[language]["pages"] == len(PdfReader(pdf).pages)
    inputs = {entry["path"]: entry for entry in manifest["inputs"]}
    assert inputs["lemtrada-2019/fi.yaml"]["sha256"] == sha256_file(EXAMPLE / "fi.yaml")
    assert "templates/letter.html" in inputs
    assert "assets/fonts/LiberationSans-Regular.ttf" in inputs
    assert "locales/fi/LC_MESSAGES/messages.po" in inputs
    assert "dhpc_gen/regulators/data/FI.yaml" in inputs
    assert manifest["tool_version"] and manifest["template_version"].startswith(
        f"{TEMPLATE_VERSION}+"
    )


@pytest.mark.parametrize(
    ("language", "title", "subject_word"),
    [
        (
            "sv",
            "Alemtuzumab (LEMTRADA): Begränsad användning på grund av allvarliga biverkningar",
            "Viktigt",
        ),
        (
            "fi",
            "Alemtutsumabi (LEMTRADA): Käytön rajoittaminen vakavien haittavaikutusten vuoksi",
            "Tärkeä",
        ),
    ],
)
def test_metadata_language_tags_and_archival_form(
    built: Path, language: str, title: str, subject_word: str
) -> None:
    reader = PdfReader(built / f"lemtrada-2019_{language}.pdf")
    info = reader.metadata
    assert info is not None
    assert info.title == title
    assert info.author == "Sanofi Oy"
    assert info.subject is not None and info.subject.startswith(subject_word)
    catalog = reader.trailer["/Root"]
    assert catalog["/Lang"] == language
    assert catalog["/MarkInfo"]["/Marked"] == True  # noqa: E712 (a PDF BooleanObject)
    assert "/StructTreeRoot" in catalog
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfaid:part=\"3\"|<pdfaid:part>3</pdfaid:part>", xmp)
    assert re.search(r"pdfaid:conformance=\"U\"|<pdfaid:conformance>U</pdfaid:conformance>", xmp)
    assert "/OutputIntents" in catalog


def test_every_font_is_embedded_and_is_the_bundled_one(built: Path) -> None:
    for pdf in built.glob("*.pdf"):
        rows = font_rows(pdf)
        assert rows, pdf
        for row in rows:
            name, emb = row[0], row[-5]
            assert emb == "yes", (pdf, row)
            assert name.split("+")[-1].startswith("Letter-Sans"), (pdf, row)


def test_swedish_letter_reproduces_the_reference(built: Path) -> None:
    text = pdftotext(built / "lemtrada-2019_sv.pdf")
    # A word hyphenated at a line end (the hyphen U+2010 the layout adds) is one word.
    text = text.replace("\u2010\n", "")
    # The layout adds a letterhead and "1 (3)" page numbers on every page, and the date.
    lines = [
        line
        for line in text.splitlines()
        if line.strip() not in ("Sanofi Oy", "24 april 2019")
        and not re.fullmatch(r"\d+ \(\d+\)", line.strip())
    ]
    ours = " ".join(lines).split()
    reference = REFERENCE.read_text(encoding="utf-8").split()
    ratio = difflib.SequenceMatcher(None, reference, ours, autojunk=False).ratio()
    assert ratio >= 0.98, ratio
    # Every paragraph of the reference is there; the headings are the catalog's.
    for heading in ("Sammanfattning", "Bakgrundsinformation", "Företagets kontaktuppgifter"):
        assert heading in text
    assert "Adresskälla: Lääketietokeskus Oy, Suomen Lääkäriliitto, Suomen MS-hoitajat ry" in text


def test_finnish_letter_has_finnish_boilerplate_and_fimea_block(built: Path) -> None:
    text = pdftotext(built / "lemtrada-2019_fi.pdf")
    for expected in (
        "Yhteenveto",
        "Terveydenhuollon ammattilaisille",
        "24. huhtikuuta 2019",
        "Lääkkeiden haittavaikutusrekisteri",
        "Osoitelähde: Lääketietokeskus Oy",
        "Ystävällisin terveisin,",
        "puh. 0201 200 368",
    ):
        assert expected in text, expected
    assert "Sammanfattning" not in text
    assert re.search(r"^1 \(\d\)$", text, re.MULTILINE)


def test_rebuild_is_byte_identical(built: Path, tmp_path: Path) -> None:
    build(load_dhpc(EXAMPLE), tmp_path)
    for name in ("lemtrada-2019_sv.pdf", "lemtrada-2019_fi.pdf", "manifest.json"):
        assert (tmp_path / "lemtrada-2019" / name).read_bytes() == (built / name).read_bytes(), name
    assert check_outputs(load_dhpc(EXAMPLE), built.parent) == []


def test_example_builds_the_recorded_bytes(built: Path) -> None:
    """The Lemtrada letters and manifest are the bytes recorded in the golden file.

    A deliberate layout change raises TEMPLATE_VERSION and updates the golden file with it.
    """
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    actual = {name: sha256_file(built / name) for name in golden["files"]}
    assert golden["template_version"] == TEMPLATE_VERSION, (
        "TEMPLATE_VERSION changed: record the new hashes in tests/data/golden-lemtrada-2019.json"
    )
    assert actual == golden["files"], (
        "the Lemtrada example no longer builds the recorded bytes: if the layout changed on "
        "purpose, raise TEMPLATE_VERSION and update tests/data/golden-lemtrada-2019.json"
    )


def test_the_command_builds_the_recorded_bytes_in_parallel(tmp_path: Path) -> None:
    """``dhpc build`` renders in worker processes: the bytes are the golden ones all the same."""
    result = CliRunner().invoke(
        main, ["build", str(EXAMPLE), "--out", str(tmp_path), "--jobs", "2"]
    )
    assert result.exit_code == 0, result.output
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))
    out = tmp_path / "lemtrada-2019"
    assert {name: sha256_file(out / name) for name in golden["files"]} == golden["files"]
    assert sorted(p.name for p in out.iterdir()) == sorted(golden["files"])


def test_check_names_stale_outputs(example_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(example_dir), "--out", str(out)]).exit_code == 0
    result = runner.invoke(main, ["build", str(example_dir), "--out", str(out), "--check"])
    assert result.exit_code == 0, result.output
    fi = example_dir / "fi.yaml"
    fi.write_text(
        fi.read_text(encoding="utf-8").replace("Yhteenveto", "Yhteenveto"), encoding="utf-8"
    )
    text = fi.read_text(encoding="utf-8")
    fi.write_text(
        text.replace("Maksan toiminta on arvioitava", "Maksan toimintaa on arvioitava"),
        encoding="utf-8",
    )
    result = runner.invoke(main, ["build", str(example_dir), "--out", str(out), "--check"])
    assert result.exit_code == 1
    assert "lemtrada-2019_fi.pdf: differs" in result.output
    assert "manifest.json: differs" in result.output
    assert "lemtrada-2019_sv.pdf" not in result.output
    (out / "lemtrada-2019" / "lemtrada-2019_sv.pdf").unlink()
    result = runner.invoke(main, ["build", str(example_dir), "--out", str(out), "--check"])
    assert "lemtrada-2019_sv.pdf: missing" in result.output


def test_draft_carries_a_watermark_in_the_letters_language(example_dir: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("status: final", "status: draft"), encoding="utf-8"
    )
    dhpc = load_dhpc(example_dir)
    for letter, word in zip(render_letters(dhpc, ["sv", "fi"]), ("UTKAST", "LUONNOS"), strict=True):
        path = example_dir / letter.filename
        path.write_bytes(letter.pdf)
        pages = page_texts(path)
        assert len(pages) >= 2
        assert all(word in page for page in pages), letter.language


def test_lang_option_builds_only_that_language(example_dir: Path, tmp_path: Path) -> None:
    result = CliRunner().invoke(
        main, ["build", str(example_dir), "--out", str(tmp_path), "--lang", "fi", "--html"]
    )
    assert result.exit_code == 0, result.output
    assert sorted(p.name for p in (tmp_path / "lemtrada-2019").iterdir()) == [
        "lemtrada-2019_fi.html",
        "lemtrada-2019_fi.pdf",
        "manifest.json",
    ]
    result = CliRunner().invoke(
        main, ["build", str(example_dir), "--out", str(tmp_path), "--lang", "de"]
    )
    assert result.exit_code == 2
    assert "--lang de: lemtrada-2019 has only sv, fi" in result.output


def test_bad_input_writes_and_overwrites_nothing(example_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["build", str(example_dir), "--out", str(tmp_path)]).exit_code == 0
    before = {p.name: p.read_bytes() for p in (tmp_path / "lemtrada-2019").iterdir()}
    fi = example_dir / "fi.yaml"
    text = fi.read_text(encoding="utf-8")
    start = text.index("  - heading: Hemofagosyyttinen")
    fi.write_text(text[:start] + "\ncontact_points:\n  - department: X\n", encoding="utf-8")
    # sv.yaml changes too, so a partial build would show in the sv PDF.
    sv = example_dir / "sv.yaml"
    sv.write_text(
        sv.read_text(encoding="utf-8").replace("Leverfunktion", "Leverfunktionen"), encoding="utf-8"
    )
    result = runner.invoke(main, ["build", str(example_dir), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert re.search(
        r"fi\.yaml:\d+ sections: has 2 but the source language 'sv' has 3", result.output
    )
    assert "Traceback" not in result.output
    after = {p.name: p.read_bytes() for p in (tmp_path / "lemtrada-2019").iterdir()}
    assert after == before


def test_id_cannot_escape_the_output_folder(example_dir: Path, tmp_path: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("id: lemtrada-2019", "id: ../../evil"),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(tmp_path / "out")])
    assert result.exit_code == 1
    assert "dhpc.yaml:3 id: '../../evil' is not valid: use lower-case letters" in result.output
    assert not (tmp_path / "evil").exists()
    assert not list(tmp_path.rglob("*.pdf"))


def test_output_folder_is_created_when_missing(example_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "a" / "b"
    result = CliRunner().invoke(
        main, ["build", str(example_dir), "--out", str(out), "--lang", "sv"]
    )
    assert result.exit_code == 0, result.output
    assert (out / "lemtrada-2019" / "lemtrada-2019_sv.pdf").is_file()
    assert not list(out.rglob("*.tmp"))


def test_building_keeps_other_languages_in_the_manifest(example_dir: Path, tmp_path: Path) -> None:
    runner = CliRunner()
    runner.invoke(main, ["build", str(example_dir), "--out", str(tmp_path)])
    full = (tmp_path / "lemtrada-2019" / "manifest.json").read_text(encoding="utf-8")
    runner.invoke(main, ["build", str(example_dir), "--out", str(tmp_path), "--lang", "sv"])
    assert (tmp_path / "lemtrada-2019" / "manifest.json").read_text(encoding="utf-8") == full
    shutil.rmtree(tmp_path / "lemtrada-2019")


def test_rendering_logs_nothing_unexpected(
    example_dir: Path, caplog: pytest.LogCaptureFixture
) -> None:
    with caplog.at_level(logging.WARNING):
        render_letters(load_dhpc(example_dir), ["fi"])
    assert [r.getMessage() for r in caplog.records] == []


def test_pdf_ua_variant_can_be_chosen(example_dir: Path, tmp_path: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + "pdf_variant: pdf/ua-1\n", encoding="utf-8")
    letter = render_letters(load_dhpc(example_dir), ["sv"])[0]
    path = tmp_path / "ua.pdf"
    path.write_bytes(letter.pdf)
    catalog = PdfReader(path).trailer["/Root"]
    xmp = catalog["/Metadata"].get_object().get_data().decode("utf-8")
    assert re.search(r"pdfuaid:part=\"1\"|<pdfuaid:part>1</pdfuaid:part>", xmp)
    assert "/StructTreeRoot" in catalog


def test_mailing_list_limits_the_address_source_line(example_dir: Path, tmp_path: Path) -> None:
    mailing = tmp_path / "mailing"
    mailing.mkdir()
    (mailing / "report.json").write_text(
        json.dumps({"sources_used": ["Suomen MS-hoitajat ry"]}), encoding="utf-8"
    )
    fi = example_dir / "fi.yaml"
    fi.write_text(
        fi.read_text(encoding="utf-8")
        + "address_sources: [Lääketietokeskus Oy, Suomen Lääkäriliitto, MS-hoitajat]\n",
        encoding="utf-8",
    )
    out = tmp_path / "out"
    args = ["build", str(example_dir), "--out", str(out), "--mailing", str(mailing)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 0, result.output
    sv = pdftotext(out / "lemtrada-2019" / "lemtrada-2019_sv.pdf")
    fi_text = pdftotext(out / "lemtrada-2019" / "lemtrada-2019_fi.pdf")
    assert "Adresskälla: Suomen MS-hoitajat ry" in sv
    assert "Lääketietokeskus" not in sv
    assert "Osoitelähde: MS-hoitajat\n" in fi_text
    manifest = json.loads((out / "lemtrada-2019" / "manifest.json").read_text(encoding="utf-8"))
    assert manifest["address_sources"] == ["Suomen MS-hoitajat ry"]
    assert CliRunner().invoke(main, [*args, "--check"]).exit_code == 0
    # Without the mailing list the same outputs are stale: the line would name all three.
    assert CliRunner().invoke(main, [*args[:4], "--check"]).exit_code == 1
    result = CliRunner().invoke(main, [*args[:4], "--mailing", str(tmp_path / "none")])
    assert result.exit_code == 1
    assert "run dhpc mailing-list first" in result.output


CLASS_WIDE_META = """\
id: fluoroquinolones-2026
country: SE
languages: [sv]
source_language: sv
date: 2026-03-05
status: draft
pdf_variant: pdf/ua-1
products:
  - name: Ciproxin
    additional_monitoring: true
  - name: Tavanic
mahs:
  - {name: Bayer AB, email: info@bayer.se, phone: +46 8 580 223 00}
  - {name: Sanofi AB, email: info@sanofi.se, phone: "08-634 50 00"}
authorities: [EMA, Läkemedelsverket]
signatories:
  - {name: Åsa Ström, title: Medicinsk chef, company: Bayer AB}
  - {name: Jöns Ødegård, title: Medical Director, company: Sanofi AB}
"""

CLASS_WIDE_SV = """\
language: sv
active_substances: [ciprofloxacin, levofloxacin]
key_message: Risk för **aortaaneurysm** och [dissektion](https://www.ema.europa.eu)
opening: Bayer och Sanofi vill informera om följande.
summary:
  - Ökad risk hos **1-3 %** av patienterna.
  - Grekiska αβγδ Ωμέγα och bulgariska Български език.
background:
  - |
    En lista:

    - första *punkten*
    - andra punkten
"""


@pytest.fixture(scope="module")
def class_wide(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A class-wide draft letter (two products, two MAHs, two signatories) rendered once."""
    folder = tmp_path_factory.mktemp("content") / "fluoroquinolones-2026"
    folder.mkdir()
    (folder / "dhpc.yaml").write_text(CLASS_WIDE_META, encoding="utf-8")
    (folder / "sv.yaml").write_text(CLASS_WIDE_SV, encoding="utf-8")
    out = tmp_path_factory.mktemp("out")
    build(load_dhpc(folder), out)
    return out / "fluoroquinolones-2026" / "fluoroquinolones-2026_sv.pdf"


def test_class_wide_letter_metadata_is_plain_text(class_wide: Path) -> None:
    info = PdfReader(class_wide).metadata
    assert info is not None
    title = "Ciprofloxacin (CIPROXIN▼), levofloxacin (TAVANIC): Risk för aortaaneurysm och"
    assert info.title is not None and info.title.startswith(title), info.title
    assert "*" not in info.title and "](" not in info.title
    assert info.subject is not None and "*" not in info.subject
    assert info.author == "Bayer AB, Sanofi AB"


def test_class_wide_letter_prints_every_product_mah_and_signatory(class_wide: Path) -> None:
    text = " ".join(pdftotext(class_wide).split())
    for expected in (
        "CIPROXIN▼",
        "TAVANIC)",
        "▼ Detta läkemedel är föremål för utökad övervakning",
        "Bayer AB, info@bayer.se",
        "Sanofi AB, info@sanofi.se",
        "Åsa Ström",
        "Jöns Ødegård",
        "αβγδ Ωμέγα",
        "Български език",
    ):
        assert expected in text, expected
    assert "**" not in text
    assert all("UTKAST" in page for page in page_texts(class_wide))
    for row in font_rows(class_wide):
        assert row[0].split("+")[-1].startswith("Letter-Sans"), row


def test_belgian_letter_in_dutch_french_and_german(tmp_path: Path) -> None:
    """Belgium sends in three languages: each has a complete catalog and its FAMHP block."""
    folder = tmp_path / "fluoroquinolones-2026"
    folder.mkdir()
    meta = CLASS_WIDE_META.replace("country: SE", "country: BE")
    meta = meta.replace("languages: [sv]", "languages: [nl, fr, de]")
    (folder / "dhpc.yaml").write_text(
        meta.replace("source_language: sv", "source_language: nl"), encoding="utf-8"
    )
    for language in ("nl", "fr", "de"):
        text = CLASS_WIDE_SV.replace("language: sv", f"language: {language}")
        (folder / f"{language}.yaml").write_text(text, encoding="utf-8")
    dhpc = load_dhpc(folder)
    expected = {
        "nl": ("Samenvatting", "ONTWERP", "5 maart 2026", "aanvullende monitoring", "www.fagg.be"),
        "fr": ("Résumé", "PROJET", "5 mars 2026", "surveillance supplémentaire", "www.afmps.be"),
        "de": (
            "Zusammenfassung",
            "ENTWURF",
            "5. März 2026",
            "zusätzlichen Überwachung",
            "Föderalagentur",
        ),
    }
    for language, words in expected.items():
        # Soft hyphens and no-break spaces of the typesetting aside.
        html = render_html(dhpc, language).replace("\u00ad", "").replace("\u00a0", " ")
        for word in words:
            assert word in html, (language, word)


def test_language_without_a_reporting_block_names_the_line(example_dir: Path) -> None:
    meta = example_dir / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("country: FI", "country: SE"), encoding="utf-8"
    )
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(example_dir)])
    assert result.exit_code == 1
    assert re.search(
        r"dhpc\.yaml:\d+ languages\[1\]: the regulator registry has no 'fi' reporting block "
        r"for SE \(it has sv\): add one to dhpc_gen/regulators/data/SE\.yaml",
        result.output,
    ), result.output
    assert not list(example_dir.rglob("*.pdf"))


def test_one_warm_renderer_gives_the_recorded_bytes_in_any_order() -> None:
    """Letters laid out one after another by the same renderer (fonts, template and colour
    profile kept) are the golden bytes whichever came first, and again the second time."""
    golden = json.loads(GOLDEN.read_text(encoding="utf-8"))["files"]
    renderer = LetterRenderer()
    dhpc = load_dhpc(EXAMPLE)
    for language in ("fi", "sv", "fi"):
        letter = render_letter(dhpc, language, renderer=renderer)
        assert sha256_bytes(letter.pdf) == golden[letter.filename], language
