"""Whether the current text of each language is approved, and what changed if it is not.

``approval_state(dhpc, language)`` is the one question every command asks (``dhpc
check``, the status matrix, ``build``/``merge``/``send --require-signoff``): the
language's content hash now, against the decisions of the sign-off log. The text a
reviewer last approved is found in git (the commit named in the log entry, or the
history of the folder), so that a reviewer sees only what changed since.
"""

from __future__ import annotations

import contextlib
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, Literal

from dhpc_gen.approval import git
from dhpc_gen.approval.diff import FieldChange, LanguageDiff, compare_language, compare_meta
from dhpc_gen.approval.log import (
    LOG_FILE,
    Decision,
    LanguageVersion,
    Signoff,
    SignoffLog,
    append,
    log_path,
    read_log,
)
from dhpc_gen.build import files_digest, language_hash, language_paths
from dhpc_gen.content.loader import load_dhpc
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError, display_path
from dhpc_gen.fsutil import sha256_bytes

if TYPE_CHECKING:
    from dhpc_gen.content.campaign import Campaign

State = Literal["approved", "changed", "rejected", "never"]


@dataclass(frozen=True)
class ApprovalState:
    """The sign-off state of one language's current text."""

    language: str
    country: str | None
    content_sha256: str
    """The language content hash now."""
    approval: Signoff | None
    """The approval of exactly this text, if any (the latest)."""
    rejection: Signoff | None
    """A rejection of exactly this text recorded after its approval, if any."""
    last_approval: Signoff | None
    """The latest approval of this language, of whatever version."""

    @property
    def approved(self) -> bool:
        return self.approval is not None and self.rejection is None

    @property
    def state(self) -> State:
        if self.rejection is not None:
            return "rejected"
        if self.approval is not None:
            return "approved"
        return "changed" if self.last_approval is not None else "never"

    def describe(self) -> str:
        """One line: ``approved by A (role) on 2025-03-01 09:30 UTC (entry 2)`` or why not."""
        if self.rejection is not None:
            r = self.rejection
            return f"REJECTED by {r.who} on {r.when} (entry {r.seq})" + (
                f": {r.comment}" if r.comment else ""
            )
        if self.approval is not None:
            a = self.approval
            return f"approved by {a.who} on {a.when} (entry {a.seq})"
        if self.last_approval is not None:
            a = self.last_approval
            return (
                f"NOT APPROVED: changed since approved by {a.who} on {a.when} (entry {a.seq}; "
                f"approved {a.content_sha256[:12]}, now {self.content_sha256[:12]})"
            )
        return "NOT APPROVED: no sign-off recorded"

    def to_dict(self) -> dict[str, object]:
        def entry(e: Signoff | None) -> dict[str, object] | None:
            if e is None:
                return None
            return {
                "seq": e.seq,
                "hash": e.hash,
                "name": e.name,
                "role": e.role,
                "time": e.time,
                "content_sha256": e.content_sha256,
            }

        return {
            "language": self.language,
            "country": self.country,
            "state": self.state,
            "approved": self.approved,
            "content_sha256": self.content_sha256,
            "approval": entry(self.approval),
            "rejection": entry(self.rejection),
            "last_approval": entry(self.last_approval),
        }


def signoff_log(dhpc: Dhpc) -> SignoffLog:
    """The checked sign-off log of ``dhpc``, compared with git's ``HEAD`` when in git."""
    path = log_path(dhpc.directory)
    committed = None
    repo = git.repository_of(dhpc.directory) if path.exists() else None
    if repo is not None:
        head = git.head_commit(repo)
        if head is not None:
            committed = git.file_at(repo, head, LOG_FILE)
    return read_log(dhpc.directory, dhpc.id, committed=committed)


def approval_state(
    dhpc: Dhpc, language: str, *, country: str | None = None, log: SignoffLog | None = None
) -> ApprovalState:
    """Whether the current text of ``language`` is approved (raises on a damaged log)."""
    if language not in dhpc.meta.languages:
        raise DhpcError(
            f"{dhpc.id} has no language {language!r} (it has {', '.join(dhpc.meta.languages)})"
        )
    log = log if log is not None else signoff_log(dhpc)
    if country is None and dhpc.in_campaign:
        country = dhpc.meta.country  # a campaign's texts are approved country by country
    current = language_hash(dhpc, language)
    decisions = log.for_language(language, country)
    approval = None
    rejection = None
    last_approval = None
    for entry in decisions:
        if entry.approved:
            last_approval = entry
        if entry.content_sha256 != current:
            continue
        if entry.approved:
            approval, rejection = entry, None
        else:
            rejection = entry
    if approval is None and rejection is not None:
        # Rejected before anyone approved it: not approved, and the rejection says why.
        return ApprovalState(language, country, current, None, rejection, last_approval)
    return ApprovalState(language, country, current, approval, rejection, last_approval)


def approval_states(dhpc: Dhpc, languages: Sequence[str] | None = None) -> list[ApprovalState]:
    """The state of each language (all of the DHPC's by default), reading the log once."""
    log = signoff_log(dhpc)
    chosen = list(languages) if languages else list(dhpc.meta.languages)
    return [approval_state(dhpc, language, log=log) for language in chosen]


def current_version(dhpc: Dhpc, language: str, country: str | None = None) -> LanguageVersion:
    """What a sign-off of ``language`` now approves: its hash, its files, its git commit."""
    paths = language_paths(dhpc, language)
    data = [(p.name, p.read_bytes()) for p in paths]
    revision = None
    repo = git.repository_of(dhpc.directory)
    if repo is not None:
        head = git.head_commit(repo)
        if head is not None and _files_at(repo, head, paths) == data:
            revision = head
    return LanguageVersion(
        language=language,
        # The hash approval_state compares with: the files' digest for a folder of one
        # country, the national text's for a country of a campaign.
        content_sha256=language_hash(dhpc, language),
        files={name: sha256_bytes(blob) for name, blob in data},
        revision=revision,
        country=country,
    )


class VersionChangedError(DhpcError):
    """The text on disk is not the version the reviewer was shown."""


@dataclass(frozen=True)
class RecordedSignoff:
    """The entries one decision added to the sign-off log."""

    path: Path
    entries: tuple[Signoff, ...]
    uncommitted: bool
    """Some approved text is not committed in git: later changes cannot be shown against it."""


def record_signoff(
    dhpc: Dhpc,
    languages: Sequence[str],
    *,
    decision: Decision,
    name: str,
    role: str,
    comment: str = "",
    country: str | None = None,
    seen: Mapping[str, str] | None = None,
) -> RecordedSignoff:
    """Append one decision per language about its current text to the sign-off log.

    What ``dhpc signoff`` and the approve button of ``dhpc serve`` both do. ``seen``
    (language → content hash) names the versions the reviewer was shown: when the text
    on disk is another one, nothing is recorded.
    """
    log = signoff_log(dhpc)
    versions = [current_version(dhpc, lang, country) for lang in dict.fromkeys(languages)]
    for version in versions:
        shown = (seen or {}).get(version.language)
        if seen is not None and shown != version.content_sha256:
            raise VersionChangedError(
                f"{version.language}: the text changed after it was shown to you (now "
                f"{version.content_sha256[:12]}): reload it and review again"
            )
    added = append(log, dhpc.id, versions, decision=decision, name=name, role=role, comment=comment)
    return RecordedSignoff(log.path, added, any(v.revision is None for v in versions))


def _files_at(
    repo: git.Repository, commit: str, paths: Sequence[Path]
) -> list[tuple[str, bytes]] | None:
    """(name, bytes) of each of ``paths`` as ``commit`` has them; None if one is missing.

    A file outside the repository (a shared letterhead elsewhere) counts as it is now.
    """
    objects: dict[Path, str] = {}
    for path in paths:
        inside = git.repository_path(repo, path)
        if inside is not None:
            objects[path] = f"{commit}:{inside}"
    blobs = git.read_blobs(repo, list(objects.values()))
    out = []
    for path in paths:
        if path not in objects:
            out.append((path.name, path.read_bytes()))
            continue
        blob = blobs.get(objects[path])
        if blob is None:
            return None
        out.append((path.name, blob))
    return out


# -- what changed since the last approval ---------------------------------------------------


@dataclass(frozen=True)
class SinceApproval:
    """The changes of one language since its last approval."""

    approval: Signoff
    diff: LanguageDiff | None
    """None when the approved text is not in git to compare with."""
    note: str = ""


def _approved_commit(
    repo: git.Repository, dhpc: Dhpc, approval: Signoff, language: str
) -> str | None:
    """A commit whose files are exactly the approved version of ``language``."""
    paths = language_paths(dhpc, language)
    tracked = [p for p in (git.repository_path(repo, path) for path in paths) if p is not None]
    candidates = [approval.revision] if approval.revision else []
    candidates += [c for c in git.history(repo, tracked) if c != approval.revision]
    for commit in candidates:
        files = _files_at(repo, commit, paths)
        if files is not None and files_digest(files) == approval.content_sha256:
            return commit
    return None


@contextlib.contextmanager
def approved_dhpc(
    dhpc: Dhpc, approval: Signoff, language: str
) -> Iterator[tuple[Dhpc, str] | None]:
    """The DHPC as it was when ``approval`` was given, from git; None if git has it not.

    One country of a campaign: its national version as it was, read from the whole
    campaign folder at that commit.
    """
    repo = git.repository_of(dhpc.directory)
    if repo is not None and dhpc.in_campaign:
        with _approved_national(repo, dhpc, approval, language) as found:
            yield found
        return
    commit = _approved_commit(repo, dhpc, approval, language) if repo is not None else None
    if repo is None or commit is None:
        yield None
        return
    files = git.folder_files(repo, commit)
    label = git.revision_label(commit[:12], repo)
    with git.materialised(files, label) as folder:
        yield load_dhpc(folder), label


@contextlib.contextmanager
def _approved_national(
    repo: git.Repository, dhpc: Dhpc, approval: Signoff, language: str
) -> Iterator[tuple[Dhpc, str] | None]:
    """The national version of ``dhpc``'s country whose text of ``language`` was approved.

    A national text's hash is that of the text as printed (placeholders filled,
    deviations applied), not of its files: each commit whose files differ is read as a
    campaign until one gives the approved hash.
    """
    from dhpc_gen.content.campaign import load_campaign

    paths = language_paths(dhpc, language)
    tracked = [p for p in (git.repository_path(repo, path) for path in paths) if p is not None]
    candidates = [approval.revision] if approval.revision else []
    candidates += [c for c in git.history(repo, tracked) if c != approval.revision]
    tried: set[str] = set()
    for commit in candidates:
        files = _files_at(repo, commit, paths)
        if files is None or (version := files_digest(files)) in tried:
            continue
        tried.add(version)
        label = git.revision_label(commit[:12], repo)
        with git.materialised(git.folder_files(repo, commit), label) as folder:
            try:
                national = load_campaign(folder).national(dhpc.meta.country)
            except DhpcError:
                continue
            if (
                language in national.meta.languages
                and language_hash(national, language) == approval.content_sha256
            ):
                yield national, label
                return
    yield None


def changes_since_approval(dhpc: Dhpc, state: ApprovalState) -> SinceApproval | None:
    """What changed in ``state.language`` since its last approval; None if nothing to show."""
    if state.approved or state.last_approval is None:
        return None
    approval = state.last_approval
    try:
        with approved_dhpc(dhpc, approval, state.language) as found:
            if found is None:
                return SinceApproval(
                    approval,
                    None,
                    f"the approved text ({approval.content_sha256[:12]}) is not in the git "
                    f"history of {display_path(dhpc.directory)}: the changes cannot be shown",
                )
            old, label = found
            diff = compare_language(
                old,
                dhpc,
                state.language,
                old_label=label,
                new_label=display_path(dhpc.directory),
            )
            meta_changes = _meta_changes(old, dhpc, label)
    except DhpcError as exc:
        return SinceApproval(approval, None, f"the approved text cannot be read: {exc}")
    if meta_changes:
        diff = LanguageDiff(
            diff.language,
            "changed",
            (*meta_changes, *diff.changes),
            diff.moved,
            diff.old_sha256,
            diff.new_sha256,
        )
    note = "" if diff.changes else "only the layout of the files changed (comments, spacing)"
    return SinceApproval(approval, diff, note)


def _meta_changes(old: Dhpc, new: Dhpc, label: str) -> tuple[FieldChange, ...]:
    return compare_meta(old, new, label, display_path(new.directory)).changes


def require_approval(dhpc: Dhpc, languages: Sequence[str]) -> tuple[list[str], list[ApprovalState]]:
    """(approved languages, states of the others) among ``languages``."""
    states = approval_states(dhpc, languages)
    return [s.language for s in states if s.approved], [s for s in states if not s.approved]


def refusal_message(dhpc: Dhpc, refused: Sequence[ApprovalState]) -> str:
    """Why the languages ``refused`` may not be built, merged or sent, and what to do."""
    names = ", ".join(s.language for s in refused)
    lines = [f"{dhpc.id}: not approved, refused: {names}"]
    lines += [f"  {s.language}: {s.describe()}" for s in refused]
    lines.append(
        f"  review the changes (dhpc check {display_path(dhpc.directory)}), then record the "
        f"approval: dhpc signoff {display_path(dhpc.directory)} --lang L --name … --role …"
    )
    return "\n".join(lines)


def log_file(dhpc: Dhpc) -> Path:
    return log_path(dhpc.directory)


@dataclass(frozen=True)
class LanguageApproval:
    """A language's approval state and, when it is not approved, what changed since."""

    state: ApprovalState
    since: SinceApproval | None

    def to_dict(self) -> dict[str, object]:
        document = self.state.to_dict()
        since = self.since
        document["changes_since_approval"] = (
            since.diff.to_dict() if since is not None and since.diff is not None else None
        )
        document["note"] = since.note if since is not None else ""
        return document


def approvals(dhpc: Dhpc, languages: Sequence[str] | None = None) -> list[LanguageApproval]:
    """Every language's approval state, with the changes since its last approval."""
    return [
        LanguageApproval(state, changes_since_approval(dhpc, state))
        for state in approval_states(dhpc, languages)
    ]


def campaign_approvals(campaign: Campaign, countries: Sequence[str] = ()) -> list[LanguageApproval]:
    """The approval of every letter of a campaign (of ``countries``), country by country.

    A campaign's texts are approved per country and language, since each country's
    national text differs; a folder of one country gives :func:`approvals`. The log is
    read once.
    """
    if campaign.single:
        return approvals(campaign.shared)
    log = signoff_log(campaign.shared)
    found = []
    for national in campaign.select(countries):
        for language in national.meta.languages:
            state = approval_state(national, language, log=log)
            found.append(LanguageApproval(state, changes_since_approval(national, state)))
    return found
