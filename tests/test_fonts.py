"""Letters are printed in the bundled fonts only; what they cannot print is refused."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

import pytest
from click.testing import CliRunner

from dhpc_gen.cli import main
from dhpc_gen.render.fonts import unprintable
from dhpc_gen.render.pdf import pdf_identifier, write_pdf
from tests.pdf_helpers import font_rows, pdftotext


def _snapshot(folder: Path) -> dict[str, bytes]:
    return {
        p.relative_to(folder).as_posix(): p.read_bytes()
        for p in sorted(folder.rglob("*"))
        if p.is_file()
    }


def _replace(path: Path, old: str, new: str) -> None:
    text = path.read_text(encoding="utf-8")
    assert old in text
    path.write_text(text.replace(old, new, 1), encoding="utf-8")


def test_characters_the_font_lacks_are_refused_by_field(example_dir: Path, tmp_path: Path) -> None:
    out = tmp_path / "out"
    first = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(out)])
    assert first.exit_code == 0, first.output
    before = _snapshot(out)
    _replace(example_dir / "fi.yaml", "key_message: ", "key_message: ✓ ")
    _replace(example_dir / "dhpc.yaml", "name: Antti Virkamäki", "name: Antti Virkamäki 王")
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(out)])
    assert result.exit_code == 1
    assert "Traceback" not in result.output
    assert "fi.yaml:" in result.output and "key_message" in result.output
    assert "U+2713 CHECK MARK" in result.output
    assert "dhpc.yaml:" in result.output and "signatories[0].name" in result.output
    assert "U+738B" in result.output
    assert _snapshot(out) == before


def test_format_characters_and_unprinted_fields_are_accepted(
    example_dir: Path, tmp_path: Path
) -> None:
    # A soft hyphen, a word joiner and a zero-width space are never drawn: no glyph needed.
    _replace(example_dir / "fi.yaml", "key_message: ", "key_message: a\u00adb\u2060c\u200b ")
    # The audience is the communication plan's, never printed.
    _replace(
        example_dir / "dhpc.yaml",
        "description: Neurologists",
        "description: 🧠 Neurologists",
    )
    out = tmp_path / "out"
    result = CliRunner().invoke(main, ["build", str(example_dir), "--out", str(out)])
    assert result.exit_code == 0, result.output
    assert unprintable("a\u00adb\u2060c\u200b\nä€–▼") == []


def test_rendering_never_falls_back_to_the_machines_fonts(tmp_path: Path) -> None:
    # A font on this machine that has a glyph Liberation Sans lacks: without the bundled-
    # fonts-only configuration, WeasyPrint would embed it for that glyph.
    if shutil.which("fc-list") is None:
        pytest.skip("fc-list (fontconfig) is not installed")
    found = subprocess.run(
        ["fc-list", ":charset=2713", "family"], capture_output=True, text=True, check=True
    ).stdout.strip()
    if not found:
        pytest.skip("no font on this machine has U+2713 to fall back to")
    html = (
        '<!DOCTYPE html><html lang="en"><head><meta charset="utf-8">'
        '<link rel="stylesheet" href="letter.css"></head><body><p>Tick ✓ here</p></body></html>'
    )
    pdf = tmp_path / "x.pdf"
    pdf.write_bytes(
        write_pdf(html, variant="pdf/a-3u", identifier=pdf_identifier("fonts"), epoch=0)
    )
    families = {row[0].split("+", 1)[-1] for row in font_rows(pdf)}
    assert families and all(name.startswith("Letter-Sans") for name in families), families
    assert "Tick" in pdftotext(pdf)
