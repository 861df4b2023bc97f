"""Messages name files the way the user gave them, whichever command prints them.

Every command run here is given relative paths from a working directory; no message
may show the absolute path of that directory instead.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dhpc_gen.cli import main
from tests.conftest import EXAMPLE

ID = "lemtrada-2019"


@pytest.fixture
def project(tmp_path: Path) -> Iterator[Path]:
    """A working directory with the example in ``content/``."""
    shutil.copytree(EXAMPLE, tmp_path / "content")
    cwd = Path.cwd()
    os.chdir(tmp_path)
    try:
        yield tmp_path
    finally:
        os.chdir(cwd)


def failing(project: Path, *args: str) -> str:
    result: Result = CliRunner().invoke(main, list(args))
    assert result.exit_code == 1, (args, result.output)
    assert "Traceback" not in result.output
    for absolute in {str(project), str(project.resolve())}:
        assert absolute not in result.output, result.output
    return result.output


def test_report_names_the_output_folder_as_given(project: Path) -> None:
    output = failing(project, "report", "content", "--out", "out")
    assert f"Error: out/{ID}: nothing distributed yet" in output
    output = failing(project, "report", "content", "--out", "out", "--mailing", "nowhere")
    assert "Error: nowhere: no mailing list there" in output


def test_send_names_the_letters_and_the_way_out_as_given(project: Path) -> None:
    runner = CliRunner()
    assert runner.invoke(main, ["mailing-list", "content", "--out", "out"]).exit_code == 0
    output = failing(project, "send", "content", "--out", "out")
    assert f"out/{ID}/lemtrada-2019_fi.pdf is missing" in output
    assert "run: dhpc build content --out out" in output

    assert runner.invoke(main, ["build", "content", "--out", "out"]).exit_code == 0
    with (project / "out" / ID / f"{ID}_fi.pdf").open("ab") as pdf:
        pdf.write(b"\n")
    output = failing(project, "send", "content", "--out", "out")
    assert f"Error: out/{ID}/{ID}_fi.pdf has changed since it was built" in output
    # An absolute --out below the working directory is shown relative, as elsewhere.
    output = failing(project, "send", "content", "--out", str(project / "out"))
    assert f"Error: out/{ID}/{ID}_fi.pdf has changed since it was built" in output

    recipients = project / "out" / ID / "mailing" / "recipients.csv"
    lines = recipients.read_text(encoding="utf-8").splitlines(keepends=True)
    recipients.write_text("".join([*lines, lines[1]]), encoding="utf-8")
    output = failing(project, "send", "content", "--out", "out")
    assert f"Error: out/{ID}/mailing/recipients.csv:{len(lines) + 1}: recipient_id" in output


def test_an_output_that_cannot_be_written_is_named_as_given(project: Path) -> None:
    (project / "out").mkdir()
    (project / "out" / ID).write_text("a file where the output folder should be\n")
    output = failing(project, "build", "content", "--lang", "fi", "--out", "out")
    assert f"Error: cannot write out/{ID}/{ID}_fi.pdf: Not a directory" in output
    assert f"nothing was changed in out/{ID}" in output
