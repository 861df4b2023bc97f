"""The ``dhpc`` command: parse options, call the library, turn errors into exit codes."""

from __future__ import annotations

import logging
import sys
from pathlib import Path
from typing import Any

import click

from dhpc_gen import __version__
from dhpc_gen.commands.options import (
    content_dir_argument,
    jobs_option,
    out_option,
    reports_errors,
    require_signoff_option,
)
from dhpc_gen.errors import DhpcError, UsageError, display_path

__all__ = ["main", "reports_errors"]


@click.group(context_settings={"help_option_names": ["-h", "--help"]})
@click.version_option(__version__, prog_name="dhpc")
@click.option("-v", "--verbose", is_flag=True, help="Show progress messages.")
def main(verbose: bool) -> None:
    """Direct Healthcare Professional Communications: build, check and send DHPCs."""
    logging.basicConfig(
        level=logging.INFO if verbose else logging.WARNING,
        format="%(levelname)s %(name)s: %(message)s",
    )
    # WeasyPrint reports layout details as warnings; only ours matter on the terminal.
    logging.getLogger("weasyprint").setLevel(logging.ERROR)
    logging.getLogger("fontTools").setLevel(logging.ERROR)
    # pyHanko logs what it finds wrong in a signed file, with tracebacks; dhpc verify says it.
    logging.getLogger("pyhanko").setLevel(logging.CRITICAL)
    logging.getLogger("pyhanko_certvalidator").setLevel(logging.CRITICAL)


@main.command()
@content_dir_argument
@click.option(
    "--country",
    "countries",
    multiple=True,
    metavar="CC",
    help="Build only this country of a campaign (repeatable).",
)
@click.option(
    "--lang", "languages", multiple=True, metavar="L", help="Build only this language (repeatable)."
)
@out_option
@click.option(
    "--html", is_flag=True, help="Also write the HTML of each letter, for a look in a browser."
)
@click.option(
    "--check",
    is_flag=True,
    help="Write nothing; exit 1 and name the files in --out that the current inputs would change.",
)
@click.option(
    "--mailing",
    type=click.Path(path_type=Path, file_okay=False),
    metavar="DIR",
    help="A mailing-list folder: the address-source line names only the sources it used.",
)
@require_signoff_option(
    "Build only the languages whose current text is approved (dhpc signoff); "
    "exit 1 naming the others."
)
@click.option(
    "--sign",
    "sign_key",
    type=click.Path(path_type=Path, dir_okay=False, exists=True),
    metavar="KEY.p12",
    help="Sign each letter with this PKCS#12 key (password: DHPC_SIGN_PASSWORD or a prompt). "
    "Implies --require-signoff.",
)
@click.option(
    "--sign-reason", default="", metavar="TEXT", help="The reason written in the signature."
)
@jobs_option
@reports_errors
def build(**options: Any) -> None:
    """Build one PDF per country and language of the DHPC in DIR, and manifests of hashes.

    A campaign's letters are rendered in parallel (--jobs) and go to OUT/<id>/<CC>/; a
    folder of one country writes OUT/<id>/ as before. With --sign, each letter is signed
    (PAdES) after it is built; only a final DHPC whose languages are approved is signed.
    """
    # Before anything else: the layout process imports WeasyPrint while this one imports
    # the content model, reads the content and makes the letters' HTML.
    from dhpc_gen.render.prefork import layout_server

    with layout_server(options["jobs"]):
        _build(**options)


def _build(
    directory: Path,
    countries: tuple[str, ...],
    languages: tuple[str, ...],
    out: Path,
    html: bool,
    check: bool,
    mailing: Path | None,
    require_signoff: bool,
    sign_key: Path | None,
    sign_reason: str,
    jobs: int | None,
) -> None:
    from dhpc_gen.campaign_build import build_campaign, check_campaign
    from dhpc_gen.content.campaign import load_campaign

    campaign = load_campaign(directory)
    if sign_key is not None and check:
        raise UsageError("--sign and --check cannot be used together")
    if (require_signoff or sign_key is not None) and not campaign.single and len(countries) != 1:
        raise UsageError(
            "--require-signoff and --sign approve one country's letters: name it with --country"
        )
    signing = None
    refusal = ""
    if (require_signoff or sign_key is not None) and not check:
        national = campaign.only(countries[0] if countries else None, "build --sign")
        if sign_key is not None:
            signing = _signing(national, sign_key, sign_reason)
        from dhpc_gen.approval.state import refusal_message, require_approval
        from dhpc_gen.build import selected_languages

        approved, refused = require_approval(national, selected_languages(national, languages))
        if refused:
            refusal = refusal_message(national, refused)
            if not approved:
                raise DhpcError(refusal + "\n  nothing was built")
            languages = tuple(approved)
    sources = None
    if mailing is not None:
        if not campaign.single and len(countries) != 1:
            raise UsageError("--mailing is one country's mailing list: name it with --country")
        # The address registers' readers (spreadsheets, fuzzy matching): only for --mailing.
        from dhpc_gen.addresses.mailing import sources_used

        sources = sources_used(mailing)
    if check:
        stale = check_campaign(
            campaign,
            out,
            countries=countries,
            languages=languages,
            address_sources=sources,
            jobs=jobs,
        )
        if stale:
            click.echo("Outputs are not what the current inputs produce:", err=True)
            for line in stale:
                click.echo(f"  {line}", err=True)
            click.echo(f"Run: dhpc build {directory} --out {out}", err=True)
            sys.exit(1)
        click.echo(f"{campaign.id}: outputs in {out} are up to date.")
        return

    def progress(country: str, language: str) -> None:
        label = language if campaign.single else f"{country} {language}"
        click.echo(f"  {label} …", err=True)

    result = build_campaign(
        campaign,
        out,
        countries=countries,
        languages=languages,
        html=html,
        address_sources=sources,
        jobs=jobs,
        progress=progress,
        signing=signing,
    )
    for country in result.countries:
        for letter in country.letters:
            click.echo(f"{display_path(country.out_dir / letter.filename)}")
        click.echo(f"{display_path(country.out_dir / 'manifest.json')}")
    if result.manifest is not None:
        click.echo(f"{display_path(result.out_dir / 'manifest.json')}")
    if refusal:
        click.echo(f"Error: {refusal}", err=True)
        sys.exit(1)


SIGN_PASSWORD_VARIABLE = "DHPC_SIGN_PASSWORD"


def _signing(dhpc: Any, key_path: Path, reason: str) -> Any:
    """The signing key, its password from the environment or a prompt (never argv)."""
    import os

    from dhpc_gen.signing.letters import LetterSigning, check_signable
    from dhpc_gen.signing.sign import load_signing_key

    check_signable(dhpc)  # before asking for a password
    password = os.environ.get(SIGN_PASSWORD_VARIABLE)
    if password is None:
        if not sys.stdin.isatty():
            raise DhpcError(
                f"--sign {display_path(key_path)}: set {SIGN_PASSWORD_VARIABLE} to the key's "
                "password (or run in a terminal to be asked for it)"
            )
        password = click.prompt(
            f"Password of {display_path(key_path)}", hide_input=True, default="", err=True
        )
    key = load_signing_key(key_path, password.encode("utf-8") if password else None)
    return LetterSigning(key, reason=" ".join(reason.split()))


@main.command()
@click.argument("country", required=False)
@click.option("--lang", "language", metavar="L", help="Only this language.")
@click.option(
    "--format", "fmt", type=click.Choice(["text", "json"]), default="text", show_default=True
)
@reports_errors
def regulators(country: str | None, language: str | None, fmt: str) -> None:
    """List the reporting contact block of every EEA country, or of COUNTRY, per language.

    A country of several authorities (Germany: the PEI and the BfArM) lists each with
    the name a DHPC chooses it by, reporting_authority in its country file.

    After each country, its conventions for a DHPC: a heading of its own, the text the
    envelope must carry, whether the authority approves the final letter, the
    languages it requires and the default language of a recipient.
    """
    import json

    from dhpc_gen.regulators import registry

    # A country of several authorities (Germany: PEI, BfArM) lists each; a DHPC chooses one.
    entries = [
        choice
        for entry in registry.all_regulators()
        for choice in (entry, *registry.alternatives(entry.country, entry.language))
    ]
    if country:
        code = country.upper()
        registry.languages(code)  # raises with the list of known countries
        entries = [e for e in entries if e.country == code]
    if language:
        entries = [e for e in entries if e.language == language]
        if not entries:
            raise DhpcError(
                f"no reporting block in language {language!r}"
                + (f" for {country}" if country else "")
            )
    if fmt == "json":
        click.echo(
            json.dumps(
                [
                    {
                        "country": e.country,
                        "country_name": e.country_name,
                        "language": e.language,
                        "reporting_authority": e.code,
                        "authority": e.authority,
                        "short_name": e.short_name,
                        "call_for_reporting": e.call_for_reporting,
                        "contact_lines": list(e.contact_lines),
                        "conventions": registry.conventions(e.country).as_json(e.language),
                    }
                    for e in entries
                ],
                ensure_ascii=False,
                indent=2,
            )
        )
        return
    for index, entry in enumerate(entries):
        if index:
            click.echo()
        chosen_by = f" (reporting_authority: {entry.code})" if entry.code else ""
        click.secho(
            f"{entry.country} {entry.country_name} — {entry.language}: {entry.authority}"
            + chosen_by,
            bold=True,
        )
        click.echo(entry.call_for_reporting)
        for line in entry.contact_lines:
            click.echo(f"  {line}")
        last_of_country = index + 1 == len(entries) or entries[index + 1].country != entry.country
        if last_of_country:
            click.echo()
            click.secho(f"{entry.country} conventions:", bold=True)
            for line in registry.conventions(entry.country).describe(language):
                click.echo(f"  {line}")


def _register_features() -> None:
    from dhpc_gen.commands import (
        approval,
        bounces,
        docx,
        mailing,
        merge,
        review,
        send,
        serve,
        status,
        xliff,
    )

    for feature in (review, xliff, docx, mailing, merge, send, approval, bounces, serve, status):
        feature.register(main)


_register_features()
