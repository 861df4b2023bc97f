"""``dhpc check`` and ``dhpc review``: translation checks and the side-by-side review."""

from __future__ import annotations

import sys
from collections.abc import Sequence
from pathlib import Path
from typing import TYPE_CHECKING

import click

from dhpc_gen.commands.options import content_dir_argument, reports_errors
from dhpc_gen.errors import UsageError, display_path, terminal_text
from dhpc_gen.review.check_ids import CHECK_IDS

if TYPE_CHECKING:  # the checks load the content model: only when a command runs
    from dhpc_gen.review.findings import Finding

_TERMS_HELP = "Also use this termbase (repeatable); DIR/terms.yaml is always used when present."


terms_option = click.option(
    "--terms",
    "terms",
    multiple=True,
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="FILE",
    help=_TERMS_HELP,
)
"""``--terms``: further termbases, shared by ``check`` and ``review``."""


def register(group: click.Group) -> None:
    """Add this feature's commands to the ``dhpc`` group."""
    group.add_command(check)
    group.add_command(review)


def _plural(count: int, word: str) -> str:
    return f"{count} {word}{'' if count == 1 else 's'}"


def _counts_line(findings: Sequence[Finding]) -> str:
    errors = sum(f.is_error for f in findings)
    warnings = sum(f.is_warning for f in findings)
    deviations = sum(f.check == "deviation" for f in findings)
    notes = len(findings) - errors - warnings - deviations
    per_check: dict[str, int] = {}
    for finding in findings:
        if finding.check != "deviation":
            per_check[finding.check] = per_check.get(finding.check, 0) + 1
    detail = ", ".join(f"{check} {per_check[check]}" for check in CHECK_IDS if check in per_check)
    return (
        f"{_plural(errors, 'error')}, {_plural(warnings, 'warning')}"
        + (f", {_plural(notes, 'note')}" if notes else "")
        + (f" ({detail})" if detail else "")
        + (f", {_plural(deviations, 'national deviation')}" if deviations else "")
    )


_COLOURS = {"error": "red", "warning": "yellow", "note": "cyan"}


def _show(finding: Finding, source_language: str) -> None:
    country = f"{finding.country} " if finding.country and finding.check != "deviation" else ""
    click.echo(
        terminal_text(f"{finding.where()}: ")
        + click.style(finding.severity, fg=_COLOURS[finding.severity], bold=True)
        + terminal_text(f" [{finding.tag}] {country}{finding.message}")
    )
    if finding.check == "deviation":
        # A deviation compares the shared text of a language with the country's own.
        labels = (f"shared {finding.language}", f"{finding.country} {finding.language}")
    elif finding.severity == "note":
        return  # one line each: notes inform, the JSON has the excerpts
    else:
        from dhpc_gen.i18n import SOURCE_LANGUAGE

        # A catalog's source text is its msgid, in the language of the templates.
        source_label = SOURCE_LANGUAGE if finding.check == "catalog" else source_language
        labels = (source_label, finding.language)
    if finding.source:
        click.echo(terminal_text(f"    {labels[0]}: {finding.source}"))
    if finding.target:
        click.echo(terminal_text(f"    {labels[1]}: {finding.target}"))


@click.command()
@content_dir_argument
@click.option(
    "--format",
    "fmt",
    type=click.Choice(["text", "json"]),
    default="text",
    show_default=True,
    help="text for people; json (stable, sorted) for CI.",
)
@click.option("--strict", is_flag=True, help="Exit 1 on warnings too, not only on errors.")
@click.option(
    "--only",
    "only",
    multiple=True,
    type=click.Choice(CHECK_IDS),
    help="Run only this check (repeatable).",
)
@click.option(
    "--country",
    "countries",
    multiple=True,
    metavar="CC",
    help="Only the languages and national facts of this country of a campaign (repeatable).",
)
@terms_option
@reports_errors
def check(
    directory: Path,
    fmt: str,
    strict: bool,
    only: tuple[str, ...],
    countries: tuple[str, ...],
    terms: tuple[Path, ...],
) -> None:
    """Check every translation of the DHPC in DIR against its source language.

    Checks: structure, numbers, terms, contacts, untranslated, length (each language
    against the source), catalog (the boilerplate catalogs), regulator (the reporting
    block of the country in each language) and, in a campaign, deviation (each
    national deviation, shown with its reference). A language shared by several
    countries is checked once. Exit 0 when there is no error, 1 when there is (with
    --strict, also on warnings). Notes, such as catalog entries no native speaker has
    reviewed and national deviations, inform and never fail.
    """
    from dhpc_gen.approval.log import SignoffLogError
    from dhpc_gen.approval.state import LanguageApproval, campaign_approvals
    from dhpc_gen.content.campaign import load_campaign
    from dhpc_gen.review.campaign import campaign_termbase, check_campaign
    from dhpc_gen.review.findings import findings_json

    campaign = load_campaign(directory)
    selected = campaign.select(countries)
    checks = only or CHECK_IDS
    findings = check_campaign(
        campaign,
        countries=countries,
        termbase=campaign_termbase(campaign, terms),
        checks=checks,
    )
    languages = [
        lang
        for lang in campaign.languages
        if not countries or any(lang in d.meta.languages for d in selected)
    ]
    states: list[LanguageApproval] | None = None
    log_error: SignoffLogError | None = None
    try:  # a campaign's letters are approved country by country
        states = campaign_approvals(campaign, countries)
    except SignoffLogError as exc:
        log_error = exc
    if fmt == "json":
        click.echo(
            findings_json(
                findings,
                dhpc_id=campaign.id,
                source_language=campaign.source_language,
                languages=campaign.languages if campaign.single else languages,
                checks=[c for c in CHECK_IDS if c in checks],
                countries=None
                if campaign.single
                else {d.meta.country: d.meta.languages for d in selected},
                approvals=[a.to_dict() for a in states] if states is not None else None,
            ),
            nl=False,
        )
    else:
        for finding in findings:
            _show(finding, campaign.source_language)
        translations = len([lang for lang in languages if lang != campaign.source_language])
        shared = (
            ""
            if campaign.single
            else f" for {_plural(len(selected), 'country').replace('countrys', 'countries')}"
        )
        click.echo(
            f"{campaign.id}: {_counts_line(findings)}; {_plural(translations, 'translation')} "
            f"checked against {campaign.source_language}{shared}"
        )
        if states is not None:
            from dhpc_gen.commands.approval import approval_lines

            for line in approval_lines(campaign.directory, states):
                click.echo(line)
    if log_error is not None:
        click.echo(f"Error: {log_error}", err=True)
    failed = any(f.is_error or (strict and f.is_warning) for f in findings)
    if failed or log_error is not None:
        sys.exit(1)


@click.command()
@content_dir_argument
@click.option(
    "-o",
    "--output",
    type=click.Path(path_type=Path, dir_okay=False),
    default=None,
    help="The review HTML file [default: output/<id>/<id>_review.html].",
)
@click.option("--pdf", is_flag=True, help="Also write the same document as PDF, next to the HTML.")
@click.option(
    "--no-thumbnails",
    is_flag=True,
    help="Leave out the page thumbnails (no letters are built; faster).",
)
@click.option(
    "--country",
    metavar="CC",
    help="Review one country of a campaign: its national texts, findings and letters. "
    "[default: the whole campaign, each language once]",
)
@terms_option
@reports_errors
def review(
    directory: Path,
    output: Path | None,
    pdf: bool,
    no_thumbnails: bool,
    country: str | None,
    terms: tuple[Path, ...],
) -> None:
    """Write the side-by-side review document of the DHPC in DIR, for sign-off.

    One self-contained HTML file: findings per check, every text field aligned across
    the languages with findings highlighted, page thumbnails of the letters, the
    hashes of the reviewed version and a sign-off block per language. A campaign is
    reviewed as a whole (each shared language once, national deviations listed) or,
    with --country, one national version.
    """
    from dhpc_gen.content.campaign import load_campaign
    from dhpc_gen.fsutil import OutputSet, safe_name
    from dhpc_gen.review.campaign import campaign_termbase, review_campaign
    from dhpc_gen.review.report import review_pdf

    if output is not None and output.suffix.lower() == ".pdf":
        raise UsageError(f"-o {output}: name the HTML file; --pdf writes the PDF next to it")
    campaign = load_campaign(directory)
    result, dhpc = review_campaign(
        campaign,
        country=country,
        termbase=campaign_termbase(campaign, terms),
        thumbnails=not no_thumbnails,
        progress=lambda lang: click.echo(f"  building the {lang} letter …", err=True),
    )
    if output is None:
        name = safe_name(campaign.id, "DHPC id")
        if country is None or campaign.single:
            output = Path("output") / name / f"{name}_review.html"
        else:
            output = Path("output") / name / dhpc.meta.country / f"{dhpc.file_stem}_review.html"
    written = [output]
    pdf_bytes = review_pdf(result, dhpc) if pdf else None
    with OutputSet(output.parent) as outputs:  # the HTML and its PDF replace the old ones together
        outputs.write_text(output, result.html)
        if pdf_bytes is not None:
            pdf_path = output.with_suffix(".pdf")
            outputs.write_bytes(pdf_path, pdf_bytes)
            written.append(pdf_path)
    for path in written:
        click.echo(display_path(path))
    click.echo(f"{campaign.id}: {_counts_line(result.findings)}")
