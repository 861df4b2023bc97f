"""The catalogs of every EEA language: complete, dated, printable, and honest about review."""

from __future__ import annotations

import datetime as dt
import io
import json
import logging
import re
import shutil
import subprocess
import sys
import unicodedata
from html import escape
from pathlib import Path

import pytest
from babel.messages.catalog import Catalog
from babel.messages.pofile import read_po, write_po
from click.testing import CliRunner
from fontTools.ttLib import TTFont
from pdf_helpers import font_rows, pdftotext
from pypdf import PdfReader
from pypdf.generic import DictionaryObject
from review_helpers import Workspace, edit_yaml, make_workspace

from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.i18n import (
    SOURCE_LANGUAGE,
    UNREVIEWED_FLAG,
    available_languages,
    catalog_path,
    long_date,
    translations,
)
from dhpc_gen.regulators import registry
from dhpc_gen.render.pdf import pdf_identifier, write_pdf
from dhpc_gen.resources import ASSETS_DIR, LOCALES_DIR, PROJECT_DIR
from dhpc_gen.review.checks import check_catalog, placeholders
from dhpc_gen.review.extract import dates
from dhpc_gen.review.findings import Finding

EEA_LANGUAGES = ("bg", "cs", "da", "de", "el", "en", "es", "et", "fi", "fr", "ga", "hr", "hu")
EEA_LANGUAGES += ("is", "it", "lt", "lv", "mt", "nl", "nb", "pl", "pt", "ro", "sk", "sl", "sv")
"""The official languages of the EEA countries (Norwegian as Bokmål)."""

REGISTRY_ALIASES = {"no": "nb"}
"""The registry files Norway's block as 'no'; the catalog is Bokmål, 'nb'."""


def _read(path: Path) -> Catalog:
    with path.open("rb") as handle:
        catalog: Catalog = read_po(handle, abort_invalid=True)
    return catalog


TEMPLATE = _read(LOCALES_DIR / "messages.pot")
MSGIDS = [str(m.id) for m in TEMPLATE if m.id]
CATALOGS = sorted(p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))


# --- every language, every entry ------------------------------------------------------------


def test_every_eea_language_has_a_catalog_babel_knows() -> None:
    assert set(EEA_LANGUAGES) <= set(available_languages())


@pytest.mark.parametrize("language", CATALOGS)
def test_catalog_translates_every_msgid_of_the_template(language: str) -> None:
    catalog = _read(catalog_path(language))
    assert str(catalog.locale) == language
    problems = []
    for msgid in MSGIDS:
        message = catalog.get(msgid)
        if message is None or not message.string:
            problems.append(f"{msgid!r}: not translated")
        elif message.fuzzy:
            problems.append(f"{msgid!r}: fuzzy")
        elif placeholders(msgid) != sorted(set(placeholders(str(message.string)))):
            problems.append(f"{msgid!r}: placeholders differ")
    assert problems == []
    assert not catalog.obsolete
    assert {str(m.id) for m in catalog if m.id} == set(MSGIDS)
    if language != SOURCE_LANGUAGE:
        # A catalog copied from English is not a translation ("tel:" may stay as it is).
        same = [i for i in MSGIDS if str(catalog[i].string) == i and i != "tel:"]
        assert same == []


@pytest.mark.parametrize("language", CATALOGS)
def test_compiled_catalog_gives_every_translation(language: str) -> None:
    compiled = translations(language)
    assert compiled.translated == frozenset(MSGIDS)
    for msgid in MSGIDS:
        text = compiled.translations.gettext(msgid)
        assert text, msgid
        # Formatting with the letter's own placeholders works in every language.
        assert text % dict.fromkeys(re.findall(r"%\((\w+)\)s", msgid), "X")


# --- review marks ---------------------------------------------------------------------------

PRINTED_IN_LEMTRADA = {
    "Address source",
    "Background on the safety concern",
    "Call for reporting",
    "Company contact point",
    "Summary",
    "To healthcare professionals",
    "Yours sincerely,",
    "tel:",
}


def _unreviewed(language: str, locales: Path = LOCALES_DIR) -> set[str]:
    return {str(m.id) for m in _read(catalog_path(language, locales)) if UNREVIEWED_FLAG in m.flags}


@pytest.mark.parametrize("language", sorted(set(CATALOGS) - {"en", "sv"}))
def test_no_native_speaker_has_reviewed_these_catalogs(language: str) -> None:
    assert _unreviewed(language) == set(MSGIDS)


def test_swedish_entries_count_as_reviewed_only_where_the_printed_letter_has_them() -> None:
    catalog = _read(catalog_path("sv"))
    assert _unreviewed("sv") == set(MSGIDS) - PRINTED_IN_LEMTRADA
    for msgid in PRINTED_IN_LEMTRADA:
        comments = catalog[msgid].user_comments
        assert any("As printed in the Lemtrada DHPC" in c for c in comments), msgid


def test_english_is_the_language_of_the_msgids_and_has_no_marks() -> None:
    assert _unreviewed("en") == set()


@pytest.fixture
def ws(tmp_path: Path) -> Workspace:
    return make_workspace(tmp_path)


def _notes(ws: Workspace) -> list[Finding]:
    found = check_catalog(load_dhpc(ws.content), ws.locales)
    return [f for f in found if f.code == "unreviewed"]


def _mark_reviewed(ws: Workspace, language: str, msgids: set[str]) -> None:
    """Clear the flag of ``msgids``, as a reviewer does on each entry's ``#,`` line."""
    path = catalog_path(language, ws.locales)
    catalog = _read(path)
    for msgid in msgids:
        catalog[msgid].flags.discard(UNREVIEWED_FLAG)
    buffer = io.BytesIO()
    write_po(buffer, catalog, width=100, no_location=True)
    path.write_bytes(buffer.getvalue())


def test_unreviewed_catalog_is_one_note_with_its_own_code(ws: Workspace) -> None:
    notes = _notes(ws)
    (fi,) = [f for f in notes if f.language == "fi"]
    assert (fi.check, fi.severity, fi.code, fi.field) == ("catalog", "note", "unreviewed", "")
    assert fi.file.endswith("locales/fi/LC_MESSAGES/messages.po")
    assert f"all {len(MSGIDS)} entries are flagged 'unreviewed'" in fi.message
    # Swedish: one note per entry not in the printed letter, each at its line.
    sv = [f for f in notes if f.language == "sv"]
    assert {f.field for f in sv} == {f"msgid {m!r}" for m in set(MSGIDS) - PRINTED_IN_LEMTRADA}
    po_lines = catalog_path("sv", ws.locales).read_text(encoding="utf-8").splitlines()
    for finding in sv:
        assert finding.line is not None and po_lines[finding.line - 1].startswith("msgid")


def test_reviewer_clearing_entries_leaves_the_others_listed(ws: Workspace) -> None:
    _mark_reviewed(ws, "fi", {"Summary", "DRAFT"})
    fi = [f for f in _notes(ws) if f.language == "fi"]
    assert len(fi) == len(MSGIDS) - 2
    assert {"msgid 'Summary'", "msgid 'DRAFT'"}.isdisjoint(f.field for f in fi)
    _mark_reviewed(ws, "fi", set(MSGIDS) - {"Summary", "DRAFT"})
    assert [f for f in _notes(ws) if f.language == "fi"] == []


def test_only_the_dhpcs_languages_and_the_printed_words_are_listed(ws: Workspace) -> None:
    edit_yaml(ws.content / "dhpc.yaml", lambda data: data.__setitem__("languages", ["sv"]))
    edit_yaml(ws.content / "dhpc.yaml", lambda data: data.__setitem__("source_language", "sv"))
    (ws.content / "fi.yaml").unlink()
    assert {f.language for f in _notes(ws)} == {"sv"}
    # A phrase the letter replaces with its own words is not the catalog's to review.
    edit_yaml(ws.content / "sv.yaml", lambda data: data.insert(1, "boilerplate", {"DRAFT": "X"}))
    assert "msgid 'DRAFT'" not in {f.field for f in _notes(ws)}


def test_fuzzy_or_untranslated_stays_an_error_not_a_note(ws: Workspace) -> None:
    path = catalog_path("fi", ws.locales)
    text = path.read_text(encoding="utf-8")
    text = text.replace('#, unreviewed\nmsgid "Summary"', '#, fuzzy, unreviewed\nmsgid "Summary"')
    text = text.replace('msgstr "LUONNOS"', 'msgstr ""')
    path.write_text(text, encoding="utf-8")
    found = check_catalog(load_dhpc(ws.content), ws.locales)
    fi = {(f.field, f.severity, f.code) for f in found if f.language == "fi"}
    assert ("msgid 'Summary'", "error", "fuzzy") in fi
    assert ("msgid 'DRAFT'", "error", "untranslated") in fi
    # Every entry it prints is still unreviewed: one note for the catalog.
    (note,) = [f for f in found if f.language == "fi" and f.severity == "note"]
    assert note.field == "" and f"all {len(MSGIDS) - 2} entries are flagged" in note.message


def test_command_lists_notes_and_they_never_fail(ws: Workspace) -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["check", str(ws.content), "--strict"])
    assert result.exit_code == 0, result.output
    assert re.search(r"fi/LC_MESSAGES/messages\.po: note \[catalog:unreviewed\] ", result.stdout)
    assert "0 errors, 0 warnings, 8 notes (catalog 8)" in result.stdout
    result = runner.invoke(main, ["check", str(ws.content), "--format", "json", "--strict"])
    assert result.exit_code == 0
    document = json.loads(result.stdout)
    assert document["counts"]["note"] == 8 and document["counts"]["warning"] == 0
    assert document["counts"]["by_check"]["catalog"] == {"error": 0, "warning": 0, "note": 8}
    assert {(f["severity"], f["code"]) for f in document["findings"]} == {("note", "unreviewed")}


def test_bundled_example_passes_strict_with_its_notes() -> None:
    result = CliRunner().invoke(main, ["check", str(PROJECT_DIR / "content" / "lemtrada-2019")])
    assert result.exit_code == 0
    assert "8 notes" in result.stdout


# --- make i18n keeps the marks --------------------------------------------------------------


@pytest.fixture
def project_copy(tmp_path: Path) -> Path:
    """What ``make i18n`` reads and writes, in a folder of its own."""
    root = tmp_path / "project"
    for name in ("dhpc_gen", "templates", "locales"):
        shutil.copytree(PROJECT_DIR / name, root / name, ignore=shutil.ignore_patterns("*.pyc"))
    for name in ("Makefile", "babel.cfg", "babel-serve.cfg"):
        shutil.copy2(PROJECT_DIR / name, root / name)
    return root


def _make_i18n(root: Path) -> None:
    bin_dir = Path(sys.executable).parent
    assert (bin_dir / "pybabel").is_file(), "pybabel must be installed next to the test's Python"
    subprocess.run(
        ["make", "-s", "-C", str(root), "i18n", f"BIN={bin_dir}", "STAMP="],
        check=True,
        capture_output=True,
        text=True,
    )


def _entries(
    locales: Path, language: str
) -> dict[str, tuple[str, frozenset[str], tuple[str, ...]]]:
    return {
        str(m.id): (str(m.string), frozenset(m.flags), tuple(m.user_comments))
        for m in _read(catalog_path(language, locales))
        if m.id
    }


def test_make_i18n_keeps_the_marks_and_adds_new_phrases_untranslated(project_copy: Path) -> None:
    locales = project_copy / "locales"
    before = {language: _entries(locales, language) for language in CATALOGS}
    header = {
        language: _read(catalog_path(language, locales)).header_comment for language in CATALOGS
    }
    # The templates gain a phrase, as they do when a new section is added.
    letter = project_copy / "templates" / "letter.html"
    letter.write_text(
        letter.read_text(encoding="utf-8").replace(
            "</body>", "<p>{{ _('Annex: product information') }}</p>\n</body>"
        ),
        encoding="utf-8",
    )
    _make_i18n(project_copy)
    new_id = "Annex: product information"
    assert new_id in {str(m.id) for m in _read(locales / "messages.pot")}
    for language in CATALOGS:
        after = _entries(locales, language)
        assert after.pop(new_id)[0] == "", language  # to translate: an error until it is
        assert after == before[language], language  # msgstr, flags (unreviewed), comments
        assert _read(catalog_path(language, locales)).header_comment == header[language]
    assert _unreviewed("fi", locales) == set(MSGIDS)


def test_template_file_is_up_to_date_with_the_templates(project_copy: Path) -> None:
    _make_i18n(project_copy)
    extracted = _read(project_copy / "locales" / "messages.pot")
    assert [str(m.id) for m in extracted if m.id] == MSGIDS, "run make i18n"
    for language in CATALOGS:  # and the catalogs are as pybabel writes them
        written = catalog_path(language, project_copy / "locales").read_text(encoding="utf-8")
        committed = catalog_path(language).read_text(encoding="utf-8")
        date = re.compile(r'"POT-Creation-Date: [^"]*"')
        assert date.sub("", written) == date.sub("", committed), language


# --- dates ----------------------------------------------------------------------------------

LETTER_DATES = {
    "bg": "24 април 2019\u202fг.",  # a narrow no-break space before the "г." of "година"
    "cs": "24. dubna 2019",
    "da": "24. april 2019",
    "de": "24. April 2019",
    "el": "24 Απριλίου 2019",
    "en": "24 April 2019",
    "es": "24 de abril de 2019",
    "et": "24. aprill 2019",
    "fi": "24. huhtikuuta 2019",
    "fr": "24 avril 2019",
    "ga": "24 Aibreán 2019",
    "hr": "24. travnja 2019.",
    "hu": "2019. április 24.",
    "is": "24. apríl 2019",
    "it": "24 aprile 2019",
    "lt": "2019 m. balandžio 24 d.",
    "lv": "2019. gada 24. aprīlis",
    "mt": "24 ta’ April 2019",
    "nb": "24. april 2019",
    "nl": "24 april 2019",
    "pl": "24 kwietnia 2019",
    "pt": "24 de abril de 2019",
    "ro": "24 aprilie 2019",
    "sk": "24. apríla 2019",
    "sl": "24. april 2019",
    "sv": "24 april 2019",
}
"""24 April 2019 as a letter in each language writes it."""


@pytest.mark.parametrize("language", EEA_LANGUAGES)
def test_long_date_is_what_a_letter_writes(language: str) -> None:
    assert long_date(dt.date(2019, 4, 24), language) == LETTER_DATES[language]


@pytest.mark.parametrize(
    ("language", "country", "expected"),
    [
        ("fr", None, "1er janvier 2020"),
        ("fr", "BE", "1er janvier 2020"),
        ("de", "AT", "1. Jänner 2020"),
        ("de", "DE", "1. Januar 2020"),
        ("de", "BE", "1. Januar 2020"),
        ("en", "MT", "1 January 2020"),
        ("pt", "PT", "1 de janeiro de 2020"),
        ("sv", "FI", "1 januari 2020"),
    ],
)
def test_first_of_the_month_and_national_forms(
    language: str, country: str | None, expected: str
) -> None:
    assert long_date(dt.date(2020, 1, 1), language, country) == expected


@pytest.mark.parametrize("language", EEA_LANGUAGES)
def test_numbers_check_reads_each_languages_dates_back(language: str) -> None:
    """Every day of two years, written by long_date, is the same date to ``dhpc check``."""
    wrong = []
    day = dt.date(2019, 1, 1)
    while day.year < 2021:
        for country in (None, "AT"):
            text = long_date(day, language, country)
            found = [t.value for t in dates(f"Den {text} gäller.", language)]
            if found != [day.isoformat()]:
                wrong.append((text, found))
        day += dt.timedelta(days=1)
    assert wrong == []


# --- glyphs ---------------------------------------------------------------------------------

LETTERS = {
    "bg": "АБВГДЕЖЗИЙКЛМНОПРСТУФХЦЧШЩЪЬЮЯ абвгдежзийклмнопрстуфхцчшщъьюя ѝ „…“ №",
    "cs": "ÁČĎÉĚÍŇÓŘŠŤÚŮÝŽ áčďéěíňóřšťúůýž „…“",
    "da": "ÆØÅ æøå",
    "de": "ÄÖÜẞ äöüß „…“ ‚…‘",
    "el": "ΑΒΓΔΕΖΗΘΙΚΛΜΝΞΟΠΡΣΤΥΦΧΨΩ αβγδεζηθικλμνξοπρσςτυφχψω ΆΈΉΊΌΎΏ άέήίόύώ ΪΫϊϋΐΰ «…» ;",
    "en": "£ € ‘…’ “…”",
    "es": "ÁÉÍÑÓÚÜ áéíñóúü ¿¡ ª º «…»",
    "et": "ÄÕÖÜŠŽ äõöüšž",
    "fi": "ÄÖÅŠŽ äöåšž",
    "fr": "ÀÂÆÇÉÈÊËÎÏÔŒÙÛÜŸ àâæçéèêëîïôœùûüÿ « … » ’",
    "ga": "ÁÉÍÓÚ áéíóú",
    "hr": "ČĆĐŠŽ čćđšž Ǆǅǆ Ǉǈǉ Ǌǋǌ",
    "hu": "ÁÉÍÓÖŐÚÜŰ áéíóöőúüű „…”",
    "is": "ÁÐÉÍÓÚÝÞÆÖ áðéíóúýþæö",
    "it": "ÀÈÉÌÒÓÙ àèéìòóù",
    "lt": "ĄČĘĖĮŠŲŪŽ ąčęėįšųūž",
    "lv": "ĀČĒĢĪĶĻŅŠŪŽ āčēģīķļņšūž",
    "mt": "ĊĠĦŻ ċġħż ÀÈÌÒÙ àèìòù ’",
    "nb": "ÆØÅ æøå",
    "nl": "ÉËÏÓÖÜ éëïóöü Ĳ ĳ",
    "pl": "ĄĆĘŁŃÓŚŹŻ ąćęłńóśźż „…”",
    "pt": "ÁÂÃÀÇÉÊÍÓÔÕÚ áâãàçéêíóôõú ª º",
    "ro": "ĂÂÎȘȚ ăâîșț ŞŢ şţ „…”",
    "sk": "ÁÄČĎÉÍĹĽŇÓÔŔŠŤÚÝŽ áäčďéíĺľňóôŕšťúýž",
    "sl": "ČŠŽ čšž",
    "sv": "ÅÄÖ åäö ”…”",
}
"""The letters each language has beyond ASCII, and its quotation marks."""

COMMON = "▼ – — … • € § ° ± × µ ≤ ≥ ½ ‰ ™ ® ©"
"""Signs a DHPC of any language may print: the black triangle, doses, ranges."""

FACES = ("Regular", "Bold", "Italic", "BoldItalic")
LANGUAGES = sorted(
    set(CATALOGS)
    | {REGISTRY_ALIASES.get(r.language, r.language) for r in registry.all_regulators()}
)


def _texts(language: str) -> list[str]:
    """Every string a letter in ``language`` may print from the catalog and registry."""
    compiled = translations(language).translations
    texts = [compiled.gettext(msgid) for msgid in MSGIDS]
    texts += [long_date(dt.date(2019, month, 24), language) for month in range(1, 13)]
    texts.append(LETTERS[language])
    for regulator in registry.all_regulators():
        if REGISTRY_ALIASES.get(regulator.language, regulator.language) == language:
            texts += [regulator.authority, regulator.call_for_reporting, *regulator.contact_lines]
    return texts


def _specimen() -> str:
    """One HTML document: each language's strings, in each face of the letter's font."""
    sections = []
    for language in LANGUAGES:
        paragraphs = "\n".join(f"<p>{escape(text)}</p>" for text in _texts(language))
        bold = "<br>".join(escape(text) for text in _texts(language)[: len(MSGIDS)])
        sample = escape(" · ".join([LETTERS[language], COMMON]))
        sections.append(
            f'<section lang="{language}">\n<h2>{language}: {escape(LETTERS[language])}</h2>\n'
            f"{paragraphs}\n<p><b>{sample}</b></p>\n<p><i>{sample}</i></p>\n"
            f"<p><b><i>{sample}</i></b></p>\n"
            f"<h3>{escape(translations(language).translations.gettext('Summary'))}</h3>\n"
            f"<p><b>{bold}</b></p>\n</section>"
        )
    return (
        '<!DOCTYPE html>\n<html lang="en"><head><meta charset="utf-8"><title>Glyphs</title>'
        '<link rel="stylesheet" href="letter.css"><style>html { font-size: 7pt }</style>'
        "</head><body>\n" + "\n".join(sections) + "\n</body></html>\n"
    )


def _embedded_font_families(pdf: bytes) -> set[str]:
    """The family names in the name tables of the font files the PDF embeds."""
    families = set()
    for page in PdfReader(io.BytesIO(pdf)).pages:
        fonts = page["/Resources"].get("/Font", {})
        for ref in fonts.values():
            font = ref.get_object()
            for descendant in font.get("/DescendantFonts", [font]):
                descriptor = descendant.get_object()["/FontDescriptor"].get_object()
                assert isinstance(descriptor, DictionaryObject)
                data = descriptor["/FontFile2"].get_object().get_data()
                families.add(str(TTFont(io.BytesIO(data))["name"].getDebugName(1)))
    return families


def glyph_problems(texts: list[str], pdf_path: Path) -> list[str]:
    """What is wrong with the glyphs of ``texts`` rendered into ``pdf_path``."""
    problems = []
    needed = {c for text in texts for c in text if not c.isspace()}
    for face in FACES:
        cmap = TTFont(ASSETS_DIR / "fonts" / f"LiberationSans-{face}.ttf").getBestCmap()
        for char in sorted(needed - {chr(code) for code in cmap}):
            problems.append(
                f"Liberation Sans {face} lacks U+{ord(char):04X} {unicodedata.name(char, '?')}"
            )
    for row in font_rows(pdf_path):
        # name type… encoding emb sub uni object-id generation
        face = r"[A-Z]{6}\+Letter-Sans(?:-Bold|-Italic|-Bold-Italic)?"
        if not re.fullmatch(face, row[0]) or row[-5:-2] != ["yes"] * 3:
            problems.append(f"pdffonts: {' '.join(row)}")
    families = _embedded_font_families(pdf_path.read_bytes())
    if families != {"Liberation Sans"}:
        problems.append(f"embedded font files: {sorted(families)}")
    return problems


def _render(html: str, tmp_path: Path, caplog: pytest.LogCaptureFixture) -> Path:
    caplog.set_level(logging.WARNING)
    pdf = write_pdf(html, variant="pdf/a-3u", identifier=pdf_identifier(html), epoch=1556064000)
    path = tmp_path / "glyphs.pdf"
    path.write_bytes(pdf)
    return path


def test_every_language_renders_in_the_bundled_font_without_a_missing_glyph(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    html = _specimen()
    path = _render(html, tmp_path, caplog)
    assert [r.getMessage() for r in caplog.records] == []  # WeasyPrint, fontTools: no warning
    texts = [text for language in LANGUAGES for text in _texts(language)] + [COMMON]
    assert glyph_problems(texts, path) == []
    # Read back: each language's words are there, not boxes or another font's glyphs
    # (compared without white space: lines break after the hyphen of "il-").
    extracted = re.sub(r"\s+", "", pdftotext(path))
    for language in LANGUAGES:
        for text in _texts(language)[: len(MSGIDS)]:
            assert re.sub(r"\s+", "", text) in extracted, text


def test_glyph_check_sees_a_sign_the_font_lacks(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """The check can fail: U+2713 (✓) is not in Liberation Sans."""
    texts = ["Kontrolliert ✓"]
    html = (
        '<!DOCTYPE html><html lang="de"><head><meta charset="utf-8"><title>x</title>'
        '<link rel="stylesheet" href="letter.css"></head><body><p>Kontrolliert ✓</p></body></html>'
    )
    problems = glyph_problems(texts, _render(html, tmp_path, caplog))
    assert "Liberation Sans Regular lacks U+2713 CHECK MARK" in problems


@pytest.mark.parametrize(
    ("text", "language", "expected"),
    [
        ("11/04/2019", "en", "2019-04-11"),  # European English: day first
        ("11/04/2019", "fr", "2019-04-11"),
        ("1er janvier 2020", "fr", "2020-01-01"),
        ("1. Jänner 2020", "de", "2020-01-01"),
        ("3 Μαΐου 2019", "el", "2019-05-03"),
        ("24 ta’ April 2019", "mt", "2019-04-24"),
    ],
)
def test_numbers_check_reads_dates_as_letters_write_them(
    text: str, language: str, expected: str
) -> None:
    assert [t.value for t in dates(text, language)] == [expected]
