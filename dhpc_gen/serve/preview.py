"""The letter as WeasyPrint gets it, with each field named and its findings marked.

The preview is rendered by :func:`dhpc_gen.render.letter.render_html` on the letter's
own template and stylesheet; only the view is adjusted: every text field is wrapped in
an element that names its field path, and the words a finding of ``dhpc check`` is about
are wrapped in ``<mark>``. The texts are escaped and marked up exactly as in the PDF.
"""

from __future__ import annotations

import dataclasses
import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from html import escape as escape_html

import jinja2
from markupsafe import Markup, escape

from dhpc_gen.content.markup import render_block, render_inline
from dhpc_gen.content.model import Dhpc
from dhpc_gen.render.letter import LetterView, SectionView, compose_title, render_html
from dhpc_gen.review.findings import SEVERITIES, Finding

LETTER_CSS_URL = "/letter/letter.css"
PREVIEW_CSS_URL = "/static/letter-preview.css"
_TAG = re.compile(r"(<[^>]*>)")


@dataclass(frozen=True)
class FieldMarks:
    """What to mark in one field."""

    severity: str
    """The worst severity of the field's findings; empty when it has none."""
    marks: tuple[tuple[str, Finding], ...]


def field_id(path: str) -> str:
    """An HTML id for a field path: ``summary[2]`` → ``field-summary-2``."""
    return "field-" + re.sub(r"[^A-Za-z0-9]+", "-", path).strip("-")


def _mark_text(fragment: str, needle: str, finding: Finding, css: str) -> tuple[str, bool]:
    """Wrap the first occurrence of ``needle`` in the text (not the tags) of ``fragment``."""
    wanted = [escape_html(needle, quote=False), str(escape(needle))]
    parts = _TAG.split(fragment)
    for index, part in enumerate(parts):
        if part.startswith("<"):
            continue
        for form in wanted:
            at = part.find(form)
            if at != -1:
                title = escape(f"[{finding.tag}] {finding.message}")
                parts[index] = (
                    part[:at]
                    + f'<mark class="finding {css}" title="{title}">{form}</mark>'
                    + part[at + len(form) :]
                )
                return "".join(parts), True
    return fragment, False


def _worst(findings: Sequence[Finding]) -> str:
    return next((s for s in SEVERITIES if any(f.severity == s for f in findings)), "")


def marked_field(
    html: Markup, path: str, findings: Sequence[Finding], *, source: bool, block: bool
) -> Markup:
    """``html`` of one field, wrapped and named, its findings' words marked."""
    text = str(html)
    for finding in findings:
        needle = finding.source_mark if source else finding.target_mark
        if needle:
            css = "source" if source else finding.severity
            text, _found = _mark_text(text, needle, finding, css)
    severity = "" if source else _worst(findings)
    classes = "dhpc-field" + (f" finding-{severity}" if severity else "")
    tag = "div" if block else "span"
    titles = "; ".join(f"[{f.tag}] {f.message}" for f in findings if not source)
    title = f' title="{escape(titles)}"' if titles else ""
    return Markup(
        f'<{tag} class="{classes}" id="{field_id(path)}" data-field="{escape(path)}"{title}>'
        f"{text}</{tag}>"
    )


def preview_html(
    dhpc: Dhpc,
    language: str,
    findings: Sequence[Finding],
    environment: jinja2.Environment | None = None,
) -> str:
    """The preview of ``language``: the letter's HTML with fields named and findings marked.

    Raises what :func:`render_html` raises (a catalog without a translation, say).
    """
    adjust = view_marker(dhpc, language, findings)
    return letter_document(render_html(dhpc, language, environment=environment, adjust_view=adjust))


def view_marker(
    dhpc: Dhpc, language: str, findings: Sequence[Finding]
) -> Callable[[LetterView], LetterView]:
    """Adjusts the letter's view: each field named, the words of its findings marked."""
    source = language == dhpc.meta.source_language
    mine: dict[str, list[Finding]] = {}
    for finding in findings:
        if not finding.field or finding.check in ("catalog", "regulator"):
            continue
        if source or finding.language == language:
            mine.setdefault(finding.field, []).append(finding)
    text = dhpc.text(language)

    def inline(path: str, value: str) -> Markup:
        return marked_field(
            render_inline(value), path, mine.get(path, ()), source=source, block=False
        )

    def block(path: str, value: str) -> Markup:
        return marked_field(
            render_block(value), path, mine.get(path, ()), source=source, block=True
        )

    def adjust(view: LetterView) -> LetterView:
        title_path = "title" if text.title else "key_message"
        return dataclasses.replace(
            view,
            title_html=inline(title_path, compose_title(dhpc, text)),
            salutation=inline("salutation", text.salutation)
            if text.salutation
            else view.salutation,
            opening=inline("opening", text.opening),
            introduction=tuple(
                block(f"introduction[{i}]", p) for i, p in enumerate(text.introduction)
            ),
            summary=tuple(inline(f"summary[{i}]", b) for i, b in enumerate(text.summary)),
            background_heading=(
                inline("background_heading", text.background_heading)
                if text.background_heading
                else view.background_heading
            ),
            background=tuple(block(f"background[{i}]", p) for i, p in enumerate(text.background)),
            sections=tuple(
                SectionView(
                    inline(f"sections[{i}].heading", s.heading),
                    tuple(
                        block(f"sections[{i}].paragraphs[{n}]", p)
                        for n, p in enumerate(s.paragraphs)
                    ),
                )
                for i, s in enumerate(text.sections)
            ),
            reporting=tuple(block(f"reporting[{i}]", p) for i, p in enumerate(text.reporting)),
        )

    return adjust


def letter_document(html: str) -> str:
    """The letter's HTML with its stylesheet and the preview's served by this server."""
    links = (
        f'<link rel="stylesheet" href="{LETTER_CSS_URL}">\n'
        f'<link rel="stylesheet" href="{PREVIEW_CSS_URL}">'
    )
    return html.replace('<link rel="stylesheet" href="letter.css">', links, 1)
