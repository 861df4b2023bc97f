"""``dhpc build`` of a campaign: every country × language, in parallel, one manifest per country.

Outputs of a campaign of several countries::

    <out>/<id>/manifest.json                 the campaign: each country's manifest, hashed
    <out>/<id>/<CC>/<id>_<CC>_<lang>.pdf     one letter per country and language
    <out>/<id>/<CC>/manifest.json            inputs and outputs of that country

A campaign of one (a folder of the single-country format) keeps ``<out>/<id>/``
exactly as :func:`dhpc_gen.build.build` writes it.

The letters are rendered in worker processes forked from this one once it has loaded
what every letter needs (:func:`_warm_up`), so they start with WeasyPrint, the fonts,
the compiled template and the parsed content loaded. The workers ask for one letter at
a time (:class:`Schedule`): a worker keeps to the languages it has begun, loading a
hyphenation dictionary, catalog and locale data once, and the most work is given out
first. Rendering is deterministic, so the bytes are those of a build one letter after
another, whichever worker renders which letter. Every national version is checked
before a letter is laid out; a country's files are staged as soon as its letters are
back, while the workers render the others, and replace the old ones only when all are
written.
"""

from __future__ import annotations

import contextlib
import gc
import logging
import multiprocessing
import multiprocessing.process
import os
import pickle
import signal
import time
import traceback
from collections.abc import Callable, Generator, Iterator, Mapping, Sequence
from dataclasses import dataclass
from multiprocessing.connection import Connection, wait
from pathlib import Path
from typing import TYPE_CHECKING

from dhpc_gen.build import (
    MANIFEST,
    BuildResult,
    BuiltLetter,
    Signing,
    built_letter,
    expected_manifest,
    letter_layout,
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
from dhpc_gen.errors import ContentError, DhpcError, Problem, RenderError, UsageError
from dhpc_gen.fsutil import OutputSet, inside, safe_name, sha256_bytes

if TYPE_CHECKING:
    from dhpc_gen.render.prefork import LayoutServer, LetterLayout

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


@dataclass(frozen=True)
class _Work:
    """What the workers render from: made before they are forked, inherited, never pickled."""

    nationals: dict[str, Dhpc]
    address_sources: tuple[str, ...] | None
    tversion: str

    def render(self, task: _Task) -> BuiltLetter:
        country, language = task
        return render_letter(
            self.nationals[country],
            language,
            address_sources=self.address_sources,
            tversion=self.tversion,
        )

    def layout(self, task: _Task) -> LetterLayout:
        country, language = task
        return letter_layout(
            self.nationals[country],
            language,
            address_sources=self.address_sources,
            tversion=self.tversion,
        )

    def letter_name(self, task: _Task) -> str:
        country, language = task
        if self.nationals[country].in_campaign:
            return f"the {language} letter of {country}"
        return f"the {language} letter"


@dataclass(frozen=True)
class LetterTiming:
    """When a worker rendered a letter (``time.perf_counter()``, the same clock in every
    process): logged at DEBUG level with ``extra={"letter_timing": ...}``."""

    country: str
    language: str
    worker: int
    """The worker's process id (the build's own for a build without workers)."""
    started: float
    finished: float
    received: float
    """When the build had the letter back."""


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
    """Each country with its letters (in plan order), as soon as the last of them is rendered.

    Every national version is checked first, so a content problem anywhere stops the
    build before a letter is laid out and is reported with all the others. A letter that
    fails to render stops the build with an error that names it.
    """
    from dhpc_gen.render.fonts import glyph_problems

    problems: list[Problem] = []
    for plan in plans:
        problems += [p for p in unprintable_problems(plan.dhpc) if p not in problems]
    # The characters of each file once, however many countries share it.
    files = dict.fromkeys(path for plan in plans for path in plan.dhpc.files)
    problems += glyph_problems([path for path in files if not _plainly_printable(path)])
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


def _plainly_printable(path: Path) -> bool:
    """Whether every character of the file prints and it has no YAML escape (``"\\u2011"``
    could stand for any character): then :func:`glyph_problems` would find nothing there,
    and it need not parse the file again to say where."""
    from dhpc_gen.render.fonts import prints_every_character

    try:
        text = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError):
        return False
    return "\\" not in text and prints_every_character(text)


def _rendered(work: _Work, tasks: list[_Task], jobs: int) -> Iterator[tuple[_Task, BuiltLetter]]:
    from dhpc_gen.render.prefork import running_server

    server = running_server()
    if server is not None:
        yield from _laid_out_by(server, work, tasks)
        return
    if jobs <= 1 or os.name != "posix":
        for task in tasks:
            started = time.perf_counter()
            letter = _render_here(work, task)
            _log_timing(task, os.getpid(), started, time.perf_counter())
            yield task, letter
        return
    yield from _WorkerPool(work, jobs).rendered(plan_schedule(work, tasks))


def _laid_out_by(
    server: LayoutServer, work: _Work, tasks: list[_Task]
) -> Iterator[tuple[_Task, BuiltLetter]]:
    """Make each letter's HTML here and have the layout process lay them out, a letter per
    free slot; each letter as soon as it is back."""
    from dhpc_gen.render.prefork import LaidOut, LayoutFailed

    waiting = iter(tasks)
    busy: dict[int, tuple[_Task, LetterLayout]] = {}

    def give(slot: int) -> None:
        task = next(waiting, None)
        if task is None:
            return
        try:
            layout = work.layout(task)
        except DhpcError as exc:
            raise _letter_error(work, task, str(exc), exc.exit_code) from None
        except Exception as exc:
            exc.add_note(f"while rendering {work.letter_name(task)}")
            raise
        busy[slot] = (task, layout)
        server.send(slot, layout)

    for slot in range(server.slots):
        give(slot)
    while busy:
        message = server.receive()
        if isinstance(message, LaidOut):
            task, layout = busy.pop(message.slot)
            letter = built_letter(work.nationals[task[0]], layout, message.pdf, message.pages)
            give(message.slot)  # the next letter first: laid out while this one is written
            _log_timing(task, message.process, message.started, message.finished)
            yield task, letter
            continue
        slot = message.slot if message.slot in busy else next(iter(busy))
        task, _ = busy[slot]
        if isinstance(message, LayoutFailed):
            raise _WorkerPool(work, 1)._error(
                _Failed(task, message.message, message.exit_code, message.error, message.trace)
            )
        raise RenderError(
            f"{work.letter_name(task)}: the process rendering it stopped "
            f"(exit code {message.exit_code})"
        )


def _render_here(work: _Work, task: _Task) -> BuiltLetter:
    """Render in this process; an error names the letter, as one from a worker does."""
    try:
        return work.render(task)
    except DhpcError as exc:
        raise _letter_error(work, task, str(exc), exc.exit_code) from None
    except Exception as exc:
        exc.add_note(f"while rendering {work.letter_name(task)}")
        raise


def _letter_error(work: _Work, task: _Task, message: str, exit_code: int) -> RenderError:
    error = RenderError(f"{work.letter_name(task)}: {message}")
    error.exit_code = exit_code
    return error


def _log_timing(task: _Task, worker: int, started: float, finished: float) -> None:
    timing = LetterTiming(*task, worker, started, finished, time.perf_counter())
    logger.debug(
        "%s %s rendered in %.2f s (process %d)",
        *task,
        finished - started,
        worker,
        extra={"letter_timing": timing},
    )


# --- scheduling ---------------------------------------------------------------------------

_DICTIONARY_BYTES_PER_LETTER = 190_000
"""Bytes of a hyphenation dictionary Pyphen reads in the time one letter is laid out
(measured: a letter of the example takes 0.1 s of CPU, German's 1.1 MB dictionary 0.65 s)."""

_LANGUAGE_SETUP = 0.2
"""A language's catalog and locale data, in letters: loaded by each process rendering it."""

_TEXT_CHARACTERS = 2000
"""The length of a language's text (as JSON) in a letter of the example campaign."""


def letter_cost(dhpc: Dhpc, language: str) -> float:
    """Roughly how long a letter takes to lay out, in letters of the example campaign.

    Half of it is the same for every letter (the boilerplate, the PDF and its fonts), half
    grows with the length of the letter's text.
    """
    text = dhpc.texts.get(language)
    size = len(text.model_dump_json()) if text is not None else _TEXT_CHARACTERS
    return 0.5 + 0.5 * size / _TEXT_CHARACTERS


def language_cost(language: str) -> float:
    """Roughly what a process pays to start on ``language``, in letters."""
    from dhpc_gen.render.hyphenation import dictionary_size

    return _LANGUAGE_SETUP + dictionary_size(language) / _DICTIONARY_BYTES_PER_LETTER


class Schedule:
    """Which letter a free worker renders next; the workers ask one letter at a time.

    A worker keeps to the languages it has begun, whose hyphenation dictionary, catalog
    and locale data it has loaded (German's dictionary takes as long as six letters). A
    worker that has none left begins the language with the most work that no worker has
    begun, the longest first, so that what is left at the end is short. When every
    language is begun, it takes the last letter of the language with the most work left
    if starting on that language costs it less than that work: the other worker would
    take longer to get there. Otherwise it stops.

    The letters' bytes do not depend on where they are rendered; only the time does.
    """

    def __init__(self, costs: Mapping[_Task, float], language_costs: Mapping[str, float]) -> None:
        self._cost = dict(costs)
        self._load = dict(language_costs)
        self._left: dict[str, list[_Task]] = {}
        # Longest first within a language (stable: plan order among equals).
        for task in sorted(costs, key=lambda task: -costs[task]):
            self._left.setdefault(task[1], []).append(task)
        self._begun: dict[int, set[str]] = {}

    def __len__(self) -> int:
        return sum(len(tasks) for tasks in self._left.values())

    def _work_left(self, language: str) -> float:
        return sum(self._cost[task] for task in self._left[language])

    def next_for(self, worker: int) -> _Task | None:
        """The next letter for ``worker``, or None: it has nothing worth doing any more."""
        mine = self._begun.setdefault(worker, set())
        open_languages = [language for language, tasks in self._left.items() if tasks]
        own = [language for language in open_languages if language in mine]
        if own:
            return self._left[max(own, key=self._work_left)].pop(0)
        begun = {language for languages in self._begun.values() for language in languages}
        fresh = [language for language in open_languages if language not in begun]
        if fresh:
            language = max(fresh, key=lambda lang: self._load[lang] + self._work_left(lang))
            mine.add(language)
            return self._left[language].pop(0)
        worth = [
            language
            for language in open_languages
            if self._load[language] + self._cost[self._left[language][-1]]
            < self._work_left(language)
        ]
        if not worth:
            return None
        language = max(worth, key=self._work_left)
        mine.add(language)
        return self._left[language].pop()


def plan_schedule(work: _Work, tasks: Sequence[_Task]) -> Schedule:
    """The schedule of ``tasks``, by the estimated cost of each letter and language."""
    costs = {task: letter_cost(work.nationals[task[0]], task[1]) for task in tasks}
    languages = {language: language_cost(language) for _, language in tasks}
    return Schedule(costs, languages)


# --- workers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Rendered:
    task: _Task
    letter: BuiltLetter
    started: float
    finished: float


@dataclass(frozen=True)
class _Failed:
    task: _Task
    message: str
    exit_code: int | None
    """A :class:`DhpcError`'s exit code; None: an unexpected error (a bug)."""
    error: BaseException | None
    """The unexpected error itself, when it survives pickling."""
    trace: str


def _warm_up() -> None:
    """Load here, before the workers are forked, what every letter needs whatever its
    language: the workers inherit it instead of each loading it again.

    That is the letter template, compiled; Babel's root locale data; fontconfig's scan of
    the bundled fonts (into the cache every later configuration reads); and WeasyPrint's C
    types. Nothing is laid out: a throwaway document would cost more time here, before
    the workers start, than it saves in them. A language's own data (its hyphenation
    dictionary, catalog and locale data) is loaded by the workers that render it.
    """
    from babel.localedata import load

    from dhpc_gen.render.letter import LETTER_TEMPLATE, letter_environment
    from dhpc_gen.render.prefork import warm_up_layout

    letter_environment().get_template(LETTER_TEMPLATE)
    load("root")
    warm_up_layout()


def _serve(work: _Work, connection: Connection) -> None:
    """A worker: render each letter it is sent, until it is sent None."""
    # Ctrl-C reaches every process of the terminal: the build stops the workers itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    while (task := connection.recv()) is not None:
        started = time.perf_counter()
        try:
            letter = work.render(task)
        except DhpcError as exc:
            connection.send(_Failed(task, str(exc), exc.exit_code, None, ""))
        except Exception as exc:
            trace = "".join(traceback.format_exception(exc))
            try:
                error: BaseException | None = pickle.loads(pickle.dumps(exc))
            except Exception:
                error = None
            connection.send(_Failed(task, f"{type(exc).__name__}: {exc}", None, error, trace))
        else:
            connection.send(_Rendered(task, letter, started, time.perf_counter()))


@dataclass
class _Worker:
    process: multiprocessing.process.BaseProcess
    connection: Connection
    task: _Task | None = None


class _WorkerPool:
    """Processes forked from this one that render the letters a :class:`Schedule` gives."""

    def __init__(self, work: _Work, jobs: int) -> None:
        self.work = work
        self.jobs = jobs

    def rendered(self, schedule: Schedule) -> Iterator[tuple[_Task, BuiltLetter]]:
        """Each letter as soon as a worker has rendered it; the workers stop at the end,
        on an error, or when the caller stops asking."""
        started = time.perf_counter()
        _warm_up()
        warm = time.perf_counter()
        workers = self._start(min(self.jobs, len(schedule)))
        logger.debug(
            "warmed up in %.2f s, forked %d workers in %.2f s",
            warm - started,
            len(workers),
            time.perf_counter() - warm,
        )
        finished = False
        try:
            busy = {worker.connection: worker for worker in workers if self._give(worker, schedule)}
            while busy:
                for connection in wait(list(busy)):
                    worker = busy[connection]  # type: ignore[index]
                    result = self._receive(worker)
                    # The next letter first: the worker renders it while this one is written.
                    if not self._give(worker, schedule):
                        del busy[connection]  # type: ignore[arg-type]
                    _log_timing(
                        result.task, worker.process.pid or 0, result.started, result.finished
                    )
                    yield result.task, result.letter
            finished = True
        finally:
            self._stop(workers, finished)

    def _start(self, count: int) -> list[_Worker]:
        context = multiprocessing.get_context("fork")
        workers = []
        # What the workers inherit stays shared with this process: no collection in a
        # worker writes to (and so copies) the pages of the objects made before the fork.
        gc.freeze()
        try:
            for number in range(count):
                mine, theirs = context.Pipe()
                process = context.Process(
                    target=_serve,
                    args=(self.work, theirs),
                    name=f"dhpc-render-{number}",
                    daemon=True,
                )
                process.start()
                theirs.close()
                workers.append(_Worker(process, mine))
        except BaseException:
            self._stop(workers, False)
            raise
        finally:
            gc.unfreeze()
        return workers

    def _give(self, worker: _Worker, schedule: Schedule) -> bool:
        worker.task = schedule.next_for(id(worker))
        if worker.task is None:
            return False
        try:
            worker.connection.send(worker.task)
        except OSError:
            raise self._stopped(worker) from None
        return True

    def _stopped(self, worker: _Worker) -> RenderError:
        assert worker.task is not None
        worker.process.join(1)
        return RenderError(
            f"{self.work.letter_name(worker.task)}: the process rendering it stopped "
            f"(exit code {worker.process.exitcode})"
        )

    def _receive(self, worker: _Worker) -> _Rendered:
        assert worker.task is not None
        try:
            result = worker.connection.recv()
        except (EOFError, OSError):
            raise self._stopped(worker) from None
        if isinstance(result, _Failed):
            raise self._error(result)
        assert isinstance(result, _Rendered)
        return result

    def _error(self, failed: _Failed) -> BaseException:
        if failed.exit_code is not None:
            return _letter_error(self.work, failed.task, failed.message, failed.exit_code)
        error = failed.error or RuntimeError(failed.message)
        error.add_note(f"while rendering {self.work.letter_name(failed.task)}, in a worker:")
        error.add_note(failed.trace)
        return error

    @staticmethod
    def _stop(workers: Sequence[_Worker], finished: bool) -> None:
        """Let idle workers end; on an error or when stopped early, end them at once."""
        for worker in workers:
            if finished:
                with contextlib.suppress(OSError):
                    worker.connection.send(None)
            else:
                worker.process.terminate()
        for worker in workers:
            worker.process.join()
            worker.connection.close()


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
    # Each country is compared as soon as its letters are rendered, while the workers
    # render the others; the names are reported in plan order.
    by_country: dict[str, list[str]] = {}
    expected: dict[str, str] = {}
    rendered = iter_rendered(plans, address_sources=address_sources, jobs=jobs)
    with contextlib.closing(rendered):
        for plan, letters in rendered:
            country = plan.dhpc.meta.country
            by_country[country] = stale_outputs(plan.dhpc, out_root, letters, address_sources)
            manifest = expected_manifest(plan.dhpc, out_root, letters, address_sources)
            expected[country] = manifest_text(manifest)
    stale = [line for plan in plans for line in by_country[plan.dhpc.meta.country]]
    if not campaign.single:
        out_dir = out_root / campaign.id
        path = out_dir / MANIFEST
        want = manifest_text(campaign_manifest(campaign, out_dir, expected))
        if not path.is_file():
            stale.append(f"{path}: missing")
        elif path.read_text(encoding="utf-8") != want:
            stale.append(f"{path}: differs from what the current inputs produce")
    return stale
