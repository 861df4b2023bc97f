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
from html import unescape as unescape_html

import jinja2
from markupsafe import Markup, escape

from dhpc_gen.content.markup import plain_text, render_block, render_inline
from dhpc_gen.content.model import Dhpc
from dhpc_gen.render.letter import LetterView, SectionView, compose_title, render_html
from dhpc_gen.review.extract import contacts
from dhpc_gen.review.findings import SEVERITIES, Finding, occurrence, occurrences

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


def _mark_text(
    fragment: str, needle: str, index: int | None, finding: Finding, css: str
) -> tuple[str, bool]:
    """Wrap the ``index``-th occurrence of ``needle`` (or the first, when ``index`` is
    ``None`` or not there) in the text, not the tags, of ``fragment``."""
    parts = _TAG.split(fragment)
    places: list[tuple[int, int, int]] = []  # (part, start, end) in the part's text
    for number, part in enumerate(parts):
        if not part.startswith("<"):
            text = unescape_html(part)
            places += [(number, *p) for p in occurrences(text, needle, _addresses(text))]
    if not places:
        return fragment, False
    chosen = places[index] if index is not None and index < len(places) else places[0]
    number, start, end = chosen
    text = unescape_html(parts[number])
    title = escape(f"[{finding.tag}] {finding.message}")
    parts[number] = (
        str(escape(text[:start]))
        + f'<mark class="finding {css}" title="{title}">{escape(text[start:end])}</mark>'
        + str(escape(text[end:]))
    )
    return "".join(parts), True


def _addresses(text: str) -> list[tuple[int, int]]:
    """Where ``text`` has web addresses: a link's address is in the field's plain text
    but not in the letter's (only its words are), so its digits are not counted."""
    return [(t.start, t.end) for t in contacts(text) if t.kind == "url"]


def _worst(findings: Sequence[Finding]) -> str:
    return next((s for s in SEVERITIES if any(f.severity == s for f in findings)), "")


def marked_field(
    html: Markup,
    path: str,
    findings: Sequence[Finding],
    *,
    source: bool,
    block: bool,
    plain: str | None = None,
    shift: int = 0,
) -> Markup:
    """``html`` of one field, wrapped and named, its findings' words marked.

    ``plain`` is the field's text as the checks read it (``shift`` characters into it
    when the letter prints something before the field, as the title does), so that each
    finding marks the occurrence it is about.
    """
    text = str(html)
    for finding in findings:
        needle = finding.source_mark if source else finding.target_mark
        if needle:
            css = "source" if source else finding.severity
            span = finding.source_span if source else finding.target_span
            index = None
            if plain is not None and span is not None:
                span = (span[0] + shift, span[1] + shift)
                urls = _addresses(plain)
                inside = any(s <= span[0] and span[1] <= e for s, e in urls)
                index = occurrence(plain, span, needle, () if inside else urls)
            text, _found = _mark_text(text, needle, index, finding, css)
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

    def inline(path: str, value: str, field_text: str | None = None) -> Markup:
        plain: str | None = plain_text(value)
        shift = 0
        if field_text is not None and plain is not None:  # the title: the field comes last
            own = plain_text(field_text)
            shift = len(plain) - len(own)
            if not plain.endswith(own):
                plain, shift = None, 0
        return marked_field(
            render_inline(value),
            path,
            mine.get(path, ()),
            source=source,
            block=False,
            plain=plain,
            shift=shift,
        )

    def block(path: str, value: str) -> Markup:
        return marked_field(
            render_block(value),
            path,
            mine.get(path, ()),
            source=source,
            block=True,
            plain=plain_text(value),
        )

    def adjust(view: LetterView) -> LetterView:
        title_path = "title" if text.title else "key_message"
        title_text = text.title or text.key_message
        return dataclasses.replace(
            view,
            title_html=inline(title_path, compose_title(dhpc, text), title_text),
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
