"""The content folder as the server sees it: read once per change, kept warm in memory.

Every page asks for a :class:`Snapshot`; it is made again only when a file it depends on
changed (the content files by their bytes; the catalogs, the regulator file and the
letter's templates by their modification time). A watcher on the folder counts changes,
so that open pages learn within a fraction of a second that they should refresh.

A campaign folder is read as ``dhpc build`` reads it (:func:`load_campaign`), its
country files included; a page shows one country's national version at a time.
"""

from __future__ import annotations

import asyncio
import contextlib
import hashlib
import logging
import threading
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from pathlib import Path

import jinja2

from dhpc_gen.build import LETTER_TEMPLATES, unprintable_problems
from dhpc_gen.content.campaign import COUNTRIES_DIR, Campaign, load_campaign
from dhpc_gen.content.loader import consistency_problems, registry_problems
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import ContentError, DhpcError, Problem
from dhpc_gen.render.renderer import warm_renderer
from dhpc_gen.resources import LOCALES_DIR, REGULATORS_DIR, TEMPLATES_DIR
from dhpc_gen.review.campaign import campaign_termbase, check_campaign
from dhpc_gen.review.checks import run_checks
from dhpc_gen.review.findings import Finding
from dhpc_gen.review.termbase import termbase_for

logger = logging.getLogger(__name__)

WATCHED_SUFFIXES = (".yaml", ".yml")
"""The content and the termbase. Comments and approvals are read on each page load."""


def error_message(exc: DhpcError) -> str:
    """The words ``dhpc build`` prints for this error."""
    return f"Error: {exc}"


@dataclass(frozen=True)
class Snapshot:
    """One version of the content folder, checked."""

    stamp: str
    dhpc: Dhpc | None
    error: str | None
    """The content cannot be read: the message ``dhpc build`` gives."""
    build_error: str | None
    """The content reads but the letters cannot be built (``dhpc build``'s message)."""
    findings: tuple[Finding, ...] = ()
    campaign: Campaign | None = None
    """A campaign of several countries; ``dhpc`` is then its shared texts (None: a folder
    of one country, ``dhpc``)."""

    @property
    def languages(self) -> tuple[str, ...]:
        return () if self.dhpc is None else tuple(self.dhpc.meta.languages)

    def language_order(self) -> tuple[str, ...]:
        """The source language first, then the others as ``dhpc.yaml`` lists them."""
        return () if self.dhpc is None else language_order(self.dhpc)

    @property
    def countries(self) -> tuple[str, ...]:
        """A campaign's countries, as ``dhpc.yaml`` lists them (none for a folder of one)."""
        return () if self.campaign is None else tuple(self.campaign.countries)

    def national(self, country: str | None) -> Dhpc | None:
        """What a page shows: the folder's DHPC, or one country's version of a campaign
        (the first country's when ``country`` is none of them)."""
        if self.campaign is None:
            return self.dhpc
        code = (country or "").upper()
        if code not in self.campaign.nationals:
            code = next(iter(self.campaign.countries))
        return self.campaign.nationals[code]

    def findings_of(self, dhpc: Dhpc) -> tuple[Finding, ...]:
        """The findings of ``dhpc``: all of a folder's, or those of one country's letters
        (its shared texts' and its own)."""
        if self.campaign is None or not dhpc.in_campaign:
            return self.findings
        country = dhpc.meta.country
        return tuple(
            f
            for f in self.findings
            if f.country in ("", country) and (f.language in dhpc.texts or not f.language)
        )


def language_order(dhpc: Dhpc) -> tuple[str, ...]:
    """The source language first (where it is sent), then the others as listed."""
    source = dhpc.meta.source_language
    languages = dhpc.meta.languages
    return ((source,) if source in languages else ()) + tuple(x for x in languages if x != source)


def default_language(dhpc: Dhpc) -> str:
    """The language a page opens with: the first translation, else the source language."""
    order = language_order(dhpc)
    return next((x for x in order if x != dhpc.meta.source_language), order[0] if order else "")


@dataclass
class Workspace:
    """The content folder ``directory``, and the outputs under ``out_root``."""

    directory: Path
    out_root: Path = Path("output")
    version: int = 0
    """Counts the changes the watcher saw; pages compare it with theirs."""
    _snapshot: Snapshot | None = None
    _lock: threading.Lock = field(default_factory=threading.Lock)
    _cache: dict[tuple[str, str], object] = field(default_factory=dict)
    _changed: asyncio.Condition | None = None
    _stop: asyncio.Event | None = None
    closing: Callable[[], bool] = lambda: False
    """True once the server is shutting down (Ctrl-C): open event streams then end."""

    # --- what the pages read -------------------------------------------------------------

    def stamp(self) -> str:
        """A digest of everything a page depends on; it changes when any of it does."""
        digest = hashlib.sha256()
        try:
            entries = sorted(self.directory.iterdir())
        except OSError:
            entries = []
        countries = self.directory / COUNTRIES_DIR
        if countries.is_dir():  # a campaign's national facts
            with contextlib.suppress(OSError):
                entries += sorted(countries.iterdir())
        for path in entries:
            if path.suffix in WATCHED_SUFFIXES and path.is_file():
                digest.update(self._name(path).encode() + b"\0")
                try:
                    digest.update(path.read_bytes())
                except OSError:
                    digest.update(b"unreadable")
        shared = [TEMPLATES_DIR / name for name in LETTER_TEMPLATES]
        shared += sorted(LOCALES_DIR.glob("*/LC_MESSAGES/messages.po"))
        shared += sorted(REGULATORS_DIR.glob("*.yaml"))
        for path in shared:
            try:
                digest.update(f"{path}:{path.stat().st_mtime_ns}".encode())
            except OSError:
                digest.update(f"{path}:missing".encode())
        return digest.hexdigest()

    def _name(self, path: Path) -> str:
        return path.name if path.parent == self.directory else f"{COUNTRIES_DIR}/{path.name}"

    def snapshot(self) -> Snapshot:
        """The current version, checked; made again only after a change."""
        stamp = self.stamp()
        with self._lock:
            if self._snapshot is not None and self._snapshot.stamp == stamp:
                return self._snapshot
            snapshot = self._read(stamp)
            self._snapshot = snapshot
            self._cache = {key: value for key, value in self._cache.items() if key[0] == stamp}
            return snapshot

    def _read(self, stamp: str) -> Snapshot:
        try:
            campaign = load_campaign(self.directory)
        except DhpcError as exc:
            return Snapshot(stamp, None, error_message(exc), None)
        if not campaign.single:
            return self._read_campaign(stamp, campaign)
        dhpc = campaign.shared
        build_error = None
        problems = consistency_problems(dhpc) + registry_problems(dhpc)
        if problems:
            build_error = error_message(ContentError(problems))
        try:
            findings = run_checks(dhpc, termbase=termbase_for(dhpc, ()))
        except DhpcError as exc:  # an invalid terms.yaml stops the checks, as in dhpc check
            return Snapshot(stamp, dhpc, error_message(exc), build_error)
        return Snapshot(stamp, dhpc, None, build_error, tuple(findings))

    def _read_campaign(self, stamp: str, campaign: Campaign) -> Snapshot:
        """A campaign: checked as ``dhpc check`` checks it, each shared text once."""
        problems: list[Problem] = []
        for national in campaign.nationals.values():
            problems += [p for p in unprintable_problems(national) if p not in problems]
        build_error = error_message(ContentError(problems)) if problems else None
        try:
            findings = check_campaign(campaign, termbase=campaign_termbase(campaign))
        except DhpcError as exc:
            return Snapshot(stamp, campaign.shared, error_message(exc), build_error, (), campaign)
        return Snapshot(stamp, campaign.shared, None, build_error, tuple(findings), campaign)

    def cached(self, snapshot: Snapshot, key: str, make: Callable[[], object]) -> object:
        """``make()`` once per version of the folder (a letter's HTML, the review rows)."""
        with self._lock:
            if (snapshot.stamp, key) in self._cache:
                return self._cache[(snapshot.stamp, key)]
        value = make()
        with self._lock:
            self._cache[(snapshot.stamp, key)] = value
        return value

    def render_letter(self, render: Callable[[jinja2.Environment], str]) -> str:
        """Run ``render`` with the process's warm letter renderer, as ``dhpc build`` renders
        (one render at a time: gettext is installed into the environment for each letter)."""
        return warm_renderer().with_environment(render)

    # --- the watcher ---------------------------------------------------------------------

    async def watch(self) -> None:
        """Count every change of a content file until :meth:`stop` (runs as a task)."""
        from watchfiles import awatch

        self._changed = asyncio.Condition()
        self._stop = asyncio.Event()

        def wanted(_change: object, path: str) -> bool:
            return path.endswith(WATCHED_SUFFIXES)

        folders = [self.directory]
        if (self.directory / COUNTRIES_DIR).is_dir():
            folders.append(self.directory / COUNTRIES_DIR)
        try:
            async for _changes in awatch(
                *folders,
                watch_filter=wanted,
                stop_event=self._stop,
                recursive=False,
                debounce=400,
                step=30,
            ):
                await self.bump()
        except (OSError, RuntimeError) as exc:  # the folder went away: pages still work
            logger.warning("no longer watching %s: %s", self.directory, exc)

    async def bump(self) -> None:
        self.version += 1
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()

    async def wait_for_change(self, seen: int, timeout: float) -> int:
        """The version once it differs from ``seen``, or after ``timeout`` seconds."""
        if self._changed is None or self.version != seen:
            return self.version
        async with self._changed:
            with contextlib.suppress(TimeoutError):
                await asyncio.wait_for(self._changed.wait(), timeout)
        return self.version

    @property
    def stopping(self) -> bool:
        return (self._stop is not None and self._stop.is_set()) or self.closing()

    async def stop(self) -> None:
        if self._stop is not None:
            self._stop.set()
        if self._changed is not None:
            async with self._changed:
                self._changed.notify_all()


def field_languages(order: Sequence[str], requested: Sequence[str]) -> tuple[str, ...]:
    """The languages asked for among ``order``, in that order; all when none is asked."""
    chosen = tuple(x for x in order if x in requested)
    return chosen or tuple(order)
