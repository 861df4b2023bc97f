"""Word documents from outside: hostile packages, broken structure, and the pieces of import.

No word processor is needed here: the documents are exports edited the way the cases
need, or packages built byte by byte.
"""

from __future__ import annotations

import datetime as dt
import http.server
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path
from typing import ClassVar

import docx
import pytest
from click.testing import CliRunner
from lxml import etree

from dhpc_gen.cli import main
from dhpc_gen.content.editor import edit_language_file
from dhpc_gen.exchange.docx_layout import detect_language, lexicon, normalise
from dhpc_gen.exchange.docx_letter import parse_date, parse_title
from dhpc_gen.exchange.docx_markup import (
    Span,
    blocks_markup,
    field_blocks,
    inline_spans,
    same_rendering,
    to_markup,
)
from dhpc_gen.exchange.docx_read import DocParagraph
from dhpc_gen.exchange.docx_write import export_docx
from dhpc_gen.i18n import available_languages, translations
from tests.conftest import EXAMPLE
from tests.docx_helpers import R_NS, edit_document, paragraph, read_parts, w, write_parts


@pytest.fixture
def exported(tmp_path: Path) -> Path:
    path = tmp_path / "lemtrada_sv.docx"
    export_docx(EXAMPLE, path, language="sv")
    return path


def run(*args: str) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, list(args))
    assert "Traceback" not in result.output
    return result.exit_code, result.stdout, result.stderr


def refused(document: Path, target: Path, expected: str) -> None:
    """Import exits 1 with ``expected`` in the message and writes nothing."""
    code, _, err = run("import-docx", str(document), str(target))
    assert code == 1, err
    assert expected in err, err
    assert not target.exists()


# --- hostile packages --------------------------------------------------------------------


def _package_with(exported: Path, target: Path, **extra: bytes) -> Path:
    parts = read_parts(exported)
    for name, data in extra.items():
        parts[name.replace("__", "/")] = data
    write_parts(target, parts)
    return target


def test_renamed_pdf_rtf_text_and_old_doc_are_refused(tmp_path: Path) -> None:
    cases = {
        "letter.pdf.docx": (b"%PDF-1.7\n1 0 obj\n", "is a PDF, not a Word document"),
        "letter.rtf.docx": (b"{\\rtf1\\ansi hello}", "is an RTF file"),
        "notes.docx": (b"just some text\n", "it is not a ZIP package"),
        "old.docx": (b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(600), "old Word 97–2003"),
    }
    for name, (data, message) in cases.items():
        (tmp_path / name).write_bytes(data)
        refused(tmp_path / name, tmp_path / "new", message)


def test_encrypted_document_is_refused_with_a_clear_message(tmp_path: Path) -> None:
    # Word keeps a password-protected .docx in an OLE compound file with these streams.
    data = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1" + bytes(500)
    data += "EncryptionInfo".encode("utf-16-le") + "EncryptedPackage".encode("utf-16-le")
    (tmp_path / "secret.docx").write_bytes(data)
    refused(tmp_path / "secret.docx", tmp_path / "new", "encrypted (password-protected)")


def test_zip_bomb_is_refused_before_it_is_unpacked(exported: Path, tmp_path: Path) -> None:
    bomb = tmp_path / "bomb.docx"
    with zipfile.ZipFile(bomb, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in read_parts(exported).items():
            archive.writestr(name, data)
        archive.writestr("word/media/filler.xml", bytes(48 << 20))
    assert bomb.stat().st_size < 1 << 20
    refused(bomb, tmp_path / "new", "would unpack to 50,331,648 bytes")


def test_macro_enabled_documents_are_refused(exported: Path, tmp_path: Path) -> None:
    with_project = _package_with(
        exported, tmp_path / "a.docx", word__vbaProject_bin=b"\xd0\xcf\x11\xe0 macros"
    )
    parts = read_parts(with_project)
    parts["word/vbaProject.bin"] = parts.pop("word/vbaProject_bin")
    write_parts(with_project, parts)
    refused(with_project, tmp_path / "new", "contains macros (part word/vbaProject.bin)")

    parts = read_parts(exported)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"wordprocessingml.document.main+xml", b"ms-word.document.macroEnabled.main+xml"
    )
    write_parts(tmp_path / "b.docm", parts)
    refused(tmp_path / "b.docm", tmp_path / "new", "a macro-enabled document (.docm) is refused")


@pytest.mark.parametrize("part", ["word/document.xml", "word/_rels/document.xml.rels"])
def test_doctype_and_entities_in_any_part_are_refused(
    exported: Path, tmp_path: Path, part: str
) -> None:
    parts = read_parts(exported)
    data = parts[part]
    declaration = data[: data.index(b"?>") + 2]
    laughs = b'<!DOCTYPE x [<!ENTITY a "lol"><!ENTITY b "&a;&a;&a;&a;&a;&a;">]>'
    parts[part] = declaration + laughs + data[len(declaration) :]
    write_parts(tmp_path / "dtd.docx", parts)
    refused(tmp_path / "dtd.docx", tmp_path / "new", f"part {part}: line 1: refusing XML")


def test_a_part_twice_and_a_template_are_refused(exported: Path, tmp_path: Path) -> None:
    twice = tmp_path / "twice.docx"
    with (
        pytest.warns(UserWarning, match="Duplicate name"),
        zipfile.ZipFile(twice, "w") as archive,
    ):
        for name, data in read_parts(exported).items():
            archive.writestr(name, data)
        archive.writestr("word/document.xml", b"<x/>")
    refused(twice, tmp_path / "new", "the part word/document.xml appears twice")

    parts = read_parts(exported)
    parts["[Content_Types].xml"] = parts["[Content_Types].xml"].replace(
        b"wordprocessingml.document.main+xml", b"wordprocessingml.template.main+xml"
    )
    write_parts(tmp_path / "t.dotx", parts)
    refused(tmp_path / "t.dotx", tmp_path / "new", "is a Word template (.dotx)")


class _Recorder(http.server.BaseHTTPRequestHandler):
    requests: ClassVar[list[str]] = []

    def do_GET(self) -> None:
        self.requests.append(self.path)
        self.send_response(404)
        self.end_headers()

    def log_message(self, *args: object) -> None:
        pass


@pytest.fixture
def web_server() -> Iterator[tuple[str, list[str]]]:
    """A real HTTP server on loopback that records every request made to it."""
    _Recorder.requests = []
    server = http.server.HTTPServer(("127.0.0.1", 0), _Recorder)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    try:
        yield f"http://127.0.0.1:{server.server_port}", _Recorder.requests
    finally:
        server.shutdown()
        server.server_close()


def test_external_relationships_are_never_fetched(
    exported: Path, tmp_path: Path, web_server: tuple[str, list[str]]
) -> None:
    base, requests = web_server
    linked = tmp_path / "linked.docx"

    def edit(root: object, parts: dict[str, bytes]) -> None:
        rels = etree.fromstring(parts["word/_rels/document.xml.rels"])
        ns = rels.nsmap[None]
        for rid, kind, target in (
            ("rIdTemplate", "attachedTemplate", f"{base}/remote.dotm"),
            ("rIdPicture", "image", f"{base}/logo.png"),
        ):
            rel = etree.SubElement(rels, f"{{{ns}}}Relationship")
            rel.set("Id", rid)
            rel.set(
                "Type",
                f"http://schemas.openxmlformats.org/officeDocument/2006/relationships/{kind}",
            )
            rel.set("Target", target)
            rel.set("TargetMode", "External")
        parts["word/_rels/document.xml.rels"] = etree.tostring(rels)
        # A linked picture before the title, where a logo would stand.
        first = paragraph(root, "24 april 2019")
        picture = etree.SubElement(etree.SubElement(first, w("r")), w("drawing"))
        blip = etree.SubElement(
            picture, "{http://schemas.openxmlformats.org/drawingml/2006/main}blip"
        )
        blip.set(f"{{{R_NS}}}link", "rIdPicture")
        holder = first.getparent()
        logo = etree.Element(w("p"))
        logo.append(picture.getparent())
        holder.insert(holder.index(first), logo)

    edit_document(exported, linked, edit)
    code, out, err = run("import-docx", str(linked), str(tmp_path / "new"))
    assert code == 0, err
    assert "a linked image (not fetched) before the title is not part of the text" in out
    assert f"attachedTemplate {base}/remote.dotm (not fetched)" in out
    assert f"image {base}/logo.png (not fetched)" in out
    assert requests == []


# --- documents that are no DHPC ----------------------------------------------------------


def test_a_document_without_the_template_structure_is_refused(tmp_path: Path) -> None:
    document = docx.Document()
    document.add_paragraph("Minutes of the meeting")
    document.add_paragraph("We talked about the weather.")
    document.save(str(tmp_path / "minutes.docx"))
    refused(tmp_path / "minutes.docx", tmp_path / "new", "cannot tell the language")
    code, _, err = run(
        "import-docx", str(tmp_path / "minutes.docx"), str(tmp_path / "new"), "--lang", "en"
    )
    assert code == 1 and "no summary heading ('Summary')" in err
    assert not (tmp_path / "new").exists()


def test_two_summaries_are_refused_naming_both(exported: Path, tmp_path: Path) -> None:
    def edit(root: object, parts: dict[str, bytes]) -> None:
        heading = paragraph(root, "Bakgrundsinformation")
        twin = etree.fromstring(etree.tostring(heading))
        for text in twin.iter(w("t")):
            text.text = "Sammanfattning"
        heading.addprevious(twin)

    edit_document(exported, tmp_path / "two.docx", edit)
    refused(tmp_path / "two.docx", tmp_path / "new", "2 'Sammanfattning' parts (paragraphs 6, 12)")


def test_an_image_where_a_heading_should_be_is_refused(exported: Path, tmp_path: Path) -> None:
    def edit(root: object, parts: dict[str, bytes]) -> None:
        heading = paragraph(root, "Bakgrundsinformation")
        for run_ in heading.findall(w("r")):
            heading.remove(run_)
        etree.SubElement(etree.SubElement(heading, w("r")), w("drawing"))

    edit_document(exported, tmp_path / "image.docx", edit)
    refused(
        tmp_path / "image.docx", tmp_path / "new", "paragraph 12 holds an image where the letter"
    )


def test_another_dhpcs_document_and_other_languages_are_refused(
    exported: Path, example_dir: Path, tmp_path: Path
) -> None:
    parts = read_parts(exported)
    parts["docProps/custom.xml"] = parts["docProps/custom.xml"].replace(
        b">lemtrada-2019<", b">other-2020<"
    )
    write_parts(tmp_path / "other.docx", parts)
    before = (example_dir / "sv.yaml").read_bytes()
    code, _, err = run("import-docx", str(tmp_path / "other.docx"), str(example_dir))
    assert code == 1 and "exported from DHPC 'other-2020', not 'lemtrada-2019'" in err
    code, _, err = run("import-docx", str(exported), str(example_dir), "--lang", "fi")
    assert code == 1 and "none of its headings is in 'fi'" in err
    code, _, err = run("import-docx", str(exported), str(example_dir), "--lang", "xx")
    assert code == 2 and "no catalog locales/xx" in err
    (example_dir / "dhpc.yaml").write_text(
        (example_dir / "dhpc.yaml")
        .read_text(encoding="utf-8")
        .replace("[sv, fi]", "[fi]")
        .replace("source_language: sv", "source_language: fi"),
        encoding="utf-8",
    )
    code, _, err = run("import-docx", str(exported), str(example_dir))
    assert code == 1 and "add 'sv' to languages in dhpc.yaml first" in err
    assert (example_dir / "sv.yaml").read_bytes() == before


def test_links_other_than_http_and_mailto_keep_only_their_text(
    exported: Path, tmp_path: Path
) -> None:
    def edit(root: object, parts: dict[str, bytes]) -> None:
        rels = etree.fromstring(parts["word/_rels/document.xml.rels"])
        ns = rels.nsmap[None]
        for rid, target in (("rIdWeb", "https://www.fimea.fi/"), ("rIdFile", "file:///etc/passwd")):
            rel = etree.SubElement(rels, f"{{{ns}}}Relationship")
            rel.set("Id", rid)
            rel.set(
                "Type",
                "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink",
            )
            rel.set("Target", target)
            rel.set("TargetMode", "External")
        parts["word/_rels/document.xml.rels"] = etree.tostring(rels)
        p = paragraph(root, "Patienter som står på")
        for rid, text in (("rIdWeb", " Fimea"), ("rIdFile", " lokal fil")):
            link = etree.SubElement(p, w("hyperlink"))
            link.set(f"{{{R_NS}}}id", rid)
            etree.SubElement(etree.SubElement(link, w("r")), w("t")).text = text

    edit_document(exported, tmp_path / "links.docx", edit)
    code, out, err = run("import-docx", str(tmp_path / "links.docx"), str(tmp_path / "new"))
    assert code == 0, err
    assert "the link to 'file:///etc/passwd' is kept as its text only" in out
    text = (tmp_path / "new" / "sv.yaml").read_text(encoding="utf-8")
    assert "förskrivaren. [Fimea](https://www.fimea.fi/) lokal fil" in " ".join(text.split())


def test_dry_run_writes_nothing_and_json_lists_what_would(exported: Path, tmp_path: Path) -> None:
    code, out, err = run(
        "import-docx", str(exported), str(tmp_path / "new"), "--dry-run", "--format", "json"
    )
    assert code == 0, err
    assert not (tmp_path / "new").exists()
    import json

    report = json.loads(out)
    assert report["dry_run"] and not report["written"] and report["meta_created"]
    assert len(report["fields"]["added"]) == 20 and report["country"] == "FI"


def test_a_folder_name_that_cannot_be_an_id_is_bad_usage(exported: Path, tmp_path: Path) -> None:
    code, _, err = run("import-docx", str(exported), str(tmp_path / "..."))
    assert code == 2 and "the folder's name becomes the DHPC's id" in err


# --- the pieces --------------------------------------------------------------------------


def test_headings_are_recognised_in_every_catalog_that_exists() -> None:
    from dhpc_gen.exchange.docx_layout import SUMMARY, catalog_lexicon

    words = catalog_lexicon()
    for language in available_languages():
        summary = str(translations(language).translations.gettext("Summary"))
        for form in (summary, f"1. {summary.upper()}:", f"A) {summary}"):
            assert SUMMARY in words.roles(form, language), (language, form)


def test_a_new_catalog_is_recognised_without_code_changes() -> None:
    words = lexicon(
        {
            "en": {"Summary": "Summary"},
            "it": {
                "Summary": "Sintesi",
                "Background on the safety concern": "Informazioni di base sulla sicurezza",
                "Call for reporting": "Invito alla segnalazione",
            },
        }
    )
    paragraphs = [
        DocParagraph(n, (n,), "Normal", None, False, False, True, (Span(text),))
        for n, text in enumerate(["Sintesi", "Informazioni di base sulla sicurezza", "x"], 1)
    ]
    assert detect_language(paragraphs, words)[0] == "it"
    assert normalise("  2.1  Invito alla segnalazione: ") == "invito alla segnalazione"


def test_markup_round_trips_through_spans() -> None:
    for text in (
        "a **b** c and *d* [e](https://example.org/x_y)",
        "x * y and 5*3 [not a link]",
        "***both***",
    ):
        assert to_markup(inline_spans(text)) == (text, True), text
    assert same_rendering("__bold__ _it_", "**bold** *it*", inline=True)
    assert not same_rendering("**bold**", "bold", inline=True)
    assert to_markup([Span("a "), Span("bold ", bold=True), Span("b")]) == ("a **bold** b", True)
    blocks = field_blocks("Intro:\n- one\n- **two**")
    assert blocks_markup(blocks) == ("Intro:\n- one\n- **two**", True)
    assert same_rendering("Intro:\n1. one", "Intro:\n- one", inline=False)


def test_titles_and_dates_as_letters_write_them() -> None:
    parsed = parse_title("Alemtuzumab (LEMTRADA): Begränsad användning")
    assert parsed is not None
    assert parsed[0] == ["Alemtuzumab"] and parsed[2] == "Begränsad användning"
    assert [(p.name, p.triangle) for p in parsed[1]] == [("LEMTRADA", False)]
    parsed = parse_title("Ana (A▼), Bea (B) ▼: key")
    assert parsed is not None
    assert [(p.name, p.triangle) for p in parsed[1]] == [("A", True), ("B", True)]
    assert parse_title("No products here") is None
    day = dt.date(2019, 4, 24)
    for text in (
        "24 april 2019",
        "24. huhtikuuta 2019",
        "Helsinki 24.4.2019",
        "April 24, 2019",
        "2019-04-24",
        "24. April 2019",
        "24 avril 2019",
    ):
        assert parse_date(text) == day, text


def test_editor_removes_trailing_items_and_keeps_every_other_byte() -> None:
    text = (EXAMPLE / "sv.yaml").read_text(encoding="utf-8")
    outcome = edit_language_file(
        text, [], language="sv", shown="sv.yaml", removals=["summary[4]", "sections[2]"]
    )
    assert outcome.removed == ("summary[4]", "sections[2]")
    kept = outcome.text
    assert "Patienter ska uppmanas" not in kept and "Hemofagocytisk" not in kept
    import difflib

    changes = [
        line
        for line in difflib.ndiff(text.splitlines(), kept.splitlines())
        if line.startswith(("+", "?"))
    ]
    assert changes == []  # only lines taken out, none added or altered
