"""``dhpc check`` of a campaign: each shared text once, then what is national per country.

A language file shared by several countries is checked against the core once, not once
per country. What differs by country is checked per country: the reporting block in
each of its languages (``regulator``), and each national deviation, which is listed as a
note with the authority's reference (``deviation``) and whose text is checked against
the core like any translation.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Collection, Iterable, Sequence
from pathlib import Path

from dhpc_gen.approval.state import campaign_approvals
from dhpc_gen.build import BuiltLetter
from dhpc_gen.campaign_build import CountryPlan, render_campaign
from dhpc_gen.content.campaign import PLACEHOLDER, Campaign
from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import UsageError, display_path
from dhpc_gen.resources import LOCALES_DIR, REGULATORS_DIR
from dhpc_gen.review.checks import (
    PAIR_CHECKS,
    LineFinder,
    check_regulator,
    language_pairs,
    run_checks,
)
from dhpc_gen.review.findings import CHECK_IDS, Finding, shorten, sort_findings
from dhpc_gen.review.report import Review, ReviewInputs, build_review
from dhpc_gen.review.termbase import Termbase, termbase_for

NATIONAL_CHECKS = ("regulator", "deviation")
"""Checks that look at one country, not at a shared text."""


def campaign_termbase(campaign: Campaign, extra: Iterable[Path] = ()) -> Termbase:
    """The names in the content, the given termbases and ``terms.yaml`` of the folder."""
    return termbase_for(campaign.shared, extra)


def check_campaign(
    campaign: Campaign,
    *,
    countries: Collection[str] = (),
    termbase: Termbase | None = None,
    checks: Collection[str] = CHECK_IDS,
    locales_dir: Path = LOCALES_DIR,
    registry_dir: Path = REGULATORS_DIR,
) -> list[Finding]:
    """Every finding of the campaign (or of the texts and facts of ``countries``)."""
    unknown = sorted(set(checks) - set(CHECK_IDS))
    if unknown:
        raise UsageError(f"unknown check {', '.join(unknown)}: known are {', '.join(CHECK_IDS)}")
    if campaign.single:
        return run_checks(
            campaign.shared,
            termbase=termbase,
            locales_dir=locales_dir,
            registry_dir=registry_dir,
            checks=checks,
        )
    nationals = campaign.select(list(countries))
    languages = {lang for dhpc in nationals for lang in dhpc.meta.languages}
    shared_checks = [check for check in checks if check not in NATIONAL_CHECKS]
    found = [
        finding
        for finding in run_checks(
            campaign.shared,
            termbase=termbase,
            locales_dir=locales_dir,
            registry_dir=registry_dir,
            checks=shared_checks,
        )
        if finding.language in languages or not countries
    ]
    if "structure" in checks:
        found += [f for f in placeholder_findings(campaign.shared) if f.language in languages]
    for dhpc in nationals:
        if "regulator" in checks:
            found += _of_country(check_regulator(dhpc, registry_dir), dhpc)
        if "deviation" in checks:
            found += deviation_findings(campaign, dhpc, termbase, shared_checks)
    return sort_findings(found)


def _of_country(findings: Iterable[Finding], dhpc: Dhpc) -> list[Finding]:
    return [dataclasses.replace(f, country=dhpc.meta.country) for f in findings]


def placeholder_findings(shared: Dhpc) -> list[Finding]:
    """A translation must name the same ``{placeholders}`` as the core, field by field."""
    source_language = shared.meta.source_language
    source = {
        f.path: set(PLACEHOLDER.findall(f.text)) for f in text_fields(shared.text(source_language))
    }
    found = []
    for language, text in shared.iter_texts():
        if language == source_language:
            continue
        lines = LineFinder(shared.language_file(language))
        for field in text_fields(text):
            want = source.get(field.path)
            have = set(PLACEHOLDER.findall(field.text))
            if want is None or want == have:
                continue
            parts = []
            if want - have:
                parts.append("lacks " + ", ".join(f"{{{n}}}" for n in sorted(want - have)))
            if have - want:
                parts.append("adds " + ", ".join(f"{{{n}}}" for n in sorted(have - want)))
            found.append(
                Finding(
                    "structure",
                    "error",
                    language,
                    field.path,
                    f"{language} {' and '.join(parts)} of the source ({source_language}): each "
                    "country fills these in, so they must be the same",
                    target=shorten(field.text),
                    file=lines.shown,
                    line=lines.line(field.path),
                )
            )
    return found


def deviation_findings(
    campaign: Campaign,
    dhpc: Dhpc,
    termbase: Termbase | None = None,
    pair_checks: Collection[str] = tuple(PAIR_CHECKS),
) -> list[Finding]:
    """Each deviation as a note, and what the pair checks find in its text."""
    if dhpc.country_file is None or not dhpc.deviations:
        return []
    lines = LineFinder(dhpc.country_file)
    country = dhpc.meta.country
    found = []
    where = {}
    for index, deviation in enumerate(dhpc.deviations):
        path = f"deviations[{index}].text"
        where[(deviation.language, deviation.field)] = lines.line(path)
        shared = {f.path: f.text for f in text_fields(campaign.shared.text(deviation.language))}
        found.append(
            Finding(
                "deviation",
                "note",
                deviation.language,
                deviation.field,
                f"{country} replaces the shared {deviation.language} text here, as its "
                f"authority asked: {deviation.reference}",
                source=shorten(shared.get(deviation.field, "")),
                target=shorten(deviation.text),
                file=display_path(dhpc.country_file),
                line=lines.line(path),
                country=country,
            )
        )
    # The national text of a deviated field is checked against the core like a translation.
    deviated = set(where)
    for lp in language_pairs(dhpc, termbase):
        for check_id, check in PAIR_CHECKS.items():
            if check_id not in pair_checks:
                continue
            for finding in check(lp):
                key = (finding.language, finding.field)
                if key in deviated:
                    found.append(
                        dataclasses.replace(
                            finding,
                            file=display_path(dhpc.country_file),
                            line=where[key],
                            country=country,
                        )
                    )
    return found


def review_campaign(
    campaign: Campaign,
    *,
    country: str | None = None,
    termbase: Termbase | None = None,
    thumbnails: bool = True,
    progress: Callable[[str], None] | None = None,
) -> tuple[Review, Dhpc]:
    """The review document of the whole campaign, or of one country's national version.

    The whole campaign: every language once, side by side with the core, with every
    finding (deviations as notes); each language's thumbnails are of the letter of the
    first country that sends it. One country: its national texts (placeholders filled,
    deviations applied) beside the core, its findings and its letters.
    """
    if campaign.single or country is not None:
        dhpc = campaign.only(country, "review")
        findings = None
        if not campaign.single:
            findings = check_campaign(campaign, countries=[dhpc.meta.country], termbase=termbase)
        inputs = ReviewInputs(
            termbase=termbase, thumbnails=thumbnails, progress=progress, findings=findings
        )
        return build_review(dhpc, inputs), dhpc

    def letters(languages: Sequence[str]) -> list[BuiltLetter]:
        by_country: dict[str, list[str]] = {}
        for language in languages:
            users = campaign.countries_using(language)
            if users:
                by_country.setdefault(users[0], []).append(language)
        plans = [CountryPlan(campaign.national(c), tuple(langs)) for c, langs in by_country.items()]
        rendered = render_campaign(
            plans, progress=(lambda c, lang: progress(f"{c} {lang}")) if progress else None
        )
        built = {letter.language: letter for group in rendered.values() for letter in group}
        return [built[language] for language in languages if language in built]

    inputs = ReviewInputs(
        termbase=termbase,
        thumbnails=thumbnails,
        progress=progress,
        findings=check_campaign(campaign, termbase=termbase),
        letters=letters,
        countries=tuple(campaign.countries),
        # A campaign's letters are signed off country by country: the shared texts
        # have no sign-off of their own.
        approval_states=campaign_approvals(campaign),
    )
    return build_review(campaign.shared, inputs), campaign.shared
