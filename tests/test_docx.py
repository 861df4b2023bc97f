"""Word in and out, through a real word processor: LibreOffice opens and saves every document.

One LibreOffice run (module fixture) re-saves the Swedish and Finnish exports, a returned
document with tracked changes and comments, and converts a DHPC typed as HTML into .docx.
"""

from __future__ import annotations

import difflib
import filecmp
import json
import shutil
from pathlib import Path

import docx
import pytest
from click.testing import CliRunner
from ruamel.yaml import YAML

from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.fields import text_fields
from dhpc_gen.exchange.docx_write import PROPERTY_CONTENT, PROPERTY_ID, export_docx
from tests.conftest import EXAMPLE, PROJECT
from tests.docx_helpers import (
    add_comments,
    edit_document,
    libreoffice_convert,
    paragraph,
    tracked_delete_paragraph,
    tracked_insert,
    tracked_replace,
)
from tests.pdf_helpers import pdftotext

DATA = PROJECT / "tests" / "data"
TYPED = DATA / "typed-dhpc-en.html"
TYPED_CLASS_WIDE = DATA / "typed-classwide-fr.html"
WHEN = "2024-05-02T10:00:00Z"


def make_returned(exported: Path, target: Path) -> None:
    """The Swedish export as Fimea might send it back: tracked changes and two comments."""

    def edit(root: object, parts: dict[str, bytes]) -> None:
        bullet = paragraph(root, "Leverfunktion")
        tracked_replace(
            bullet, "före och under", "före, under och efter", author="Fimea", date=WHEN, number=10
        )
        tracked_delete_paragraph(
            paragraph(root, "Patienter ska uppmanas"), author="Fimea", date=WHEN, number=20
        )
        tracked_insert(
            paragraph(root, "Patienter som står på"),
            " Se produktresumén.",
            author="Fimea",
            date=WHEN,
            number=30,
        )
        add_comments(
            root,
            parts,
            [
                (bullet, "utvärderas", "Fimea granskare", WHEN, "Ska det vara 'bedömas'?"),
                (paragraph(root, "webbplats:"), "", "Fimea", WHEN, "Kontrollera adressen."),
            ],
        )

    edit_document(exported, target, edit)


@pytest.fixture(scope="module")
def saved(tmp_path_factory: pytest.TempPathFactory) -> dict[str, Path]:
    """Every document the tests need, as LibreOffice saved it (one soffice run)."""
    work = tmp_path_factory.mktemp("libreoffice")
    sources = work / "in"
    sources.mkdir()
    export_docx(EXAMPLE, sources / "lemtrada_sv.docx", language="sv")
    export_docx(EXAMPLE, sources / "lemtrada_fi.docx", language="fi")
    make_returned(sources / "lemtrada_sv.docx", sources / "returned_sv.docx")
    shutil.copy(TYPED, sources / TYPED.name)
    shutil.copy(TYPED_CLASS_WIDE, sources / TYPED_CLASS_WIDE.name)
    files = sorted(sources.iterdir())
    converted = libreoffice_convert(files, work / "out", work / "profile")
    found = {path.stem: path for path in converted}
    found["returned_sv_python"] = sources / "returned_sv.docx"
    return found


@pytest.fixture(scope="module")
def original_words(tmp_path_factory: pytest.TempPathFactory) -> dict[str, list[str]]:
    out = tmp_path_factory.mktemp("original")
    result = CliRunner().invoke(main, ["build", str(EXAMPLE), "--out", str(out)])
    assert result.exit_code == 0, result.output
    return {
        language: pdftotext(out / "lemtrada-2019" / f"lemtrada-2019_{language}.pdf").split()
        for language in ("sv", "fi")
    }


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def texts(directory: Path, language: str) -> dict[str, str]:
    return {f.path: f.text for f in text_fields(load_dhpc(directory).text(language))}


# --- export ------------------------------------------------------------------------------


def test_export_uses_word_styles_and_names_its_content(tmp_path: Path) -> None:
    first, second = tmp_path / "a.docx", tmp_path / "b.docx"
    export_docx(EXAMPLE, first, language="sv")
    export_docx(EXAMPLE, second, language="sv")
    assert first.read_bytes() == second.read_bytes()  # same content, same bytes

    document = docx.Document(str(first))
    styles = [p.style.name for p in document.paragraphs if p.text.strip()]
    assert styles[1] == "Title" and styles.count("Heading 2") == 3
    cells = [p for t in document.tables for c in t._cells for p in c.paragraphs]
    assert [p.style.name for p in cells] == ["Heading 1"] + ["List Bullet"] * 5
    assert cells[0].text == "Sammanfattning"
    props = document.core_properties
    assert props.title.startswith("Alemtuzumab (LEMTRADA): Begränsad användning")
    assert (props.language, props.identifier) == ("sv-FI", "lemtrada-2019")
    section = document.sections[0]
    assert (round(section.page_width.mm), round(section.page_height.mm)) == (210, 297)
    custom = _custom_properties(first)
    assert custom[PROPERTY_ID] == "lemtrada-2019"
    dhpc = load_dhpc(EXAMPLE)
    from dhpc_gen.build import language_hash

    assert custom[PROPERTY_CONTENT] == language_hash(dhpc, "sv")


def _custom_properties(path: Path) -> dict[str, str]:
    import zipfile

    from lxml import etree

    with zipfile.ZipFile(path) as archive:
        root = etree.fromstring(archive.read("docProps/custom.xml"))
    return {p.get("name"): "".join(p.itertext()) for p in root}


def test_export_command_default_path_and_unknown_language(
    example_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.chdir(tmp_path)
    code, out, _ = run("export-docx", str(example_dir), "--lang", "fi")
    assert code == 0, out
    assert (tmp_path / "output" / "lemtrada-2019" / "lemtrada-2019_fi.docx").is_file()
    code, _, err = run("export-docx", str(example_dir), "--lang", "de")
    assert code == 2 and "sent in sv, fi" in err


# --- round trips through LibreOffice -----------------------------------------------------


def test_unchanged_export_saved_by_libreoffice_changes_no_byte(
    example_dir: Path, saved: dict[str, Path]
) -> None:
    for language in ("sv", "fi"):
        code, out, err = run("import-docx", str(saved[f"lemtrada_{language}"]), str(example_dir))
        assert code == 0, err
        assert f"{language}.yaml unchanged: 0 changed, 0 added, 0 removed, 20 unchanged" in out
    comparison = filecmp.dircmp(EXAMPLE, example_dir)
    assert not comparison.diff_files and not comparison.left_only and not comparison.right_only
    for name in comparison.common_files:
        assert (EXAMPLE / name).read_bytes() == (example_dir / name).read_bytes(), name


@pytest.mark.parametrize("language", ["sv", "fi"])
def test_libreoffice_round_trip_into_a_new_folder_builds_the_same_letter(
    language: str,
    saved: dict[str, Path],
    original_words: dict[str, list[str]],
    tmp_path: Path,
) -> None:
    folder = tmp_path / "content" / "lemtrada-2019"
    code, out, err = run("import-docx", str(saved[f"lemtrada_{language}"]), str(folder))
    assert code == 0, err
    assert "dhpc.yaml created" in out and f"{language}.yaml created" in out
    imported = load_dhpc(folder)
    example = load_dhpc(EXAMPLE)
    assert imported.meta.country == "FI" and imported.meta.languages == (language,)
    for fact in ("date", "status", "products", "mahs", "signatories", "address_sources"):
        assert getattr(imported.meta, fact) == getattr(example.meta, fact), fact
    assert texts(folder, language) == texts(EXAMPLE, language)

    code, _, err = run("build", str(folder), "--out", str(tmp_path / "out"))
    assert code == 0, err
    words = pdftotext(tmp_path / "out" / "lemtrada-2019" / f"lemtrada-2019_{language}.pdf").split()
    similarity = difflib.SequenceMatcher(
        None, words, original_words[language], autojunk=False
    ).ratio()
    assert similarity >= 0.99, similarity


def test_typed_word_document_starts_a_dhpc_that_builds_and_checks(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    folder = tmp_path / "content" / "fictiva-2025"
    code, out, err = run("import-docx", str(saved["typed-dhpc-en"]), str(folder))
    assert code == 0, err
    assert "en (from its headings), country IE" in out
    assert "'Direct Healthcare Professional Communication' before the title" in out

    dhpc = load_dhpc(folder)
    meta = dhpc.meta
    assert (meta.id, meta.country, meta.status, meta.date.isoformat()) == (
        "fictiva-2025",
        "IE",
        "draft",
        "2025-03-12",
    )
    assert [(p.name, p.additional_monitoring) for p in meta.products] == [("Fictiva", True)]
    assert [(m.name, m.email, m.phone) for m in meta.mahs] == [
        ("Fictional Pharma Ltd", "medinfo@fictional-pharma.example", "+353 1 555 0100")
    ]
    assert [(s.name, s.title, s.company) for s in meta.signatories] == [
        ("Dr Jane Doe", "Head of Medical Affairs", "Fictional Pharma Ltd")
    ]
    text = dhpc.text("en")
    assert text.active_substances == ("fictinib",)
    assert text.key_message.startswith("risk of severe liver injury")
    assert text.salutation == "Dear Healthcare professional,"
    assert len(text.summary) == 3 and "tested **before** the first dose" in text.summary[1]
    assert "[EMA website](https://www.ema.europa.eu/en/medicines)" in text.background[1]
    assert [s.heading for s in text.sections] == ["Advice for patients"]
    assert (
        text.sections[0]
        .paragraphs[0]
        .endswith(
            "following:\n- yellowing of the skin or eyes;\n- dark urine or *unusual* tiredness."
        )
    )
    assert text.contact_points[0].department == "Medical Information"
    assert not text.reporting  # the table is the registry's block, not text of the letter

    code, out, err = run("check", str(folder), "--only", "structure")
    assert code == 0, out + err
    code, _, err = run("build", str(folder), "--out", str(tmp_path / "out"))
    assert code == 0, err
    printed = " ".join(pdftotext(tmp_path / "out" / "fictiva-2025" / "fictiva-2025_en.pdf").split())
    assert "Fictinib (FICTIVA▼): risk of severe liver injury" in printed
    assert "HPRA Pharmacovigilance Website: www.hpra.ie" in printed


def test_typed_class_wide_letter_with_appendix_v_row_starts_a_belgian_dhpc(
    saved: dict[str, Path], tmp_path: Path
) -> None:
    """Two products of one substance, each with ▼, and Appendix V's French row pasted
    whole (Belgium and Luxembourg): three products, and only Belgium's block printed."""
    folder = tmp_path / "content" / "velitamab-fr"
    code, out, err = run("import-docx", str(saved["typed-classwide-fr"]), str(folder))
    assert code == 0, err
    assert "fr (from its headings), country BE" in out
    assert "also has Luxembourg's part (LU)" in out
    assert "'Belgique'" not in out  # the country's own name heads its part: no difference

    dhpc = load_dhpc(folder)
    assert [(p.name, p.additional_monitoring) for p in dhpc.meta.products] == [
        ("Zentravo", True),
        ("Zentravo Pen", True),
        ("Quorvix", False),
    ]
    text = dhpc.text("fr")
    assert text.active_substances == ("vélitamab", "vélitamab", "doratamab")
    assert not text.reporting  # neither Luxembourg's part nor Belgium's is the letter's text

    code, _, err = run("build", str(folder), "--out", str(tmp_path / "out"))
    assert code == 0, err
    printed = " ".join(pdftotext(tmp_path / "out" / "velitamab-fr" / "velitamab-fr_fr.pdf").split())
    assert "Vélitamab (ZENTRAVO▼, ZENTRAVO PEN▼), doratamab (QUORVIX)" in printed
    assert "www.notifieruneffetindesirable.be" in printed
    assert "guichet.lu" not in printed and "Nancy" not in printed


# --- the authority's changes back --------------------------------------------------------


@pytest.mark.parametrize("made_by", ["returned_sv_python", "returned_sv"])
def test_tracked_changes_accepted_and_every_change_and_comment_reported(
    made_by: str, example_dir: Path, saved: dict[str, Path]
) -> None:
    finnish = (example_dir / "fi.yaml").read_bytes()
    code, out, err = run("import-docx", str(saved[made_by]), str(example_dir), "--format", "json")
    assert code == 0, err
    report = json.loads(out)
    assert report["written"] and not report["refused"]
    assert report["fields"] == {
        "changed": ["summary[2]", "background[2]"],
        "added": [],
        "removed": ["summary[4]"],
        "whitespace_only": [],
        "unchanged": 17,
    }
    changes = [(c["field"], c["kind"], c["text"], c["author"]) for c in report["tracked_changes"]]
    assert ("summary[2]", "deleted", "före och under", "Fimea") in changes
    assert ("summary[2]", "inserted", "före, under och efter", "Fimea") in changes
    assert ("background[2]", "inserted", "Se produktresumén.", "Fimea") in changes
    assert [c[0] for c in changes if c[2].startswith("Patienter ska uppmanas")] == ["summary[4]"]
    assert len(changes) == 4
    comments = [
        (c["author"], c["date"], c["text"], c["fields"], c["anchor"]) for c in report["comments"]
    ]
    assert comments[0] == (
        "Fimea granskare",
        WHEN,
        "Ska det vara 'bedömas'?",
        ["summary[2]"],
        "utvärderas",
    )
    assert comments[1][:4] == (
        "Fimea",
        WHEN,
        "Kontrollera adressen.",
        ["the reporting block (from the registry)"],
    )
    text = load_dhpc(example_dir).text("sv")
    assert text.summary[2] == "Leverfunktion ska utvärderas före, under och efter behandling."
    assert len(text.summary) == 4
    assert text.background[2].endswith("i samråd med förskrivaren. Se produktresumén.")
    assert (example_dir / "fi.yaml").read_bytes() == finnish
    yaml = (example_dir / "sv.yaml").read_text(encoding="utf-8")
    assert yaml.startswith("# Swedish: the letter as printed in 2019")  # comments stay


def test_field_changes_have_a_heading_of_their_own(example_dir: Path, tmp_path: Path) -> None:
    """Printed after the comments, the changed fields must not read as more comments."""
    exported, returned = tmp_path / "sv.docx", tmp_path / "returned_sv.docx"
    export_docx(example_dir, exported, language="sv")
    make_returned(exported, returned)
    code, out, err = run("import-docx", str(returned), str(example_dir), "--dry-run")
    assert code == 0, err
    lines = out.splitlines()
    heading = lines.index(f"Fields of {example_dir / 'sv.yaml'} (3):")
    assert lines.index("Comments (2):") < heading
    assert lines[heading + 1 : heading + 4] == [
        "  changed summary[2]",
        "  changed background[2]",
        "  removed summary[4]",
    ]
    assert lines[heading + 4].endswith("would change: 2 changed, 0 added, 1 removed, 17 unchanged")


def test_tracked_changes_refused_until_resolved(example_dir: Path, saved: dict[str, Path]) -> None:
    before = (example_dir / "sv.yaml").read_bytes()
    code, out, err = run(
        "import-docx", str(saved["returned_sv"]), str(example_dir), "--changes", "refuse"
    )
    assert code == 1
    assert "has 4 tracked change(s); nothing was written" in err
    assert "Tracked changes (4, refused):" in out
    assert "summary[2]: deleted 'före och under' (Fimea, 2024-05-02)" in out
    assert "summary[2] on 'utvärderas' — Fimea granskare, 2024-05-02" in out
    assert "sv.yaml not written" in out
    assert (example_dir / "sv.yaml").read_bytes() == before


def test_registry_block_and_facts_that_differ_are_reported_not_written(
    example_dir: Path, saved: dict[str, Path]
) -> None:
    meta = example_dir / "dhpc.yaml"
    data = YAML(typ="rt").load(meta.read_text(encoding="utf-8"))
    data["mahs"][0]["phone"] = "0201 200 369"
    with meta.open("w", encoding="utf-8") as handle:
        YAML(typ="rt").dump(data, handle)
    before = meta.read_bytes()
    code, out, err = run("import-docx", str(saved["returned_sv"]), str(example_dir))
    assert code == 0, err
    assert "the company telephone reads '0201 200 368', dhpc.yaml '0201 200 369'" in out
    assert "changed since" in err  # the content hash of the export no longer matches
    assert "(dhpc.yaml is not changed)" in out
    assert meta.read_bytes() == before
