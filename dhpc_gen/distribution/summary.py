"""The distribution summary a regulator reads: counts and dates, no personal data.

GVP Module XV asks the marketing-authorisation holder to document the dissemination of a
DHPC. The summary says, for the current version of the content, how many recipients the
mailing list had and what finally reached each of them, per language: the e-mail
(delivered: accepted and not bounced), the letter printed after the e-mail bounced or was
refused, the printed letter alone; and how many e-mails are in doubt or recipients were
not reached. It gives the dates (first and last e-mail, the print run, the last reading of
the bounce mailbox) and the number of bounce reports that matched no e-mail.

Written as CSV (one row per language and one for all), JSON, and a one-page PDF laid out
by the project's WeasyPrint pipeline from ``templates/summary.html``.
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import json
from collections import Counter
from dataclasses import asdict, dataclass
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError

from dhpc_gen import __version__
from dhpc_gen.content.markup import plain_text
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.report import (
    FORMATS,
    OUTCOMES,
    POSTAL_STATE,
    REACHED,
    DistributionRecord,
    recipient_outcomes,
    record_csv,
    record_json,
)
from dhpc_gen.errors import DhpcError, RenderError
from dhpc_gen.fsutil import OutputSet
from dhpc_gen.render.environment import make_environment
from dhpc_gen.render.letter import compose_title
from dhpc_gen.render.pdf import pdf_identifier, write_pdf

SUMMARY_TEMPLATE = "summary.html"
SUMMARY_PDF_VARIANT = "pdf/a-3u"
WENT_STATES = ("sent", "bounced", "deferred")
"""E-mail states of a message the mail server accepted."""


@dataclass(frozen=True)
class SummaryLine:
    """The counts of one language (or of all: ``language`` = ``all``)."""

    language: str
    recipients: int
    email: int
    bounced_then_printed: int
    printed: int
    email_in_doubt: int
    not_reached: int
    reached: int
    emails_accepted: int
    """E-mails the mail server accepted (delivered, bounced later, or delayed)."""
    bounced: int
    deferred: int
    refused: int
    """E-mails the mail server refused when they were sent, or unusable addresses."""
    letters_printed: int


SUMMARY_COLUMNS = tuple(SummaryLine.__dataclass_fields__)


@dataclass(frozen=True)
class DistributionSummary:
    dhpc_id: str
    title: str
    country: str
    letter_date: str
    mahs: tuple[str, ...]
    authorities: tuple[str, ...]
    content_sha256: str
    generated_at: str
    first_email: str
    last_email: str
    printed_at: str
    bounces_read_at: str
    unmatched_reports: int
    lines: tuple[SummaryLine, ...]
    """One per language in the DHPC's order, then ``all``."""
    other_versions: int
    """Record rows of other versions of the content (in the record, not counted here)."""
    tool_version: str = __version__

    @property
    def total(self) -> SummaryLine:
        return self.lines[-1]


def build_summary(dhpc: Dhpc, record: DistributionRecord) -> DistributionSummary:
    """The summary of ``record`` for its current version of the content."""
    current = [r for r in record.rows if r.content_hash == record.content_hash]
    outcomes = recipient_outcomes(record)
    languages = list(dhpc.meta.languages)
    languages += sorted({lang for lang, _ in outcomes.values()} - set(languages))
    email_rows = [r for r in current if r.channel == "email" and not r.readdressed]
    accepted = sorted(r.sent_at for r in current if r.channel == "email" and r.sent_at)

    def line(language: str, members: set[str]) -> SummaryLine:
        counted = Counter(outcomes[rid][1] for rid in members)
        states = Counter(r.state for r in email_rows if r.recipient_id in members)
        printed = sum(
            1
            for r in current
            if r.channel == "post" and r.state == POSTAL_STATE and r.recipient_id in members
        )
        return SummaryLine(
            language=language,
            recipients=len(members),
            email=counted["email"],
            bounced_then_printed=counted["bounced-then-printed"],
            printed=counted["printed"],
            email_in_doubt=counted["email-in-doubt"],
            not_reached=counted["not-reached"],
            reached=sum(counted[o] for o in REACHED),
            emails_accepted=sum(states[s] for s in WENT_STATES),
            bounced=states["bounced"],
            deferred=states["deferred"],
            refused=states["failed"],
            letters_printed=printed,
        )

    lines = [
        line(lang, {rid for rid, (rl, _) in outcomes.items() if rl == lang}) for lang in languages
    ]
    lines = [entry for entry in lines if entry.recipients or entry.language in dhpc.meta.languages]
    lines.append(line("all", set(outcomes)))
    source = dhpc.text(dhpc.meta.source_language)
    return DistributionSummary(
        dhpc_id=dhpc.id,
        title=plain_text(compose_title(dhpc, source)),
        country=dhpc.meta.country,
        letter_date=dhpc.meta.date.isoformat(),
        mahs=tuple(m.name for m in dhpc.meta.mahs),
        authorities=tuple(dhpc.meta.authorities),
        content_sha256=record.content_hash,
        generated_at=record.generated_at,
        first_email=accepted[0] if accepted else "",
        last_email=accepted[-1] if accepted else "",
        printed_at=record.printed_at,
        bounces_read_at=record.bounces_read_at,
        unmatched_reports=record.unmatched_reports,
        lines=tuple(lines),
        other_versions=sum(1 for r in record.rows if r.content_hash != record.content_hash),
    )


def summary_csv(summary: DistributionSummary) -> str:
    """One row per language and one for ``all``; the facts of the DHPC in front of each."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    facts = ("dhpc_id", "content_sha256", "generated_at", "first_email", "last_email")
    writer.writerow((*facts, "printed_at", "bounces_read_at", *SUMMARY_COLUMNS))
    for entry in summary.lines:
        writer.writerow(
            (
                *(getattr(summary, name) for name in facts),
                summary.printed_at,
                summary.bounces_read_at,
                *(getattr(entry, name) for name in SUMMARY_COLUMNS),
            )
        )
    return buffer.getvalue()


def summary_json(summary: DistributionSummary) -> str:
    document = asdict(summary)
    document["outcomes"] = list(OUTCOMES)
    return json.dumps(document, ensure_ascii=False, indent=2) + "\n"


def language_name(language: str) -> str:
    """``Swedish (sv)``, for the reader of the PDF."""
    try:
        name = Locale.parse(language).get_display_name("en")
    except (UnknownLocaleError, ValueError):
        return language
    return f"{name} ({language})" if name else language


def render_summary_html(summary: DistributionSummary) -> str:
    env = make_environment()
    env.filters["language_name"] = language_name
    try:
        return env.get_template(SUMMARY_TEMPLATE).render(summary=summary)
    except jinja2.TemplateError as exc:
        raise RenderError(f"template {SUMMARY_TEMPLATE}: {exc}") from exc


def summary_pdf(summary: DistributionSummary) -> bytes:
    """The summary on one A4 page (PDF/A-3u, the project's fonts, nothing fetched)."""
    generated = dt.datetime.fromisoformat(summary.generated_at.replace("Z", "+00:00"))
    return write_pdf(
        render_summary_html(summary),
        variant=SUMMARY_PDF_VARIANT,
        identifier=pdf_identifier(summary.content_sha256, "summary", summary.generated_at),
        epoch=int(generated.timestamp()),
    )


RECORD_STEM = "distribution-record"
SUMMARY_STEM = "distribution-summary"


def summary_path(record_path: Path, suffix: str) -> Path:
    """Where the summary goes beside the record: ``distribution-summary.<suffix>`` next to
    the default record, ``<name>-summary.<suffix>`` next to a record named otherwise."""
    if record_path.stem == RECORD_STEM:
        return record_path.with_name(f"{SUMMARY_STEM}.{suffix}")
    return record_path.with_name(f"{record_path.stem}-summary.{suffix}")


def write_report(
    dhpc: Dhpc, record: DistributionRecord, record_path: Path, fmt: str, *, pdf: bool = False
) -> tuple[DistributionSummary, list[Path]]:
    """Write the record, its summary in the same format and, with ``pdf``, the summary's PDF:
    all of them or, on any failure, none. Files are owner-readable only."""
    if fmt not in FORMATS:
        raise DhpcError(f"unknown format {fmt!r}: use {' or '.join(FORMATS)}")
    summary = build_summary(dhpc, record)
    written = [record_path, summary_path(record_path, fmt)]
    texts = [
        record_csv(record) if fmt == "csv" else record_json(record),
        summary_csv(summary) if fmt == "csv" else summary_json(summary),
    ]
    document = summary_pdf(summary) if pdf else None
    with OutputSet(record_path.parent, private=True) as outputs:
        for path, text in zip(written, texts, strict=True):
            outputs.write_text(path, text)
        if document is not None:
            written.append(summary_path(record_path, "pdf"))
            outputs.write_bytes(written[-1], document)
    return summary, written
