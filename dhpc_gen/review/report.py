"""The side-by-side review document regulatory staff sign off, as HTML and PDF.

One self-contained HTML file (CSS inline, page thumbnails as ``data:`` URIs, no other
resource): a summary of findings per check, every text field aligned across the
languages with each finding highlighted where it occurs, thumbnails of the built
letters, the hashes of exactly what was reviewed, and a sign-off block per language.
"""

from __future__ import annotations

import logging
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError
from markupsafe import Markup, escape

from dhpc_gen import __version__
from dhpc_gen.approval.state import LanguageApproval, approvals
from dhpc_gen.build import BuiltLetter, content_hash, render_letters, template_version
from dhpc_gen.content.fields import TextField, text_fields
from dhpc_gen.content.markup import plain_text
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError, RenderError
from dhpc_gen.fsutil import sha256_bytes, sha256_file
from dhpc_gen.i18n import catalog_path, long_date
from dhpc_gen.regulators import registry
from dhpc_gen.render.environment import make_environment
from dhpc_gen.render.letter import compose_title, letter_epoch
from dhpc_gen.render.long_words import break_long_words
from dhpc_gen.render.pdf import pdf_identifier, write_pdf
from dhpc_gen.resources import LOCALES_DIR, PROJECT_DIR, REGULATORS_DIR
from dhpc_gen.review.checks import (
    PAIR_CHECKS,
    LanguagePair,
    check_catalog,
    check_regulator,
    language_pairs,
    run_checks,
)
from dhpc_gen.review.findings import (
    CHECK_IDS,
    SEVERITIES,
    Finding,
    count_by_check,
    nth_occurrence,
    occurrence,
    occurrences,
)
from dhpc_gen.review.termbase import Termbase, dhpc_terms
from dhpc_gen.review.thumbnails import Thumbnail, page_thumbnails

logger = logging.getLogger(__name__)

REVIEW_TEMPLATE = "review.html"
REVIEW_PDF_VARIANT = "pdf/a-3u"

_GROUP_LABELS = {
    "active_substances": "Active substances",
    "introduction": "Introduction",
    "summary": "Summary bullets",
    "background": "Background",
    "sections": "Sections",
    "reporting": "Reporting",
    "contact_points": "Company contact point",
    "signatory_titles": "Signatory titles",
    "address_sources": "Address sources",
    "boilerplate": "Boilerplate overrides",
}
_GROUP = re.compile(r"^([a-z_]+)\[")
_LIST_MARKER = re.compile(r"^\s*[-*+]\s+", re.MULTILINE)


def _first_line(func: Callable[..., object]) -> str:
    return (func.__doc__ or "").strip().splitlines()[0].rstrip(".")


CHECK_DESCRIPTIONS: dict[str, str] = {
    **{check_id: _first_line(func) for check_id, func in PAIR_CHECKS.items()},
    "catalog": _first_line(check_catalog),
    "regulator": _first_line(check_regulator),
    "deviation": "A country's own wording of a field, as its authority asked (a note, with the "
    "reference)",
}


@dataclass(frozen=True)
class Cell:
    """The text of one language in one row, with its findings marked."""

    language: str
    path: str | None
    html: Markup
    state: str
    """``""``, ``missing``, ``warning`` or ``error``."""


@dataclass(frozen=True)
class Row:
    """One text field across the languages, or the heading of a list of them."""

    path: str
    kind: str
    cells: tuple[Cell, ...]
    findings: tuple[Finding, ...]
    header: bool = False
    label: str = ""

    @property
    def severity(self) -> str:
        for severity in SEVERITIES:
            if any(f.severity == severity for f in self.findings):
                return severity
        return ""


@dataclass(frozen=True)
class CheckSummary:
    check: str
    description: str
    counts: tuple[tuple[int, int, int], ...]
    """(errors, warnings, notes) per language, in the order of the document's languages."""
    errors: int
    warnings: int
    notes: int


@dataclass(frozen=True)
class HashLine:
    what: str
    name: str
    sha256: str


@dataclass(frozen=True)
class LetterLine:
    language: str
    filename: str
    sha256: str
    pages: int


@dataclass(frozen=True)
class ReviewView:
    """Everything the review template shows."""

    dhpc_id: str
    title: str
    date: str
    status: str
    country: str
    source_language: str
    languages: tuple[str, ...]
    language_names: Mapping[str, str]
    rows: tuple[Row, ...]
    summary: tuple[CheckSummary, ...]
    errors: int
    warnings: int
    notes: int
    other_findings: tuple[Finding, ...]
    thumbnails: Mapping[str, tuple[Thumbnail, ...]]
    thumbnail_note: str
    content_sha256: str
    hashes: tuple[HashLine, ...]
    letters: tuple[LetterLine, ...]
    template_version: str
    tool_version: str
    approvals: tuple[LanguageApproval, ...] = ()
    """Each language's sign-off state and the changes since its last approval."""


@dataclass(frozen=True)
class Review:
    """The review document and what it was made from."""

    html: str
    findings: tuple[Finding, ...]
    view: ReviewView


LetterSource = Callable[[Sequence[str]], list[BuiltLetter]]
"""Languages → their letters, rendered (may raise :class:`DhpcError`)."""


@dataclass
class ReviewInputs:
    """Where the review reads catalogs, regulators and terms from (the project's own)."""

    termbase: Termbase | None = None
    locales_dir: Path = LOCALES_DIR
    registry_dir: Path = REGULATORS_DIR
    thumbnails: bool = True
    progress: Callable[[str], None] | None = field(default=None)
    findings: Sequence[Finding] | None = None
    """Findings made elsewhere (a campaign's checks); by default the checks run here."""
    letters: LetterSource | None = None
    """Renders the letters shown as thumbnails; by default those of the DHPC itself."""
    countries: Sequence[str] = ()
    """The countries reviewed (a campaign); by default the DHPC's own."""
    approvals: bool = True
    """Show the sign-off state of each language and what changed since its approval."""
    approval_states: Sequence[LanguageApproval] | None = None
    """The states to show, made elsewhere (a campaign's, country by country); by default
    those of the DHPC's own languages."""


def language_name(language: str) -> str:
    try:
        name = Locale.parse(language).get_display_name("en")
    except (UnknownLocaleError, ValueError):
        return language
    return f"{name} ({language})" if name else language


def _display_text(text: str) -> str:
    return plain_text(_LIST_MARKER.sub("• ", text)).strip()


def _marked(text: str, marks: Sequence[tuple[str, int | None, Finding]]) -> Markup:
    """``text`` escaped, each mark wrapped in ``<mark>`` (no overlaps).

    A mark is (words, which occurrence of them, finding): the occurrence the finding is
    about when it says (:func:`~dhpc_gen.review.findings.occurrence`), else the first
    one not yet marked.
    """
    spans: list[tuple[int, int, Finding]] = []

    def free(start: int, end: int) -> bool:
        return not any(s < end and start < e for s, e, _ in spans)

    for needle, index, finding in marks:
        if not needle:
            continue
        place = nth_occurrence(text, needle, index) if index is not None else None
        if place is None:
            place = next((p for p in occurrences(text, needle) if free(*p)), None)
        if place is not None and free(*place):
            spans.append((*place, finding))
    out = []
    position = 0
    for start, end, finding in sorted(spans, key=lambda s: s[0]):
        out.append(escape(text[position:start]))
        out.append(
            Markup(
                '<mark class="{}" data-check="{}" data-language="{}" title="{}">{}</mark>'
            ).format(
                finding.severity,
                finding.check,
                finding.language,
                f"[{finding.check}] {finding.message}",
                text[start:end],
            )
        )
        position = end
    out.append(escape(text[position:]))
    return Markup("").join(out)


def _cell_marks(
    text: str, findings: Iterable[Finding], *, source: bool
) -> list[tuple[str, int | None, Finding]]:
    """The marks of one cell: each finding's words and which occurrence of them in the
    field's text (``text``, as typed) it is about."""
    plain = plain_text(text)
    marks: list[tuple[str, int | None, Finding]] = []
    for finding in findings:
        needle = finding.source_mark if source else finding.target_mark
        if needle:
            span = finding.source_span if source else finding.target_span
            marks.append((needle, occurrence(plain, span, needle), finding))
    return marks


def _group(path: str) -> str | None:
    match = _GROUP.match(path)
    return match.group(1) if match else None


def review_rows(
    source_language: str,
    languages: Sequence[str],
    source_fields: Iterable[TextField],
    pairs: Mapping[str, LanguagePair],
    findings: Sequence[Finding],
) -> tuple[list[Row], list[Finding]]:
    """The rows of the side-by-side table, and the findings that belong to no row."""
    partner: dict[str, dict[str, TextField | None]] = {}
    extras: dict[str, list[tuple[str, TextField]]] = {}
    for language, lp in pairs.items():
        anchor = ""
        for pair in lp.pairs:
            if pair.source is not None:
                partner.setdefault(pair.source.path, {})[language] = pair.target
                anchor = pair.source.path
            elif pair.target is not None:
                extras.setdefault(anchor, []).append((language, pair.target))

    entries: list[tuple[str, str, dict[str, TextField | None], str | None]] = []

    def add_extras(anchor: str) -> None:
        for language, extra in extras.get(anchor, []):
            entries.append((extra.path, extra.kind, {language: extra}, language))

    add_extras("")
    for source_field in source_fields:
        texts: dict[str, TextField | None] = {source_language: source_field}
        texts.update(partner.get(source_field.path, {}))
        entries.append((source_field.path, source_field.kind, texts, None))
        add_extras(source_field.path)

    # Which row each finding belongs to: its field's row, else the heading of its list.
    by_row: dict[int, list[Finding]] = {}
    headers: dict[str, int] = {}
    rows_index: dict[str, int] = {}
    layout: list[tuple[str, str, dict[str, TextField | None], str | None, bool]] = []
    previous_group: str | None = None
    for path, kind, texts, extra_language in entries:
        group = _group(path)
        if group is not None and group != previous_group:
            headers[group] = len(layout)
            layout.append((group, "group", {}, None, True))
        previous_group = group
        if extra_language is None:
            rows_index.setdefault(path, len(layout))
        else:
            rows_index.setdefault(f"{extra_language}:{path}", len(layout))
        layout.append((path, kind, texts, extra_language, False))
    other: list[Finding] = []
    for finding in findings:
        index = rows_index.get(finding.field)
        if index is None:
            index = rows_index.get(f"{finding.language}:{finding.field}")
        if index is None:
            group = _group(finding.field + "[") or _group(finding.field)
            index = headers.get(group) if group else None
        if index is None:
            other.append(finding)
        else:
            by_row.setdefault(index, []).append(finding)

    rows = []
    for index, (path, kind, texts, _extra, header) in enumerate(layout):
        row_findings = tuple(by_row.get(index, ()))
        if header:
            rows.append(
                Row(
                    path,
                    kind,
                    (),
                    row_findings,
                    header=True,
                    label=_GROUP_LABELS.get(path, path.replace("_", " ").capitalize()),
                )
            )
            continue
        cells = []
        for language in languages:
            text_field = texts.get(language)
            source = language == source_language
            # The source is not at fault: only the words a finding refers to are marked.
            mine = (
                list(row_findings)
                if source
                else [f for f in row_findings if f.language == language]
            )
            state = (
                ""
                if source
                else next((s for s in SEVERITIES if any(f.severity == s for f in mine)), "")
            )
            if text_field is None:
                cells.append(Cell(language, None, Markup(""), "missing"))
            else:
                marks = _cell_marks(text_field.text, mine, source=source)
                content = _marked(_display_text(text_field.text), marks)
                cells.append(Cell(language, text_field.path, content, state))
        rows.append(Row(path, kind, tuple(cells), row_findings, label=path))
    return rows, other


def _severity_counts(findings: Sequence[Finding]) -> tuple[int, int, int]:
    """(errors, warnings, notes)."""
    return (
        sum(f.is_error for f in findings),
        sum(f.is_warning for f in findings),
        sum(f.severity == "note" for f in findings),
    )


def _summary(findings: Sequence[Finding], languages: Sequence[str]) -> tuple[CheckSummary, ...]:
    result = []
    for check in CHECK_IDS:
        mine = [f for f in findings if f.check == check]
        counts = tuple(
            _severity_counts([f for f in mine if f.language == language]) for language in languages
        )
        total = count_by_check(mine)[check]
        result.append(
            CheckSummary(
                check,
                CHECK_DESCRIPTIONS[check],
                counts,
                total["error"],
                total["warning"],
                total["note"],
            )
        )
    return tuple(result)


def _relative(path: Path) -> str:
    try:
        return path.resolve().relative_to(PROJECT_DIR).as_posix()
    except ValueError:
        return path.name


def reviewed_files(
    dhpc: Dhpc,
    termbase: Termbase,
    locales_dir: Path,
    registry_dir: Path,
    countries: Sequence[str] = (),
) -> list[HashLine]:
    """Every file the review depends on, with its SHA-256."""
    lines = [
        HashLine("content", f"{dhpc.id}/{dhpc.relative(p)}", sha256_file(p)) for p in dhpc.files
    ]
    lines += [HashLine("termbase", _relative(p), sha256_file(p)) for p in termbase.files]
    for language in dhpc.meta.languages:
        path = catalog_path(language, locales_dir)
        if path.is_file():
            lines.append(HashLine("catalog", _relative(path), sha256_file(path)))
    for country in countries or (dhpc.meta.country,):
        regulator = registry.file_for(country, registry_dir)
        if regulator.is_file():
            lines.append(HashLine("regulator", _relative(regulator), sha256_file(regulator)))
    return lines


def _letters(
    dhpc: Dhpc, languages: Sequence[str], inputs: ReviewInputs
) -> tuple[dict[str, tuple[Thumbnail, ...]], list[LetterLine], str]:
    try:
        if inputs.letters is not None:
            built = inputs.letters(languages)
        else:
            # Only the languages the letter is sent in (a country may not send the source).
            sent = [language for language in languages if language in dhpc.meta.languages]
            built = render_letters(dhpc, sent, progress=inputs.progress)
    except DhpcError as exc:
        logger.warning("no thumbnails: %s", exc)
        return {}, [], f"The letters cannot be built until this is fixed: {exc}"
    thumbnails = {}
    letters = []
    for letter in built:
        pages = page_thumbnails(letter.pdf, letter.language)
        thumbnails[letter.language] = tuple(pages)
        letters.append(
            LetterLine(
                letter.language,
                letter.filename,
                sha256_bytes(letter.pdf),
                pages[0].pages if pages else 0,
            )
        )
    return thumbnails, letters, ""


def build_review(dhpc: Dhpc, inputs: ReviewInputs | None = None) -> Review:
    """Run every check and lay out the review document of ``dhpc`` as HTML."""
    inputs = inputs or ReviewInputs()
    termbase = inputs.termbase if inputs.termbase is not None else dhpc_terms(dhpc)
    if inputs.findings is not None:
        findings = list(inputs.findings)
    else:
        findings = run_checks(
            dhpc,
            termbase=termbase,
            locales_dir=inputs.locales_dir,
            registry_dir=inputs.registry_dir,
        )
    source_language = dhpc.meta.source_language
    languages = (source_language, *(x for x in dhpc.meta.languages if x != source_language))
    pairs = {lp.target_language: lp for lp in language_pairs(dhpc, termbase)}
    rows, other = review_rows(
        source_language,
        languages,
        text_fields(dhpc.text(source_language)),
        pairs,
        findings,
    )
    if inputs.thumbnails:
        thumbnails, letters, note = _letters(dhpc, languages, inputs)
    else:
        thumbnails, letters, note = {}, [], "Page thumbnails were left out (--no-thumbnails)."
    view = ReviewView(
        dhpc_id=dhpc.id,
        title=" ".join(plain_text(compose_title(dhpc, dhpc.text(source_language))).split()),
        date=long_date(dhpc.meta.date, "en"),
        status=dhpc.meta.status,
        country=", ".join(inputs.countries or (dhpc.meta.country,)),
        source_language=source_language,
        languages=languages,
        language_names={language: language_name(language) for language in languages},
        rows=tuple(rows),
        summary=_summary(findings, languages),
        errors=sum(f.is_error for f in findings),
        warnings=sum(f.is_warning for f in findings),
        notes=sum(f.severity == "note" for f in findings),
        other_findings=tuple(other),
        thumbnails=thumbnails,
        thumbnail_note=note,
        content_sha256=content_hash(dhpc),
        hashes=tuple(
            reviewed_files(
                dhpc, termbase, inputs.locales_dir, inputs.registry_dir, inputs.countries
            )
        ),
        letters=tuple(letters),
        template_version=template_version(),
        tool_version=__version__,
        approvals=_approvals(dhpc, inputs),
    )
    return Review(render_review_html(view), tuple(findings), view)


def _approvals(dhpc: Dhpc, inputs: ReviewInputs) -> tuple[LanguageApproval, ...]:
    if not inputs.approvals:
        return ()
    if inputs.approval_states is not None:
        return tuple(inputs.approval_states)
    return tuple(approvals(dhpc))


def render_review_html(
    view: ReviewView, *, for_pdf: bool = False, environment: jinja2.Environment | None = None
) -> str:
    """The review document as one self-contained HTML page.

    ``for_pdf`` also names the project's fonts (which WeasyPrint may read), so the PDF
    looks the same on every machine; the HTML file stays free of any reference.
    """
    env = environment or make_environment()
    try:
        return env.get_template(REVIEW_TEMPLATE).render(review=view, for_pdf=for_pdf)
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {REVIEW_TEMPLATE}: {exc}") from exc


def review_pdf(review: Review, dhpc: Dhpc) -> bytes:
    """The review document as PDF for signing; the same inputs give the same bytes."""
    return write_pdf(
        # Long words get break points as in the letters: table cells are narrow.
        break_long_words(render_review_html(review.view, for_pdf=True)),
        variant=REVIEW_PDF_VARIANT,
        identifier=pdf_identifier(
            review.view.content_sha256, "review", __version__, review.view.template_version
        ),
        epoch=letter_epoch(dhpc.meta.date),
    )
