"""``dhpc diff``, ``dhpc signoff`` and ``dhpc verify``: versions, approvals, signed letters."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dhpc_gen.cli import reports_errors
from dhpc_gen.errors import UsageError, display_path

if TYPE_CHECKING:
    from dhpc_gen.approval.state import LanguageApproval


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(diff)
    group.add_command(signoff)
    group.add_command(verify)


def approval_lines(directory: Path, states: Sequence[LanguageApproval]) -> list[str]:
    """The approval block of ``dhpc check``: one line per language (per country and
    language in a campaign), the changes below."""
    from dhpc_gen.approval.diff import change_lines
    from dhpc_gen.approval.log import LOG_FILE

    lines = [f"approval ({display_path(directory / LOG_FILE)}):"]
    for item in states:
        country = f"{item.state.country} " if item.state.country else ""
        lines.append(f"  {country}{item.state.language}: {item.state.describe()}")
        found = item.since
        if found is None:
            continue
        if found.diff is not None and found.diff.changes:
            count = len(found.diff.changes)
            lines.append(f"    {count} field{'s' if count != 1 else ''} changed since:")
            for change in (*found.diff.changes, *found.diff.moved):
                lines += [f"      {line}" for line in change_lines(change)]
        if found.note:
            lines.append(f"    {found.note}")
    return lines


@click.command()
@click.argument(
    "folders", nargs=-1, type=click.Path(path_type=Path, file_okay=False), metavar="DIR [NEW_DIR]"
)
@click.option(
    "--from", "from_rev", metavar="REV", help="Compare DIR as it is in this git revision…"
)
@click.option(
    "--to",
    "to_rev",
    metavar="REV",
    help="…with this one. [default: the files as they are now]",
)
@click.option(
    "--lang", "languages", multiple=True, metavar="L", help="Only this language (repeatable)."
)
@click.option(
    "--country",
    "countries",
    multiple=True,
    metavar="CC",
    help="A campaign: only this country's file and (without --lang) its languages (repeatable).",
)
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json", "html", "pdf"]),
    default="text",
    show_default=True,
    help="text or json on the terminal; html or pdf: a redline written to -o.",
)
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    help="Write to this file instead of the terminal (needed for pdf).",
)
@reports_errors
def diff(
    folders: tuple[Path, ...],
    from_rev: str | None,
    to_rev: str | None,
    languages: tuple[str, ...],
    countries: tuple[str, ...],
    fmt: str,
    output: Path | None,
) -> None:
    """Show what changed between two versions of a DHPC, per language and field, word by word.

    Either two content folders (dhpc diff OLD_DIR NEW_DIR), or one folder in git and a
    revision (dhpc diff DIR --from HEAD~1 [--to REV]), read with git itself. Fields whose
    text is unchanged are not shown, wherever they moved; a changed number or dose is
    flagged with "!". A campaign: its dhpc.yaml, each shared language file (naming the
    countries it goes to) and each country's file, facts and deviations.
    """
    from dhpc_gen.approval.diff import diff_json, diff_text
    from dhpc_gen.approval.versions import compare_folders, compare_revisions

    if to_rev is not None and from_rev is None:
        raise UsageError("--to needs --from")
    if from_rev is not None and len(folders) != 1:
        raise UsageError("with --from, give one content folder: dhpc diff DIR --from REV")
    if from_rev is None and len(folders) != 2:
        raise UsageError("give two content folders (OLD_DIR NEW_DIR), or one and --from REV")
    if fmt == "pdf" and output is None:
        raise UsageError("--format pdf: name the file with -o FILE.pdf")
    chosen = list(languages) or None
    if from_rev is not None:
        result = compare_revisions(folders[0], from_rev, to_rev, chosen, countries)
    else:
        result = compare_folders(folders[0], folders[1], chosen, countries)
    if fmt in ("html", "pdf"):
        from dhpc_gen.approval.redline import redline_html, redline_pdf

        data = redline_html(result).encode("utf-8") if fmt == "html" else redline_pdf(result)
    else:
        data = (diff_json(result) if fmt == "json" else diff_text(result)).encode("utf-8")
    if output is None:
        click.echo(data.decode("utf-8"), nl=False)
        return
    from dhpc_gen.fsutil import OutputSet

    with OutputSet(output.parent) as outputs:
        outputs.write_bytes(output, data)
    click.echo(display_path(output))
    click.echo(f"{result.dhpc_id}: {result.change_count()} field(s) changed", err=True)


@click.command()
@click.argument("directory", type=click.Path(path_type=Path, file_okay=False), metavar="DIR")
@click.option(
    "--lang",
    "languages",
    multiple=True,
    required=True,
    metavar="L",
    help="The language approved (repeatable).",
)
@click.option("--name", required=True, help="The reviewer's name, as it should be on record.")
@click.option("--role", required=True, help="The reviewer's role, e.g. 'Medical reviewer'.")
@click.option("--comment", default="", help="A remark kept with the decision.")
@click.option(
    "--reject",
    is_flag=True,
    help="Record that the current text is NOT approved (a rejection), instead of an approval.",
)
@click.option("--country", metavar="CC", help="Approve the national version for this country only.")
@reports_errors
def signoff(
    directory: Path,
    languages: tuple[str, ...],
    name: str,
    role: str,
    comment: str,
    reject: bool,
    country: str | None,
) -> None:
    """Record that NAME approves the current text of each --lang of the DHPC in DIR.

    Appends one entry per language to DIR/signoffs.jsonl: the language's content hash
    (dhpc.yaml and the language file, byte for byte), who, their role, when (UTC), the
    git commit holding that text, and the hash of the previous entry, so an edited or
    removed entry is detected. Commit the file to keep the record.
    """
    from dhpc_gen.approval.state import record_signoff
    from dhpc_gen.content.campaign import load_campaign

    campaign = load_campaign(directory)
    if campaign.single and country is not None and country.upper() != campaign.shared.meta.country:
        raise UsageError(
            f"--country {country}: {campaign.id} is for {campaign.shared.meta.country}"
        )
    # A campaign's languages are approved country by country: each national text differs.
    dhpc = campaign.only(None if campaign.single else country, "signoff")
    unknown = [lang for lang in languages if lang not in dhpc.meta.languages]
    if unknown:
        raise UsageError(
            f"--lang {', '.join(unknown)}: {dhpc.id} has only {', '.join(dhpc.meta.languages)}"
        )
    recorded = record_signoff(
        dhpc,
        languages,
        decision="rejected" if reject else "approved",
        name=name,
        role=role,
        comment=comment,
        country=country.upper() if country else None,
    )
    for entry in recorded.entries:
        letter = f"{entry.country} {entry.language}" if entry.country else entry.language
        click.echo(
            f"{dhpc.id} {letter}: {entry.decision} by {entry.who}, content "
            f"{entry.content_sha256[:12]} (entry {entry.seq}, {entry.hash[:12]})"
        )
    click.echo(display_path(recorded.path))
    if recorded.uncommitted:
        click.echo(
            "note: the approved text is not committed in git: commit it together with "
            f"{recorded.path.name}, so that later changes can be shown against it",
            err=True,
        )


@click.command()
@click.argument("files", nargs=-1, required=True, type=click.Path(path_type=Path, dir_okay=False))
@click.option(
    "--content",
    "content_dir",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="The content folder whose sign-off log is checked. [default: content/<id>]",
)
@click.option(
    "--trust",
    "trust",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="CERT",
    help="A certificate (PEM or DER) to trust: the signer's CA, or the signer (repeatable).",
)
@reports_errors
def verify(files: tuple[Path, ...], content_dir: Path | None, trust: tuple[Path, ...]) -> None:
    """Check signed letters: the signature, no change since signing, an approved text.

    For each FILE: the PAdES signature is valid and made with a certificate that chains
    to a --trust certificate; nothing was changed or added after signing; and the
    content hash the letter names is approved in the DHPC's sign-off log. Exit 1 if any
    file fails.
    """
    from dhpc_gen.signing.verify import load_trust, verify_letter

    roots = load_trust(trust)
    failed = 0
    for path in files:
        outcome = verify_letter(path, trust=roots, content_dir=content_dir)
        if outcome.ok:
            click.echo(f"{display_path(path)}: OK — {outcome.summary}")
        else:
            failed += 1
            click.echo(f"{display_path(path)}: FAILED — {outcome.summary}", err=True)
    if failed:
        sys.exit(1)
