"""``dhpc status``: the campaign's matrix, country × language."""

from __future__ import annotations

from pathlib import Path

import click

from dhpc_gen.commands.options import content_dir_argument, out_option, reports_errors
from dhpc_gen.errors import UsageError, display_path


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(status)


@click.command()
@content_dir_argument
@out_option
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html"]),
    default="text",
    show_default=True,
    help="text for people; json (stable, sorted) for CI; html for a page to share.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write the matrix to this file instead of printing it.",
)
@reports_errors
def status(directory: Path, out: Path, fmt: str, output: Path | None) -> None:
    """Show where the DHPC in DIR stands, for each country and language.

    Each cell: translated (no untranslated field), checks (errors, warnings, notes of
    dhpc check), reviewed (a sign-off, once recorded), built (the letter in OUT is what
    the current inputs make, told from the manifests without rendering), mailed
    (recipients in the language on the country's mailing list) and sent (the send
    journal, per state). Writes nothing but -o.
    """
    from dhpc_gen.content.campaign import load_campaign
    from dhpc_gen.fsutil import OutputSet
    from dhpc_gen.review.campaign import campaign_termbase, check_campaign
    from dhpc_gen.status import campaign_status, status_html, status_text

    if output is not None and fmt == "text" and output.suffix.lower() in (".json", ".html"):
        raise UsageError(f"-o {output}: name the format too (--format {output.suffix[1:]})")
    campaign = load_campaign(directory)
    findings = check_campaign(campaign, termbase=campaign_termbase(campaign))
    matrix = campaign_status(campaign, out, findings)
    text = {"text": status_text, "json": lambda m: m.as_json(), "html": status_html}[fmt](matrix)
    if output is None:
        click.echo(text, nl=False)
        return
    with OutputSet(output.parent) as outputs:
        outputs.write_text(output, text)
    click.echo(display_path(output))
