"""Errors a user can act on.

Every failure the user must fix is a :class:`DhpcError` whose message names the file,
the field path and, where known, the line. The CLI catches them in one place and turns
them into an exit code without a traceback.
"""

from __future__ import annotations

import errno
import functools
import os
import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from pathlib import Path


class DhpcError(Exception):
    """Base of every error the user can act on; exit code 1 (bad input)."""

    exit_code = 1

    def __init__(self, message: str) -> None:
        super().__init__(message)
        self.message = message

    def __str__(self) -> str:
        return self.message


class UsageError(DhpcError):
    """The command was called wrongly (exit code 2)."""

    exit_code = 2


@dataclass(frozen=True)
class Problem:
    """One validation problem at one place in one file."""

    file: str
    path: str
    message: str
    line: int | None = None

    def __str__(self) -> str:
        where = self.file if self.line is None else f"{self.file}:{self.line}"
        field = f" {self.path}" if self.path else ""
        return f"{where}{field}: {self.message}"


class ContentError(DhpcError):
    """The DHPC content is invalid; carries every problem found, not just the first."""

    def __init__(self, problems: Sequence[Problem]) -> None:
        self.problems = tuple(problems)
        count = len(self.problems)
        head = f"{count} problem{'s' if count != 1 else ''} in the content:"
        super().__init__("\n".join([head, *(f"  {p}" for p in self.problems)]))


class RegistryError(DhpcError):
    """A country or language is missing from the regulator registry."""


class RenderError(DhpcError):
    """The letter could not be rendered."""


class OutputError(DhpcError):
    """An output could not be written where asked."""


def format_problems(problems: Iterable[Problem]) -> list[str]:
    """Return each problem as one line, in file and line order."""
    return [str(p) for p in sorted(problems, key=lambda p: (p.file, p.line or 0, p.path))]


def display_path(path: Path) -> str:
    """Show a path relative to the working directory when it lies below it."""
    return _display_path(path, os.getcwd())


@functools.lru_cache(maxsize=1024)
def _display_path(path: Path, cwd: str) -> str:
    # Resolving takes a system call per folder of the path; a build names each file often.
    try:
        return str(path.resolve().relative_to(Path(cwd).resolve()))
    except ValueError:
        return str(path)


def os_error_reason(exc: OSError) -> str:
    """Why an operating-system call failed, in words; a full disk says so plainly."""
    if exc.errno == errno.ENOSPC:
        return "the disk is full (no space left on device)"
    if exc.errno == errno.EDQUOT:
        return "your disk quota is full (disk quota exceeded)"
    return exc.strerror or str(exc) or type(exc).__name__


def is_disk_full(exc: OSError) -> bool:
    """The disk or the user's quota has no room left."""
    return exc.errno in (errno.ENOSPC, errno.EDQUOT)


_UNPRINTABLE = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f]")


def terminal_text(text: str) -> str:
    """``text`` safe for a terminal: control characters shown as escapes (``\\x1b``).

    Content refuses them, but a message can quote a file name or a catalog entry: an
    escape sequence in one must not recolour or rewrite the user's terminal.
    """
    return _UNPRINTABLE.sub(lambda m: repr(m.group())[1:-1], text)
