"""The redline of ``dhpc diff``: one self-contained HTML page, and the same as PDF."""

from __future__ import annotations

from dataclasses import dataclass

import jinja2

from dhpc_gen import __version__
from dhpc_gen.approval.diff import DhpcDiff, LanguageDiff, diff_json
from dhpc_gen.errors import RenderError
from dhpc_gen.fsutil import sha256_bytes
from dhpc_gen.render.environment import make_environment
from dhpc_gen.review.report import language_name

REDLINE_TEMPLATE = "diff.html"
REDLINE_PDF_VARIANT = "pdf/a-3u"


@dataclass(frozen=True)
class _Part:
    language: str
    title: str
    diff: LanguageDiff


def _parts(diff: DhpcDiff) -> list[_Part]:
    parts = [_Part("", "dhpc.yaml (every language)", diff.meta)]
    parts += [_Part(d.language, language_name(d.language), d) for d in diff.languages]
    return parts


def redline_html(diff: DhpcDiff, *, for_pdf: bool = False) -> str:
    """Every change, insertions and deletions marked; nothing loaded from elsewhere."""
    env = make_environment()
    try:
        return env.get_template(REDLINE_TEMPLATE).render(
            diff=diff, parts=_parts(diff), for_pdf=for_pdf
        )
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {REDLINE_TEMPLATE}: {exc}") from exc


def redline_pdf(diff: DhpcDiff) -> bytes:
    """The redline as PDF, dated as the new letter: the same comparison, the same bytes."""
    from dhpc_gen.render.letter import letter_epoch
    from dhpc_gen.render.pdf import pdf_identifier, write_pdf

    return write_pdf(
        redline_html(diff, for_pdf=True),
        variant=REDLINE_PDF_VARIANT,
        identifier=pdf_identifier("diff", sha256_bytes(diff_json(diff).encode()), __version__),
        epoch=letter_epoch(diff.letter_date),
    )
