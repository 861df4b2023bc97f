"""Reading produced PDFs back, as a reader or an archivist would."""

from __future__ import annotations

import subprocess
from pathlib import Path

from pypdf import PdfReader


def pdftotext(path: Path, *, layout: bool = False) -> str:
    """The text poppler's pdftotext reads from ``path``."""
    args = ["pdftotext", "-enc", "UTF-8", *(["-layout"] if layout else []), str(path), "-"]
    return subprocess.run(args, check=True, capture_output=True, text=True).stdout


def page_texts(path: Path) -> list[str]:
    """The text of each page, by pypdf."""
    return [page.extract_text() or "" for page in PdfReader(path).pages]


def font_rows(path: Path) -> list[list[str]]:
    """``pdffonts`` rows: name, type, encoding, emb, sub, uni, …"""
    out = subprocess.run(["pdffonts", str(path)], check=True, capture_output=True, text=True).stdout
    return [line.split() for line in out.splitlines()[2:] if line.strip()]
