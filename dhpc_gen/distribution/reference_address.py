"""The address block laid out the slow way, by WeasyPrint, from ``templates/address.html``.

Merging never uses this: it is the reference the fast path is checked against (same
text, same place, within a fraction of a point) and the baseline the benchmark measures
(a whole letter laid out per recipient).
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import jinja2

from dhpc_gen.distribution.letter_body import BODY_LEFT_MARGIN_MM, BODY_TOP_MARGIN_MM
from dhpc_gen.distribution.window import WindowLayout
from dhpc_gen.errors import RenderError
from dhpc_gen.render.environment import make_environment
from dhpc_gen.render.pdf import pdf_identifier, write_pdf

ADDRESS_TEMPLATE = "address.html"


@dataclass(frozen=True)
class AddressView:
    """What ``address.html`` shows; positions in mm from the origin of the layout."""

    language: str
    lines: tuple[str, ...]
    info: tuple[str, ...]
    left: float
    top: float
    width: float
    info_left: float
    info_width: float
    font_size: float
    leading: float


def address_view(
    window: WindowLayout,
    lines: Sequence[str],
    info: Sequence[str],
    *,
    language: str,
    origin: tuple[float, float] = (0.0, 0.0),
) -> AddressView:
    """The view of one address; ``origin`` (left, top in mm) is where positions count from."""
    x0, y0 = origin
    return AddressView(
        language=language,
        lines=tuple(lines),
        info=tuple(info),
        left=round(window.left + window.inset - x0, 4),
        top=round(window.top + window.inset - y0, 4),
        width=round(window.width - 2 * window.inset, 4),
        info_left=round(window.info_left - x0, 4),
        info_width=round(window.info_width, 4),
        font_size=window.font_size,
        leading=window.leading,
    )


def _template(environment: jinja2.Environment | None) -> jinja2.Template:
    env = environment or make_environment()
    try:
        return env.get_template(ADDRESS_TEMPLATE)
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {ADDRESS_TEMPLATE}: {exc}") from exc


def address_page_html(view: AddressView, environment: jinja2.Environment | None = None) -> str:
    """An A4 page holding only the address block, positioned from the page's corner."""
    return _template(environment).render(address=view)


def render_address_page(view: AddressView, *, epoch: int = 0) -> bytes:
    """The address page as a PDF, laid out by WeasyPrint."""
    return write_pdf(
        address_page_html(view),
        variant="pdf/a-3u",
        identifier=pdf_identifier("address", *view.lines, *view.info),
        epoch=epoch,
    )


def letter_with_address_html(
    letter_html: str,
    window: WindowLayout,
    lines: Sequence[str],
    info: Sequence[str],
    *,
    language: str,
    environment: jinja2.Environment | None = None,
) -> str:
    """A merged letter's HTML with the address block in it: one layout per recipient.

    Positions count from the letter's page area, whose corner is at the margins of
    ``templates/letter.css``.
    """
    view = address_view(
        window,
        lines,
        info,
        language=language,
        origin=(BODY_LEFT_MARGIN_MM, BODY_TOP_MARGIN_MM),
    )
    env = environment or make_environment()
    _template(env)  # a missing or broken template is reported by name
    block = env.from_string(
        f"{{% from '{ADDRESS_TEMPLATE}' import address_block with context %}}"
        "{{ address_block(address) }}"
    ).render(address=view)
    head, marker, rest = letter_html.partition("</head>")
    head_end = '<link rel="stylesheet" href="address.css">\n' + marker
    body, body_marker, tail = rest.partition("<body>")
    if not marker or not body_marker:
        raise RenderError("template letter.html: no </head> and <body> to add the address to")
    return head + head_end + body + body_marker + "\n" + str(block) + tail
