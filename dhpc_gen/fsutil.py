"""Files written whole or not at all, and paths that cannot escape their folder."""

from __future__ import annotations

import hashlib
import os
import re
import tempfile
from pathlib import Path

from dhpc_gen.errors import OutputError, display_path

_SAFE_NAME = re.compile(r"^[A-Za-z0-9][A-Za-z0-9._-]{0,99}$")


def safe_name(value: str, what: str) -> str:
    """Return ``value`` if it can be used as one file-name component, else raise."""
    if not _SAFE_NAME.match(value) or ".." in value:
        raise OutputError(
            f"{what} {value!r} cannot be used in a file name: use letters, digits, '.', '_' "
            "and '-' only"
        )
    return value


def inside(root: Path, *parts: str) -> Path:
    """Join ``parts`` below ``root`` and refuse any result outside it."""
    base = root.resolve()
    target = base.joinpath(*parts).resolve()
    if target != base and base not in target.parents:
        raise OutputError(f"refusing to write outside {root}: {'/'.join(parts)}")
    return target


def atomic_write_bytes(path: Path, data: bytes, *, private: bool = False) -> None:
    """Write ``data`` to ``path`` through a temporary file and a rename.

    A failure (no such folder, a folder that is a file, no permission, a full disk) is an
    :class:`OutputError` naming the file; the previous file, if any, is left as it was.
    """
    try:
        _atomic_write(path, data, private=private)
    except OSError as exc:
        raise OutputError(
            f"cannot write {display_path(path)}: {exc.strerror or exc} "
            "(check that the folder exists or can be created and is writable)"
        ) from None


def _atomic_write(path: Path, data: bytes, *, private: bool) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    fd, tmp = tempfile.mkstemp(dir=path.parent, prefix=f".{path.name}.", suffix=".tmp")
    try:
        if private:
            os.fchmod(fd, 0o600)
        else:
            os.fchmod(fd, 0o644)
        with os.fdopen(fd, "wb") as handle:
            handle.write(data)
            handle.flush()
            os.fsync(handle.fileno())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise


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
