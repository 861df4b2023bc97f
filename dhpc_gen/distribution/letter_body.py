"""The body of a merged letter: laid out once per language, with room for the address.

The letter template puts the date and the title where a window envelope shows the
address. For merged letters the template is asked for a blank block at the top of the
first page, down to below the window, and leaves out its own date line (the date stands
beside the address instead). The first page is then rasterised and the
window and the information block are checked to be blank, so a template change that
prints into them fails loudly instead of printing under someone's address.
"""

from __future__ import annotations

import io
import logging
from collections.abc import Sequence
from dataclasses import dataclass

from pypdf import PdfReader

from dhpc_gen import __version__
from dhpc_gen.content.loader import consistency_problems
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.window import POINTS_PER_MM, WindowLayout
from dhpc_gen.errors import ContentError, RenderError
from dhpc_gen.render.letter import letter_epoch, render_html

logger = logging.getLogger(__name__)

BODY_TOP_MARGIN_MM = 30.0
BODY_LEFT_MARGIN_MM = 25.0
"""The page margins of ``templates/letter.css``: where the body's flow starts."""
GAP_BELOW_WINDOW_MM = 8.0

_CHECK_SCALE = 2.0
"""Pixels per point when the first page is checked for a blank window."""
_INK = 200
"""Grey level below which a pixel is print (a draft's pale watermark is not)."""


@dataclass(frozen=True)
class LetterBody:
    """One language's letter without the per-recipient parts."""

    language: str
    pdf: bytes
    pages: int
    page_height: float
    """Of the first page, in points."""


def window_space_mm(window: WindowLayout) -> float:
    """How far below the top margin the body must start to clear the window."""
    return max(0.0, window.bottom + GAP_BELOW_WINDOW_MM - BODY_TOP_MARGIN_MM)


def merged_html(
    dhpc: Dhpc,
    language: str,
    window: WindowLayout,
    address_sources: Sequence[str] | None = None,
) -> str:
    """The letter's HTML with room for the window and without the date line."""
    return render_html(
        dhpc, language, address_sources=address_sources, window_space_mm=window_space_mm(window)
    )


def render_body(
    dhpc: Dhpc,
    language: str,
    window: WindowLayout,
    address_sources: Sequence[str] | None = None,
) -> LetterBody:
    """Lay out the merged letter of ``language`` once (WeasyPrint) and check its window.

    WeasyPrint is imported here, not with the module, so that reading this module stays
    cheap for the processes that never lay anything out.
    """
    from dhpc_gen.build import language_hash, template_version
    from dhpc_gen.render.fonts import glyph_problems
    from dhpc_gen.render.pdf import pdf_identifier
    from dhpc_gen.render.renderer import warm_renderer

    problems = consistency_problems(dhpc) + glyph_problems(dhpc.files)
    if problems:
        raise ContentError(problems)
    html = merged_html(dhpc, language, window, address_sources)
    # Laid out by the process's warm renderer, as dhpc build lays out the letter.
    laid_out = warm_renderer().pdf(
        html,
        variant=dhpc.meta.pdf_variant,
        identifier=pdf_identifier(
            "merge", language_hash(dhpc, language), __version__, template_version()
        ),
        epoch=letter_epoch(dhpc.meta.date),
    )
    pdf = laid_out.data
    first_page = PdfReader(io.BytesIO(pdf)).pages[0]
    body = LetterBody(language, pdf, laid_out.pages, float(first_page.mediabox.height))
    check_blank_window(body, window)
    return body


def check_blank_window(body: LetterBody, window: WindowLayout) -> None:
    """Raise unless page 1 of the body leaves the window and the info block white."""
    import pypdfium2 as pdfium

    document = pdfium.PdfDocument(body.pdf)
    try:
        image = document[0].render(scale=_CHECK_SCALE).to_pil().convert("L")
    finally:
        document.close()
    scale = _CHECK_SCALE * POINTS_PER_MM
    for left, top, right, bottom in window.blank_areas():
        box = (
            round(left * scale),
            round(top * scale),
            round(right * scale),
            round(bottom * scale),
        )
        darkest, _ = image.crop(box).getextrema()
        if darkest < _INK:
            raise RenderError(
                f"the {body.language} letter prints into the address area "
                f"{left:g}-{right:g} mm from the left, {top:g}-{bottom:g} mm from the top "
                f"({window.name} window): templates/letter.css must leave it blank on page 1"
            )
