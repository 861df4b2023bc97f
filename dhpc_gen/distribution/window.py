"""Where the address and the date/reference lines go on the first page of a letter.

The default is the window of a C5/DL window envelope after DIN 5008 form B: 20 mm from
the left edge, 45 mm from the top, 85 × 45 mm. The text starts 5 mm inside the window
on every side, so the address stays visible when the sheet moves in the envelope. The
date and the reference line stand beside it, in the information block at 125 mm. A line
too wide for that may come to 3 mm from the window's right edge, and then the whole address
is set smaller, down to capitals 2.3 mm high (what the post's machines read): real long
place names are printed, never refused for a millimetre.

A country whose envelopes must carry a text (Denmark's "Ny sikkerhedsinformation om
brugen af medicin – i samarbejde med Lægemiddelstyrelsen", black on yellow) has it in
the window above the address, in smaller type on its colour, where DIN 5008 keeps a zone
for notes: every window envelope then carries it, and no separate envelope run is needed.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dhpc_gen.distribution.pdf_overlay import FilledBox, OverlayFont, TextLine
from dhpc_gen.errors import UsageError

POINTS_PER_MM = 72 / 25.4


@dataclass(frozen=True)
class WindowLayout:
    """Positions in millimetres from the top-left corner of the page; type sizes in points."""

    name: str
    left: float
    top: float
    width: float
    height: float
    inset: float = 5.0
    """Distance of the text from every edge of the window."""
    info_left: float = 125.0
    info_width: float = 63.0
    """The date/reference block: where it starts and how wide it may be."""
    font_size: float = 10.0
    leading: float = 12.0
    max_lines: int = 6
    """Postal services read at most six address lines."""
    edge: float = 3.0
    """Millimetres an address line keeps from the window's right edge at the least (a window
    envelope's rule, Deutsche Post's too): a line that is too wide with ``inset`` there may
    use the room up to it."""
    min_cap_height: float = 2.3
    """Millimetres of the capital letters at the least: the smallest type postal sorting
    machines read (Deutsche Post's rule for machine-read addresses, 2.3 to 4.7 mm)."""
    note_size: float = 7.5
    note_leading: float = 9.0
    note_padding: float = 1.5
    """Points of colour around the envelope note, and of space between it and the address."""

    @property
    def text_width(self) -> float:
        """The width an address line may take, in points."""
        return (self.width - 2 * self.inset) * POINTS_PER_MM

    @property
    def widest(self) -> float:
        """The width in points an address line may take when it does not fit ``text_width``."""
        return (self.width - self.inset - self.edge) * POINTS_PER_MM

    def smallest_size(self, font: OverlayFont) -> float:
        """The smallest type an address is set in (points, to a tenth): capitals
        ``min_cap_height`` high."""
        size = self.min_cap_height * POINTS_PER_MM * font.units_per_em / font.cap_height
        return math.ceil(size * 10 - 1e-6) / 10

    def address_size(self, font: OverlayFont, address: Sequence[str]) -> float | None:
        """The type size of the whole address: ``font_size`` when every line fits, else the
        largest size (to a tenth of a point, down to :meth:`smallest_size`) at which every
        line fits :attr:`widest`; None when none does. One size for the whole block, as the
        post asks."""
        if not address:
            return self.font_size
        widths = [font.width(line, 1.0) for line in address]
        if max(widths) * self.font_size <= self.widest + 1e-6:
            return self.font_size
        size = math.floor(self.widest / max(widths) * 10 + 1e-6) / 10
        return size if size >= self.smallest_size(font) else None

    def leading_for(self, size: float) -> float:
        return self.leading * size / self.font_size

    @property
    def line_capacity(self) -> int:
        """How many address lines fit in the window at this leading (at most ``max_lines``)."""
        return self.capacity_below(())

    def note_height(self, note: Sequence[str]) -> float:
        """Points the envelope note takes at the top of the window, its padding included."""
        if not note:
            return 0.0
        return len(note) * self.note_leading + 3 * self.note_padding

    def capacity_below(self, note: Sequence[str], leading: float | None = None) -> int:
        """How many address lines fit below the envelope note ``note``."""
        room = (self.height - 2 * self.inset) * POINTS_PER_MM - self.note_height(note)
        step = leading or self.leading
        return max(0, min(self.max_lines, math.floor(room / step + 1e-9)))

    def note_lines(self, font: OverlayFont, text: str) -> list[str]:
        """``text`` broken into lines that fit the window at the note's size."""
        lines: list[str] = []
        width = self.text_width - 2 * self.note_padding
        for word in text.split():
            if lines and font.width(f"{lines[-1]} {word}", self.note_size) <= width:
                lines[-1] = f"{lines[-1]} {word}"
            else:
                lines.append(word)
        return lines

    def note_box(self, note: Sequence[str], rgb: tuple[float, float, float]) -> FilledBox:
        """The coloured ground of the envelope note."""
        top = (self.top + self.inset) * POINTS_PER_MM
        return FilledBox(
            (self.left + self.inset) * POINTS_PER_MM,
            top,
            self.text_width,
            len(note) * self.note_leading + 2 * self.note_padding,
            rgb,
        )

    @property
    def bottom(self) -> float:
        return self.top + self.height

    def blank_areas(self) -> tuple[tuple[float, float, float, float], ...]:
        """The rectangles (left, top, right, bottom in mm) the letter body must leave empty."""
        return (
            (self.left, self.top, self.left + self.width, self.bottom),
            (self.info_left, self.top, self.info_left + self.info_width, self.bottom),
        )

    def place(
        self,
        font: OverlayFont,
        address: Sequence[str],
        info: Sequence[str],
        note: Sequence[str] = (),
    ) -> list[TextLine]:
        """The address lines in the window (below the envelope note, if any) and the info
        lines beside it, positioned."""
        first = (self.top + self.inset) * POINTS_PER_MM
        size = self.address_size(font, address) or self.font_size
        leading = self.leading_for(size)
        offset = font.baseline_offset(size, leading)
        info_offset = font.baseline_offset(self.font_size, self.leading)
        note_offset = font.baseline_offset(self.note_size, self.note_leading)
        left = (self.left + self.inset) * POINTS_PER_MM
        placed = [
            TextLine(
                left + self.note_padding,
                first + self.note_padding + index * self.note_leading + note_offset,
                text,
                self.note_size,
            )
            for index, text in enumerate(note)
        ]
        below = first + self.note_height(note)
        smaller = size if size != self.font_size else None
        placed += [
            TextLine(left, below + index * leading + offset, text, smaller)
            for index, text in enumerate(address)
        ]
        placed += [
            TextLine(
                self.info_left * POINTS_PER_MM, first + index * self.leading + info_offset, text
            )
            for index, text in enumerate(info)
        ]
        return placed

    def misfit(
        self,
        font: OverlayFont,
        address: Sequence[str],
        info: Sequence[str],
        note: Sequence[str] = (),
    ) -> str | None:
        """Why the lines do not fit (or ``None``): too many, too wide, or not printable."""
        for kind, lines in (("address", address), ("date/reference", info)):
            if not font.unsupported("".join(lines)):
                continue
            for number, line in enumerate(lines, start=1):
                bad = font.unsupported(line)
                if bad:
                    shown = ", ".join(f"U+{ord(c):04X}" for c in bad)
                    return (
                        f"{kind} line {number} has characters the letter font cannot print "
                        f"({shown})"
                    )
        size = self.address_size(font, address)
        capacity = self.capacity_below(note, self.leading_for(size or self.font_size))
        if len(address) > capacity:
            below = " below the envelope text" if note else ""
            return (
                f"the address has {len(address)} lines; the {self.name} window holds "
                f"{capacity}{below}"
            )
        if size is None:
            smallest = self.smallest_size(font)
            for number, line in enumerate(address, start=1):
                width = font.width(line, smallest)
                if width > self.widest + 1e-6:
                    return (
                        f"address line {number} is {width / POINTS_PER_MM:.1f} mm long even in "
                        f"{smallest:.1f} pt, the smallest type the post reads (capitals "
                        f"{self.min_cap_height} mm high); the {self.name} window leaves "
                        f"{self.widest / POINTS_PER_MM:.1f} mm. Give it in the address source "
                        "as the post writes it: a town by its name in the post's postal code "
                        "list (the short routing form where the post has one), a street or an "
                        "organisation in the abbreviations the post uses; or, if the mail "
                        "house's envelopes have a wider window, merge with --window "
                        "LEFT,TOP,WIDTH,HEIGHT"
                    )
        limit = self.info_width * POINTS_PER_MM
        for number, line in enumerate(info, start=1):
            width = font.width(line, self.font_size)
            if width > limit + 1e-6:
                return (
                    f"date/reference line {number} is {width / POINTS_PER_MM:.1f} mm long; "
                    f"the information block leaves {self.info_width:.1f} mm"
                )
        return None


WINDOWS = {
    "din5008-b": WindowLayout("din5008-b", left=20, top=45, width=85, height=45),
    "din5008-a": WindowLayout("din5008-a", left=20, top=27, width=85, height=45),
}
DEFAULT_WINDOW = "din5008-b"
MIN_INFO_WIDTH = 35.0
"""Millimetres the date and the reference line need beside the window, at the least."""

_CUSTOM = re.compile(r"^\s*([0-9.]+)\s*,\s*([0-9.]+)\s*,\s*([0-9.]+)\s*,\s*([0-9.]+)\s*$")


def window_layout(spec: str) -> WindowLayout:
    """A named window (``din5008-b``, ``din5008-a``) or ``LEFT,TOP,WIDTH,HEIGHT`` in mm."""
    if spec in WINDOWS:
        return WINDOWS[spec]
    match = _CUSTOM.match(spec)
    if not match:
        raise UsageError(
            f"--window {spec!r}: use {', '.join(WINDOWS)} or LEFT,TOP,WIDTH,HEIGHT in millimetres"
        )
    try:
        left, top, width, height = (float(group) for group in match.groups())
    except ValueError:
        raise UsageError(f"--window {spec!r}: not four numbers") from None
    if width <= 10 or height <= 10 or left + width > 200 or top + height > 280:
        raise UsageError(f"--window {spec!r}: the window must lie on an A4 page, over 10 mm")
    layout = WindowLayout(f"custom {spec.strip()}", left, top, width, height)
    if layout.info_left < left + width:
        layout = WindowLayout(
            layout.name,
            left,
            top,
            width,
            height,
            info_left=left + width + 5,
            info_width=max(0.0, 188 - (left + width + 5)),
        )
    if layout.info_width < MIN_INFO_WIDTH:
        raise UsageError(
            f"--window {spec!r}: the window leaves {layout.info_width:.0f} mm beside it for the "
            f"date and the reference line (they need {MIN_INFO_WIDTH:.0f} mm or more, up to "
            "188 mm from the left edge): put the window further left or make it narrower"
        )
    return layout
