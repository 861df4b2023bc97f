"""``dhpc review``: the side-by-side document in headless Chromium, its PDF, its hashes."""

from __future__ import annotations

import base64
import io
import re
import shutil
import subprocess
from collections.abc import Iterator
from dataclasses import dataclass, field
from html.parser import HTMLParser
from pathlib import Path

import pytest
from click.testing import CliRunner
from pypdf import PdfReader
from review_helpers import (
    EXAMPLE,
    Workspace,
    add_third_language,
    changed_range,
    dropped_bullet,
    edit_yaml,
    make_workspace,
    set_text,
    wrong_product_name,
)

from dhpc_gen.build import BuiltLetter, content_hash, render_letters
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import RenderError
from dhpc_gen.fsutil import sha256_bytes, sha256_file
from dhpc_gen.render.pdf import ProjectOnlyFetcher, write_pdf
from dhpc_gen.review.report import (
    Review,
    ReviewInputs,
    build_review,
    review_pdf,
)
from dhpc_gen.review.termbase import termbase_for
from dhpc_gen.review.thumbnails import THUMBNAIL_WIDTH, page_thumbnails, png_bytes

CHROMIUM = "/usr/bin/chromium"


# --- a small DOM, from the HTML Chromium serialises after parsing and layout --------------


@dataclass
class Node:
    tag: str
    attrs: dict[str, str]
    children: list[Node] = field(default_factory=list)
    text: list[str] = field(default_factory=list)

    def iter(self) -> Iterator[Node]:
        yield self
        for child in self.children:
            yield from child.iter()

    def find_all(self, tag: str, **attrs: str) -> list[Node]:
        return [
            n
            for n in self.iter()
            if n.tag == tag and all(n.attrs.get(k.replace("_", "-")) == v for k, v in attrs.items())
        ]

    def classes(self) -> set[str]:
        return set(self.attrs.get("class", "").split())

    def all_text(self) -> str:
        return "".join(self.text) + "".join(c.all_text() for c in self.children)


class _Builder(HTMLParser):
    VOID = frozenset({"meta", "img", "br", "col", "link", "input", "hr", "wbr", "source"})

    def __init__(self) -> None:
        super().__init__()
        self.root = Node("#root", {})
        self.stack = [self.root]

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        node = Node(tag, {k: v or "" for k, v in attrs})
        self.stack[-1].children.append(node)
        if tag not in self.VOID:
            self.stack.append(node)

    def handle_endtag(self, tag: str) -> None:
        for index in range(len(self.stack) - 1, 0, -1):
            if self.stack[index].tag == tag:
                del self.stack[index:]
                return

    def handle_data(self, data: str) -> None:
        self.stack[-1].children.append(Node("#text", {}, text=[data]))


def parse(document: str) -> Node:
    builder = _Builder()
    builder.feed(document)
    return builder.root


def chromium_dom(path: Path, profile: Path) -> str:
    """The DOM after headless Chromium has loaded ``path`` (no network, fresh profile)."""
    chromium = shutil.which("chromium") or CHROMIUM
    assert Path(chromium).is_file(), "Chromium is missing: run make sysdeps"
    result = subprocess.run(
        [
            chromium,
            "--headless",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
            f"--user-data-dir={profile}",
            "--dump-dom",
            path.resolve().as_uri(),
        ],
        capture_output=True,
        text=True,
        timeout=120,
        check=False,
    )
    assert result.returncode == 0, result.stderr[-2000:]
    return result.stdout


# --- one review of a seeded defect, rendered once for the module --------------------------


@dataclass(frozen=True)
class Reviewed:
    ws: Workspace
    dhpc: Dhpc
    review: Review
    html_path: Path
    pdf: bytes


@pytest.fixture(scope="module")
def reviewed(tmp_path_factory: pytest.TempPathFactory) -> Reviewed:
    ws = make_workspace(tmp_path_factory.mktemp("review"))
    changed_range(ws)  # "1-3 päivän" → "1-4 päivän": an error, yet the letters still build
    dhpc = load_dhpc(ws.content)
    review = build_review(
        dhpc,
        ReviewInputs(
            termbase=termbase_for(dhpc), locales_dir=ws.locales, registry_dir=ws.regulators
        ),
    )
    html_path = ws.content.parent / "review.html"
    html_path.write_text(review.html, encoding="utf-8")
    return Reviewed(ws, dhpc, review, html_path, review_pdf(review, dhpc))


@pytest.fixture(scope="module")
def letters(reviewed: Reviewed) -> list[BuiltLetter]:
    """The letters as ``dhpc build`` renders them, to compare the document with."""
    return render_letters(reviewed.dhpc, ["sv", "fi"])


@pytest.fixture(scope="module")
def dom(reviewed: Reviewed, tmp_path_factory: pytest.TempPathFactory) -> Node:
    return parse(chromium_dom(reviewed.html_path, tmp_path_factory.mktemp("chromium-profile")))


def test_chromium_shows_a_row_per_field_in_every_language(dom: Node, reviewed: Reviewed) -> None:
    rows = {r.attrs["data-field"]: r for r in dom.find_all("tr") if "field" in r.classes()}
    source_paths = [f.path for f in text_fields(reviewed.dhpc.text("sv"))]
    assert list(rows) == source_paths
    for path in source_paths:
        cells = {c.attrs.get("data-language"): c for c in rows[path].find_all("td")}
        assert {"sv", "fi"} <= set(cells), path
        assert "missing" not in cells["fi"].classes(), path
    heading = rows["sections[2].heading"]
    assert "Hemofagosyyttinen lymfohistiosytoosi (HLH)" in heading.all_text()


def test_chromium_shows_the_seeded_finding_highlighted(dom: Node) -> None:
    (row,) = dom.find_all("tr", data_field="sections[1].paragraphs[0]")
    assert "error" in row.classes()
    cells = {c.attrs.get("data-language"): c for c in row.find_all("td")}
    assert "error" in cells["fi"].classes()
    (fi_mark,) = cells["fi"].find_all("mark")
    assert fi_mark.all_text() == "1-4"
    assert fi_mark.attrs["data-check"] == "numbers" and "error" in fi_mark.classes()
    (sv_mark,) = cells["sv"].find_all("mark")
    assert sv_mark.all_text() == "1-3"
    notes = [li for li in row.find_all("li") if "finding" in li.classes()]
    assert [li.attrs["data-check"] for li in notes] == ["numbers"]
    # nowhere else is anything marked
    assert len(dom.find_all("mark")) == 2


def test_chromium_summary_counts_per_check(dom: Node) -> None:
    (numbers,) = dom.find_all("tr", data_check="numbers")
    assert "error" in numbers.classes()
    assert "1 E" in numbers.all_text()
    for check in ("structure", "terms", "contacts", "untranslated", "length", "catalog"):
        (line,) = dom.find_all("tr", data_check=check)
        assert "ok" in line.classes(), check
    (verdict,) = [p for p in dom.find_all("p") if "verdict" in p.classes()]
    assert verdict.attrs["data-errors"] == "1" and verdict.attrs["data-warnings"] == "0"


def test_chromium_loads_the_thumbnails(dom: Node, letters: list[BuiltLetter]) -> None:
    images = dom.find_all("img")
    pages = sum(len(PdfReader(io.BytesIO(letter.pdf)).pages) for letter in letters)
    assert len(images) == pages
    assert all(img.attrs["src"].startswith("data:image/png;base64,") for img in images)


def test_html_is_self_contained(reviewed: Reviewed) -> None:
    document = reviewed.review.html
    assert "<link" not in document and "<script" not in document
    assert not re.search(r"""(?:src|href)=["'](?!data:image/png;base64,)""", document)
    assert "url(" not in document
    assert "@font-face" not in document


def test_document_names_the_reviewed_version(
    reviewed: Reviewed, letters: list[BuiltLetter]
) -> None:
    document = reviewed.review.html
    assert content_hash(reviewed.dhpc) in document
    for path in reviewed.dhpc.files:
        assert sha256_file(path) in document
    assert sha256_file(reviewed.ws.content / "terms.yaml") in document
    for letter in letters:
        assert sha256_bytes(letter.pdf) in document, letter.filename


def test_document_has_a_sign_off_block_per_language(dom: Node) -> None:
    blocks = [t for t in dom.find_all("table") if "signature" in t.classes()]
    assert [b.attrs["data-language"] for b in blocks] == ["sv", "fi"]
    for block in blocks:
        text = block.all_text()
        for label in ("Reviewer", "Role", "Date", "Decision", "approved", "not approved"):
            assert label in text


def test_pdf_opens_and_holds_the_review(reviewed: Reviewed) -> None:
    reader = PdfReader(io.BytesIO(reviewed.pdf))
    assert len(reader.pages) >= 3
    text = "\n".join(page.extract_text() for page in reader.pages)
    assert "Sign-off" in text and "Findings per check" in text
    assert "1-4" in text and "1-3" in text
    assert content_hash(reviewed.dhpc) in text.replace("\n", "")
    assert reader.metadata is not None
    assert reader.metadata.title == "Translation review: lemtrada-2019"
    # WeasyPrint shares one resource dictionary between pages: count distinct images.
    images = {
        ref.idnum
        for page in reader.pages
        for ref in page["/Resources"]["/XObject"].values()
        if ref.get_object()["/Subtype"] == "/Image"
    }
    thumbnails = reviewed.review.view.thumbnails
    assert len(images) == len(thumbnails["sv"]) + len(thumbnails["fi"])
    width, height = reader.pages[0].mediabox.width, reader.pages[0].mediabox.height
    assert width > height  # A4 landscape


def test_pdf_is_reproducible(reviewed: Reviewed) -> None:
    assert review_pdf(reviewed.review, reviewed.dhpc) == reviewed.pdf


# --- thumbnails and the fetcher --------------------------------------------------------------


def test_thumbnails_are_png_pages_of_the_letter(letters: list[BuiltLetter]) -> None:
    letter = letters[1]
    thumbnails = page_thumbnails(letter.pdf, "fi")
    assert len(thumbnails) == len(PdfReader(io.BytesIO(letter.pdf)).pages)
    for thumbnail in thumbnails:
        assert thumbnail.png.startswith(b"\x89PNG\r\n\x1a\n")
        assert int.from_bytes(thumbnail.png[16:20], "big") == THUMBNAIL_WIDTH
        assert thumbnail.height > thumbnail.width  # A4 portrait
    assert page_thumbnails(letter.pdf, "fi") == thumbnails  # same PDF, same bytes


def test_unreadable_pdf_is_a_render_error() -> None:
    with pytest.raises(RenderError, match="fi letter cannot be read"):
        page_thumbnails(b"not a pdf", "fi")


def test_fetcher_serves_png_data_uris_only(tmp_path: Path) -> None:
    png = png_bytes(2, 1, [b"\xff\x00\x00\x00\xff\x00"])

    uri = "data:image/png;base64," + base64.b64encode(png).decode()
    pdf = write_pdf(
        f'<img src="{uri}">',
        variant="pdf/a-3u",
        identifier=b"0" * 32,
        epoch=0,
        fetcher=ProjectOnlyFetcher(),
    )
    assert len(PdfReader(io.BytesIO(pdf)).pages[0].images) == 1
    other = "data:text/html;base64," + base64.b64encode(b"<p>x</p>").decode()
    secret = tmp_path / "secret.css"
    secret.write_text("p { color: red }", encoding="utf-8")
    for url in (other, secret.as_uri(), "http://127.0.0.1:9/x.png"):
        with pytest.raises(RenderError, match="refused"):
            write_pdf(
                f'<img src="{url}">',
                variant="pdf/a-3u",
                identifier=b"0" * 32,
                epoch=0,
                fetcher=ProjectOnlyFetcher(),
            )


# --- documents of broken translations -----------------------------------------------------


def test_review_of_a_dropped_bullet_shows_the_gap(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    dropped_bullet(ws)
    dhpc = load_dhpc(ws.content)
    review = build_review(dhpc, ReviewInputs(termbase=termbase_for(dhpc)))
    root = parse(review.html)
    (row,) = root.find_all("tr", data_field="summary[3]")
    cells = {c.attrs.get("data-language"): c for c in row.find_all("td")}
    assert "missing" in cells["fi"].classes()
    (group,) = root.find_all("tr", data_field="summary")
    assert "error" in group.classes()
    assert [li.attrs["data-check"] for li in group.find_all("li")] == ["structure"]
    # the letters cannot be built, and the document says why instead of failing
    assert review.view.thumbnails == {}
    assert "cannot be built" in review.view.thumbnail_note
    assert "summary" in review.view.thumbnail_note


def test_review_is_the_same_twice_without_thumbnails(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    wrong_product_name(ws)
    dhpc = load_dhpc(ws.content)
    inputs = ReviewInputs(termbase=termbase_for(dhpc), thumbnails=False)
    first = build_review(dhpc, inputs).html
    assert build_review(dhpc, inputs).html == first
    root = parse(first)
    (row,) = root.find_all("tr", data_field="sections[2].paragraphs[0]")
    assert [li.attrs["data-check"] for li in row.find_all("li")] == ["terms"]
    (mark,) = row.find_all("mark")
    assert mark.all_text() == "Lemtrada" and mark.attrs["data-language"] == "fi"


def test_review_has_a_column_per_language(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    add_third_language(ws)
    edit_yaml(ws.content / "en.yaml", lambda data: data["summary"].pop(0))
    dhpc = load_dhpc(ws.content)
    review = build_review(dhpc, ReviewInputs(registry_dir=ws.regulators, thumbnails=False))
    root = parse(review.html)
    header = [th.attrs.get("lang") for th in root.find_all("th") if th.attrs.get("lang")]
    assert header == ["sv", "fi", "en"]
    (row,) = root.find_all("tr", data_field="summary[0]")
    cells = {c.attrs.get("data-language"): c for c in row.find_all("td")}
    assert "missing" in cells["en"].classes() and "missing" not in cells["fi"].classes()
    (row,) = root.find_all("tr", data_field="summary[1]")
    cells = {c.attrs.get("data-language"): c for c in row.find_all("td")}
    assert cells["en"].attrs["data-path"] == "summary[0]"
    assert cells["en"].all_text() == cells["fi"].all_text()
    others = [li for li in root.find_all("li") if li.attrs.get("data-check") == "regulator"]
    assert [li.attrs["data-language"] for li in others] == ["en"]


def test_content_is_escaped(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    for language in ("sv", "fi"):
        text = (ws.content / f"{language}.yaml").read_text(encoding="utf-8")
        (ws.content / f"{language}.yaml").write_text(
            text.replace("key_message: ", "key_message: <script>alert(1)</script> ", 1),
            encoding="utf-8",
        )
    dhpc = load_dhpc(ws.content)
    review = build_review(dhpc, ReviewInputs(thumbnails=False))
    assert "<script>" not in review.html
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in review.html


# --- the command ----------------------------------------------------------------------------


def test_command_writes_html_and_pdf(tmp_path: Path) -> None:
    ws = make_workspace(tmp_path)
    out = tmp_path / "out" / "review.html"
    result = CliRunner().invoke(
        main, ["review", str(ws.content), "-o", str(out), "--pdf", "--no-thumbnails"]
    )
    assert result.exit_code == 0, result.output
    assert out.is_file() and out.with_suffix(".pdf").is_file()
    assert "0 errors, 0 warnings" in result.stdout
    assert len(PdfReader(out.with_suffix(".pdf")).pages) >= 2
    assert not [p for p in out.parent.iterdir() if p.name.startswith(".")]  # no temp files


def test_command_refuses_pdf_as_output(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["review", str(EXAMPLE), "-o", str(tmp_path / "r.pdf")])
    assert result.exit_code == 2
    assert "name the HTML file" in result.stderr


def test_title_with_markup_is_shown_as_plain_text(tmp_path: Path) -> None:
    """The key message may use **bold**; the review's heading shows the words, not stars."""
    ws = make_workspace(tmp_path)
    set_text(
        ws,
        "sv",
        ("key_message",),
        "Begränsad **användning** på grund av [allvarliga biverkningar](https://www.ema.europa.eu)",
    )
    result = build_review(load_dhpc(ws.content), ReviewInputs(thumbnails=False))
    heading = re.search(r"<h1>(.*?)</h1>", result.html, re.S)
    assert heading is not None
    assert "Begränsad användning på grund av allvarliga biverkningar" in heading.group(1)
    assert "**" not in heading.group(1) and "](" not in heading.group(1)
