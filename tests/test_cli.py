"""The ``dhpc`` command as a user meets it: help, exit codes, no tracebacks."""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path

import click
from click.testing import CliRunner

from dhpc_gen import __version__
from dhpc_gen.cli import main, reports_errors

PROJECT = Path(__file__).resolve().parents[1]


def all_commands(group: click.Group, prefix: tuple[str, ...] = ()) -> list[tuple[str, ...]]:
    found = []
    for name, command in group.commands.items():
        found.append((*prefix, name))
        if isinstance(command, click.Group):
            found += all_commands(command, (*prefix, name))
    return found


def test_every_command_has_help_text() -> None:
    runner = CliRunner()
    commands = all_commands(main)
    assert ("build",) in commands and ("regulators",) in commands
    for path in commands:
        command: click.Command = main
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        assert command.help and command.help.strip(), f"dhpc {' '.join(path)} has no help"
        result = runner.invoke(main, [*path, "--help"])
        assert result.exit_code == 0, (path, result.output)


def test_python_m_and_version() -> None:
    result = subprocess.run(
        [sys.executable, "-m", "dhpc_gen", "--version"], capture_output=True, text=True, check=True
    )
    assert __version__ in result.stdout


def test_bad_input_exits_1_without_traceback(tmp_path: Path) -> None:
    broken = tmp_path / "broken"
    broken.mkdir()
    (broken / "dhpc.yaml").write_text("id: [unclosed\n", encoding="utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "dhpc_gen", "build", str(broken), "--out", str(tmp_path / "out")],
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    assert "dhpc.yaml:" in result.stderr and "invalid YAML" in result.stderr
    assert "Traceback" not in result.stderr
    assert not (tmp_path / "out").exists()


def test_missing_folder_and_bad_usage() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["build", "no/such/dhpc"])
    assert result.exit_code == 1
    assert "no such content folder" in result.output
    result = runner.invoke(main, ["build"])
    assert result.exit_code == 2


def test_regulators_lists_every_country_and_finland_in_two_languages() -> None:
    runner = CliRunner()
    result = runner.invoke(main, ["regulators", "--format", "json"])
    assert result.exit_code == 0
    entries = json.loads(result.output)
    assert len({e["country"] for e in entries}) >= 29
    result = runner.invoke(main, ["regulators", "fi"])
    assert result.exit_code == 0
    assert "FI Finland — fi: Lääkealan turvallisuus- ja kehittämiskeskus Fimea" in result.output
    assert (
        "FI Finland — sv: Säkerhets- och utvecklingscentret för läkemedelsområdet Fimea"
        in result.output
    )
    assert "  PB 55" in result.output
    result = runner.invoke(main, ["regulators", "FI", "--lang", "sv", "--format", "json"])
    assert [e["language"] for e in json.loads(result.output)] == ["sv"]


def test_regulators_unknown_country() -> None:
    result = CliRunner().invoke(main, ["regulators", "XX"])
    assert result.exit_code == 1
    assert "unknown country 'XX'" in result.output
    assert "FI" in result.output


def test_output_that_cannot_be_written_is_a_message_not_a_traceback(
    example_dir: Path, tmp_path: Path
) -> None:
    """An --out or -o below a regular file: exit 1, the file named, no traceback."""
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder\n", encoding="utf-8")
    runner = CliRunner()
    calls = [
        ["build", str(example_dir), "--lang", "fi", "--out", str(blocker / "out")],
        ["review", str(example_dir), "--no-thumbnails", "-o", str(blocker / "review.html")],
        ["xliff", "export", str(example_dir), "--target", "fi", "-o", str(blocker / "fi.xlf")],
    ]
    for args in calls:
        result = runner.invoke(main, args)
        assert result.exit_code == 1, (args, result.output)
        assert not isinstance(result.exception, OSError), args
        assert "cannot write" in result.output and str(blocker) in result.output, result.output
    assert blocker.read_text(encoding="utf-8") == "not a folder\n"


def test_any_unexpected_os_error_reaching_the_cli_is_a_message() -> None:
    """The last line of defence: an OSError no library code wrapped still names its file."""

    @click.command()
    @reports_errors
    def failing() -> None:
        raise PermissionError(13, "Permission denied", "/somewhere/locked.pdf")

    result = CliRunner().invoke(failing, [])
    assert result.exit_code == 1
    assert "/somewhere/locked.pdf: Permission denied" in result.output
    assert not isinstance(result.exception, OSError)


def test_readme_shows_every_command() -> None:
    readme = (PROJECT / "README.md").read_text(encoding="utf-8")
    for path in all_commands(main):
        command = main
        for name in path:
            assert isinstance(command, click.Group)
            command = command.commands[name]
        if isinstance(command, click.Group):
            continue
        assert f"dhpc {' '.join(path)} " in readme, (
            f"README has no example of dhpc {' '.join(path)}"
        )


def test_a_reader_that_goes_away_is_no_error() -> None:
    # ``dhpc regulators | head -1``: the pipe closes before the command has written.
    proc = subprocess.Popen(
        [sys.executable, "-m", "dhpc_gen", "regulators"],
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
    )
    assert proc.stdout is not None and proc.stderr is not None
    proc.stdout.close()
    with proc.stderr:
        stderr = proc.stderr.read().decode()
    proc.wait(timeout=60)
    assert stderr == ""
    assert proc.returncode == 1


HEAVY = (
    "weasyprint", "pydantic", "openpyxl", "rapidfuzz", "starlette", "uvicorn", "pyhanko",
    "babel", "jinja2", "ruamel", "markdown_it", "fontTools", "pypdf", "lxml", "docx",
    "dhpc_gen.content", "dhpc_gen.i18n", "dhpc_gen.build",
)  # fmt: skip


def test_help_imports_nothing_a_command_would_need() -> None:
    """``dhpc --help`` and ``dhpc build --help`` stay quick: no layout engine, no models."""
    script = (
        "import sys\n"
        "from dhpc_gen.cli import main\n"
        "for argv in (['--help'], ['build', '--help'], ['check', '--help']):\n"
        "    try:\n"
        "        main(argv, prog_name='dhpc')\n"
        "    except SystemExit:\n"
        "        pass\n"
        "print('\\n'.join(sorted(sys.modules)))\n"
    )
    done = subprocess.run(
        [sys.executable, "-c", script], capture_output=True, text=True, check=True
    )
    modules = done.stdout.splitlines()
    loaded = [m for m in modules if any(m == h or m.startswith(h + ".") for h in HEAVY)]
    assert loaded == []
    assert "Usage: dhpc [OPTIONS] COMMAND" in done.stdout
