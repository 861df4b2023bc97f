"""Files written whole or not at all, and paths that cannot escape their folder.

A command writes its outputs through one :class:`OutputSet`: every file goes to a
temporary beside its target (``.<name>.<random>.tmp``, on the same file system), is
flushed to the disk, and only when all of them are written are they renamed into place.
A failure on the way (a full disk, a quota, no permission, Ctrl-C) removes every
temporary and changes no target, so the output folder is exactly as it was. A folder
that holds one whole generation (``letters/<lang>/``, ``outbox/``) is staged as a
temporary folder and swapped in the same way.
"""

from __future__ import annotations

import contextlib
import errno
import hashlib
import io
import os
import re
import secrets
import shutil
import tempfile
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import TYPE_CHECKING, BinaryIO, Literal, TextIO

from dhpc_gen.errors import OutputError, display_path, is_disk_full, os_error_reason

if TYPE_CHECKING:
    from _typeshed import ReadableBuffer

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")

LEFTOVER_AGE = 3600.0
"""Seconds after which a temporary of a run that was killed is removed by the next run.

Younger ones may belong to a command still running; none is ever read as an output.
"""

_BUFFER = 1 << 20


def safe_name(value: str, what: str) -> str:
    """Return ``value`` if it can be used as one file-name component, else raise."""
    if not _SAFE_NAME.match(value) or ".." in value:
        raise OutputError(
            f"{what} {value!r} cannot be used in a file name: use letters, digits, '.', '_' "
            "and '-' only"
        )
    return value


def inside(root: Path, *parts: str) -> Path:
    """Join ``parts`` below ``root`` and refuse any result outside it.

    The path is returned as ``root`` was given (relative stays relative), so messages
    show it the way the user typed it.
    """
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise OutputError(f"refusing to write outside {root}: {'/'.join(parts)}")
    return root.joinpath(*parts)


def write_to_disk(fd: int, data: ReadableBuffer) -> int:
    """Write some of ``data`` to ``fd``: the one place where outputs' bytes reach the disk."""
    return os.write(fd, data)


def write_failure(
    target: Path, exc: OSError, folder: Path, *, changed: bool = False
) -> OutputError:
    """The message for an output that could not be written, naming the file as given."""
    reason = os_error_reason(exc)
    if not is_disk_full(exc):
        reason += " (check that the folder exists or can be created and is writable)"
    if changed:
        outcome = f"the outputs in {display_path(folder)} may be incomplete: run the command again"
    else:
        outcome = f"nothing was changed in {display_path(folder)}"
    return OutputError(f"cannot write {display_path(target)}: {reason}; {outcome}")


def _write_whole(fd: int, data: ReadableBuffer) -> None:
    view = memoryview(data).cast("B")
    while view:
        view = view[write_to_disk(fd, view) :]


class _DiskFile(io.RawIOBase):
    """The file descriptor of a temporary; a failure names the target, not the temporary."""

    def __init__(self, fd: int, target: Path, folder: Path) -> None:
        super().__init__()
        self._fd = fd
        self._target = target
        self._folder = folder
        self.discarded = False
        """Set when the output is given up: buffered bytes are then dropped, not written."""

    def writable(self) -> bool:
        return True

    def fileno(self) -> int:
        return self._fd

    def write(self, data: ReadableBuffer) -> int:
        size = memoryview(data).nbytes
        if self.discarded:
            return size
        try:
            _write_whole(self._fd, data)
        except OSError as exc:
            raise write_failure(self._target, exc, self._folder) from None
        return size

    def sync(self) -> None:
        try:
            os.fsync(self._fd)
        except OSError as exc:
            raise write_failure(self._target, exc, self._folder) from None

    def close(self) -> None:
        if self.closed:
            return
        super().close()
        try:
            os.close(self._fd)
        except OSError as exc:
            if not self.discarded:
                raise write_failure(self._target, exc, self._folder) from None


@dataclass(frozen=True)
class StagedFolder:
    """A temporary folder that replaces ``target`` whole when its output set is committed.

    Plain data, so that worker processes can write into it.
    """

    path: Path
    """The temporary folder to write in."""
    target: Path
    folder: Path
    """The output folder of the command, named in messages."""

    def write_file(self, name: str, data: bytes) -> None:
        """Write the new file ``name`` (owner-readable only) into the staged folder."""
        path = self.path / safe_name(name, "file name")
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except OSError as exc:
            raise write_failure(self.target / name, exc, self.folder) from None
        raw = _DiskFile(fd, self.target / name, self.folder)
        try:
            raw.write(data)
        except BaseException:
            raw.discarded = True
            raise
        finally:
            raw.close()


Kind = Literal["file", "folder", "remove"]


@dataclass
class _Entry:
    kind: Kind
    target: Path
    temp: Path | None
    last: bool
    raw: _DiskFile | None = None
    handle: BinaryIO | None = None
    backup: Path | None = None
    moved_aside: bool = False
    """The old target was renamed to ``backup`` (folders and removals)."""
    moved_in: bool = False
    """The temporary now stands at ``target``."""
    failed: bool = False
    """Writing it was given up: the set must not be committed."""


class _SwapFailed(Exception):
    def __init__(self, target: Path, error: OSError) -> None:
        super().__init__(str(error))
        self.target = target
        self.error = error


class OutputSet:
    """The outputs of one command: all of them replace their targets, or none does.

    Use it as a context manager; leaving the block normally commits, an exception
    (including KeyboardInterrupt) discards::

        with OutputSet(out_dir) as outputs:
            outputs.write_bytes(out_dir / "a.pdf", pdf)
            with outputs.open_text(out_dir / "list.csv") as handle:
                ...

    ``folder`` is where the outputs go; it is named in messages ("nothing was changed
    in ...") and, when ``private``, created owner-only, as is every file by default.
    """

    def __init__(self, folder: Path, *, private: bool = False) -> None:
        self.folder = folder
        self.private = private
        self._entries: list[_Entry] = []
        self._targets: set[Path] = set()
        self._created: list[Path] = []
        self._scratch: dict[Path, str] = {}
        self._finished = False
        self._private_root = folder.absolute()

    def __enter__(self) -> OutputSet:
        return self

    def __exit__(self, exc_type: type[BaseException] | None, *_: object) -> None:
        if exc_type is None:
            self.commit()
        else:
            self.discard()

    # -- staging ---------------------------------------------------------------------------

    def write_bytes(
        self, target: Path, data: bytes, *, private: bool | None = None, last: bool = False
    ) -> None:
        """Stage ``data`` as the new content of ``target``."""
        with self.open(target, private=private, last=last) as handle:
            handle.write(data)

    def write_text(
        self, target: Path, text: str, *, private: bool | None = None, last: bool = False
    ) -> None:
        """Stage UTF-8 ``text`` as the new content of ``target``."""
        self.write_bytes(target, text.encode("utf-8"), private=private, last=last)

    @contextlib.contextmanager
    def open(
        self, target: Path, *, private: bool | None = None, last: bool = False
    ) -> Iterator[BinaryIO]:
        """A binary handle to stream the new content of ``target`` into.

        ``last``: moved into place after the others (a manifest or a report that
        describes them).
        """
        with self._open(target, private, last) as (_, handle):
            yield handle

    @contextlib.contextmanager
    def open_text(
        self, target: Path, *, private: bool | None = None, last: bool = False
    ) -> Iterator[TextIO]:
        """A UTF-8 text handle (no newline translation, as ``csv`` wants)."""
        with self._open(target, private, last) as (raw, handle):
            text = io.TextIOWrapper(handle, encoding="utf-8", newline="")
            try:
                yield text
                text.flush()
            except BaseException:
                raw.discarded = True
                raise
            finally:
                text.detach()  # the binary handle is closed by _open

    @contextlib.contextmanager
    def _open(
        self, target: Path, private: bool | None, last: bool
    ) -> Iterator[tuple[_DiskFile, BinaryIO]]:
        entry = self._stage_file(target, self.private if private is None else private, last)
        raw = entry.raw
        assert raw is not None
        handle = io.BufferedWriter(raw, buffer_size=_BUFFER)
        entry.handle = handle
        try:
            yield raw, handle
            handle.flush()
            raw.sync()
        except BaseException:
            raw.discarded = True
            entry.failed = True
            raise
        finally:
            entry.handle = None
            handle.close()

    def stage_folder(self, target: Path) -> StagedFolder:
        """A new, empty folder (owner-only) that replaces the folder ``target`` whole."""
        self._claim(target)
        parent = target.parent
        self._make_folders(parent, target)
        try:
            temp = Path(tempfile.mkdtemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp"))
        except OSError as exc:
            raise write_failure(target, exc, self.folder) from None
        self._entries.append(_Entry("folder", target, temp, last=False))
        return StagedFolder(temp, target, self.folder)

    def scratch(self, name: str) -> Path:
        """A private working folder in the output folder, removed when the set is finished."""
        if self._finished:
            raise RuntimeError("output set already committed or discarded")
        self._make_folders(self.folder, self.folder / name)
        try:
            path = Path(tempfile.mkdtemp(dir=self.folder, prefix=f".{name}.", suffix=".tmp"))
        except OSError as exc:
            raise write_failure(self.folder / name, exc, self.folder) from None
        self._scratch[path] = name
        return path

    def staged_size(self, target: Path) -> int:
        """The size of what was written so far for ``target``."""
        for entry in self._entries:
            if entry.target == target and entry.kind == "file" and entry.temp is not None:
                return entry.temp.stat().st_size
        raise KeyError(target)

    def remove(self, target: Path) -> None:
        """Remove the file or folder ``target`` when the set is committed (a stale output)."""
        self._claim(target)
        self._entries.append(_Entry("remove", target, None, last=False))

    def _claim(self, target: Path) -> None:
        if self._finished:
            raise RuntimeError("output set already committed or discarded")
        key = target.absolute()
        if key in self._targets:
            raise RuntimeError(f"{target} staged twice in one output set")
        self._targets.add(key)

    def _stage_file(self, target: Path, private: bool, last: bool) -> _Entry:
        self._claim(target)
        parent = target.parent
        self._make_folders(parent, target)
        try:
            fd, name = tempfile.mkstemp(dir=parent, prefix=f".{target.name}.", suffix=".tmp")
        except OSError as exc:
            raise write_failure(target, exc, self.folder) from None
        entry = _Entry("file", target, Path(name), last)
        self._entries.append(entry)
        entry.raw = _DiskFile(fd, target, self.folder)
        try:
            os.fchmod(fd, 0o600 if private else 0o644)
        except OSError as exc:
            raise write_failure(target, exc, self.folder) from None
        return entry

    def _make_folders(self, folder: Path, target: Path) -> None:
        """Create ``folder`` and its missing parents, remembering them to remove on failure."""
        missing = []
        probe = folder
        while not probe.exists():
            missing.append(probe)
            if probe.parent == probe:
                break
            probe = probe.parent
        for path in reversed(missing):
            private = self.private and (
                path.absolute() == self._private_root
                or self._private_root in path.absolute().parents
            )
            try:
                path.mkdir(mode=0o700 if private else 0o777)
            except FileExistsError:
                if path.is_dir():
                    continue  # made meanwhile by someone else
                error = NotADirectoryError(errno.ENOTDIR, os.strerror(errno.ENOTDIR))
                raise write_failure(target, error, self.folder) from None
            except OSError as exc:
                raise write_failure(target, exc, self.folder) from None
            self._created.append(path)

    # -- commit and discard ----------------------------------------------------------------

    def commit(self) -> None:
        """Move every staged output into place; on any failure put everything back."""
        if self._finished:
            return
        ordered = [e for e in self._entries if not e.last] + [e for e in self._entries if e.last]
        try:
            self._prepare(ordered)
            for entry in ordered:
                self._swap(entry)
        except _SwapFailed as failed:
            intact = self.discard()
            raise write_failure(
                failed.target, failed.error, self.folder, changed=not intact
            ) from None
        except BaseException:
            self.discard()
            raise
        self._finished = True
        self._tidy(ordered)

    def _prepare(self, ordered: list[_Entry]) -> None:
        """What may still need room on the disk, before any target changes."""
        if any(e.handle is not None or e.failed for e in ordered):
            raise RuntimeError("an output of the set is still open or was not written whole")
        if any(e.kind == "folder" for e in ordered):
            os.sync()  # one flush for the many files of staged folders, not an fsync each
        for entry in ordered:
            if entry.kind != "file" or not entry.target.is_file():
                continue
            # A second name for the old file, so that a failure later in the commit
            # can put it back by a rename.
            backup = _unique(entry.target)
            try:
                os.link(entry.target, backup, follow_symlinks=False)
            except OSError as exc:
                if is_disk_full(exc):
                    raise _SwapFailed(entry.target, exc) from None
                continue  # a file system without hard links: no way back for this one
            entry.backup = backup

    def _swap(self, entry: _Entry) -> None:
        try:
            if entry.kind == "file":
                assert entry.temp is not None
                os.replace(entry.temp, entry.target)
                entry.moved_in = True
                return
            if os.path.lexists(entry.target):
                entry.backup = _unique(entry.target)
                os.rename(entry.target, entry.backup)
                entry.moved_aside = True
            if entry.kind == "folder":
                assert entry.temp is not None
                os.rename(entry.temp, entry.target)
                entry.moved_in = True
        except OSError as exc:
            raise _SwapFailed(entry.target, exc) from None

    def discard(self) -> bool:
        """Give up every staged output and undo what a commit did; True: all is as it was."""
        if self._finished:
            return True
        self._finished = True
        intact = True
        for entry in reversed(self._entries):
            try:
                self._undo(entry)
            except OSError:
                intact = False
                entry.backup = None  # it may hold the old version: left for a later run
        for entry in self._entries:
            if entry.raw is not None:
                entry.raw.discarded = True
                with contextlib.suppress(Exception):
                    if entry.handle is not None:
                        entry.handle.close()
                    entry.raw.close()
            if entry.temp is not None and not entry.moved_in:
                _remove(entry.temp)
            if entry.kind == "file" and entry.backup is not None:
                _remove(entry.backup)
        for path in self._scratch:
            _remove(path)
        for folder in reversed(self._created):
            with contextlib.suppress(OSError):
                folder.rmdir()
        return intact

    @staticmethod
    def _undo(entry: _Entry) -> None:
        if entry.kind == "file":
            if entry.moved_in:
                if entry.backup is not None:
                    os.replace(entry.backup, entry.target)
                    entry.backup = None
                else:
                    os.unlink(entry.target)
                entry.moved_in = False
            return
        if entry.moved_in:
            assert entry.temp is not None
            os.rename(entry.target, entry.temp)
            entry.moved_in = False
        if entry.moved_aside:
            assert entry.backup is not None
            os.rename(entry.backup, entry.target)
            entry.moved_aside = False

    def _tidy(self, ordered: list[_Entry]) -> None:
        """After a commit: drop the old versions and the leftovers of killed runs."""
        parents = set()
        for entry in ordered:
            if entry.backup is not None:
                _remove(entry.backup)
            parents.add(entry.target.parent)
        for parent in parents:
            with contextlib.suppress(OSError):
                fd = os.open(parent, os.O_RDONLY)
                try:
                    os.fsync(fd)
                finally:
                    os.close(fd)
        for path in self._scratch:
            _remove(path)
        names: dict[Path, set[str]] = {}
        for entry in ordered:
            names.setdefault(entry.target.parent, set()).add(entry.target.name)
        for name in self._scratch.values():
            names.setdefault(self.folder, set()).add(name)
        for parent, outputs in names.items():
            _remove_leftovers(parent, outputs, time.time())


def _unique(target: Path) -> Path:
    """A free temporary name beside ``target``."""
    while True:
        candidate = target.with_name(f".{target.name}.{secrets.token_hex(6)}.tmp")
        if not os.path.lexists(candidate):
            return candidate


def _remove(path: Path) -> None:
    """Remove a temporary file or folder; what cannot be removed is left to the next run."""
    with contextlib.suppress(OSError):
        if path.is_dir() and not path.is_symlink():
            shutil.rmtree(path, ignore_errors=True)
        else:
            path.unlink(missing_ok=True)


def leftover_pattern(name: str) -> re.Pattern[str]:
    """The names temporaries of an output called ``name`` have."""
    return re.compile(rf"^\.{re.escape(name)}\.[A-Za-z0-9_]{{6,}}\.tmp$")


def _remove_leftovers(parent: Path, outputs: set[str], now: float) -> None:
    patterns = [leftover_pattern(name) for name in outputs]
    with contextlib.suppress(OSError):
        for path in parent.iterdir():
            if not path.name.startswith(".") or not any(p.match(path.name) for p in patterns):
                continue
            with contextlib.suppress(OSError):
                if now - path.lstat().st_mtime > LEFTOVER_AGE:
                    _remove(path)


def atomic_write_bytes(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A failure (no such folder, a folder that is a file, no permission, a full disk) is an
    :class:`OutputError` naming the file; the previous file, if any, is left as it was.
    """
    with OutputSet(path.parent, private=private) as outputs:
        outputs.write_bytes(path, data)


def atomic_write_text(path: Path, text: str, *, private: bool = False) -> None:
    """Write UTF-8 text atomically."""
    atomic_write_bytes(path, text.encode("utf-8"), private=private)


def sha256_file(path: Path) -> str:
    """Hex SHA-256 of a file's bytes."""
    digest = hashlib.sha256()
    with path.open("rb") as handle:
        for block in iter(lambda: handle.read(1 << 16), b""):
            digest.update(block)
    return digest.hexdigest()


def sha256_bytes(data: bytes) -> str:
    """Hex SHA-256 of some bytes."""
    return hashlib.sha256(data).hexdigest()
