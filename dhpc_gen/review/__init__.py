"""Translation review: the checks of ``dhpc check`` and the side-by-side review document."""

from __future__ import annotations

from dhpc_gen.review.checks import run_checks
from dhpc_gen.review.findings import CHECK_IDS, Finding, findings_json, sort_findings
from dhpc_gen.review.termbase import Termbase, load_termbase, termbase_for

__all__ = [
    "CHECK_IDS",
    "Finding",
    "Termbase",
    "findings_json",
    "load_termbase",
    "run_checks",
    "sort_findings",
    "termbase_for",
]
