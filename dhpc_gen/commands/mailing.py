"""``dhpc mailing-list``: one deduplicated mailing list from the address sources."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import Any

import click

from dhpc_gen.commands.options import (
    content_dir_argument,
    country_option,
    out_option,
    reports_errors,
)
from dhpc_gen.errors import UsageError, display_path

_STAGES = {"read": "Reading sources", "match": "Matching duplicates"}


class _ProgressBars:
    """One click progress bar per stage of the library's progress callback."""

    def __init__(self) -> None:
        self.stage: str | None = None
        self.bar: Any = None
        self.done = 0
        # Bars only on a terminal: a log or a pipe gets the counts, not the bar's labels.
        self.interactive = sys.stderr.isatty()

    def __call__(self, stage: str, done: int, total: int) -> None:
        if not self.interactive:
            return
        if stage != self.stage:
            self.close()
            self.stage = stage
            self.done = 0
            self.bar = click.progressbar(
                length=max(total, 1),
                label=_STAGES.get(stage, stage),
                file=sys.stderr,
            )
            self.bar.__enter__()
        if done > self.done:
            self.bar.update(done - self.done)
            self.done = done

    def close(self) -> None:
        if self.bar is not None:
            self.bar.__exit__(None, None, None)
            self.bar = None


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""

    @group.command("mailing-list")
    @content_dir_argument
    @click.option(
        "--sources",
        "sources_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="The source definitions (default: DIR/sources.yaml; in a campaign "
        "DIR/sources/<CC>.yaml).",
    )
    @click.option(
        "--audience",
        multiple=True,
        metavar="VALUE",
        help="Keep only people with this profession or specialty (repeatable; "
        "profession=X or specialty=X to say which). Default: the audience in dhpc.yaml.",
    )
    @click.option("--everyone", is_flag=True, help="No audience filter: keep every usable person.")
    @click.option(
        "--suppress",
        "suppress_file",
        type=click.Path(path_type=Path, dir_okay=False),
        help="CSV of people who asked not to receive mail (default: suppression: in the "
        "sources file).",
    )
    @click.option(
        "--threshold",
        type=click.FloatRange(1, 100),
        default=90.0,
        show_default=True,
        help="Score (0-100) at which two rows count as one person; lower merges more.",
    )
    @country_option
    @out_option
    @reports_errors
    def mailing_list(
        directory: Path,
        sources_file: Path | None,
        audience: tuple[str, ...],
        everyone: bool,
        suppress_file: Path | None,
        threshold: float,
        country: str | None,
        out: Path,
    ) -> None:
        """Build one mailing list from the address sources of the DHPC in DIR.

        Writes recipients.csv, rejects.csv, duplicates.csv, provenance.csv and
        report.json to OUT/<id>/mailing/ (readable by you only). Only counts are shown.
        A campaign's list is one country's (--country): its sources are
        DIR/sources/<CC>.yaml and the list goes to OUT/<id>/<CC>/mailing/.
        """
        from dhpc_gen.addresses import (
            Audience,
            default_sources_file,
            load_sources,
            load_suppression,
            make_mailing_list,
            write_mailing_list,
        )
        from dhpc_gen.content.campaign import load_campaign

        if everyone and audience:
            raise UsageError("--everyone and --audience exclude each other")
        dhpc = load_campaign(directory).only(country, "mailing-list")
        source_set = load_sources(
            sources_file or default_sources_file(dhpc), address_sources=dhpc.meta.address_sources
        )
        suppression_path = suppress_file or source_set.suppression
        suppression = (
            load_suppression(suppression_path, dhpc.meta.country) if suppression_path else None
        )
        if everyone:
            chosen = None
        elif audience:
            chosen = Audience.parse(audience)
        else:
            chosen = Audience.from_meta(dhpc.meta.audience)
        bars = _ProgressBars()
        try:
            mailing = make_mailing_list(
                dhpc,
                source_set,
                audience=chosen,
                suppression=suppression,
                threshold=threshold,
                progress=bars,
            )
        finally:
            bars.close()
        folder = write_mailing_list(mailing, out)

        report = mailing.report
        click.echo(
            f"{dhpc.id}: {report['rows_read']} rows read from {len(report['sources'])} sources"
        )
        for source in report["sources"]:
            click.echo(
                f"  {source['name']}: {source['rows_read']} rows, {source['rejected']} rejected, "
                f"{source['recipients']} in the list"
            )
        click.echo(
            f"  rejected {report['rejected']}, outside the audience {report['filtered']}, "
            f"suppressed {report['suppressed']}, duplicates merged {report['duplicates_merged']}"
        )
        if report["possible_duplicates"]:
            click.echo(
                f"  possible duplicates {report['possible_duplicates']}: kept apart, "
                "check them in duplicates.csv"
            )
        languages = ", ".join(f"{k} {v}" for k, v in report["recipients_per_language"].items())
        click.echo(f"  recipients {report['recipients']} ({languages})")
        if not report["recipients"]:
            click.echo(
                "  No recipients: see rejects.csv and filtered_values in report.json", err=True
            )
        click.echo(display_path(folder))
