"""Letterheads: a DHPC's own (files in its folder) or a shared one, and nothing else read."""

from __future__ import annotations

import base64
import json
import os
import subprocess
import sys
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from PIL import Image
from pypdf import PdfReader

from dhpc_gen.build import build, content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.errors import RenderError
from dhpc_gen.render.pdf import ProjectOnlyFetcher, pdf_identifier, write_pdf
from tests.conftest import EXAMPLE, PROJECT
from tests.pdf_helpers import MM, font_rows, layout

SHARED = "letterheads/example-pharma"


def with_letterhead(folder: Path, value: str) -> Path:
    meta = folder / "dhpc.yaml"
    meta.write_text(meta.read_text(encoding="utf-8") + value, encoding="utf-8")
    return folder


@pytest.fixture(scope="module")
def shared_built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """The example with the project's shared example letterhead, built once."""
    import shutil

    folder = tmp_path_factory.mktemp("content") / "lemtrada-2019"
    shutil.copytree(EXAMPLE, folder)
    with_letterhead(folder, "letterhead: example-pharma\n")
    out = tmp_path_factory.mktemp("out")
    build(load_dhpc(folder), out)
    return out / "lemtrada-2019"


def test_shared_letterhead_on_every_page(shared_built: Path) -> None:
    pdf = shared_built / "lemtrada-2019_fi.pdf"
    pages = layout(pdf)
    assert len(pages) >= 2
    for page in pages:
        texts = [line.text for line in page.lines]
        top = [line.text for line in page.lines if line.top < 30 * MM]
        bottom = [line.text for line in page.lines if line.top > page.height - 25 * MM]
        assert "Esimerkkikatu 1 A, 00100 Helsinki" in top, texts
        assert any(t.startswith("Example Pharma Oy · Y-tunnus 1234567-8") for t in bottom), texts
        for line in page.lines:
            for word in line.words:
                assert word.x0 >= 25 * MM - 1 and word.x1 <= page.width - 22 * MM + 1, word
    # The logo is drawn: ink at the top left of every page, in the bundled font only.
    document = pdfium.PdfDocument(pdf)
    try:
        image = document[1].render(scale=1).to_pil().convert("L")
    finally:
        document.close()
    darkest, _ = image.crop((int(25 * MM), int(8 * MM), int(60 * MM), int(22 * MM))).getextrema()
    assert darkest < 128
    assert all(row[0].split("+")[-1].startswith("Letter-Sans") for row in font_rows(pdf))


def test_shared_letterhead_files_are_inputs_of_the_build(shared_built: Path) -> None:
    manifest = json.loads((shared_built / "manifest.json").read_text(encoding="utf-8"))
    inputs = {entry["path"]: entry["role"] for entry in manifest["inputs"]}
    assert inputs[f"{SHARED}/letterhead.yaml"] == "project"
    assert inputs[f"{SHARED}/logo.svg"] == "project"


def test_builds_are_the_same_bytes_in_another_process(shared_built: Path, tmp_path: Path) -> None:
    folder = tmp_path / "content" / "lemtrada-2019"
    import shutil

    shutil.copytree(EXAMPLE, folder)
    with_letterhead(folder, "letterhead: example-pharma\n")
    env = {**os.environ, "PYTHONHASHSEED": "12345"}
    subprocess.run(
        [sys.executable, "-m", "dhpc_gen", "build", str(folder), "--out", str(tmp_path / "out")],
        check=True,
        capture_output=True,
        env=env,
        cwd=PROJECT,
    )
    for name in ("lemtrada-2019_sv.pdf", "lemtrada-2019_fi.pdf", "manifest.json"):
        assert (tmp_path / "out" / "lemtrada-2019" / name).read_bytes() == (
            shared_built / name
        ).read_bytes(), name


def test_own_png_logo_lines_and_footer(example_dir: Path, tmp_path: Path) -> None:
    Image.new("RGB", (300, 80), (200, 30, 30)).save(example_dir / "logo.png")
    with_letterhead(
        example_dir,
        "letterhead:\n  logo: logo.png\n  lines: [Sanofi Oy, 'Revontulenpuisto 2 C, 02100 Espoo']\n"
        "  footer: ['Sanofi Oy · Y-tunnus 0000000-0']\n",
    )
    dhpc = load_dhpc(example_dir)
    before = content_hash(dhpc)
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    pdf = out / "lemtrada-2019" / "lemtrada-2019_sv.pdf"
    images = list(PdfReader(pdf).pages[0].images)
    assert len(images) == 1 and images[0].image is not None
    assert images[0].image.size == (300, 80)
    text = [line.text for page in layout(pdf) for line in page.lines]
    assert "Revontulenpuisto 2 C, 02100 Espoo" in text
    manifest = json.loads((out / "lemtrada-2019" / "manifest.json").read_text(encoding="utf-8"))
    roles = {entry["path"]: entry["role"] for entry in manifest["inputs"]}
    assert roles["lemtrada-2019/logo.png"] == "content"
    # A new logo is a new version of the letter: the check names both PDFs.
    Image.new("RGB", (300, 80), (30, 30, 200)).save(example_dir / "logo.png")
    assert content_hash(load_dhpc(example_dir)) != before
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(out), "--check"])
    assert result.exit_code == 1
    assert "lemtrada-2019_sv.pdf: differs" in result.output
    assert "lemtrada-2019_fi.pdf: differs" in result.output


OUTSIDE_SVG = '<svg xmlns="http://www.w3.org/2000/svg"><rect width="9" height="9"/></svg>'


@pytest.mark.parametrize(
    ("logo", "content", "message"),
    [
        ("logo.gif", b"GIF89a", "a logo is an .svg or .png file"),
        ("../outside.svg", OUTSIDE_SVG.encode(), "the logo must be a file in"),
        ("missing.svg", None, "no such file in"),
        ("logo.png", b"not a png", "not a PNG picture"),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:xlink="http://www.w3.org/1999/xlink">'
            b'<image xlink:href="file:///etc/passwd" width="9" height="9"/></svg>',
            "the SVG refers to 'file:///etc/passwd': a logo must be self-contained",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><rect style="fill:url(http://127.0.0.1/x)"'
            b' width="9" height="9"/></svg>',
            "the SVG refers to 'http://127.0.0.1/x'",
        ),
        (
            "logo.svg",
            b'<?xml version="1.0"?><!DOCTYPE svg [<!ENTITY a "aaaa">]>'
            b'<svg xmlns="http://www.w3.org/2000/svg"><text>&a;</text></svg>',
            "may not have a DOCTYPE or entities",
        ),
        (
            "logo.svg",
            b'<svg xmlns="http://www.w3.org/2000/svg"><style>@import "x.css";</style></svg>',
            "may not import style sheets",
        ),
        ("logo.svg", b"<html></html>", "its root element is not <svg>"),
    ],
)
def test_unusable_logos_are_refused_naming_the_line(
    example_dir: Path, logo: str, content: bytes | None, message: str
) -> None:
    target = example_dir / logo
    if content is not None:
        target.write_bytes(content)
    with_letterhead(example_dir, f"letterhead:\n  logo: {logo}\n  lines: [Sanofi Oy]\n")
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(example_dir)])
    assert result.exit_code == 1
    assert "dhpc.yaml:30 letterhead.logo: " in result.output, result.output
    assert message in result.output, result.output
    assert "Traceback" not in result.output
    assert not list(example_dir.rglob("*.pdf"))


def test_a_logo_linked_from_outside_is_refused(example_dir: Path, tmp_path: Path) -> None:
    (tmp_path / "secret.svg").write_text(OUTSIDE_SVG, encoding="utf-8")
    (example_dir / "logo.svg").symlink_to(tmp_path / "secret.svg")
    with_letterhead(example_dir, "letterhead: {logo: logo.svg}\n")
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(tmp_path)])
    assert result.exit_code == 1
    assert "the logo must be a file in" in result.output


def test_unknown_shared_letterhead_and_too_many_lines(example_dir: Path) -> None:
    with_letterhead(example_dir, "letterhead: nobody\n")
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(example_dir)])
    assert result.exit_code == 1
    assert "dhpc.yaml:29 letterhead: no shared letterhead 'nobody'" in result.output
    assert "available: example-pharma" in result.output
    meta = example_dir / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace(
            "letterhead: nobody\n", "letterhead:\n  lines: [a, b, c, d, e, f]\n"
        ),
        encoding="utf-8",
    )
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(example_dir)])
    assert result.exit_code == 1
    assert "letterhead.lines: Tuple should have at most 5 items" in result.output


def test_rendering_refuses_what_an_inline_svg_refers_to() -> None:
    clean = base64.b64encode(OUTSIDE_SVG.encode()).decode()
    fetcher = ProjectOnlyFetcher()
    html = f'<html><body><img src="data:image/svg+xml;base64,{clean}" alt="x"></body></html>'
    assert write_pdf(
        html, variant="pdf/a-3u", identifier=pdf_identifier("t"), epoch=0, fetcher=fetcher
    ).startswith(b"%PDF")
    assert fetcher.refused == []
    hostile = base64.b64encode(
        b'<svg xmlns="http://www.w3.org/2000/svg"><image href="file:///etc/hostname"'
        b' width="9" height="9"/></svg>'
    ).decode()
    fetcher = ProjectOnlyFetcher()
    html = f'<html><body><img src="data:image/svg+xml;base64,{hostile}" alt="x"></body></html>'
    with pytest.raises(RenderError, match="refused to load"):
        write_pdf(
            html, variant="pdf/a-3u", identifier=pdf_identifier("t"), epoch=0, fetcher=fetcher
        )
