"""The ``dhpc`` command: parse options, call the library, turn errors into exit codes."""

from __future__ import annotations

import functools
import logging
import sys
from collections.abc import Callable
from pathlib import Path
from typing import Any, TypeVar

import click

from dhpc_gen import __version__
from dhpc_gen.errors import DhpcError, display_path, terminal_text

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
        except OSError as exc:
            # A file the library did not expect to fail (a full disk, a folder that is
            # a file, no permission): a message naming the file, never a traceback.
            where = display_path(Path(exc.filename)) if isinstance(exc.filename, str) else "a file"
            reason = exc.strerror or str(exc)
            click.echo(
                terminal_text(
                    f"Error: {where}: {reason} (check the path, its permissions and free space)"
                ),
                err=True,
            )
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


def mailing_option(
    help: str = "The mailing list: a recipients.csv or its folder. [default: OUT/<id>/mailing]",
) -> Callable[[F], F]:
    """``--mailing``: where ``dhpc mailing-list`` wrote its output."""

    def decorate(func: F) -> F:
        return click.option("--mailing", type=click.Path(path_type=Path), help=help)(func)

    return decorate


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dhpc")
@click.option("-v", "--verbose", is_flag=True, help="Show progress messages.")
def main(verbose: bool) -> None:
    """Direct Healthcare Professional Communications: build, check and send DHPCs."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # WeasyPrint reports layout details as warnings; only ours matter on the terminal.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)


@main.command()
@content_dir_argument
@click.option(
    "--lang", "languages", multiple=True, metavar="L", help="Build only this language (repeatable)."
)
@out_option
@click.option(
    "--html", is_flag=True, help="Also write the HTML of each letter, for a look in a browser."
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 and name the files in --out that the current inputs would change.",
)
@click.option(
    "--mailing",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="A mailing-list folder: the address-source line names only the sources it used.",
)
@reports_errors
def build(
    directory: Path,
    languages: tuple[str, ...],
    out: Path,
    html: bool,
    check: bool,
    mailing: Path | None,
) -> None:
    """Build one PDF per language of the DHPC in DIR, and a manifest of hashes."""
    from dhpc_gen.addresses.mailing import sources_used
    from dhpc_gen.build import build as build_letters
    from dhpc_gen.build import check_outputs
    from dhpc_gen.content import load_dhpc

    dhpc = load_dhpc(directory)
    sources = sources_used(mailing) if mailing is not None else None
    if check:
        stale = check_outputs(dhpc, out, languages=languages, address_sources=sources)
        if stale:
            click.echo("Outputs are not what the current inputs produce:", err=True)
            for line in stale:
                click.echo(f"  {line}", err=True)
            click.echo(f"Run: dhpc build {directory} --out {out}", err=True)
            sys.exit(1)
        click.echo(f"{dhpc.id}: outputs in {out} are up to date.")
        return
    result = build_letters(
        dhpc,
        out,
        languages=languages,
        html=html,
        address_sources=sources,
        progress=lambda lang: click.echo(f"  {lang} …", err=True),
    )
    for letter in result.letters:
        click.echo(f"{display_path(result.out_dir / letter.filename)}")
    click.echo(f"{display_path(result.out_dir / 'manifest.json')}")


@main.command()
@click.argument("country", required=False)
@click.option("--lang", "language", metavar="L", help="Only this language.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@reports_errors
def regulators(country: str | None, language: str | None, fmt: str) -> None:
    """List the reporting contact block of every EEA country, or of COUNTRY, per language."""
    import json

    from dhpc_gen.regulators import registry

    entries = registry.all_regulators()
    if country:
        code = country.upper()
        registry.languages(code)  # raises with the list of known countries
        entries = [e for e in entries if e.country == code]
    if language:
        entries = [e for e in entries if e.language == language]
        if not entries:
            raise DhpcError(
                f"no reporting block in language {language!r}"
                + (f" for {country}" if country else "")
            )
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "country": e.country,
                        "country_name": e.country_name,
                        "language": e.language,
                        "authority": e.authority,
                        "short_name": e.short_name,
                        "call_for_reporting": e.call_for_reporting,
                        "contact_lines": list(e.contact_lines),
                    }
                    for e in entries
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for index, entry in enumerate(entries):
        if index:
            click.echo()
        click.secho(
            f"{entry.country} {entry.country_name} — {entry.language}: {entry.authority}", bold=True
        )
        click.echo(entry.call_for_reporting)
        for line in entry.contact_lines:
            click.echo(f"  {line}")


def _register_features() -> None:
    from dhpc_gen.commands import mailing, merge, review, send, xliff

    for feature in (review, xliff, mailing, merge, send):
        feature.register(main)


_register_features()
