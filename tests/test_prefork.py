"""``dhpc build`` lays its letters out in the process it forks as it starts."""

from __future__ import annotations

import logging
import os
import re
import signal
from collections.abc import Callable
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import dhpc_gen.build
import dhpc_gen.campaign_build
import dhpc_gen.render.prefork
from dhpc_gen.cli import main


def _children() -> list[int]:
    """This process's child processes, zombies included."""
    found = []
    for status in Path("/proc").glob("[0-9]*/status"):
        try:
            text = status.read_text(encoding="utf-8")
        except OSError:
            continue
        if re.search(rf"^PPid:\s+{os.getpid()}$", text, re.MULTILINE):
            found.append(int(status.parent.name))
    return found


def _build(example_dir: Path, out: Path, *options: str) -> Any:
    return CliRunner().invoke(main, ["build", str(example_dir), "--out", str(out), *options])


def test_letters_are_laid_out_by_the_layout_process_and_it_ends(
    example_dir: Path, tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG, logger="dhpc_gen.campaign_build")
    result = _build(example_dir, tmp_path / "forked")
    assert result.exit_code == 0, result.output
    workers = {
        record.letter_timing.worker for record in caplog.records if hasattr(record, "letter_timing")
    }
    assert len(workers) == 2 and os.getpid() not in workers
    assert _children() == []
    serial = _build(example_dir, tmp_path / "serial", "--jobs", "1")
    assert serial.exit_code == 0, serial.output
    for pdf in (tmp_path / "serial" / "lemtrada-2019").iterdir():
        assert (tmp_path / "forked" / "lemtrada-2019" / pdf.name).read_bytes() == pdf.read_bytes()


def _with_html(monkeypatch: pytest.MonkeyPatch, change: Callable[[str, str], str]) -> None:
    render_html = dhpc_gen.build.render_html

    def changed(dhpc: Any, language: str, **options: Any) -> str:
        return change(render_html(dhpc, language, **options), language)

    monkeypatch.setattr(dhpc_gen.build, "render_html", changed)


def test_a_refused_url_reads_as_without_the_layout_process(
    example_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    _with_html(
        monkeypatch,
        lambda html, language: (
            html.replace("</body>", '<img src="file:///etc/hostname"></body>')
            if language == "fi"
            else html
        ),
    )
    forked = _build(example_dir, tmp_path / "forked")
    serial = _build(example_dir, tmp_path / "serial", "--jobs", "1")
    assert "the fi letter: refused to load 'file:///etc/hostname'" in forked.output
    assert forked.exit_code == serial.exit_code != 0
    assert forked.output.splitlines()[-1] == serial.output.splitlines()[-1]
    assert not (tmp_path / "forked").exists()
    assert _children() == []


def test_a_layout_that_dies_stops_the_build_naming_its_letter(
    example_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    lay_out = dhpc_gen.render.prefork._lay_out

    def dies_on_finnish(request: Any, writer: Any) -> None:
        if request.layout.language == "fi":
            os.kill(os.getpid(), signal.SIGKILL)
        lay_out(request, writer)

    monkeypatch.setattr(dhpc_gen.render.prefork, "_lay_out", dies_on_finnish)
    result = _build(example_dir, tmp_path / "out")
    assert result.exit_code != 0
    assert "the fi letter: the process rendering it stopped (exit code -9)" in result.output
    assert "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    assert _children() == []


def test_ctrl_c_while_writing_leaves_nothing_written_and_no_process(
    example_dir: Path, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    def interrupted(*args: Any, **kwargs: Any) -> Any:
        raise KeyboardInterrupt

    monkeypatch.setattr(dhpc_gen.campaign_build, "write_letters", interrupted)
    result = _build(example_dir, tmp_path / "out")
    assert result.exit_code == 1
    assert "Aborted!" in result.output  # click's word for Ctrl-C
    assert not (tmp_path / "out").exists()
    assert _children() == []


def test_bad_content_stops_the_layout_process_too(example_dir: Path, tmp_path: Path) -> None:
    (example_dir / "dhpc.yaml").write_text("id: [\n", encoding="utf-8")
    result = _build(example_dir, tmp_path / "out")
    assert result.exit_code == 1
    assert "dhpc.yaml" in result.output and "Traceback" not in result.output
    assert not (tmp_path / "out").exists()
    assert _children() == []


def test_a_layout_process_stopped_while_importing_says_nothing(tmp_path: Path) -> None:
    # A build that fails at once stops its layout process while WeasyPrint is still
    # being imported: the terminal they share must show the build's message only.
    import subprocess
    import sys

    script = tmp_path / "stop_early.py"
    script.write_text(
        "import time\n"
        "from dhpc_gen.render.prefork import layout_server\n"
        "for i in range(40):\n"
        "    with layout_server(2):\n"
        "        time.sleep(0.002 * i)\n",
        encoding="utf-8",
    )
    done = subprocess.run(
        [sys.executable, str(script)], capture_output=True, text=True, timeout=120
    )
    assert done.returncode == 0
    assert done.stderr == ""
