"""A disk that fills in the middle of a command: exit 1, a message that says so, nothing changed.

Every command that writes runs against the outputs of an earlier run, and the disk fills
half-way through what it writes. Then the command exits 1, the message names the file it
could not write (as the user gave it) and says the disk is full, and every file and
folder is byte for byte, mode for mode, what it was: no new file beside old ones, no
temporary left.

The disk fills in two ways: a real one (a small tmpfs mounted for the test, which needs
root, as CI has) and one that works anywhere: the single point where :mod:`dhpc_gen.fsutil`
writes bytes is replaced by one that has room for N bytes only.
"""

from __future__ import annotations

import errno
import os
import re
import shutil
import stat
import subprocess
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

import click
import pytest
from click.testing import CliRunner, Result

from dhpc_gen import fsutil
from dhpc_gen.cli import main, reports_errors
from dhpc_gen.errors import OutputError
from dhpc_gen.fsutil import LEFTOVER_AGE, OutputSet
from tests.conftest import EXAMPLE

ID = "lemtrada-2019"
PAGE = 4096
FILLER = ".filler"
"""The file that takes the room on the tmpfs; not part of any output."""


# -- the disk ------------------------------------------------------------------------------


class FillingDisk:
    """Stands in for :func:`dhpc_gen.fsutil.write_to_disk`: room for ``room`` bytes, then full.

    Like a real disk, the write that reaches the end is short, and the next one fails.
    """

    def __init__(self, room: float, error: int = errno.ENOSPC) -> None:
        self.room = room
        self.error = error
        self.written = 0

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        view = memoryview(data).cast("B")
        if self.room < 1:
            raise OSError(self.error, os.strerror(self.error))
        count = os.write(fd, view[: int(min(len(view), self.room))])
        self.room -= count
        self.written += count
        return count


class Interrupted(FillingDisk):
    """Ctrl-C half-way through the writing."""

    def __call__(self, fd: int, data: bytes | memoryview) -> int:
        if self.room < 1:
            raise KeyboardInterrupt
        return super().__call__(fd, data)


Snapshot = dict[str, tuple[int, bytes | None]]


def snapshot(root: Path) -> Snapshot:
    """Every file and folder below ``root``: its mode and, for a file, its bytes."""
    found: Snapshot = {}
    for path in sorted(root.rglob("*")):
        name = path.relative_to(root).as_posix()
        if name == FILLER or name == "lost+found":
            continue
        info = path.lstat()
        if stat.S_ISLNK(info.st_mode):
            found[name] = (info.st_mode, os.readlink(path).encode())
        elif path.is_dir():
            found[name] = (info.st_mode, None)
        else:
            found[name] = (info.st_mode, path.read_bytes())
    return found


def changes(before: Snapshot, after: Snapshot) -> list[str]:
    """What differs, for a readable failure."""
    return sorted(
        [f"new: {name}" for name in after.keys() - before.keys()]
        + [f"gone: {name}" for name in before.keys() - after.keys()]
        + [
            f"changed: {name}"
            for name in before.keys() & after.keys()
            if before[name] != after[name]
        ]
    )


@pytest.fixture
def tmpfs(tmp_path: Path) -> Iterator[Path]:
    """A real, small file system of its own, as the working directory."""
    mount_point = tmp_path / "disk"
    mount_point.mkdir()
    mounted = subprocess.run(
        ["mount", "-t", "tmpfs", "-o", "size=16m,mode=0755", "tmpfs", str(mount_point)],
        capture_output=True,
        text=True,
        check=False,
    )
    if mounted.returncode != 0:
        pytest.skip(
            "mount -t tmpfs was refused (it needs root); the FillingDisk tests cover the same "
            f"behaviour: {mounted.stderr.strip()}"
        )
    cwd = Path.cwd()
    os.chdir(mount_point)
    try:
        yield mount_point
    finally:
        os.chdir(cwd)
        subprocess.run(["umount", str(mount_point)], check=True)


@pytest.fixture
def plain_disk(tmp_path: Path) -> Iterator[Path]:
    """A folder on the ordinary disk, as the working directory."""
    folder = tmp_path / "disk"
    folder.mkdir()
    cwd = Path.cwd()
    os.chdir(folder)
    try:
        yield folder
    finally:
        os.chdir(cwd)


def fill(disk: Path, room: int) -> None:
    """Take all the free space of the file system at ``disk`` but ``room`` bytes."""
    free = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    assert free > room, (free, room)
    fd = os.open(disk / FILLER, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    try:
        os.posix_fallocate(fd, 0, free - room)
    finally:
        os.close(fd)
    left = os.statvfs(disk).f_bavail * os.statvfs(disk).f_frsize
    assert left == room, (left, room)


# -- the earlier outputs and the commands --------------------------------------------------


def dhpc(*args: str) -> Result:
    return CliRunner().invoke(main, list(args))


def ok(*args: str) -> Result:
    result = dhpc(*args)
    assert result.exit_code == 0, (args, result.output)
    return result


@pytest.fixture(scope="module")
def earlier(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project folder after one of every command; the disk tests run on copies of it.

    ``content/`` is the example, ``changed/`` the same DHPC with another date and key
    message (what a new build, review or export is made from), ``out/`` the outputs of
    the first run of every command, ``alt/`` a second mailing list (the default audience;
    the one in ``out/`` is of everyone), ``vendor-fi.xlf`` a translation back from a vendor.
    """
    root = tmp_path_factory.mktemp("earlier")
    shutil.copytree(EXAMPLE, root / "content")
    shutil.copytree(EXAMPLE, root / "changed")
    meta = root / "changed" / "dhpc.yaml"
    meta.write_text(
        meta.read_text(encoding="utf-8").replace("date: 2019-04-24", "date: 2019-04-26"),
        encoding="utf-8",
    )
    source = root / "changed" / "sv.yaml"
    source.write_text(
        source.read_text(encoding="utf-8").replace(
            "key_message: Begränsad användning", "key_message: Starkt begränsad användning"
        ),
        encoding="utf-8",
    )
    cwd = Path.cwd()
    os.chdir(root)
    try:
        ok("mailing-list", "content", "--everyone", "--out", "out")
        ok("mailing-list", "content", "--out", "alt")
        ok("build", "content", "--out", "out", "--html")
        ok("merge", "content", "--out", "out", "--per-recipient", "--leave-out-rejects")
        ok("send", "content", "--out", "out")
        ok("report", "content", "--out", "out", "--format", "json")
        ok("review", "content", "--no-thumbnails", "--pdf", "-o", f"out/{ID}/review.html")
        ok("xliff", "export", "content", "--target", "fi", "-o", f"out/{ID}/fi.xlf")
        ok("xliff", "export", "content", "--target", "fi", "-o", "vendor-fi.xlf")
    finally:
        os.chdir(cwd)
    vendor = root / "vendor-fi.xlf"
    text = vendor.read_text(encoding="utf-8")
    old = "Käytön rajoittaminen vakavien haittavaikutusten vuoksi</target>"
    assert text.count(old) == 1
    vendor.write_text(text.replace(old, "Käyttöä rajoitetaan vakavien haittojen vuoksi</target>"))
    return root


@dataclass(frozen=True)
class Command:
    name: str
    args: tuple[str, ...]
    folder: str
    """The output folder the message says was not changed."""


COMMANDS = [
    Command("build", ("build", "changed", "--out", "out", "--html"), f"out/{ID}"),
    Command("mailing-list", ("mailing-list", "content", "--out", "out"), f"out/{ID}/mailing"),
    Command(
        "merge",
        (
            "merge",
            "content",
            "--out",
            "out",
            "--mailing",
            f"alt/{ID}/mailing",
            "--per-recipient",
            "--jobs",
            "1",
        ),
        f"out/{ID}",
    ),
    Command("send", ("send", "content", "--out", "out", "--no-limit"), f"out/{ID}"),
    Command("report", ("report", "content", "--out", "out", "--format", "json"), f"out/{ID}"),
    Command(
        "review",
        ("review", "changed", "--no-thumbnails", "--pdf", "-o", f"out/{ID}/review.html"),
        f"out/{ID}",
    ),
    Command(
        "xliff-export",
        ("xliff", "export", "changed", "--target", "fi", "-o", f"out/{ID}/fi.xlf"),
        f"out/{ID}",
    ),
    Command("xliff-import", ("xliff", "import", "content", "vendor-fi.xlf"), "content"),
]

MERGE_IN_WORKERS = Command(
    "merge-in-workers",
    (
        "merge",
        "content",
        "--out",
        "out",
        "--mailing",
        f"alt/{ID}/mailing",
        "--per-recipient",
        "--jobs",
        "2",
    ),
    f"out/{ID}",
)
"""The letters written by worker processes: the disk fills in one of them."""

_written: dict[str, int] = {}


def bytes_written(command: Command, earlier: Path, scratch: Path) -> int:
    """What ``command`` writes when the disk has room (measured once, on a copy)."""
    if command is MERGE_IN_WORKERS:
        return bytes_written(COMMANDS[2], earlier, scratch)  # the same bytes, counted here
    if command.name not in _written:
        copy = scratch / f"measure-{command.name}"
        shutil.copytree(earlier, copy, symlinks=True)
        counter = FillingDisk(float("inf"))
        cwd = Path.cwd()
        os.chdir(copy)
        try:
            with pytest.MonkeyPatch.context() as patch:
                patch.setattr(fsutil, "write_to_disk", counter)
                ok(*command.args)
        finally:
            os.chdir(cwd)
        assert counter.written > 0, command.name
        _written[command.name] = counter.written
    return _written[command.name]


def assert_disk_full_message(result: Result, command: Command, why: str) -> None:
    assert result.exit_code == 1, (command.name, result.output)
    assert isinstance(result.exception, SystemExit), result.exception
    assert "Traceback" not in result.output
    found = re.search(
        rf"Error: cannot write (\S+): {re.escape(why)}; nothing was changed in (\S+)\n",
        result.output,
    )
    assert found, (command.name, result.output)
    # As the user gave it: relative to where the command ran, below the output folder.
    assert found.group(1).startswith(f"{command.folder}/"), result.output
    assert found.group(2) == command.folder, result.output


# -- the tests -----------------------------------------------------------------------------


@pytest.mark.parametrize(
    "command", [*COMMANDS, MERGE_IN_WORKERS], ids=[c.name for c in [*COMMANDS, MERGE_IN_WORKERS]]
)
def test_a_real_full_disk_changes_nothing(
    command: Command, earlier: Path, tmpfs: Path, tmp_path: Path
) -> None:
    shutil.copytree(earlier, tmpfs, symlinks=True, dirs_exist_ok=True)
    total = bytes_written(command, earlier, tmp_path)
    # Room for about half of what the command writes: the first file fits, a later one not.
    fill(tmpfs, total // 2 // PAGE * PAGE)
    before = snapshot(tmpfs)

    result = dhpc(*command.args)

    assert_disk_full_message(result, command, "the disk is full (no space left on device)")
    assert changes(before, snapshot(tmpfs)) == []


@pytest.mark.parametrize("command", COMMANDS, ids=[c.name for c in COMMANDS])
def test_a_disk_that_fills_half_way_changes_nothing(
    command: Command,
    earlier: Path,
    plain_disk: Path,
    tmp_path: Path,
    monkeypatch: pytest.MonkeyPatch,
) -> None:
    """The same without root: the disk has room for half of what the command writes."""
    shutil.copytree(earlier, plain_disk, symlinks=True, dirs_exist_ok=True)
    disk = FillingDisk(bytes_written(command, earlier, tmp_path) // 2)
    before = snapshot(plain_disk)
    monkeypatch.setattr(fsutil, "write_to_disk", disk)

    result = dhpc(*command.args)

    assert disk.written > 0, "the disk filled before the first byte: not half-way"
    assert_disk_full_message(result, command, "the disk is full (no space left on device)")
    assert changes(before, snapshot(plain_disk)) == []


def test_a_full_quota_is_said_so(
    earlier: Path, plain_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = COMMANDS[1]  # mailing-list: five files
    shutil.copytree(earlier, plain_disk, symlinks=True, dirs_exist_ok=True)
    before = snapshot(plain_disk)
    room = bytes_written(command, earlier, tmp_path) // 2
    monkeypatch.setattr(fsutil, "write_to_disk", FillingDisk(room, errno.EDQUOT))

    result = dhpc(*command.args)

    assert_disk_full_message(result, command, "your disk quota is full (disk quota exceeded)")
    assert changes(before, snapshot(plain_disk)) == []


@pytest.mark.parametrize("name", ["build", "merge", "send"])
def test_ctrl_c_half_way_changes_nothing(
    name: str, earlier: Path, plain_disk: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    command = next(c for c in COMMANDS if c.name == name)
    shutil.copytree(earlier, plain_disk, symlinks=True, dirs_exist_ok=True)
    before = snapshot(plain_disk)
    monkeypatch.setattr(
        fsutil, "write_to_disk", Interrupted(bytes_written(command, earlier, tmp_path) // 2)
    )

    result = dhpc(*command.args)

    assert result.exit_code == 1 and "Aborted!" in result.output, result.output
    assert changes(before, snapshot(plain_disk)) == []


def test_leftovers_of_a_killed_run_are_never_outputs_and_go_away(
    earlier: Path, plain_disk: Path
) -> None:
    """A run killed with SIGKILL leaves ``.<name>.<random>.tmp``; the next run removes it."""
    shutil.copytree(earlier, plain_disk, symlinks=True, dirs_exist_ok=True)
    out = plain_disk / "out" / ID
    old = out / f".{ID}_fi.pdf.k1ll3dxx.tmp"
    fresh = out / f".{ID}_fi.pdf.runn1ngx.tmp"
    old_folder = out / "letters" / ".fi.k1ll3dxx.tmp"
    for leftover in (old, fresh):
        leftover.write_bytes(b"%PDF-1.7 half a letter")
    old_folder.mkdir()
    (old_folder / "r-1.pdf").write_bytes(b"%PDF-1.7 half a letter")
    hours_ago = time.time() - LEFTOVER_AGE - 60
    for path in (old, old_folder):
        os.utime(path, (hours_ago, hours_ago))

    ok("merge", "content", "--out", "out", "--per-recipient", "--leave-out-rejects", "--jobs", "1")
    assert sorted(p.name for p in (out / "letters").iterdir()) == ["fi", "sv"]
    assert not old_folder.exists()
    ok("build", "content", "--out", "out")
    assert not old.exists()
    assert fresh.exists(), "a young temporary may be a command still running"
    ok("send", "content", "--out", "out", "--no-limit")
    assert all(p.suffix == ".eml" for p in (out / "outbox").iterdir())


def test_a_full_disk_no_library_code_expected_is_said_so_too() -> None:
    """The CLI's last line of defence for an OSError says the disk is full, too."""

    @click.command()
    @reports_errors
    def failing() -> None:
        raise OSError(errno.ENOSPC, os.strerror(errno.ENOSPC), "out/x/journal.sqlite")

    result = CliRunner().invoke(failing, [])
    assert result.exit_code == 1
    assert result.output == (
        "Error: out/x/journal.sqlite: the disk is full (no space left on device) "
        "(free some space)\n"
    )


# -- the output set itself -----------------------------------------------------------------


def test_a_commit_that_fails_half_way_puts_everything_back(tmp_path: Path) -> None:
    """A rename that fails after others were done: the done ones are undone."""
    folder = tmp_path / "out"
    (folder / "letters" / "fi").mkdir(parents=True)
    (folder / "letters" / "fi" / "old.pdf").write_bytes(b"old letter")
    (folder / "a.pdf").write_bytes(b"old a")
    (folder / "b.pdf").mkdir()  # a folder where the set puts a file: the rename fails
    (folder / "b.pdf" / "x").write_bytes(b"")
    (folder / "stale.pdf").write_bytes(b"stale")
    before = snapshot(folder)

    with pytest.raises(OutputError) as raised, OutputSet(folder) as outputs:
        outputs.write_bytes(folder / "a.pdf", b"new a")
        outputs.stage_folder(folder / "letters" / "fi").write_file("new.pdf", b"new letter")
        outputs.remove(folder / "stale.pdf")
        outputs.write_bytes(folder / "b.pdf", b"new b", last=True)

    assert str(raised.value).startswith(f"cannot write {folder / 'b.pdf'}: ")
    assert str(raised.value).endswith(f"; nothing was changed in {folder}")
    assert changes(before, snapshot(folder)) == []


def test_an_output_set_creates_only_what_it_keeps(tmp_path: Path) -> None:
    """Folders made for a set that fails are removed again; a private set makes them 0700."""
    folder = tmp_path / "a" / "b"
    with pytest.raises(KeyboardInterrupt), OutputSet(folder, private=True) as outputs:
        outputs.write_text(folder / "c" / "x.csv", "x\n")
        raise KeyboardInterrupt
    assert list(tmp_path.iterdir()) == []

    with OutputSet(folder, private=True) as outputs:
        with outputs.open_text(folder / "c" / "x.csv") as handle:
            handle.write("a,b\r\n")
        outputs.write_bytes(folder / "y.bin", b"\0" * 10)
    assert (folder / "c" / "x.csv").read_bytes() == b"a,b\r\n"
    assert stat.S_IMODE((tmp_path / "a").stat().st_mode) != 0o700  # above the set's folder
    for path in (folder, folder / "c"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o700, path
    for path in (folder / "c" / "x.csv", folder / "y.bin"):
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert sorted(p.name for p in folder.rglob("*")) == ["c", "x.csv", "y.bin"]


def test_streamed_output_that_fails_names_its_target(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    target = tmp_path / "print.pdf"
    target.write_bytes(b"old")
    monkeypatch.setattr(fsutil, "write_to_disk", FillingDisk(3 << 20))

    def writes() -> None:
        with OutputSet(tmp_path) as outputs, outputs.open(target) as handle:
            for _ in range(10):
                handle.write(b"x" * (1 << 19))

    with pytest.raises(OutputError, match=r"cannot write .*print\.pdf: the disk is full"):
        writes()
    assert sorted(p.name for p in tmp_path.iterdir()) == ["print.pdf"]
    assert target.read_bytes() == b"old"
