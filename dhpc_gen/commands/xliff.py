"""``dhpc xliff export`` and ``dhpc xliff import``: XLIFF 1.2 to and from translation vendors."""

from __future__ import annotations

from pathlib import Path

import click

from dhpc_gen.commands.options import content_dir_argument, reports_errors
from dhpc_gen.errors import display_path


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(xliff)


@click.group()
def xliff() -> None:
    """Exchange translations with vendors as XLIFF 1.2 files."""


@xliff.command("export")
@content_dir_argument
@click.option(
    "--target",
    metavar="L",
    help="Language to translate into (default: the only language besides the source).",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    required=True,
    help="The XLIFF file to write.",
)
@reports_errors
def export_command(directory: Path, target: str | None, output: Path) -> None:
    """Write one trans-unit per text field of the DHPC in DIR, for a vendor to translate."""
    from dhpc_gen.exchange.xliff import export_xliff

    result = export_xliff(directory, output, target=target)
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    click.echo(
        f"{display_path(result.path)}: {result.units} units into {result.language}, "
        f"{result.translated} with the current translation, "
        f"{result.units - result.translated} new"
    )


@xliff.command("import")
@content_dir_argument
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE")
@click.option(
    "--target",
    metavar="L",
    help="Refuse the file unless it is for this language.",
)
@click.option(
    "--allow-changed-source",
    is_flag=True,
    help="Import units whose source text is no longer the source file's.",
)
@click.option(
    "--skip-language-check",
    is_flag=True,
    help="Import translations even when they read as another language than the file names.",
)
@click.option("--dry-run", is_flag=True, help="Show what would change; write nothing.")
@reports_errors
def import_command(
    directory: Path,
    file: Path,
    target: str | None,
    allow_changed_source: bool,
    skip_language_check: bool,
    dry_run: bool,
) -> None:
    """Write the translations of the vendor's XLIFF FILE into the language file in DIR."""
    from dhpc_gen.exchange.xliff import import_xliff

    result = import_xliff(
        directory,
        file,
        target=target,
        allow_changed_source=allow_changed_source,
        check_language=not skip_language_check,
        dry_run=dry_run,
    )
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if result.whitespace_only:
        click.echo(
            f"Kept {len(result.whitespace_only)} value(s) that differ only in spacing: "
            + ", ".join(result.whitespace_only),
            err=True,
        )
    if result.not_in_xliff:
        click.echo(
            f"{len(result.not_in_xliff)} field(s) have no unit in {display_path(file)} and "
            "were left as they are: " + ", ".join(result.not_in_xliff),
            err=True,
        )
    if result.extra_in_target:
        click.echo(
            f"{display_path(result.path)} has field(s) the source has not: "
            + ", ".join(result.extra_in_target)
            + " (remove them; dhpc check reports them)",
            err=True,
        )
    for path in result.changed:
        click.echo(f"  changed {path}")
    for path in result.added:
        click.echo(f"  added   {path}")
    verb = "would change" if dry_run else ("updated" if result.written else "unchanged")
    click.echo(
        f"{display_path(result.path)} {verb}: {len(result.changed)} changed, "
        f"{len(result.added)} added, {result.unchanged} unchanged"
    )
