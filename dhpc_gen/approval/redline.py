"""The redline of ``dhpc diff``: one self-contained HTML page, and the same as PDF."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

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
    country: str = ""
    """A campaign's country file: its facts and deviations."""
    notes: Mapping[str, str] = field(default_factory=dict)
    """Field path → a remark shown with its change (a deviation, the field it replaces)."""


def _parts(diff: DhpcDiff) -> list[_Part]:
    if diff.countries is None:
        parts = [_Part("", "dhpc.yaml (every language)", diff.meta)]
        parts += [_Part(d.language, language_name(d.language), d) for d in diff.languages]
        return parts
    parts = [_Part("", "dhpc.yaml (the core, every country)", diff.meta)]
    for part in diff.languages:
        users = diff.sent_in.get(part.language) or ("the core text",)
        kept = diff.deviated.get(part.language, {})
        notes = {
            path: f"Not in the letters of {', '.join(countries)}: a deviation replaces this field."
            for path, countries in kept.items()
        }
        title = f"{language_name(part.language)} · {', '.join(users)}"
        parts.append(_Part(part.language, title, part, notes=notes))
    for country in diff.countries:
        if not country.changed:
            continue  # ten countries unchanged are ten lines of nothing (the JSON lists them)
        changes = (*country.changes, *(c for d in country.deviations for c in d.changes))
        notes = {
            d.changes[0].path: f"Deviation of {d.language} {d.field} {d.kind} ({d.reference})"
            for d in country.deviations
        }
        parts.append(
            _Part(
                "",
                f"{country.country} · {country.file}",
                LanguageDiff("", country.status, changes),
                country=country.country,
                notes=notes,
            )
        )
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
