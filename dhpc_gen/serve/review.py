"""The review page: the languages side by side, field by field, with what to look at."""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass

from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError
from dhpc_gen.review.checks import language_pairs
from dhpc_gen.review.findings import Finding
from dhpc_gen.review.report import Row, review_rows
from dhpc_gen.review.termbase import termbase_for
from dhpc_gen.serve.approval import ApprovalView, approval_views
from dhpc_gen.serve.comments import Comment, by_field, read_comments


@dataclass(frozen=True)
class ReviewTable:
    """The rows of every language (what the checks say does not depend on who looks)."""

    rows: tuple[Row, ...]
    other: tuple[Finding, ...]
    """Findings that belong to no text field (catalogs, regulator registry, termbase)."""


def review_table(dhpc: Dhpc, findings: Sequence[Finding]) -> ReviewTable:
    source = dhpc.meta.source_language
    languages = (source, *(x for x in dhpc.meta.languages if x != source))
    termbase = termbase_for(dhpc, ())
    pairs = {lp.target_language: lp for lp in language_pairs(dhpc, termbase)}
    rows, other = review_rows(source, languages, text_fields(dhpc.text(source)), pairs, findings)
    return ReviewTable(tuple(rows), tuple(other))


@dataclass(frozen=True)
class ReviewState:
    """What changes with every comment and approval: read on each page load."""

    comments: Mapping[tuple[str, str], list[Comment]]
    comment_problem: str
    approvals: Mapping[str, ApprovalView]
    changed: Mapping[str, frozenset[str]]
    approval_problem: str


def review_state(dhpc: Dhpc) -> ReviewState:
    """Comments and approvals now; a country of a campaign: those of its national texts."""
    try:
        found = read_comments(dhpc.directory)
        if dhpc.in_campaign:
            found = [c for c in found if c.country == dhpc.meta.country]
        comments, comment_problem = by_field(found), ""
    except DhpcError as exc:
        comments, comment_problem = {}, str(exc)
    try:
        approvals = approval_views(dhpc)
        changed = {x: frozenset(view.changes) for x, view in approvals.items()}
        approval_problem = ""
    except DhpcError as exc:  # a damaged sign-off log: said on the page, nothing approved
        approvals, changed, approval_problem = {}, {}, str(exc)
    return ReviewState(comments, comment_problem, approvals, changed, approval_problem)


def commentable_fields(dhpc: Dhpc, language: str) -> frozenset[str]:
    """The field paths a comment on ``language`` may name."""
    return frozenset(f.path for f in text_fields(dhpc.text(language)))
