"""``dhpc send`` and ``dhpc report``: e-mail distribution and the distribution record."""

from __future__ import annotations

import dataclasses
import sys
from pathlib import Path

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


def _send_summary_lines(summary: object) -> list[str]:
    from dhpc_gen.distribution.send import SendSummary

    assert isinstance(summary, SendSummary)
    s = summary
    lines = []
    version = s.content_hash[:12]
    if s.dry_run:
        where = display_path(s.outbox) if s.outbox else "outbox"
        lines.append(
            f"Dry run: {s.written} message(s) written to {where}/ for a look; nothing was sent "
            "and the journal was not changed."
        )
    else:
        lines.append(
            f"{s.dhpc_id} (content {version}): sent {s.sent}, failed {s.failed}, "
            f"deferred {s.deferred}, unknown {s.unknown}."
        )
    skipped = [
        (s.already_sent, "already sent earlier (never sent twice)"),
        (
            s.bounced_before,
            "whose message bounced: not sent again to that address (dhpc merge --only bounced "
            "prints their letters; a corrected address is sent with --resend-changed)",
        ),
        (
            s.address_changed,
            "sent earlier at an address that has since changed in the mailing list: not sent "
            "again (add --resend-changed to send them the letter at the new address; dhpc "
            "report shows the address used)",
        ),
        (
            s.readdressed,
            ("written" if s.dry_run else "sent the letter again")
            + " at their changed address (--resend-changed; the record keeps both addresses)",
        ),
        (
            s.recognised,
            "recognised as sent under an earlier recipient id (the same name and postal code; "
            "that id is no longer on the mailing list): the journal now keeps them under their "
            "current id",
        ),
        (
            s.unclear,
            "who share their name and postal code with several recipients sent under earlier "
            "ids: not sent, they may have had the letter (check duplicates.csv and dhpc report; "
            "add --resend-changed to send them the letter)",
        ),
        (s.without_email, "without e-mail address (post)"),
        (s.duplicate_addresses, "with an address already used by another recipient"),
        (s.invalid_addresses, "with an unusable e-mail address (failed; see dhpc report)"),
        (s.failed_before, "failed in an earlier run (add --retry-failed to try again)"),
    ]
    for count, what in skipped:
        if count:
            lines.append(f"  {count} recipient(s) {what}")
    if s.recorded_in:
        lines.append(
            f"  which journal sends is recorded in {display_path(s.recorded_in)}: keep it with "
            "the content (commit it)"
        )
    if s.new_journal_recorded and s.recorded_in:
        lines.append(
            f"  new journal: the decision to send everyone the letter again is recorded in "
            f"{display_path(s.recorded_in)}"
        )
    if s.superseded:
        lines.append(
            f"  new journal: the earlier send state and distribution record were moved to "
            f"{display_path(s.superseded)}/"
        )
    if s.recovered_unknown:
        lines.append(
            f"  {s.recovered_unknown} message(s) were interrupted while sending in an earlier run: "
            "unknown whether they arrived"
        )
    if s.unknown_waiting or s.unknown:
        waiting = s.unknown_waiting + s.unknown
        lines.append(
            f"  {waiting} message(s) unknown: may have arrived. Check the mail server's log for "
            "their Message-ID (see dhpc report), then add --resend-unknown to send them again"
        )
    if s.deferred:
        lines.append(
            f"  {s.deferred} message(s) deferred by the server: run the same command again later"
        )
    if s.remaining:
        more = "would remain" if s.dry_run else "still to send"
        lines.append(
            f"  {s.remaining} message(s) {more} beyond --limit; raise --limit or use --no-limit"
        )
    return lines


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""

    @group.command()
    @content_dir_argument
    @country_option
    @out_option
    @mailing_option()
    @click.option(
        "--smtp-config",
        type=click.Path(path_type=Path, dir_okay=False),
        help="SMTP settings file (.toml or .yaml); DHPC_SMTP_* variables override it.",
    )
    @click.option(
        "--dry-run/--no-dry-run",
        default=True,
        show_default=True,
        help="A dry run writes the messages to OUT/<id>/outbox/ and sends nothing.",
    )
    @click.option(
        "--limit",
        type=click.IntRange(min=1),
        help="Send at most N messages in this run. [default: 1 unless --no-limit]",
        metavar="N",
    )
    @click.option("--no-limit", is_flag=True, help="Send to every recipient still to send to.")
    @click.option("--rate", metavar="N/min", help="At most N messages a minute (or N/s, N/h).")
    @click.option(
        "--resend-unknown",
        is_flag=True,
        help="Also send the messages whose delivery is unknown after an interruption.",
    )
    @click.option(
        "--retry-failed", is_flag=True, help="Try again the recipients the server refused."
    )
    @click.option(
        "--new-version",
        is_flag=True,
        help="Send although recipients already got an earlier version of the content.",
    )
    @click.option(
        "--resend-changed",
        is_flag=True,
        help="Send the letter again, at the new address, to those sent it at an address that "
        "has since changed in the mailing list (once per address).",
    )
    @click.option(
        "--new-journal",
        is_flag=True,
        help="Start an empty journal although the output folder shows earlier sending; the "
        "old send state and record are moved to OUT/<id>/superseded/.",
    )
    @require_signoff_option(
        "Send nothing unless the current text of every language is approved (dhpc signoff)."
    )
    @reports_errors
    def send(
        directory: Path,
        country: str | None,
        out: Path,
        mailing: Path | None,
        smtp_config: Path | None,
        dry_run: bool,
        limit: int | None,
        no_limit: bool,
        rate: str | None,
        resend_unknown: bool,
        retry_failed: bool,
        new_version: bool,
        resend_changed: bool,
        new_journal: bool,
        require_signoff: bool,
    ) -> None:
        """E-mail the DHPC in DIR to every recipient with an address, each in their language.

        A dry run (the default) writes the messages as .eml files and sends nothing. With
        --no-dry-run, every message is recorded in OUT/<id>/journal.sqlite: a recipient
        sent to is never sent to again, and running the same command after an
        interruption finishes the job. The password comes from DHPC_SMTP_PASSWORD (or a
        prompt), never from the command line.
        """
        from dhpc_gen.content.campaign import load_campaign
        from dhpc_gen.distribution.send import (
            SendOptions,
            parse_rate,
            refuse_unapproved,
            send_dhpc,
        )
        from dhpc_gen.distribution.smtp import Secret, load_settings, require_server

        if limit is not None and no_limit:
            raise UsageError("--limit and --no-limit cannot be used together")
        options = SendOptions(
            dry_run=dry_run,
            limit=None if no_limit else (limit or 1),
            rate_per_minute=parse_rate(rate) if rate else None,
            resend_unknown=resend_unknown,
            retry_failed=retry_failed,
            new_version=new_version,
            resend_changed=resend_changed,
            new_journal=new_journal,
            require_signoff=require_signoff,
        )
        dhpc = load_campaign(directory).only(country, "send")
        settings = load_settings(smtp_config)
        if not dry_run:
            refuse_unapproved(dhpc)
            require_server(settings)  # before a password prompt or "Sending through"
        if not dry_run and settings.user and settings.password is None and sys.stdin.isatty():
            password = click.prompt(f"SMTP password for {settings.user}", hide_input=True, err=True)
            settings = dataclasses.replace(settings, password=Secret(password))
        if not dry_run:
            click.echo(f"Sending through {settings.describe()} …", err=True)

        def progress(done: int, total: int) -> None:
            if done == total or done % 25 == 0:
                click.echo(f"  {done}/{total}", err=True)

        def notify(notice: object) -> None:
            click.echo(f"  {notice}", err=True)

        summary = send_dhpc(
            dhpc,
            out,
            mailing=mailing,
            settings=settings,
            options=options,
            progress=progress,
            notify=notify,
        )
        for line in _send_summary_lines(summary):
            click.echo(line)

    @group.command()
    @content_dir_argument
    @country_option
    @out_option
    @mailing_option("The mailing list, for names and postal addresses. [default: OUT/<id>/mailing]")
    @click.option(
        "--format",
        "fmt",
        type=click.Choice(["csv", "json"]),
        default="csv",
        show_default=True,
        help="Format of the record file.",
    )
    @click.option(
        "-o",
        "--output",
        type=click.Path(path_type=Path, dir_okay=False),
        help="Where to write the record. [default: OUT/<id>/distribution-record.<format>]",
    )
    @click.option(
        "--pdf", is_flag=True, help="Also write the summary as a one-page PDF, for the regulator."
    )
    @reports_errors
    def report(
        directory: Path,
        country: str | None,
        out: Path,
        mailing: Path | None,
        fmt: str,
        output: Path | None,
        pdf: bool,
    ) -> None:
        """Write the distribution record of the DHPC in DIR: who got which version, how, when.

        One row per recipient and channel (e-mail from the send journal with what came
        back, post from the print manifest), with language, content hash, state, time and
        the channel that finally reached the recipient; and a summary without personal data
        (counts per language and outcome, the dates) beside it, with --pdf as a one-page PDF
        too. The record holds personal data and is created owner-readable only; the terminal
        shows counts only.
        """
        from dhpc_gen.build import content_hash
        from dhpc_gen.content.campaign import load_campaign
        from dhpc_gen.distribution.report import build_record, totals_table
        from dhpc_gen.distribution.sending_record import record_path, recorded_sending
        from dhpc_gen.distribution.summary import write_report

        dhpc = load_campaign(directory).only(country, "report")
        out_dir = dhpc.output_dir(out)
        record = build_record(
            dhpc.id,
            content_hash(dhpc),
            out_dir,
            mailing=mailing,
            recorded=recorded_sending(dhpc.directory, dhpc.id, dhpc.meta.country),
            record_file=record_path(dhpc.directory),
        )
        target = output or out_dir / f"distribution-record.{fmt}"
        summary, written = write_report(dhpc, record, target, fmt, pdf=pdf)
        rows = totals_table(record.totals)
        click.echo(f"{dhpc.id}: {len(record.rows)} row(s) written to {display_path(target)}")
        if rows:
            header = ("version", "channel", "language", "state", "count")
            widths = [max(len(str(r[i])) for r in [header, *rows]) for i in range(5)]
            for row in [header, *rows]:
                cells = "  ".join(str(v).ljust(w) for v, w in zip(row, widths, strict=True))
                click.echo(f"  {cells}".rstrip())
        by_state: dict[str, int] = {}
        for _, _, _, state, count in rows:
            by_state[state] = by_state.get(state, 0) + count
        click.echo(
            "  total: " + (", ".join(f"{k} {v}" for k, v in sorted(by_state.items())) or "0")
        )
        total = summary.total
        click.echo(
            f"  {total.recipients} recipient(s): e-mail delivered {total.email}, bounced then "
            f"printed {total.bounced_then_printed}, printed {total.printed}, e-mail in doubt "
            f"{total.email_in_doubt}, not reached {total.not_reached}"
        )
        for path in written[1:]:
            click.echo(f"  summary: {display_path(path)}")
