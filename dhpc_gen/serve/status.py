"""Where each language stands: checks, approval, build, mailing list, sending.

Only counts are read from the mailing list and the send journal, never a recipient.
The build state compares the manifest ``dhpc build`` wrote with the content now; a
byte-for-byte comparison is ``dhpc build --check``'s job (it renders every letter).
A campaign's page shows the matrix of ``dhpc status`` (:func:`dhpc_gen.status.
campaign_status`), each cell shaped here for the pages' words.
"""

from __future__ import annotations

import json
import re
from collections import Counter
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

from dhpc_gen.build import MANIFEST, content_hash, template_version
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError
from dhpc_gen.fsutil import sha256_file
from dhpc_gen.review.findings import Finding
from dhpc_gen.serve.approval import ApprovalView, approval_views
from dhpc_gen.status import CampaignStatus

BuildState = Literal["current", "outdated", "missing"]


@dataclass(frozen=True)
class LanguageStatus:
    language: str
    country: str
    errors: int
    warnings: int
    notes: int
    approval: ApprovalView | None
    approval_problem: str
    build: BuildState
    recipients: int | None
    """In the mailing list, when there is one."""
    sending: tuple[tuple[str, int], ...]
    """(state, count) from the send journal; empty when nothing was sent."""


def _manifest(out_dir: Path) -> dict[str, object] | None:
    try:
        data = json.loads((out_dir / MANIFEST).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    return data if isinstance(data, dict) else None


def build_state(
    dhpc: Dhpc, language: str, out_dir: Path, manifest: dict[str, object] | None
) -> BuildState:
    if manifest is None:
        return "missing"
    outputs = manifest.get("outputs")
    entry = (
        next(
            (e for e in outputs if isinstance(e, dict) and e.get("language") == language),
            None,
        )
        if isinstance(outputs, list)
        else None
    )
    if entry is None:
        return "missing"
    pdf = out_dir / str(entry.get("path", ""))
    if pdf.parent != out_dir or not pdf.is_file():
        return "missing"
    fresh = (
        manifest.get("content_sha256") == content_hash(dhpc)
        and manifest.get("template_version") == template_version()
        and entry.get("sha256") == sha256_file(pdf)
    )
    return "current" if fresh else "outdated"


def _recipients(out_dir: Path) -> dict[str, int] | None:
    try:
        report = json.loads((out_dir / "mailing" / "report.json").read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    per_language = report.get("recipients_per_language") if isinstance(report, dict) else None
    if not isinstance(per_language, dict):
        return None
    return {str(k): int(v) for k, v in per_language.items() if isinstance(v, int)}


def _sending(dhpc: Dhpc, out_dir: Path) -> dict[str, Counter[str]]:
    from dhpc_gen.distribution.journal import JOURNAL_FILE, read_journal

    path = out_dir / JOURNAL_FILE
    if not path.is_file():
        return {}
    try:
        entries = read_journal(path, dhpc.id)
    except DhpcError:
        return {}
    counts: dict[str, Counter[str]] = {}
    for entry in entries:
        counts.setdefault(entry.language, Counter())[entry.state] += 1
    return counts


def language_statuses(
    dhpc: Dhpc, findings: tuple[Finding, ...], out_root: Path
) -> list[LanguageStatus]:
    """One row per language of ``dhpc``, the source language first."""
    out_dir = out_root / dhpc.id
    manifest = _manifest(out_dir)
    recipients = _recipients(out_dir)
    sending = _sending(dhpc, out_dir)
    source = dhpc.meta.source_language
    try:
        approvals, problem = approval_views(dhpc, with_changes=False), ""
    except DhpcError as exc:
        approvals, problem = {}, str(exc)
    rows = []
    for language in (source, *(x for x in dhpc.meta.languages if x != source)):
        mine = [f for f in findings if f.language == language]
        rows.append(
            LanguageStatus(
                language=language,
                country=dhpc.meta.country,
                errors=sum(f.is_error for f in mine),
                warnings=sum(f.is_warning for f in mine),
                notes=sum(f.severity == "note" for f in mine),
                approval=approvals.get(language),
                approval_problem=problem,
                build=build_state(dhpc, language, out_dir, manifest),
                recipients=None if recipients is None else recipients.get(language, 0),
                sending=tuple(sorted(sending.get(language, Counter()).items())),
            )
        )
    return rows


@dataclass(frozen=True)
class MatrixRow:
    """One cell of the campaign's matrix (``dhpc status``), in the terms the page shows."""

    country: str
    language: str
    translated: Literal["source", "yes", "no"]
    untranslated: int
    errors: int
    warnings: int
    notes: int
    deviations: int
    reviewed: str
    """As ``dhpc status`` words it (the sign-off log's record); empty when nothing is
    recorded."""
    build: BuildState
    build_detail: str
    """What changed, when the letter is outdated."""
    recipients: int | None
    sending: tuple[tuple[str, int], ...]


def matrix_rows(status: CampaignStatus) -> list[MatrixRow]:
    """The cells of ``status``, one row per country and language."""
    rows = []
    for cell in status.cells:
        count = re.search(r"\d+", cell.translated) if cell.translated.startswith("no") else None
        built = cell.built
        build: BuildState = (
            "current" if built == "built" else "missing" if built == "not built" else "outdated"
        )
        rows.append(
            MatrixRow(
                country=cell.country,
                language=cell.language,
                translated="source" if cell.translated == "source" else "no" if count else "yes",
                untranslated=int(count.group()) if count else 0,
                errors=cell.checks.errors,
                warnings=cell.checks.warnings,
                notes=cell.checks.notes,
                deviations=cell.deviations,
                reviewed="" if cell.reviewed == "not recorded" else cell.reviewed,
                build=build,
                build_detail=built.removeprefix("stale: ") if build == "outdated" else "",
                recipients=cell.mailed,
                sending=tuple(cell.sent.items()),
            )
        )
    return rows
