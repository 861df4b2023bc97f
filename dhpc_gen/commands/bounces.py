"""``dhpc bounces``: read the bounce mailbox into the send journal."""

from __future__ import annotations

import dataclasses
import logging
import sys
from pathlib import Path

import click

from dhpc_gen.commands.options import content_dir_argument, out_option, reports_errors
from dhpc_gen.errors import UsageError, display_path

LISTED = 20
"""Unmatched messages shown on the terminal; all of them are in bounce-reports.csv."""


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(bounces_command)


@click.command("bounces")
@content_dir_argument
@out_option
@click.option(
    "--maildir",
    type=click.Path(path_type=Path, file_okay=False),
    help="The bounce mailbox as a Maildir (the folder with cur/, new/ and tmp/).",
)
@click.option(
    "--imap",
    "imap_host",
    metavar="HOST",
    help="The bounce mailbox on this IMAP server (TLS); user and password from DHPC_IMAP_* "
    "or --imap-config.",
)
@click.option(
    "--imap-config",
    type=click.Path(path_type=Path, dir_okay=False),
    help="IMAP settings file (.toml or .yaml); DHPC_IMAP_* variables override it.",
)
@reports_errors
def bounces_command(
    directory: Path,
    out: Path,
    maildir: Path | None,
    imap_host: str | None,
    imap_config: Path | None,
) -> None:
    """Record in the send journal which e-mails of the DHPC in DIR bounced.

    Reads the bounce mailbox (without changing it), recognises delivery status
    notifications and other bounce formats, matches each to the message dhpc send sent,
    and marks the recipient bounced (permanent) or deferred (temporary), with the reason
    and time. Messages that match no e-mail are listed, never dropped; reading the same
    mailbox again changes nothing.
    """
    from dhpc_gen.content import load_dhpc
    from dhpc_gen.distribution.bounces import read_bounces
    from dhpc_gen.distribution.mailbox import (
        MailboxReport,
        imap_messages,
        load_imap_settings,
        maildir_messages,
    )
    from dhpc_gen.distribution.smtp import Secret

    if (maildir is None) == (imap_host is None and imap_config is None):
        raise UsageError("give the bounce mailbox: --maildir PATH or --imap HOST")
    if maildir is not None and (imap_host or imap_config):
        raise UsageError("--maildir and --imap cannot be used together")
    # flufl.bounce logs every detector it runs, and a traceback for one that fails on a
    # hostile message (the message is then listed as malformed): not for the terminal.
    logging.getLogger("flufl.bounce").setLevel(logging.CRITICAL)
    dhpc = load_dhpc(directory)
    if maildir is not None:
        report = MailboxReport(f"Maildir {display_path(maildir)}")
        messages = maildir_messages(maildir, report)
    else:
        settings = load_imap_settings(imap_config, host=imap_host or "")
        if settings.password is None and sys.stdin.isatty():
            password = click.prompt(f"IMAP password for {settings.user}", hide_input=True, err=True)
            settings = dataclasses.replace(settings, password=Secret(password))
        report = MailboxReport(f"IMAP {settings.describe()}")
        messages = imap_messages(settings, report)
    summary = read_bounces(dhpc, out, messages, mailbox=report.description)
    for line in summary_lines(summary, report.in_tmp):
        click.echo(line)
    if summary.interrupted:
        click.echo(f"Error: {summary.interrupted}", err=True)
        sys.exit(1)


def summary_lines(summary: object, in_tmp: int) -> list[str]:
    from dhpc_gen.distribution.bounces import BounceSummary

    assert isinstance(summary, BounceSummary)
    s = summary
    lines = [
        f"{s.dhpc_id}: {s.read} message(s) in {s.mailbox}: {s.new} new, {s.known} read before.",
        f"  bounced {s.bounced}, deferred {s.deferred}, delivery confirmed {s.delivered}, "
        f"no change {s.no_change}",
    ]
    for title, items in (
        ("unmatched (listed, not applied)", s.unmatched),
        ("not bounces", s.not_bounces),
        ("incomplete or unreadable, read again next time", s.incomplete),
    ):
        if not items:
            continue
        lines.append(f"  {len(items)} {title}:")
        lines += [f"    {item.source}: {item.reason}" for item in items[:LISTED]]
        if len(items) > LISTED:
            lines.append(f"    … and {len(items) - LISTED} more")
    if in_tmp:
        lines.append(f"  {in_tmp} message(s) still being delivered (in tmp/): read again later")
    if s.listing is not None:
        lines.append(f"  every message read: {display_path(s.listing)}")
    return lines
