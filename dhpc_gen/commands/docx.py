"""``dhpc export-docx`` and ``dhpc import-docx``: Word documents in and out of the content."""

from __future__ import annotations

from pathlib import Path

import click

from dhpc_gen.commands.options import content_dir_argument, reports_errors
from dhpc_gen.errors import display_path


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(export_docx)


@click.command("export-docx")
@content_dir_argument
@click.option(
    "--lang",
    "language",
    metavar="L",
    help="The language to export [default: the source language].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The Word file to write [default: output/<id>/<id>_<lang>.docx].",
)
@reports_errors
def export_docx(directory: Path, language: str | None, output: Path | None) -> None:
    """Write one language of the DHPC in DIR as an editable Word document."""
    from dhpc_gen.exchange.docx_write import export_docx as export

    result = export(directory, output, language=language)
    click.echo(
        f"{display_path(result.path)}: {result.language}, {result.paragraphs} paragraphs, "
        f"content SHA-256 {result.content_sha256[:12]}…"
    )
