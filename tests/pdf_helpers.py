"""Reading produced PDFs back, as a reader or an archivist would."""

from __future__ import annotations

import html
import re
import subprocess
from dataclasses import dataclass
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


MM = 72 / 25.4
"""Points per millimetre."""


@dataclass(frozen=True)
class Word:
    text: str
    x0: float
    y0: float
    x1: float
    y1: float


@dataclass(frozen=True)
class Line:
    page: int
    words: tuple[Word, ...]

    @property
    def text(self) -> str:
        return " ".join(word.text for word in self.words)

    @property
    def top(self) -> float:
        return min(word.y0 for word in self.words)


@dataclass(frozen=True)
class Page:
    number: int
    width: float
    height: float
    lines: tuple[Line, ...]


_PAGE = re.compile(r'<page width="([\d.]+)" height="([\d.]+)">(.*?)</page>', re.DOTALL)
_LINE = re.compile(r"<line [^>]*>(.*?)</line>", re.DOTALL)
_WORD = re.compile(
    r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
)


def layout(path: Path) -> list[Page]:
    """Every page's lines and word boxes (points from the top left), by poppler."""
    out = subprocess.run(
        ["pdftotext", "-enc", "UTF-8", "-bbox-layout", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pages = []
    for number, (width, height, body) in enumerate(_PAGE.findall(out), start=1):
        lines = []
        for line in _LINE.findall(body):
            words = tuple(
                Word(html.unescape(text), float(a), float(b), float(c), float(d))
                for a, b, c, d, text in _WORD.findall(line)
            )
            if words:
                lines.append(Line(number, words))
        pages.append(Page(number, float(width), float(height), tuple(lines)))
    return pages
