"""``dhpc build`` of a campaign: every country × language, in parallel, one manifest per country.

Outputs of a campaign of several countries::

    <out>/<id>/manifest.json                 the campaign: each country's manifest, hashed
    <out>/<id>/<CC>/<id>_<CC>_<lang>.pdf     one letter per country and language
    <out>/<id>/<CC>/manifest.json            inputs and outputs of that country

A campaign of one (a folder of the single-country format) keeps ``<out>/<id>/``
exactly as :func:`dhpc_gen.build.build` writes it.

The letters are rendered in worker processes forked from this one, so they start with
WeasyPrint and the parsed content loaded; a worker renders a language's letters
together, loading its hyphenation dictionary, catalog and locale data once. Rendering is
deterministic, so the bytes are those of a build one letter after another. Every
national version is checked before a letter is laid out; the files are staged as the
letters come and replace the old ones only when all are written.
"""

from __future__ import annotations

import contextlib
import logging
import math
import multiprocessing
import os
from collections.abc import Callable, Generator, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path

from dhpc_gen.build import (
    MANIFEST,
    BuildResult,
    BuiltLetter,
    Signing,
    expected_manifest,
    manifest_text,
    render_letter,
    selected_languages,
    stale_outputs,
    template_version,
    unprintable_problems,
    write_letters,
)
from dhpc_gen.content.campaign import Campaign
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import ContentError, Problem, UsageError
from dhpc_gen.fsutil import OutputSet, inside, safe_name, sha256_bytes

logger = logging.getLogger(__name__)

Progress = Callable[[str, str], None]
"""Called with (country, language) as each letter is done."""


@dataclass(frozen=True)
class CountryPlan:
    """One national version and the languages of it to build."""

    dhpc: Dhpc
    languages: tuple[str, ...]


@dataclass(frozen=True)
class CampaignBuild:
    out_dir: Path
    """``<out>/<id>``."""
    countries: tuple[BuildResult, ...]
    manifest: dict[str, object] | None
    """The campaign manifest (``None`` for a campaign of one)."""
    written: tuple[Path, ...]


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def plan_build(
    campaign: Campaign, countries: Sequence[str] = (), languages: Sequence[str] = ()
) -> list[CountryPlan]:
    """The letters ``--country`` and ``--lang`` select, refusing names the campaign lacks."""
    chosen = campaign.select(countries)
    if campaign.single:
        return [CountryPlan(dhpc, tuple(selected_languages(dhpc, languages))) for dhpc in chosen]
    wanted = list(dict.fromkeys(languages))
    sent = {lang for dhpc in chosen for lang in dhpc.meta.languages}
    unknown = [lang for lang in wanted if lang not in sent]
    if unknown:
        where = "; ".join(
            f"{dhpc.meta.country} sends in {', '.join(dhpc.meta.languages)}" for dhpc in chosen
        )
        raise UsageError(f"--lang {', '.join(unknown)}: {campaign.id} is not sent in it: {where}")
    plans = []
    for dhpc in chosen:
        mine = tuple(lang for lang in dhpc.meta.languages if not wanted or lang in wanted)
        if mine:
            plans.append(CountryPlan(dhpc, mine))
    return plans


# --- rendering ----------------------------------------------------------------------------

_Task = tuple[str, str]
"""(country, language): the unit of work a worker renders."""

_shared: _Work | None = None
"""What forked workers render from: set before the pool is made, inherited, never pickled."""


@dataclass(frozen=True)
class _Work:
    nationals: dict[str, Dhpc]
    address_sources: tuple[str, ...] | None
    tversion: str


def _render_task(task: _Task) -> tuple[_Task, BuiltLetter]:
    assert _shared is not None, "the worker was not forked from a campaign build"
    country, language = task
    letter = render_letter(
        _shared.nationals[country],
        language,
        address_sources=_shared.address_sources,
        tversion=_shared.tversion,
    )
    return task, letter


def _render_chunk(chunk: list[_Task]) -> list[tuple[_Task, BuiltLetter]]:
    return [_render_task(task) for task in chunk]


def chunks_by_language(tasks: Sequence[_Task], jobs: int) -> list[list[_Task]]:
    """The letters grouped by language, the largest groups first.

    A worker renders the letters of a language together, so that its hyphenation
    dictionary (German takes a second to load), catalog and locale data are loaded by one
    process, not by all. A language with many letters is split so that every worker
    still has work.
    """
    by_language: dict[str, list[_Task]] = {}
    for task in tasks:
        by_language.setdefault(task[1], []).append(task)
    most = max(1, math.ceil(len(tasks) / (2 * jobs)))
    chunks = [
        group[start : start + most]
        for group in by_language.values()
        for start in range(0, len(group), most)
    ]
    chunks.sort(key=len, reverse=True)
    return chunks


def render_campaign(
    plans: Sequence[CountryPlan],
    *,
    address_sources: Sequence[str] | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> dict[str, list[BuiltLetter]]:
    """Render every planned letter in memory (country → letters, in plan order)."""
    rendered = iter_rendered(plans, address_sources=address_sources, jobs=jobs, progress=progress)
    with contextlib.closing(rendered):
        done = {plan.dhpc.meta.country: letters for plan, letters in rendered}
    return {plan.dhpc.meta.country: done[plan.dhpc.meta.country] for plan in plans}


def iter_rendered(
    plans: Sequence[CountryPlan],
    *,
    address_sources: Sequence[str] | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
) -> Generator[tuple[CountryPlan, list[BuiltLetter]], None, None]:
    """Each country with its letters, as soon as the last of them is rendered.

    Every national version is checked first, so a content problem anywhere stops the
    build before a letter is laid out and is reported with all the others.
    """
    from dhpc_gen.render.fonts import glyph_problems

    problems: list[Problem] = []
    for plan in plans:
        problems += [p for p in unprintable_problems(plan.dhpc) if p not in problems]
    # The characters of each file once, however many countries share it.
    files = dict.fromkeys(path for plan in plans for path in plan.dhpc.files)
    problems += glyph_problems(list(files))
    if problems:
        raise ContentError(problems)
    tasks = [(plan.dhpc.meta.country, lang) for plan in plans for lang in plan.languages]
    work = _Work(
        {plan.dhpc.meta.country: plan.dhpc for plan in plans},
        tuple(address_sources) if address_sources is not None else None,
        template_version(),
    )
    jobs = min(jobs or default_jobs(), len(tasks))
    waiting = {plan.dhpc.meta.country: plan for plan in plans}
    done: dict[_Task, BuiltLetter] = {}
    for task, letter in _rendered(work, tasks, jobs):
        done[task] = letter
        if progress:
            progress(*task)
        plan = waiting[task[0]]
        if all((task[0], lang) in done for lang in plan.languages):
            del waiting[task[0]]
            yield plan, [done[(task[0], lang)] for lang in plan.languages]


def _rendered(work: _Work, tasks: list[_Task], jobs: int) -> Iterator[tuple[_Task, BuiltLetter]]:
    global _shared
    _shared = work
    try:
        if jobs <= 1 or os.name != "posix":
            yield from map(_render_task, tasks)
            return
        # Forked after the content is read and WeasyPrint imported: each worker starts
        # with them, and takes the next language's letters as soon as it is free.
        import dhpc_gen.render.pdf  # noqa: F401

        chunks = chunks_by_language(tasks, jobs)
        context = multiprocessing.get_context("fork")
        with context.Pool(min(jobs, len(chunks))) as pool:
            for done in pool.imap_unordered(_render_chunk, chunks):
                yield from done
    finally:
        _shared = None


# --- writing ------------------------------------------------------------------------------


def build_campaign(
    campaign: Campaign,
    out_root: Path,
    *,
    countries: Sequence[str] = (),
    languages: Sequence[str] = (),
    html: bool = False,
    address_sources: Sequence[str] | None = None,
    jobs: int | None = None,
    progress: Progress | None = None,
    signing: Signing | None = None,
) -> CampaignBuild:
    """Render the selected letters and write them, each country's manifest and the campaign's.

    ``signing`` signs each country's letters once they are rendered (``--sign``).

    The outputs are one :class:`OutputSet`: nothing replaces an old file unless every
    letter renders and every file is written; on any error, a full disk included, the
    folder stays as it was.
    """
    plans = plan_build(campaign, countries, languages)
    out_dir = inside(out_root, safe_name(campaign.id, "DHPC id"))
    # Every country's letters and manifests, and the campaign's, replace the old ones
    # together. A country's files are staged as soon as its letters are rendered, while
    # the workers render the others; a failure later discards them.
    rendered = iter_rendered(plans, address_sources=address_sources, jobs=jobs, progress=progress)
    # closing: on a failure while writing, the workers stop at once (they hold the cwd).
    with OutputSet(out_dir) as outputs, contextlib.closing(rendered):
        staged = {
            plan.dhpc.meta.country: write_letters(
                plan.dhpc,
                out_root,
                signing(plan.dhpc, letters) if signing is not None else letters,
                html=html,
                address_sources=address_sources,
                outputs=outputs,
            )
            for plan, letters in rendered
        }
        results = [staged[plan.dhpc.meta.country] for plan in plans]
        written = [path for result in results for path in result.written]
        manifest = None
        if not campaign.single:
            built = {
                plan.dhpc.meta.country: manifest_text(result.manifest)
                for plan, result in zip(plans, results, strict=True)
            }
            manifest = campaign_manifest(campaign, out_dir, built)
            outputs.write_text(out_dir / MANIFEST, manifest_text(manifest), last=True)
            written.append(out_dir / MANIFEST)
    return CampaignBuild(out_dir, tuple(results), manifest, tuple(written))


def campaign_manifest(
    campaign: Campaign, out_dir: Path, expected: dict[str, str] | None = None
) -> dict[str, object]:
    """The countries' manifests with their SHA-256: one file names the whole campaign's build.

    ``expected`` (country → manifest text) stands in for the files on disk (``--check``).
    Countries not built yet are left out.
    """
    entries = []
    for country in campaign.countries:
        text = (expected or {}).get(country)
        if text is None:
            path = out_dir / country / MANIFEST
            try:
                text = path.read_text(encoding="utf-8")
            except (OSError, UnicodeDecodeError):
                continue
        entries.append(
            {
                "country": country,
                "languages": list(campaign.countries[country]),
                "manifest": f"{country}/{MANIFEST}",
                "sha256": sha256_bytes(text.encode("utf-8")),
            }
        )
    return {
        "dhpc": campaign.id,
        "source_language": campaign.source_language,
        "countries": entries,
    }


def check_campaign(
    campaign: Campaign,
    out_root: Path,
    *,
    countries: Sequence[str] = (),
    languages: Sequence[str] = (),
    address_sources: Sequence[str] | None = None,
    jobs: int | None = None,
) -> list[str]:
    """Files in ``out_root`` that are not what the current inputs produce; writes nothing."""
    plans = plan_build(campaign, countries, languages)
    rendered = render_campaign(plans, address_sources=address_sources, jobs=jobs)
    stale = []
    expected: dict[str, str] = {}
    for plan in plans:
        letters = rendered[plan.dhpc.meta.country]
        stale += stale_outputs(plan.dhpc, out_root, letters, address_sources)
        manifest = expected_manifest(plan.dhpc, out_root, letters, address_sources)
        expected[plan.dhpc.meta.country] = manifest_text(manifest)
    if not campaign.single:
        out_dir = out_root / campaign.id
        path = out_dir / MANIFEST
        want = manifest_text(campaign_manifest(campaign, out_dir, expected))
        if not path.is_file():
            stale.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != want:
            stale.append(f"{path}: differs from what the current inputs produce")
    return stale
