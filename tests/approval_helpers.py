"""A content folder in a git repository of its own, and the ``dhpc`` command on it."""

from __future__ import annotations

import shutil
import subprocess
from pathlib import Path

from click.testing import CliRunner

from dhpc_gen.cli import main
from dhpc_gen.resources import PROJECT_DIR

EXAMPLE = PROJECT_DIR / "content" / "lemtrada-2019"
FI_SENTENCE = "nämä tilat ilmenivät 1-3 päivän kuluessa"
FI_EDITED = "nämä tilat ilmenivät 1-4 päivän kuluessa"


def git(repo: Path, *args: str) -> str:
    """Run git in ``repo`` with a fixed author, whatever the machine's configuration."""
    command = [
        "git",
        "-c",
        "user.name=Test Author",
        "-c",
        "user.email=author@example.com",
        "-c",
        "commit.gpgsign=false",
        *args,
    ]
    return subprocess.run(command, cwd=repo, check=True, capture_output=True, text=True).stdout


def content_repository(root: Path) -> Path:
    """A git repository holding a copy of the example, committed once; its content folder."""
    repo = root / "repo"
    content = repo / "content" / EXAMPLE.name
    shutil.copytree(EXAMPLE, content)
    git(repo, "init", "-q", "-b", "main")
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", "first version")
    return content


def commit_all(content: Path, message: str) -> None:
    repo = Path(git(content, "rev-parse", "--show-toplevel").strip())
    git(repo, "add", "-A")
    git(repo, "commit", "-q", "-m", message)


def edit_fi_sentence(content: Path) -> None:
    path = content / "fi.yaml"
    text = path.read_text(encoding="utf-8")
    assert FI_SENTENCE in text
    path.write_text(text.replace(FI_SENTENCE, FI_EDITED), encoding="utf-8")


def dhpc(
    *args: str | Path, env: dict[str, str] | None = None, input: str | None = None
) -> tuple[int, str, str]:
    """(exit code, stdout, stderr) of ``dhpc ARGS``; a traceback fails the test."""
    result = CliRunner().invoke(main, [str(a) for a in args], env=env, input=input)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise result.exception
    assert "Traceback" not in result.stderr
    return result.exit_code, result.stdout, result.stderr


def approve(content: Path, *languages: str, name: str = "Anna Berg") -> None:
    args: list[str | Path] = ["signoff", content, "--name", name, "--role", "Medical reviewer"]
    for language in languages:
        args += ["--lang", language]
    code, _out, err = dhpc(*args)
    assert code == 0, err
