"""``dhpc export-docx`` and ``dhpc import-docx``: Word documents in and out of the content."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dhpc_gen.commands.options import content_dir_argument, reports_errors
from dhpc_gen.errors import display_path

if TYPE_CHECKING:
    from dhpc_gen.exchange.docx_import import DocxImportResult


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(export_docx)
    group.add_command(import_docx)


@click.command("export-docx")
@content_dir_argument
@click.option(
    "--lang",
    "language",
    metavar="L",
    help="The language to export [default: the source language].",
)
@click.option(
    "--country",
    metavar="CC",
    help="A campaign: this country's national letter [default: the language's shared text].",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="The Word file to write [default: output/<id>/<id>_<lang>.docx; a country's: "
    "output/<id>/<CC>/<id>_<CC>_<lang>.docx].",
)
@reports_errors
def export_docx(
    directory: Path, language: str | None, country: str | None, output: Path | None
) -> None:
    """Write one language of the DHPC in DIR as an editable Word document.

    A campaign: with --country, that country's letter as it is printed (its
    placeholders filled, its deviations applied); without, the language's shared text
    as written, framed by the facts of the first country that sends in it.
    """
    from dhpc_gen.exchange.docx_write import export_docx as export

    result = export(directory, output, language=language, country=country)
    click.echo(
        f"{display_path(result.path)}: {result.language}, {result.text}, {result.paragraphs} "
        f"paragraphs, content SHA-256 {result.content_sha256[:12]}…"
    )


@click.command("import-docx")
@click.argument("file", type=click.Path(path_type=Path, dir_okay=False), metavar="FILE.docx")
@content_dir_argument
@click.option(
    "--lang",
    "language",
    metavar="L",
    help="The language the document is in [default: told by its headings].",
)
@click.option(
    "--changes",
    type=click.Choice(["accept", "refuse"]),
    default="accept",
    show_default=True,
    help="Tracked changes: write the text as it reads with them accepted, or refuse (exit 1) "
    "until they are resolved in Word.",
)
@click.option(
    "--country",
    metavar="CC",
    help="A campaign: the country whose letter the document is [default: the one its "
    "properties or its reporting block name].",
)
@click.option("--dry-run", is_flag=True, help="Show what would be written; write nothing.")
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json for tools.",
)
@reports_errors
def import_docx(
    file: Path,
    directory: Path,
    language: str | None,
    changes: str,
    country: str | None,
    dry_run: bool,
    fmt: str,
) -> None:
    """Read the DHPC in the Word document FILE into the content folder DIR.

    A new folder gets dhpc.yaml and <lang>.yaml; in an existing one only <lang>.yaml is
    edited, field by field, keeping its comments. Tracked changes and comments are listed
    with the field they belong to; facts that differ from dhpc.yaml are reported. A
    campaign: the shared <lang>.yaml is written (each placeholder's national wording put
    back as {name}); the country's facts and deviations are compared, never written.
    """
    import json

    from dhpc_gen.exchange.docx_import import import_docx as run_import

    result = run_import(
        file,
        directory,
        language=language,
        changes="refuse" if changes == "refuse" else "accept",
        dry_run=dry_run,
        country=country,
    )
    if fmt == "json":
        click.echo(json.dumps(result.as_json(), ensure_ascii=False, indent=2, sort_keys=True))
    else:
        _show(result)
    if result.refused:
        click.echo(
            f"Error: {result.document} has {len(result.changes)} tracked change(s); nothing was "
            "written. Accept or reject them in Word, or import with --changes accept",
            err=True,
        )
        sys.exit(1)


def _show(result: DocxImportResult) -> None:
    detected = "from its headings" if result.language_from == "headings" else "as given"
    click.echo(
        f"{result.document}: {result.language} ({detected}), country {result.country}"
        + (f", {result.campaign_text}" if result.campaign_text else "")
    )
    for warning in result.warnings:
        click.echo(f"Warning: {warning}", err=True)
    if result.changes:
        verb = "refused" if result.refused else "accepted"
        click.echo(f"Tracked changes ({len(result.changes)}, {verb}):")
        for change in result.changes:
            by = ", ".join(x for x in (change.author, change.date[:10]) if x)
            text = f" {_quote(change.text)}" if change.text else ""
            click.echo(f"  {change.field}: {change.kind}{text}" + (f" ({by})" if by else ""))
    if result.comments:
        click.echo(f"Comments ({len(result.comments)}):")
        for comment in result.comments:
            by = ", ".join(x for x in (comment.author, comment.date[:10]) if x)
            on = ", ".join(comment.fields)
            anchor = f" on {_quote(comment.anchor)}" if comment.anchor else ""
            reply = f" (reply to comment {comment.reply_to})" if comment.reply_to else ""
            click.echo(f"  {on}{anchor} — {by}{reply}: {_quote(comment.text, 400)}")
    meta = [f for f in result.findings if f.kind in ("meta", "deviation")]
    others = [f for f in result.findings if f.kind not in ("meta", "deviation")]
    if meta:
        click.echo(f"Differences from {display_path(result.meta_path)} ({len(meta)}):")
        for finding in meta:
            click.echo(f"  {finding}")
    if others:
        click.echo(f"Findings ({len(others)}):")
        for finding in others:
            click.echo(f"  {finding}")
    added = () if result.created else result.added
    if result.changed or added or result.removed:
        # A heading of their own: listed after the comments or differences, the field
        # changes would otherwise read as more of those.
        count = len(result.changed) + len(added) + len(result.removed)
        click.echo(f"Fields of {display_path(result.path)} ({count}):")
    for path in result.changed:
        click.echo(f"  changed {path}")
    for path in added:
        click.echo(f"  added   {path}")
    for path in result.removed:
        click.echo(f"  removed {path}")
    if result.meta_created:
        verb = "would be created" if result.dry_run or result.refused else "created"
        click.echo(f"{display_path(result.meta_path)} {verb}")
    if result.refused:
        verb = "not written"
    elif result.dry_run:
        verb = "would be created" if result.created else "would change"
    elif result.written:
        verb = "created" if result.created else "updated"
    else:
        verb = "unchanged"
    click.echo(
        f"{display_path(result.path)} {verb}: {len(result.changed)} changed, "
        f"{len(result.added)} added, {len(result.removed)} removed, {result.unchanged} unchanged"
    )


def _quote(text: str, limit: int = 120) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")
