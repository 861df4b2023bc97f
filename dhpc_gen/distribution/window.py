"""Where the address and the date/reference lines go on the first page of a letter.

The default is the window of a C5/DL window envelope after DIN 5008 form B: 20 mm from
the left edge, 45 mm from the top, 85 × 45 mm. The text starts 5 mm inside the window
on every side, so the address stays visible when the sheet moves in the envelope. The
date and the reference line stand beside it, in the information block at 125 mm.
"""

from __future__ import annotations

import math
import re
from collections.abc import Sequence
from dataclasses import dataclass

from dhpc_gen.distribution.pdf_overlay import OverlayFont, TextLine
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

    @property
    def text_width(self) -> float:
        """The width an address line may take, in points."""
        return (self.width - 2 * self.inset) * POINTS_PER_MM

    @property
    def line_capacity(self) -> int:
        """How many address lines fit in the window at this leading (at most ``max_lines``)."""
        room = (self.height - 2 * self.inset) * POINTS_PER_MM
        return min(self.max_lines, math.floor(room / self.leading + 1e-9))

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
        self, font: OverlayFont, address: Sequence[str], info: Sequence[str]
    ) -> list[TextLine]:
        """The address lines in the window and the info lines beside it, positioned."""
        first = (self.top + self.inset) * POINTS_PER_MM
        offset = font.baseline_offset(self.font_size, self.leading)
        placed = [
            TextLine(
                (self.left + self.inset) * POINTS_PER_MM,
                first + index * self.leading + offset,
                text,
            )
            for index, text in enumerate(address)
        ]
        placed += [
            TextLine(self.info_left * POINTS_PER_MM, first + index * self.leading + offset, text)
            for index, text in enumerate(info)
        ]
        return placed

    def misfit(self, font: OverlayFont, address: Sequence[str], info: Sequence[str]) -> str | None:
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
        if len(address) > self.line_capacity:
            return (
                f"the address has {len(address)} lines; the {self.name} window holds "
                f"{self.line_capacity}"
            )
        for number, line in enumerate(address, start=1):
            width = font.width(line, self.font_size)
            if width > self.text_width + 1e-6:
                return (
                    f"address line {number} is {width / POINTS_PER_MM:.1f} mm long; the "
                    f"{self.name} window leaves {self.text_width / POINTS_PER_MM:.1f} mm: "
                    "shorten it in the address source"
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
    return layout
