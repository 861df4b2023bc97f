"""PNG thumbnails of a letter's pages, so reviewers see the layout next to the words.

Pages are rasterised with pdfium (pypdfium2) and encoded as PNG here, with zlib, so no
imaging library is needed. The same PDF gives the same PNG bytes.
"""

from __future__ import annotations

import base64
import struct
import zlib
from dataclasses import dataclass

import pypdfium2 as pdfium

from dhpc_gen.errors import RenderError

THUMBNAIL_WIDTH = 360
"""Pixels; shown at half that width, so the text stays sharp when printed."""
MAX_PAGES = 20
"""A letter is one to three pages; more means something else was passed in."""


@dataclass(frozen=True)
class Thumbnail:
    """One page of one letter as a PNG image."""

    language: str
    page: int
    """1-based."""
    pages: int
    width: int
    height: int
    png: bytes

    @property
    def data_uri(self) -> str:
        return "data:image/png;base64," + base64.b64encode(self.png).decode("ascii")


def png_bytes(width: int, height: int, rows: list[bytes]) -> bytes:
    """An 8-bit RGB PNG of ``rows`` (``width * 3`` bytes each)."""

    def chunk(kind: bytes, data: bytes) -> bytes:
        body = kind + data
        return struct.pack(">I", len(data)) + body + struct.pack(">I", zlib.crc32(body))

    header = struct.pack(">IIBBBBB", width, height, 8, 2, 0, 0, 0)
    raw = b"".join(b"\x00" + row for row in rows)
    return (
        b"\x89PNG\r\n\x1a\n"
        + chunk(b"IHDR", header)
        + chunk(b"IDAT", zlib.compress(raw, 9))
        + chunk(b"IEND", b"")
    )


def page_thumbnails(pdf: bytes, language: str, width: int = THUMBNAIL_WIDTH) -> list[Thumbnail]:
    """Each page of ``pdf`` as a PNG ``width`` pixels wide."""
    try:
        document = pdfium.PdfDocument(pdf)
    except pdfium.PdfiumError as exc:
        raise RenderError(f"the {language} letter cannot be read as PDF: {exc}") from exc
    try:
        count = len(document)
        thumbnails = []
        for index in range(min(count, MAX_PAGES)):
            page = document[index]
            try:
                bitmap = page.render(scale=width / page.get_width(), rev_byteorder=True)
                try:
                    thumbnails.append(_thumbnail(bitmap, language, index + 1, count))
                finally:
                    bitmap.close()
            finally:
                page.close()
        return thumbnails
    finally:
        document.close()


def _thumbnail(bitmap: pdfium.PdfBitmap, language: str, page: int, pages: int) -> Thumbnail:
    channels = bitmap.n_channels
    buffer = bytes(bitmap.buffer)
    rows = []
    for y in range(bitmap.height):
        row = buffer[y * bitmap.stride : y * bitmap.stride + bitmap.width * channels]
        if channels != 3:  # RGBx or RGBA: keep the colour bytes
            row = b"".join(row[x : x + 3] for x in range(0, len(row), channels))
        rows.append(row)
    png = png_bytes(bitmap.width, bitmap.height, rows)
    return Thumbnail(language, page, pages, bitmap.width, bitmap.height, png)
