"""The two versions ``dhpc diff`` compares: two folders, or revisions of one in git."""

from __future__ import annotations

from collections.abc import Sequence
from pathlib import Path

from dhpc_gen.approval import git
from dhpc_gen.approval.campaign_diff import compare_versions
from dhpc_gen.approval.diff import DhpcDiff
from dhpc_gen.content.campaign import load_campaign
from dhpc_gen.errors import display_path


def compare_folders(
    old: Path,
    new: Path,
    languages: Sequence[str] | None = None,
    countries: Sequence[str] = (),
) -> DhpcDiff:
    """What changed from the content folder ``old`` to the content folder ``new``."""
    return compare_versions(
        load_campaign(old),
        load_campaign(new),
        old_label=display_path(old),
        new_label=display_path(new),
        languages=languages,
        countries=countries,
    )


def compare_revisions(
    directory: Path,
    old_revision: str,
    new_revision: str | None = None,
    languages: Sequence[str] | None = None,
    countries: Sequence[str] = (),
) -> DhpcDiff:
    """What changed in ``directory`` from a git revision to another (or to the files now)."""
    repo = git.require_repository(directory)
    old_commit = git.resolve(repo, old_revision, "--from")
    new_commit = git.resolve(repo, new_revision, "--to") if new_revision is not None else None
    old_label = git.revision_label(old_revision, repo)
    old_files = git.folder_files(repo, old_commit)
    if not old_files:
        raise git.GitError(
            f"--from {old_revision}: {display_path(directory)} is not in that revision "
            "(it has no files there)"
        )
    with git.materialised(old_files, old_label) as old_folder:
        before = load_campaign(old_folder)
        if new_commit is None:
            return compare_versions(
                before,
                load_campaign(directory),
                old_label=old_label,
                new_label=display_path(directory),
                languages=languages,
                countries=countries,
            )
        assert new_revision is not None
        new_label = git.revision_label(new_revision, repo)
        new_files = git.folder_files(repo, new_commit)
        if not new_files:
            raise git.GitError(
                f"--to {new_revision}: {display_path(directory)} is not in that revision"
            )
        with git.materialised(new_files, new_label) as new_folder:
            return compare_versions(
                before,
                load_campaign(new_folder),
                old_label=old_label,
                new_label=new_label,
                languages=languages,
                countries=countries,
            )
