"""HTML → PDF with WeasyPrint, reading nothing but the project's own files."""

from __future__ import annotations

import base64
import binascii
import contextlib
import io
import logging
import mimetypes
import os
from collections.abc import Iterator, Sequence
from dataclasses import dataclass
from functools import lru_cache
from importlib.resources import files
from pathlib import Path
from urllib.parse import unquote, urlsplit

from weasyprint import DEFAULT_OPTIONS, HTML
from weasyprint.css import ColorProfile
from weasyprint.text.fonts import FontConfiguration
from weasyprint.urls import FatalURLFetchingError, URLFetcher, URLFetcherResponse

from dhpc_gen.errors import RenderError
from dhpc_gen.render.fonts import bundled_fonts_only
from dhpc_gen.render.prefork import pdf_identifier as pdf_identifier
from dhpc_gen.resources import RENDER_ROOTS, TEMPLATES_DIR

logger = logging.getLogger(__name__)


_PNG_DATA = "data:image/png;base64,"
_SVG_DATA = "data:image/svg+xml;base64,"


class ProjectOnlyFetcher(URLFetcher):  # type: ignore[misc]
    """Serves ``file:`` URLs below the allowed folders and inline pictures; refuses the rest.

    Inline pictures are PNGs (page thumbnails) and SVGs (letterhead logos, checked when
    the content is loaded); whatever an SVG itself refers to comes through here again.

    A refused URL stops the rendering: the templates never ask for one, so a request
    outside the project means something has gone wrong and must not be ignored.
    """

    def __init__(self, roots: Sequence[Path] = RENDER_ROOTS) -> None:
        super().__init__(allowed_protocols=("file", "data"), fail_on_errors=True)
        self.roots = tuple(root.resolve() for root in roots)
        self.refused: list[str] = []

    def fetch(self, url: str, headers: object = None) -> URLFetcherResponse:
        if url.startswith(_PNG_DATA):
            # Inline PNG pictures (page thumbnails) are part of the document itself.
            try:
                body = base64.b64decode(url[len(_PNG_DATA) :], validate=True)
            except (binascii.Error, ValueError):
                body = b""
            if body.startswith(b"\x89PNG\r\n\x1a\n"):
                return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/png"})
        if url.startswith(_SVG_DATA):
            # Here, not at the top: the layout process of a build lays letters out
            # without the content model (see dhpc_gen.render.prefork).
            from dhpc_gen.content.letterhead import svg_problem

            try:
                body = base64.b64decode(url[len(_SVG_DATA) :], validate=True)
            except (binascii.Error, ValueError):
                body = b""
            if svg_problem(body) is None:
                return URLFetcherResponse(url, body=body, headers={"Content-Type": "image/svg+xml"})
        parts = urlsplit(url)
        if parts.scheme == "file" and parts.netloc in ("", "localhost"):
            path = Path(unquote(parts.path)).resolve()
            if any(path == root or root in path.parents for root in self.roots) and path.is_file():
                mime, _ = mimetypes.guess_type(path.name)
                return URLFetcherResponse(
                    url,
                    body=path.read_bytes(),
                    headers={"Content-Type": mime or "application/octet-stream"},
                )
        self.refused.append(url)
        raise FatalURLFetchingError(
            f"refused to load {url!r}: only the project's own templates and assets"
        )


@contextlib.contextmanager
def source_date_epoch(epoch: int) -> Iterator[None]:
    """Pin the clock fontTools writes into embedded font subsets (``head.modified``).

    fontTools reads ``SOURCE_DATE_EPOCH`` at each call; without it every build would
    differ by the time of day. The previous value is restored afterwards.
    """
    previous = os.environ.get("SOURCE_DATE_EPOCH")
    os.environ["SOURCE_DATE_EPOCH"] = str(epoch)
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("SOURCE_DATE_EPOCH", None)
        else:
            os.environ["SOURCE_DATE_EPOCH"] = previous


@dataclass(frozen=True)
class LaidOutPdf:
    """A PDF and its number of pages, as the layout engine counted them."""

    data: bytes
    pages: int


def render_pdf(
    html: str,
    *,
    variant: str,
    identifier: bytes,
    epoch: int,
    base_dir: Path = TEMPLATES_DIR,
    fetcher: ProjectOnlyFetcher | None = None,
    font_config: FontConfiguration | None = None,
) -> LaidOutPdf:
    """Lay out ``html``: the PDF bytes (tagged, in the archival ``variant``) and page count.

    The count comes from the layout: reading it back from a tagged PDF of a few hundred
    pages took pypdf seconds (it parses the whole structure tree's object stream).
    ``font_config``: one kept from document to document (:func:`bundled_font_config`);
    by default a fresh one.
    """
    fetcher = fetcher or ProjectOnlyFetcher()
    options = {
        **DEFAULT_OPTIONS,
        "pdf_variant": variant,
        "pdf_identifier": identifier,
        "pdf_tags": True,
        "output_intent": _OUTPUT_INTENT,
    }
    with source_date_epoch(epoch), bundled_fonts_only():
        try:
            document = HTML(
                string=html,
                base_url=base_dir.resolve().as_uri() + "/",
                url_fetcher=fetcher,
            ).render(
                font_config=font_config or FontConfiguration(),
                color_profiles={_OUTPUT_INTENT: _srgb_profile()},
                **options,
            )
            pdf: bytes = document.write_pdf(**options)
        except FatalURLFetchingError as exc:
            raise RenderError(str(exc)) from None
    return LaidOutPdf(pdf, len(document.pages))


def write_pdf(
    html: str,
    *,
    variant: str,
    identifier: bytes,
    epoch: int,
    base_dir: Path = TEMPLATES_DIR,
    fetcher: ProjectOnlyFetcher | None = None,
) -> bytes:
    """Lay out ``html`` and return the PDF bytes (tagged, in the archival ``variant``)."""
    return render_pdf(
        html,
        variant=variant,
        identifier=identifier,
        epoch=epoch,
        base_dir=base_dir,
        fetcher=fetcher,
    ).data


_OUTPUT_INTENT = "dhpc-srgb"


def bundled_font_config() -> FontConfiguration:
    """A font configuration that knows the bundled fonts only, to keep for many documents.

    Laying out a letter with the configuration of the previous one gives the same bytes
    (the golden tests build letters one after another in one process) and saves
    fontconfig's set-up and the ``@font-face`` fonts' copies each time.
    """
    with bundled_fonts_only():
        return FontConfiguration()


@lru_cache(maxsize=1)
def _srgb_bytes() -> bytes:
    return (files("weasyprint.pdf") / "sRGB2014.icc").read_bytes()


def _srgb_profile() -> ColorProfile:
    """WeasyPrint's own sRGB profile, a fresh object of bytes read once per process.

    Passed in as a named profile instead of ``output_intent="srgb"``, with which
    WeasyPrint 70 leaves the ICC file open on every document. The object is not kept:
    a profile object serialises differently after its first use, which would break
    reproducibility.
    """
    icc = io.BytesIO(_srgb_bytes())
    return ColorProfile(icc, "sRGB2014.icc", "relative-colorimetric", (["r"], ["g"], ["b"]))
