"""Options and error handling that several commands share, as decorators.

Kept apart from :mod:`dhpc_gen.cli`, which imports every command module: the commands
import from here, so nothing imports ``cli`` back.
"""

from __future__ import annotations

import functools
import os
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dhpc_gen.errors import DhpcError, display_path, is_disk_full, os_error_reason, terminal_text

F = TypeVar("F", bound=Callable[..., Any])


def reports_errors(func: F) -> F:
    """Show a :class:`DhpcError` as a message and exit with its code; no traceback."""

    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        try:
            return func(*args, **kwargs)
        except DhpcError as exc:
            click.echo(f"Error: {terminal_text(str(exc))}", err=True)
            sys.exit(exc.exit_code)
        except BrokenPipeError:
            # The reader of the output went away (``dhpc regulators | head -1``): what it
            # wanted it has; say nothing, and keep Python from complaining at exit.
            devnull = os.open(os.devnull, os.O_WRONLY)
            os.dup2(devnull, sys.stdout.fileno())
            sys.exit(1)
        except OSError as exc:
            # A file the library did not expect to fail (a full disk, a folder that is
            # a file, no permission): a message naming the file, never a traceback.
            where = display_path(Path(exc.filename)) if isinstance(exc.filename, str) else "a file"
            hint = "free some space" if is_disk_full(exc) else "check the path and its permissions"
            message = f"Error: {where}: {os_error_reason(exc)} ({hint})"
            click.echo(terminal_text(message), err=True)
            sys.exit(1)

    return wrapper  # type: ignore[return-value]


def content_dir_argument(func: F) -> F:
    return click.argument(
        "directory", type=click.Path(path_type=Path, file_okay=False), metavar="DIR"
    )(func)


def out_option(func: F) -> F:
    return click.option(
        "--out",
        type=click.Path(path_type=Path, file_okay=False),
        default=Path("output"),
        show_default=True,
        help="Folder the outputs go to (one sub-folder per DHPC).",
    )(func)


def require_signoff_option(help: str) -> Callable[[F], F]:
    """``--require-signoff``: refuse a language whose current text is not approved."""
    return click.option("--require-signoff", is_flag=True, help=help)


def mailing_option(
    help: str = "The mailing list: a recipients.csv or its folder. [default: OUT/<id>/mailing]",
) -> Callable[[F], F]:
    """``--mailing``: where ``dhpc mailing-list`` wrote its output."""

    def decorate(func: F) -> F:
        return click.option("--mailing", type=click.Path(path_type=Path), help=help)(func)

    return decorate


def country_option(func: F) -> F:
    """``--country``: the one country of a campaign a command works on."""
    return click.option(
        "--country",
        "country",
        metavar="CC",
        help="The country of a campaign to work on (ISO code, e.g. BE); needed when the "
        "DHPC has several.",
    )(func)


def jobs_option(func: F) -> F:
    return click.option(
        "--jobs",
        type=click.IntRange(min=1),
        help="Processes to use. [default: the number of CPUs]",
    )(func)
