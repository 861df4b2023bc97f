"""``dhpc merge``: personalised letters and print files from a mailing list."""

from __future__ import annotations

import sys
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dhpc_gen.commands.options import (
    content_dir_argument,
    country_option,
    mailing_option,
    out_option,
    reports_errors,
    require_signoff_option,
)
from dhpc_gen.errors import UsageError, display_path

if TYPE_CHECKING:
    from click._termui_impl import ProgressBar

    from dhpc_gen.content.model import Dhpc


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(merge_command)


@click.command("merge")
@content_dir_argument
@mailing_option()
@click.option(
    "--per-recipient",
    is_flag=True,
    help="Also write one PDF per recipient to OUT/<id>/letters/<lang>/ (for e-mail).",
)
@out_option
@click.option(
    "--window",
    default="din5008-b",
    show_default=True,
    metavar="NAME|L,T,W,H",
    help="Envelope window: din5008-b, din5008-a, or LEFT,TOP,WIDTH,HEIGHT in mm.",
)
@click.option(
    "--leave-out-rejects",
    is_flag=True,
    help="Write the letters of everyone else when some addresses cannot be printed.",
)
@click.option(
    "--jobs",
    type=click.IntRange(min=1),
    help="Processes to use. [default: the number of CPUs]",
)
@click.option(
    "--only",
    metavar="WHAT[,WHAT]",
    help="Print only the recipients e-mail did not reach, by what the send journal says: "
    "bounced, deferred, failed, unknown, not-sent, no-email (e.g. --only bounced,no-email).",
)
@require_signoff_option(
    "Write nothing unless the current text of every language is approved (dhpc signoff)."
)
@country_option
@reports_errors
def merge_command(
    directory: Path,
    mailing: Path | None,
    per_recipient: bool,
    out: Path,
    window: str,
    leave_out_rejects: bool,
    jobs: int | None,
    only: str | None,
    require_signoff: bool,
    country: str | None,
) -> None:
    """Write print files (and per-recipient letters) of the DHPC in DIR for a mailing list.

    Each language's letters go into OUT/<id>/print/<id>_<lang>_print.pdf, sorted by
    postal code, with the address in the envelope window; print-manifest.csv lists every
    letter's pages. An address that does not fit the window stops the run and is listed
    in print/rejects.csv. A country whose envelopes must carry a text (Denmark) has it
    in the window above the address. A campaign merges one country (--country), in
    OUT/<id>/<CC>/.
    """
    from dhpc_gen.content.campaign import load_campaign
    from dhpc_gen.distribution.merge import merge
    from dhpc_gen.distribution.window import window_layout

    layout = window_layout(window)
    kinds = _only_kinds(only, per_recipient)
    dhpc = load_campaign(directory).only(country, "merge")
    source = mailing if mailing is not None else dhpc.output_dir(out) / "mailing"
    selected = _postal_selection(dhpc, out, source, kinds) if kinds else None
    with _ProgressBar() as bar:
        result = merge(
            dhpc,
            source,
            out,
            per_recipient=per_recipient,
            window=layout,
            jobs=jobs,
            leave_out_rejects=leave_out_rejects,
            progress=bar.update,
            only=selected,
            require_signoff=require_signoff,
        )
    for language in result.languages:
        parts = [f"{language.letters} letters, {language.pages} pages"]
        if per_recipient:
            parts.append(f"{language.letter_files} letter files")
        if language.without_postal_address:
            parts.append(f"{language.without_postal_address} without a postal address")
        click.echo(f"{language.language}: {', '.join(parts)}")
        if language.print_file is not None:
            click.echo(f"  {display_path(language.print_file)}")
        if language.envelope is not None:
            click.echo(
                f"  envelope text, in the window above each address: {language.envelope.text}"
            )
    if per_recipient:
        click.echo(f"{display_path(result.out_dir / 'letters')}/")
    if result.smaller_type:
        click.echo(
            f"{result.smaller_type} address(es) set in smaller type (capitals at least 2.3 mm "
            "high, as the post reads them) so that their longest line fits the window"
        )
    if result.letters_removed:
        click.echo(
            f"{display_path(result.out_dir / 'letters')}/ of an earlier merge --per-recipient "
            "removed: e-mail now attaches each language's letter (merge with --per-recipient "
            "to attach personalised ones)"
        )
    if result.left_out:
        click.echo(f"{result.left_out} recipient(s) not selected by --only: no letter printed")
    click.echo(display_path(result.manifest))
    if result.rejected:
        click.echo(
            f"{result.rejected} recipient{'' if result.rejected == 1 else 's'} left out, "
            f"the address cannot be printed: "
            f"{display_path(result.rejects)}",
            err=True,
        )


def _only_kinds(only: str | None, per_recipient: bool) -> tuple[str, ...]:
    from dhpc_gen.distribution.fallback import parse_only

    if only is None:
        return ()
    if per_recipient:
        raise UsageError(
            "--only prints the postal fallback; it cannot be used with --per-recipient (the "
            "letters e-mail attaches are everyone's: merge them without --only)"
        )
    return parse_only(only)


def _postal_selection(
    dhpc: Dhpc, out: Path, source: Path, kinds: tuple[str, ...]
) -> frozenset[str]:
    """Who ``--only`` selects; says how many and how fresh the bounce information is."""
    from dhpc_gen.distribution.fallback import select_for_post

    out_dir = dhpc.output_dir(out)
    selection = select_for_post(dhpc, out_dir, source, kinds)
    counts = ", ".join(f"{kind} {count}" for kind, count in selection.counts.items())
    click.echo(
        f"--only {','.join(kinds)}: {len(selection.recipient_ids)} of {selection.read} "
        f"recipient(s) ({counts})"
    )
    if "bounced" in kinds or "deferred" in kinds:
        when = selection.bounces_read_at
        click.echo(
            f"  bounce mailbox last read {when}"
            if when
            else "  the bounce mailbox was never read: run dhpc bounces first, or bounced "
            "recipients are printed only once it is"
        )
    return selection.recipient_ids


class _ProgressBar:
    """A progress bar on stderr, started once the number of letters is known."""

    def __init__(self) -> None:
        self._bar: ProgressBar[int] | None = None
        self._shown = 0

    def __enter__(self) -> _ProgressBar:
        return self

    def __exit__(self, *exc: object) -> None:
        if self._bar is not None:
            self._bar.render_finish()

    def update(self, done: int, total: int) -> None:
        if not sys.stderr.isatty():
            return  # a log or a pipe gets the counts at the end, not a bar
        if self._bar is None:
            self._bar = click.progressbar(length=total, label="Letters", file=sys.stderr)
        self._bar.update(done - self._shown)
        self._shown = done
