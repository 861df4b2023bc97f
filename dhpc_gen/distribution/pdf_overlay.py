"""Per-recipient text drawn straight into a page's content, in one embedded font.

No layout engine runs per letter: each line is placed at a computed position and
written as glyph ids of the bundled Liberation Sans (a Type 0 font with Identity-H
encoding, so any character the font has can be drawn, and a ToUnicode map so the text
can be searched and extracted). Lines are measured with the font's own advance widths
before they are drawn; a line that does not fit is reported by the caller, never cut.
"""

from __future__ import annotations

import hashlib
import io
import unicodedata
from collections.abc import Iterable
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Protocol

from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

from dhpc_gen.distribution.pdf_objects import pdf_number, stream_object
from dhpc_gen.errors import RenderError
from dhpc_gen.resources import ASSETS_DIR

ADDRESS_FONT = ASSETS_DIR / "fonts" / "LiberationSans-Regular.ttf"
FONT_RESOURCE = b"DhpcAddress"
"""The name of the font in the page's resources (chosen not to meet WeasyPrint's names)."""

_LAYOUT_TABLES = ("GSUB", "GPOS", "GDEF", "kern")
"""Not needed to draw glyph by glyph; reading them would cost most of the subsetting."""
_RIGHT_TO_LEFT = {"R", "AL", "AN", "RLE", "RLO", "RLI"}


class ObjectSink(Protocol):
    def reserve(self) -> int: ...

    def write(self, number: int, body: bytes) -> None: ...


@dataclass(frozen=True)
class TextLine:
    """One line of text: ``x`` from the left edge, ``baseline`` from the top, in points."""

    x: float
    baseline: float
    text: str
    size: float | None = None
    """The type size in points, when not the overlay's own."""


@dataclass(frozen=True)
class FilledBox:
    """A rectangle filled in one colour, drawn under the text: ``left``/``top`` from the
    top-left corner, in points; ``rgb`` from 0 to 1."""

    left: float
    top: float
    width: float
    height: float
    rgb: tuple[float, float, float]


class OverlayFont:
    """A TrueType font measured and encoded without a layout engine."""

    def __init__(self, path: Path = ADDRESS_FONT) -> None:
        self.path = path
        try:
            font = TTFont(path, lazy=True)
        except (OSError, ValueError) as exc:
            raise RenderError(f"{path}: cannot read the font: {exc}") from exc
        self.postscript_name = str(font["name"].getDebugName(6) or path.stem).replace(" ", "")
        self.units_per_em = int(font["head"].unitsPerEm)
        self.ascent = int(font["hhea"].ascent)
        self.descent = -int(font["hhea"].descent)
        head = font["head"]
        self.bbox = (int(head.xMin), int(head.yMin), int(head.xMax), int(head.yMax))
        self.cap_height = int(getattr(font["OS/2"], "sCapHeight", self.ascent))
        self.italic_angle = float(font["post"].italicAngle)
        order = font.getGlyphOrder()
        metrics = font["hmtx"].metrics
        self.advances: tuple[int, ...] = tuple(int(metrics[name][0]) for name in order)
        glyph_ids = {name: gid for gid, name in enumerate(order)}
        self.glyph_of: dict[str, int] = {
            chr(code): glyph_ids[name] for code, name in font.getBestCmap().items()
        }
        font.close()
        self._advance_of = {char: self.advances[gid] for char, gid in self.glyph_of.items()}
        self._hex = {ord(char): f"{gid:04x}" for char, gid in self.glyph_of.items()}
        self._printable = frozenset(
            char
            for char in self.glyph_of
            if unicodedata.bidirectional(char) not in _RIGHT_TO_LEFT
            and not unicodedata.combining(char)
        )
        """Characters drawn as they are, left to right, one glyph each."""

    def unsupported(self, text: str) -> str:
        """The characters of ``text`` this font cannot draw left to right, one of each."""
        return "".join(sorted(set(text) - self._printable))

    def width(self, text: str, size: float) -> float:
        """The advance width of ``text`` in points at ``size`` (no kerning: never less)."""
        return sum(map(self._advance_of.__getitem__, text)) * size / self.units_per_em

    def baseline_offset(self, size: float, leading: float) -> float:
        """Where the baseline lies below the top of a line box (as CSS lays it out)."""
        ascent = self.ascent * size / self.units_per_em
        descent = self.descent * size / self.units_per_em
        return (leading - ascent - descent) / 2 + ascent

    def encode(self, text: str) -> bytes:
        """``text`` as a hex string of glyph ids (Identity-H)."""
        return b"<" + text.translate(self._hex).encode("ascii") + b">"


@lru_cache(maxsize=4)
def load_font(path: Path = ADDRESS_FONT) -> OverlayFont:
    return OverlayFont(path)


def overlay_content(
    font: OverlayFont,
    lines: Iterable[TextLine],
    size: float,
    page_height: float,
    boxes: Iterable[FilledBox] = (),
) -> bytes:
    """The content stream that draws ``boxes``, then ``lines`` over them (uncompressed)."""
    parts = [b"q /Artifact BMC "]
    for box in boxes:
        colour = b" ".join(pdf_number(c) for c in box.rgb)
        bottom = page_height - box.top - box.height
        parts.append(
            b"%s rg %.3f %.3f %.3f %.3f re f\n" % (colour, box.left, bottom, box.width, box.height)
        )
    parts += [b"BT /", FONT_RESOURCE, b" ", pdf_number(size), b" Tf 0 g\n"]
    current = size
    for line in lines:
        if line.text:
            wanted = line.size or size
            if wanted != current:
                parts += [b"/", FONT_RESOURCE, b" ", pdf_number(wanted), b" Tf\n"]
                current = wanted
            position = b"1 0 0 1 %.3f %.3f Tm " % (line.x, page_height - line.baseline)
            parts += [position, font.encode(line.text), b" Tj\n"]
    parts.append(b"ET EMC Q\n")
    return b"".join(parts)


@dataclass(frozen=True)
class EmbeddedFont:
    """A subset of the font holding every glyph a run draws, glyph ids unchanged."""

    font: OverlayFont
    characters: str
    program: bytes

    @property
    def base_name(self) -> bytes:
        tag = "".join(
            chr(ord("A") + byte % 26) for byte in hashlib.sha256(self.program).digest()[:6]
        )
        return f"{tag}+{self.font.postscript_name}".encode("ascii", "replace")

    def write(self, sink: ObjectSink) -> int:
        """Write the font's objects; returns the number of the Type 0 font."""
        font = self.font
        scale = 1000 / font.units_per_em
        glyphs: dict[int, str] = {}
        for char in sorted(self.characters):
            glyphs.setdefault(font.glyph_of[char], char)
        name = b"/" + self.base_name

        file_number = sink.reserve()
        sink.write(
            file_number,
            stream_object(b"/Length1 %d " % len(self.program), self.program),
        )
        descriptor = sink.reserve()
        bbox = b" ".join(pdf_number(v * scale) for v in font.bbox)
        sink.write(
            descriptor,
            b"<</Type /FontDescriptor /FontName "
            + name
            + b" /Flags 32 /FontBBox ["
            + bbox
            + b"] /ItalicAngle "
            + pdf_number(font.italic_angle)
            + b" /Ascent "
            + pdf_number(font.ascent * scale)
            + b" /Descent "
            + pdf_number(-font.descent * scale)
            + b" /CapHeight "
            + pdf_number(font.cap_height * scale)
            + b" /StemV 80 /FontFile2 %d 0 R>>" % file_number,
        )
        widths = b" ".join(
            b"%d [%s]" % (gid, pdf_number(font.advances[gid] * scale)) for gid in sorted(glyphs)
        )
        cid_font = sink.reserve()
        sink.write(
            cid_font,
            b"<</Type /Font /Subtype /CIDFontType2 /BaseFont "
            + name
            + b" /CIDSystemInfo <</Registry (Adobe) /Ordering (Identity) /Supplement 0>>"
            + b" /FontDescriptor %d 0 R /CIDToGIDMap /Identity /DW 1000 /W [" % descriptor
            + widths
            + b"]>>",
        )
        to_unicode = sink.reserve()
        sink.write(to_unicode, stream_object(b"", _to_unicode_cmap(glyphs)))
        type0 = sink.reserve()
        sink.write(
            type0,
            b"<</Type /Font /Subtype /Type0 /BaseFont "
            + name
            + b" /Encoding /Identity-H /DescendantFonts [%d 0 R] /ToUnicode %d 0 R>>"
            % (cid_font, to_unicode),
        )
        return type0


def embed_font(font: OverlayFont, characters: Iterable[str]) -> EmbeddedFont:
    """Subset the font to ``characters`` (plus the space), keeping the glyph ids."""
    from fontTools import subset  # type: ignore[import-untyped]  # slow to import, used once

    chars = "".join(sorted(set(characters) | {" "}))
    missing = font.unsupported(chars)
    if missing:
        raise RenderError(f"internal: the address font cannot draw {missing!r}")
    options = subset.Options()
    options.retain_gids = True
    options.hinting = False
    options.layout_features = []
    options.name_IDs = ["*"]
    options.notdef_outline = True
    options.drop_tables = [*options.drop_tables, "FFTM", *_LAYOUT_TABLES]
    subsetter = subset.Subsetter(options)
    subsetter.populate(unicodes=[ord(char) for char in chars])
    with TTFont(font.path, recalcTimestamp=False, lazy=True) as ttf:
        for table in _LAYOUT_TABLES:  # dropped before the subsetter reads them (slow)
            if table in ttf:
                del ttf[table]
        subsetter.subset(ttf)
        buffer = io.BytesIO()
        ttf.save(buffer, reorderTables=True)
    return EmbeddedFont(font, chars, buffer.getvalue())


def _to_unicode_cmap(glyphs: dict[int, str]) -> bytes:
    entries = [
        f"<{gid:04x}> <{char.encode('utf-16-be').hex()}>" for gid, char in sorted(glyphs.items())
    ]
    blocks = []
    for start in range(0, len(entries), 100):
        chunk = entries[start : start + 100]
        blocks.append(f"{len(chunk)} beginbfchar\n" + "\n".join(chunk) + "\nendbfchar")
    return (
        "/CIDInit /ProcSet findresource begin\n12 dict begin\nbegincmap\n"
        "/CIDSystemInfo <</Registry (Adobe) /Ordering (UCS) /Supplement 0>> def\n"
        "/CMapName /Adobe-Identity-UCS def\n/CMapType 2 def\n"
        "1 begincodespacerange\n<0000> <ffff>\nendcodespacerange\n"
        + "\n".join(blocks)
        + "\nendcmap\nCMapName currentdict /CMap defineresource pop\nend\nend\n"
    ).encode("ascii")
