"""Reading produced HTML and PDFs back for markup that became live.

Shared by ``tests/test_hostile_content.py`` and ``tests/test_property_content.py``.
"""

from __future__ import annotations

from dataclasses import dataclass
from html.parser import HTMLParser
from io import BytesIO
from pathlib import Path
from typing import Any

from pypdf import PdfReader

# What the safe markup makes (markdown-it: **bold**, *italic*, [links](…), '- ' lists, hard
# line breaks). Anything else in a content-made part of a page came from a typed tag.
SAFE_TAGS = frozenset({"strong", "em", "a", "ul", "li", "p", "br"})
SAFE_SCHEMES = ("http://", "https://", "mailto:")


@dataclass(frozen=True)
class Element:
    tag: str
    attrs: tuple[tuple[str, str], ...]

    def attr(self, name: str) -> str | None:
        return next((value for key, value in self.attrs if key == name), None)


class _Collector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[Element] = []
        self.text: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append(Element(tag, tuple((k, v or "") for k, v in attrs)))

    def handle_startendtag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.handle_starttag(tag, attrs)

    def handle_data(self, data: str) -> None:
        self.text.append(data)


def elements(html: str) -> list[Element]:
    """Every start tag of ``html``, as a browser's tokenizer reads it."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return collector.elements


def visible_text(html: str) -> str:
    """The text of ``html`` (entities decoded), whitespace collapsed."""
    collector = _Collector()
    collector.feed(html)
    collector.close()
    return " ".join("".join(collector.text).split())


def count(html: str, tag: str) -> int:
    return sum(1 for element in elements(html) if element.tag == tag)


def link_targets(html: str) -> list[str]:
    return [element.attr("href") or "" for element in elements(html) if element.tag == "a"]


def pdf_link_uris(pdf: bytes | Path) -> list[str]:
    """The URI of every link annotation of the PDF."""
    data = pdf.read_bytes() if isinstance(pdf, Path) else pdf
    uris = []
    for page in PdfReader(BytesIO(data)).pages:
        for annotation in page.get("/Annots") or []:
            obj: Any = annotation.get_object()
            action = obj.get("/A")
            if obj.get("/Subtype") == "/Link" and action is not None:
                uris.append(str(action.get_object().get("/URI", "")))
    return uris
