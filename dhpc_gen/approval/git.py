"""Earlier versions of a content folder, read from git itself (no checkout, no work tree).

A revision is anything ``git rev-parse`` understands (``HEAD~2``, a tag, a branch, a
commit). The folder's files at that revision are copied into a temporary folder so the
ordinary loader reads them; messages name them as ``REV:path/in/repo``.
"""

from __future__ import annotations

import contextlib
import os
import shutil
import subprocess
import tempfile
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

from dhpc_gen.errors import ContentError, DhpcError, Problem, UsageError, display_path

_TIMEOUT = 60


class GitError(DhpcError):
    """git could not give what was asked (not a repository, no such revision)."""


@dataclass(frozen=True)
class Repository:
    """The git repository that holds a content folder, and where the folder is in it."""

    root: Path
    prefix: str
    """The folder's path inside the repository, with a trailing ``/`` (``""`` at the top)."""

    def path_of(self, name: str) -> str:
        return f"{self.prefix}{name}"


def _git(cwd: Path, *args: str, stdin: bytes | None = None) -> subprocess.CompletedProcess[bytes]:
    # No pager, no prompts, the user's configuration cannot run programs on read-only calls.
    env = {**os.environ, "GIT_TERMINAL_PROMPT": "0", "GIT_PAGER": "cat", "LC_ALL": "C"}
    try:
        return subprocess.run(
            ["git", "-c", "core.fsmonitor=false", *args],
            cwd=cwd,
            input=stdin,
            capture_output=True,
            env=env,
            timeout=_TIMEOUT,
            check=False,
        )
    except FileNotFoundError:
        raise GitError("git is not installed: install git to compare revisions") from None
    except subprocess.TimeoutExpired:
        raise GitError(
            f"git {args[0]} took more than {_TIMEOUT} s in {display_path(cwd)}"
        ) from None


def _reason(result: subprocess.CompletedProcess[bytes]) -> str:
    text = result.stderr.decode("utf-8", "replace").strip().splitlines()
    return text[0].removeprefix("fatal: ") if text else f"exit code {result.returncode}"


def repository_of(directory: Path) -> Repository | None:
    """The repository that holds ``directory``; None when it is in none."""
    if not directory.is_dir():
        raise ContentError([Problem(display_path(directory), "", "no such content folder")])
    result = _git(directory, "rev-parse", "--show-toplevel", "--show-prefix")
    if result.returncode != 0:
        return None
    lines = result.stdout.decode("utf-8", "surrogateescape").splitlines()
    root = Path(lines[0])
    prefix = lines[1] if len(lines) > 1 else ""
    return Repository(root, prefix)


def require_repository(directory: Path) -> Repository:
    repo = repository_of(directory)
    if repo is None:
        raise GitError(
            f"{display_path(directory)} is not in a git repository: compare two folders "
            "instead (dhpc diff OLD_DIR NEW_DIR)"
        )
    return repo


def resolve(repo: Repository, revision: str, option: str = "--from") -> str:
    """The commit id ``revision`` names; a clear error when it names none."""
    if not revision or revision.startswith("-"):
        raise UsageError(f"{option} {revision!r}: not a git revision")
    result = _git(repo.root, "rev-parse", "--verify", "--quiet", f"{revision}^{{commit}}")
    if result.returncode != 0:
        raise GitError(
            f"{option} {revision}: no such revision in the git repository at {repo.root} "
            "(give a commit, a tag, a branch or HEAD~1)"
        )
    return result.stdout.decode("ascii").strip()


SUBFOLDERS = ("countries",)
"""Folders of a content folder that are part of its content: a campaign's country files."""


def folder_files(repo: Repository, commit: str) -> dict[str, bytes]:
    """The files directly in the content folder at ``commit`` and in its ``countries/``
    (a campaign), by name inside the folder (``fi.yaml``, ``countries/BE.yaml``; links
    left out)."""
    wanted = [repo.prefix or ".", *(f"{repo.prefix}{sub}/" for sub in SUBFOLDERS)]
    listing = _git(repo.root, "ls-tree", "-z", commit, "--", *wanted)
    if listing.returncode != 0:
        raise GitError(f"git ls-tree {commit[:12]}: {_reason(listing)}")
    names: dict[str, str] = {}
    for entry in listing.stdout.split(b"\0"):
        if not entry:
            continue
        meta, _, path = entry.partition(b"\t")
        mode, kind, blob = meta.decode("ascii").split()
        if kind != "blob" or mode not in ("100644", "100755"):
            continue
        inside = path.decode("utf-8", "surrogateescape")[len(repo.prefix) :]
        folder, _, name = inside.rpartition("/")
        if folder and folder not in SUBFOLDERS:
            continue
        names[inside if folder else name] = blob
    blobs = read_blobs(repo, list(names.values()))
    return {name: data for name, blob in names.items() if (data := blobs.get(blob)) is not None}


def read_blobs(repo: Repository, objects: Sequence[str]) -> dict[str, bytes | None]:
    """The contents of several objects (``<commit>:<path>`` or blob ids) in one git call."""
    if not objects:
        return {}
    request = b"".join(name.encode("utf-8", "surrogateescape") + b"\n" for name in objects)
    result = _git(repo.root, "cat-file", "--batch", stdin=request)
    if result.returncode != 0:
        raise GitError(f"git cat-file: {_reason(result)}")
    out: dict[str, bytes | None] = {}
    data = result.stdout
    position = 0
    for name in objects:
        end = data.index(b"\n", position)
        line = data[position:end]
        position = end + 1
        if line.endswith((b" missing", b" ambiguous")):
            out[name] = None
            continue
        _, kind, size_text = line.split()
        size = int(size_text)
        if kind != b"blob":  # a tree or a commit: its body follows
            out[name] = None
            position += size + 1
            continue
        out[name] = data[position : position + size]
        position += size + 1
    return out


def repository_path(repo: Repository, path: Path) -> str | None:
    """``path`` as a path inside the repository; None when it lies outside."""
    try:
        return path.resolve().relative_to(repo.root.resolve()).as_posix()
    except ValueError:
        return None


def history(repo: Repository, paths: Sequence[str], limit: int = 500) -> list[str]:
    """Commits that changed any of ``paths`` (inside the repository), newest first."""
    if not paths:
        return []
    result = _git(repo.root, "log", f"--max-count={limit}", "--format=%H", "HEAD", "--", *paths)
    if result.returncode != 0:
        return []  # no commit yet
    return result.stdout.decode("ascii").split()


def head_commit(repo: Repository) -> str | None:
    result = _git(repo.root, "rev-parse", "--verify", "--quiet", "HEAD^{commit}")
    return result.stdout.decode("ascii").strip() if result.returncode == 0 else None


def file_at(repo: Repository, commit: str, name: str) -> bytes | None:
    """One file of the content folder at ``commit``; None when it is not there."""
    return read_blobs(repo, [f"{commit}:{repo.path_of(name)}"]).get(
        f"{commit}:{repo.path_of(name)}"
    )


@contextlib.contextmanager
def materialised(files: Mapping[str, bytes], label: str) -> Iterator[Path]:
    """The files in a temporary folder named like the content folder; removed afterwards.

    Content errors found in it are shown with ``label`` (``HEAD~1:content/x``) in front.
    """
    parent = Path(tempfile.mkdtemp(prefix="dhpc-version-"))
    folder = parent / "content"
    try:
        folder.mkdir()
        for name, data in files.items():
            (folder / name).parent.mkdir(exist_ok=True)
            (folder / name).write_bytes(data)
        try:
            yield folder
        except ContentError as exc:
            shown = display_path(folder)
            raise ContentError(
                [
                    Problem(
                        p.file.replace(shown, label, 1) if p.file.startswith(shown) else p.file,
                        p.path,
                        p.message,
                        p.line,
                    )
                    for p in exc.problems
                ]
            ) from None
    finally:
        shutil.rmtree(parent, ignore_errors=True)


def revision_label(revision: str, repo: Repository) -> str:
    """``HEAD~1:content/lemtrada-2019`` — how files of a revision are named in messages."""
    return f"{revision}:{repo.prefix.rstrip('/') or '.'}"
