"""The pages' door to the sign-off log: states, changes since approval, the approve button.

Everything here is :mod:`dhpc_gen.approval`'s: the state of a language, the fields
changed since its last approval (from git, as ``dhpc diff`` finds them), and
:func:`~dhpc_gen.approval.state.record_signoff`, which writes exactly the entry ``dhpc
signoff`` writes. This module only shapes them for the pages.
"""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass, field

from dhpc_gen.approval.log import Signoff
from dhpc_gen.approval.state import (
    ApprovalState,
    VersionChangedError,
    approval_states,
    changes_since_approval,
    record_signoff,
)
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError

__all__ = ["ApprovalView", "VersionChangedError", "approval_views", "approve"]


@dataclass(frozen=True)
class ApprovalView:
    """What the pages show about one language's approval."""

    language: str
    state: str
    """``approved`` (this exact text), ``changed`` (an earlier one), ``rejected``, ``never``."""
    who: str
    """``Name (role)`` of the decision shown, empty when there is none."""
    when: str
    content_sha256: str
    """The language's content hash now: the version an approval would name."""
    changes: Mapping[str, str | None] = field(default_factory=dict)
    """Field path → its text when last approved (None: the field is new), for a text
    changed since its last approval."""
    note: str = ""
    """Why the changes cannot be shown (the approved text is not in git), if so."""


def _decision(state: ApprovalState) -> Signoff | None:
    if state.rejection is not None:
        return state.rejection
    return state.approval or state.last_approval


def approval_views(dhpc: Dhpc, *, with_changes: bool = True) -> dict[str, ApprovalView]:
    """Each language's approval, reading the sign-off log once (raises on a damaged log)."""
    views = {}
    for state in approval_states(dhpc):
        decision = _decision(state)
        changes: dict[str, str | None] = {}
        note = ""
        if with_changes:
            since = changes_since_approval(dhpc, state)
            if since is not None:
                note = since.note
                if since.diff is not None:
                    for change in since.diff.changes:
                        changes[change.path] = change.old
        views[state.language] = ApprovalView(
            language=state.language,
            state=state.state,
            who=decision.who if decision else "",
            when=decision.when if decision else "",
            content_sha256=state.content_sha256,
            changes=changes,
            note=note,
        )
    return views


def approve(
    dhpc: Dhpc, language: str, *, name: str, role: str, comment: str, seen_sha256: str
) -> Signoff:
    """Record that ``name`` approves ``language`` as it is on disk, as ``dhpc signoff`` does
    (one country's national text, for a country of a campaign).

    ``seen_sha256`` is the version the reviewer was shown; if the text changed since,
    nothing is recorded (:class:`VersionChangedError`).
    """
    if language not in dhpc.meta.languages:
        raise DhpcError(f"{dhpc.id} has no language {language!r}")
    recorded = record_signoff(
        dhpc,
        [language],
        decision="approved",
        name=name,
        role=role,
        comment=comment,
        country=dhpc.meta.country if dhpc.in_campaign else None,
        seen={language: seen_sha256},
    )
    (entry,) = recorded.entries
    return entry
