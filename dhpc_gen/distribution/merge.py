"""``dhpc merge``: personalised letters and print files from a mailing list, at scale.

Each language's body is laid out once (WeasyPrint), with the first page's window left
blank. Every recipient's address, date and reference are then drawn straight into the
page content in one embedded font, measured beforehand: no layout engine runs per
letter. The print file of a language shares the body's content streams and fonts
between all its letters and is written as it goes; per-recipient files are assembled
from a template in worker processes. Recipients are streamed and sorted on disk, so
memory does not grow with the length of the mailing list.

Outputs below ``<out>/<id>/``:

- ``print/<id>_<lang>_print.pdf``: the letters of a language with a postal address,
  sorted for the mail house, each padded to an even number of pages;
- ``letters/<lang>/<recipient_id>.pdf`` (with ``per_recipient``): one file per recipient;
- ``print/print-manifest.csv``: per letter the print file and pages, the letter file and
  its SHA-256;
- ``print/rejects.csv``: recipients whose address cannot be printed, and why.

With ``only`` (``dhpc merge --only``, the postal fallback) just those recipients are merged;
the manifest keeps listing the per-recipient letters an earlier merge wrote to ``letters/``
(which it leaves as they are), so that ``dhpc send`` can still attach them.

All of them are written as one :class:`~dhpc_gen.fsutil.OutputSet`: a merge that fails
(a full disk, Ctrl-C) leaves the outputs of the previous merge exactly as they were.
"""

from __future__ import annotations

import contextlib
import csv
import hashlib
import logging
import multiprocessing
import os
from collections import Counter, deque
from collections.abc import Callable, Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from multiprocessing.pool import AsyncResult, Pool
from pathlib import Path
from typing import IO, Any

from dhpc_gen.addresses.recipients import (
    RECIPIENTS_FILE,
    Recipient,
    neutralise,
    read_recipients,
)
from dhpc_gen.approval.sent import record_versions
from dhpc_gen.approval.state import approval_states, refusal_message
from dhpc_gen.build import content_hash
from dhpc_gen.content.loader import consistency_problems
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.address_block import (
    AddressProblem,
    address_block,
    address_sha256,
    sort_key,
)
from dhpc_gen.distribution.letter_body import LetterBody, render_body
from dhpc_gen.distribution.letter_file import LetterFileTemplate, letter_file_template
from dhpc_gen.distribution.pdf_overlay import (
    EmbeddedFont,
    OverlayFont,
    embed_font,
    load_font,
    overlay_content,
)
from dhpc_gen.distribution.print_file import PrintFile
from dhpc_gen.distribution.recipient_sort import SortedRuns
from dhpc_gen.distribution.window import DEFAULT_WINDOW, WINDOWS, WindowLayout
from dhpc_gen.errors import ContentError, DhpcError, OutputError, display_path, os_error_reason
from dhpc_gen.fsutil import OutputSet, StagedFolder, safe_name
from dhpc_gen.i18n import long_date

logger = logging.getLogger(__name__)

PRINT_DIR = "print"
LETTERS_DIR = "letters"
MANIFEST_FILE = "print-manifest.csv"
REJECTS_FILE = "rejects.csv"
MANIFEST_COLUMNS = (
    "recipient_id",
    "language",
    "print_file",
    "first_page",
    "last_page",
    "letter_file",
    "letter_sha256",
    "content_sha256",
    "address_sha256",
)
"""``content_sha256`` names the version of the text merged, so that ``send`` never
attaches, and ``report`` never records, a letter of an older text as the current one;
``address_sha256`` the address block printed, so that ``send`` never attaches a letter
merged for someone else."""
REJECT_COLUMNS = ("recipient_id", "language", "reason")
BATCH = 200
"""Per-recipient letters handed to a worker at a time."""

Progress = Callable[[int, int], None]
"""Called with (letters done, letters in all) as the letters are written."""


class RejectedRecipients(DhpcError):
    """Some addresses cannot be printed; nothing but the rejects file was written."""

    def __init__(
        self,
        count: int,
        path: Path,
        examples: Sequence[str],
        reasons: Mapping[str, int] | None = None,
        window: str = "",
    ) -> None:
        shown = ", ".join(examples)
        more = f" and {count - len(examples)} more" if count > len(examples) else ""
        layout = (reasons or {}).get("layout", 0)
        if layout == count:
            why = (
                f"the date and reference line do not fit in the information block beside the "
                f"{window} window, whatever the address; choose a window that leaves it room "
                "(--window din5008-b, or LEFT,TOP,WIDTH,HEIGHT further left)"
            )
        else:
            why = (
                "Correct the address source and run mailing-list again, or merge with "
                "--leave-out-rejects to leave them out"
            )
            if layout:
                why += (
                    f" ({layout} of them because the date and reference line do not fit "
                    f"beside the {window} window)"
                )
        super().__init__(
            f"{count} recipient{'s' if count != 1 else ''} cannot be printed "
            f"({shown}{more}); the reasons are in {display_path(path)}. {why[0].upper()}{why[1:]}"
        )
        self.count = count
        self.path = path


ENVELOPE_GROUNDS: dict[str, tuple[float, float, float] | None] = {
    "black-on-yellow": (1.0, 0.85, 0.0),
    "black-on-white": None,
}
"""The ground of an envelope note in each of the registry's colour schemes (RGB)."""


@dataclass(frozen=True)
class EnvelopeNote:
    """The text a country's envelopes must carry, as it stands in the window."""

    text: str
    lines: tuple[str, ...]
    ground: tuple[float, float, float] | None


@dataclass
class LanguageResult:
    """What was written for one language."""

    language: str
    letters: int = 0
    """Letters in the print file."""
    pages: int = 0
    print_file: Path | None = None
    print_bytes: int = 0
    letter_files: int = 0
    without_postal_address: int = 0
    envelope: EnvelopeNote | None = None
    """The text the envelopes carry, printed in the window above each address."""


@dataclass(frozen=True)
class MergeResult:
    out_dir: Path
    languages: tuple[LanguageResult, ...]
    manifest: Path
    rejects: Path
    rejected: int
    read: int
    left_out: int = 0
    """Recipients the mailing list has but ``only`` did not select."""
    letters_removed: bool = False
    """A merge without ``--per-recipient`` removed the ``letters/`` of an earlier one."""
    smaller_type: int = 0
    """Letters whose address is set in smaller type to fit the window."""


@dataclass(frozen=True)
class _Letter:
    recipient_id: str
    lines: tuple[str, ...]
    postal: bool


@dataclass
class _Scan:
    """What the pass over the mailing list found."""

    read: int = 0
    rejected: int = 0
    reject_examples: list[str] = field(default_factory=list)
    characters: set[str] = field(default_factory=set)
    sources: set[str] = field(default_factory=set)
    without_postal: dict[str, int] = field(default_factory=dict)
    left_out: int = 0
    smaller_type: int = 0
    """Addresses set below the window's type size so that their widest line fits."""
    reasons: Counter[str] = field(default_factory=Counter)
    """Rejects by kind: ``address`` (the address source must change), ``layout`` (the
    window or the date block leaves no room, whatever the address), ``other``."""


def default_jobs() -> int:
    try:
        return max(1, len(os.sched_getaffinity(0)))
    except AttributeError:  # not on Linux
        return max(1, os.cpu_count() or 1)


def reference_line(dhpc: Dhpc, recipient_id: str) -> str:
    """The reference printed beside the address: which letter, to whom."""
    return f"{dhpc.id} · {recipient_id}"


def merge(
    dhpc: Dhpc,
    mailing: Path,
    out_root: Path,
    *,
    per_recipient: bool = False,
    window: WindowLayout = WINDOWS[DEFAULT_WINDOW],
    jobs: int | None = None,
    leave_out_rejects: bool = False,
    progress: Progress | None = None,
    only: frozenset[str] | None = None,
    require_signoff: bool = False,
) -> MergeResult:
    """Write the print files (and per-recipient letters) of ``dhpc`` for ``mailing``.

    Raises :class:`RejectedRecipients` (after writing only ``rejects.csv``) when an
    address cannot be printed, unless ``leave_out_rejects``. ``only``: merge just these
    recipient ids (print files only; letters already in ``letters/`` stay listed).
    ``require_signoff``: refuse, before writing anything, unless every language's
    current text is approved.
    """
    if only is not None and per_recipient:
        raise DhpcError(
            "a merge of some recipients only (--only) writes print files; it cannot write the "
            "per-recipient letters e-mail attaches (--per-recipient), which are everyone's"
        )
    refused = [s for s in approval_states(dhpc) if not s.approved]
    if require_signoff and refused:
        raise DhpcError(refusal_message(dhpc, refused))
    try:
        return _merge(
            dhpc, mailing, out_root, per_recipient, window, jobs, leave_out_rejects, progress, only
        )
    except OSError as exc:
        # The outputs themselves fail with their own message; this is the scratch space
        # the mailing list is sorted in.
        out_dir = out_root.joinpath(dhpc.id, *([dhpc.meta.country] if dhpc.in_campaign else []))
        raise OutputError(
            f"cannot write the merged letters in {display_path(out_dir)}: "
            f"{os_error_reason(exc)}; nothing was changed in {display_path(out_dir)}"
        ) from None


def _merge(
    dhpc: Dhpc,
    mailing: Path,
    out_root: Path,
    per_recipient: bool,
    window: WindowLayout,
    jobs: int | None,
    leave_out_rejects: bool,
    progress: Progress | None,
    only: frozenset[str] | None = None,
) -> MergeResult:
    jobs = jobs or default_jobs()
    out_dir = dhpc.output_dir(out_root)
    source = mailing / RECIPIENTS_FILE if mailing.is_dir() else mailing
    if not source.is_file():
        raise DhpcError(
            f"{source}: cannot read the mailing list: no such file; make it with "
            "dhpc mailing-list DIR, or name it with --mailing"
        )
    problems = consistency_problems(dhpc)
    if problems:
        raise ContentError(problems)
    record_versions(dhpc, out_dir)  # the distribution record names what was printed
    print_dir = out_dir / PRINT_DIR
    font = load_font()
    notes = envelope_notes(dhpc, window, font)
    pool: Pool | None = None
    # Print files, letters, manifest and rejects replace the old ones together, or, on
    # any failure, none does.
    with OutputSet(out_dir, private=True) as outputs:
        try:
            runs = SortedRuns(outputs.scratch("merge"))
            rejects_path = print_dir / REJECTS_FILE
            with outputs.open_text(rejects_path) as handle:
                scan = _scan(
                    dhpc,
                    mailing,
                    runs,
                    _CsvSink(handle, REJECT_COLUMNS),
                    font,
                    window,
                    per_recipient,
                    notes,
                    only,
                )
            layout_only = scan.rejected and scan.reasons["layout"] == scan.rejected
            if scan.rejected and (not leave_out_rejects or layout_only):
                outputs.commit()  # the rejects alone, for the user to correct
                raise RejectedRecipients(
                    scan.rejected, rejects_path, scan.reject_examples, scan.reasons, window.name
                )
            # The language with the most letters first: its body is laid out here while the
            # workers lay out the others, which are needed only once its letters are written.
            languages = sorted(runs.groups(), key=lambda lang: (-runs.count(lang), lang))
            if not languages:
                hint = ""
                if scan.without_postal and not per_recipient:
                    hint = "; recipients without a postal address need --per-recipient"
                if scan.rejected:
                    hint += f"; the reasons of the rejected are in {display_path(rejects_path)}"
                    outputs.commit()  # this run's rejects, never an earlier run's
                raise DhpcError(
                    f"{mailing}: no letter to write ({scan.read} recipients read, "
                    f"{scan.rejected} rejected{hint})"
                )
            sources = _used_sources(dhpc, scan.sources)
            laid_out, pool = _render_bodies(dhpc, languages, window, sources, jobs)
            logger.info("letter body of %s laid out", languages[0])
            embedded = embed_font(font, scan.characters)
            writer = _Writer(
                dhpc,
                out_dir,
                outputs,
                font,
                embedded,
                window,
                laid_out,
                per_recipient,
                pool,
                2 * jobs,
                progress,
                notes,
                _letters_listed(print_dir / MANIFEST_FILE) if only is not None else {},
                keep_letters=only is not None,
            )
            results = writer.write_all(runs, sum(runs.count(lang) for lang in languages))
            for result in results:
                result.without_postal_address = scan.without_postal.get(result.language, 0)
            return MergeResult(
                out_dir,
                tuple(results),
                print_dir / MANIFEST_FILE,
                rejects_path,
                scan.rejected,
                scan.read,
                scan.left_out,
                writer.letters_removed,
                scan.smaller_type,
            )
        finally:
            if pool is not None:
                pool.terminate()  # every task's result has been collected (or the run failed)


class _CsvSink:
    def __init__(self, handle: IO[str], columns: Sequence[str]) -> None:
        self._writer = csv.writer(handle, lineterminator="\n")
        self._writer.writerow(columns)

    def row(self, *values: object) -> None:
        self._writer.writerow(values)


def envelope_notes(dhpc: Dhpc, window: WindowLayout, font: OverlayFont) -> dict[str, EnvelopeNote]:
    """Language → the envelope note of ``dhpc``'s country in it (the registry's conventions)."""
    from dhpc_gen.regulators import registry

    rules = registry.conventions(dhpc.meta.country)
    notes = {}
    for language in dhpc.meta.languages:
        text = rules.envelope_in(language)
        if text is None:
            continue
        missing = font.unsupported(text)
        if missing:
            raise DhpcError(
                f"{display_path(registry.file_for(dhpc.meta.country))}: the envelope text in "
                f"{language} has characters the address font cannot print ({missing!r})"
            )
        lines = tuple(window.note_lines(font, text))
        notes[language] = EnvelopeNote(text, lines, ENVELOPE_GROUNDS[rules.envelope_colours])
    return notes


def _scan(
    dhpc: Dhpc,
    mailing: Path,
    runs: SortedRuns,
    rejects: _CsvSink,
    font: OverlayFont,
    window: WindowLayout,
    per_recipient: bool,
    notes: dict[str, EnvelopeNote],
    only: frozenset[str] | None = None,
) -> _Scan:
    """Read the mailing list once: format and measure every address, sort, reject."""
    scan = _Scan()
    for envelope in notes.values():
        for line in envelope.lines:
            scan.characters.update(line)
    home = dhpc.meta.country
    languages = tuple(dhpc.meta.languages)
    dates = {language: long_date(dhpc.meta.date, language, home) for language in languages}
    seen: set[str] = set()

    def reject(recipient: Recipient, reason: str, kind: str = "") -> None:
        scan.rejected += 1
        scan.reasons[kind or "address"] += 1
        if len(scan.reject_examples) < 5:
            scan.reject_examples.append(recipient.recipient_id)
        rejects.row(neutralise(recipient.recipient_id), neutralise(recipient.language), reason)

    for recipient in _recipients(mailing):
        scan.read += 1
        rid = recipient.recipient_id
        language = recipient.language
        if only is not None and rid not in only:
            scan.left_out += 1
            continue
        try:
            safe_name(rid, "recipient_id")
        except OutputError:
            reject(recipient, "recipient_id may hold only letters, digits, '.', '_' and '-'")
            continue
        if rid in seen:
            reject(recipient, "recipient_id appears more than once in the mailing list")
            continue
        seen.add(rid)
        if language not in languages:
            reject(
                recipient,
                f"{dhpc.id} has no text in language {language!r} (it has {', '.join(languages)})",
            )
            continue
        try:
            block = address_block(recipient, home=home, language=language, name_languages=languages)
        except AddressProblem as problem:
            reject(recipient, str(problem))
            continue
        if not block.postal and not per_recipient:
            scan.without_postal[language] = scan.without_postal.get(language, 0) + 1
            continue
        info = (dates[language], reference_line(dhpc, rid))
        note = notes[language].lines if language in notes else ()
        misfit = window.misfit(font, block.lines, info, note)
        if misfit:
            reject(recipient, misfit, "layout" if misfit.startswith("date/reference") else "")
            continue
        if window.address_size(font, block.lines) != window.font_size:
            scan.smaller_type += 1
        if not block.postal:
            scan.without_postal[language] = scan.without_postal.get(language, 0) + 1
        for line in (*block.lines, *info):
            scan.characters.update(line)
        scan.sources.update(s.strip() for s in recipient.sources.split(";") if s.strip())
        runs.add(
            language,
            sort_key(recipient, block, home=home),
            (rid, block.lines, block.postal),
        )
    logger.info("%d recipients read, %d rejected", scan.read, scan.rejected)
    return scan


def _recipients(mailing: Path) -> Iterator[Recipient]:
    """The rows of the mailing list; a file that is not UTF-8 CSV is an input error."""
    try:
        yield from read_recipients(mailing)
    except UnicodeDecodeError as exc:
        raise DhpcError(
            f"{mailing}: not UTF-8 at byte {exc.start}: write the mailing list with "
            "dhpc mailing-list, or save it as UTF-8"
        ) from None
    except csv.Error as exc:
        raise DhpcError(f"{mailing}: not a readable CSV file: {exc}") from None


def _used_sources(dhpc: Dhpc, used: set[str]) -> list[str] | None:
    """The address sources that gave recipients, in ``dhpc.yaml``'s order (None: all)."""
    if not used:
        return None
    known = [name for name in dhpc.meta.address_sources if name in used]
    return known + sorted(used - set(known))


def _render_one(
    dhpc: Dhpc, language: str, window: WindowLayout, sources: list[str] | None
) -> LetterBody:
    return render_body(dhpc, language, window, sources)


def _pool(processes: int) -> Pool:
    context = multiprocessing.get_context("fork" if os.name == "posix" else "spawn")
    return context.Pool(processes)


_Body = LetterBody | AsyncResult[LetterBody]
"""A body laid out, or being laid out by a worker."""


def _render_bodies(
    dhpc: Dhpc,
    languages: Sequence[str],
    window: WindowLayout,
    sources: list[str] | None,
    jobs: int,
) -> tuple[dict[str, _Body], Pool | None]:
    """Lay out each language's body once; returns them and the worker pool (jobs > 1).

    The first language is laid out here: that loads fonts and styles (half the time of
    a layout), and the workers forked afterwards inherit them warm. They lay out the
    other languages while this process writes the first language's letters, then write
    the per-recipient letters.
    """
    first, *others = languages
    bodies: dict[str, _Body] = {first: _render_one(dhpc, first, window, sources)}
    pool = _pool(jobs) if jobs > 1 else None
    for language in others:
        if pool is None:
            bodies[language] = _render_one(dhpc, language, window, sources)
        else:
            bodies[language] = pool.apply_async(_render_one, (dhpc, language, window, sources))
    return bodies, pool


def _write_letters(
    template: LetterFileTemplate, folder: StagedFolder, items: list[tuple[str, bytes]]
) -> list[str]:
    """Write the letters of one batch; returns their SHA-256 in the same order."""
    digests = []
    for recipient_id, overlay in items:
        data = template.letter(overlay, recipient_id)
        folder.write_file(f"{recipient_id}.pdf", data)
        digests.append(hashlib.sha256(data).hexdigest())
    return digests


@dataclass
class _Batch:
    language: str
    rows: list[tuple[str, str, int, int, str]]
    """recipient id, print file (relative), first page, last page (0, 0: not printed), and
    the SHA-256 of the address block."""
    result: AsyncResult[list[str]] | list[str] | None = None


class _Writer:
    """Writes the print files, the per-recipient letters and the manifest."""

    def __init__(
        self,
        dhpc: Dhpc,
        out_dir: Path,
        outputs: OutputSet,
        font: OverlayFont,
        embedded: EmbeddedFont,
        window: WindowLayout,
        bodies: dict[str, _Body],
        per_recipient: bool,
        pool: Pool | None,
        in_flight: int,
        progress: Progress | None,
        notes: dict[str, EnvelopeNote],
        letters_listed: dict[str, dict[str, str]] | None = None,
        *,
        keep_letters: bool = False,
    ) -> None:
        self.dhpc = dhpc
        self.keep_letters = keep_letters
        """``--only``: the letters in ``letters/`` stay, listed; else a merge without
        ``per_recipient`` removes them (its manifest lists none)."""
        self.letters_removed = False
        self.notes = notes
        self.content_sha256 = content_hash(dhpc)
        self.out_dir = out_dir
        self.outputs = outputs
        self.font = font
        self.embedded = embedded
        self.window = window
        self.bodies = bodies
        self.per_recipient = per_recipient
        self.pool = pool
        self.progress = progress
        self.done = 0
        self.total = 0
        self.letter_folders: dict[str, StagedFolder] = {}
        self.templates: dict[str, LetterFileTemplate] = {}
        self.pending: deque[_Batch] = deque()
        self.in_flight = in_flight
        """Batches handed to the workers before the oldest one's result is awaited."""
        self.letters_listed = dict(letters_listed or {})
        """recipient id → manifest row of a letter in ``letters/`` to keep listing (``only``)."""

    def write_all(self, runs: SortedRuns, total: int) -> list[LanguageResult]:
        self.total = total
        results = []
        print_dir = self.out_dir / PRINT_DIR
        with self.outputs.open_text(print_dir / MANIFEST_FILE, last=True) as handle:
            self.manifest = _CsvSink(handle, MANIFEST_COLUMNS)
            for language in self.bodies:
                results.append(self._language(language, runs.read(language)))
            self._drain(0)
            for row in self.letters_listed.values():
                # Not in this print run; the letter e-mail attaches stays listed.
                self.manifest.row(*("" if c in _PRINT_PLACE else row[c] for c in MANIFEST_COLUMNS))
        logger.info("%d letters written", self.done)
        self._remove_stale(results)
        return results

    def _language(self, language: str, letters: Iterator[tuple[Any, ...]]) -> LanguageResult:
        result = LanguageResult(language, envelope=self.notes.get(language))
        laid_out = self.bodies[language]
        body = laid_out if isinstance(laid_out, LetterBody) else laid_out.get()
        if self.per_recipient:
            self.templates[language] = letter_file_template(body, self.embedded)
            self.letter_folders[language] = self.outputs.stage_folder(
                self.out_dir / LETTERS_DIR / language
            )
        name = f"{self.dhpc.file_stem}_{language}_print.pdf"
        relative = f"{PRINT_DIR}/{name}"
        target = self.out_dir / relative
        date = long_date(self.dhpc.meta.date, language, self.dhpc.meta.country)
        envelope = self.notes.get(language)
        note = envelope.lines if envelope is not None else ()
        grounds = (
            [self.window.note_box(note, envelope.ground)]
            if envelope is not None and envelope.ground is not None
            else []
        )
        # The print file is staged only once a letter with a postal address comes.
        with contextlib.ExitStack() as opened:
            print_file: PrintFile | None = None
            batch = _Batch(language, [])
            items: list[tuple[str, bytes]] = []
            for recipient_id, lines, postal in letters:
                placed = self.window.place(
                    self.font, lines, (date, reference_line(self.dhpc, recipient_id)), note
                )
                overlay = overlay_content(
                    self.font, placed, self.window.font_size, body.page_height, grounds
                )
                first = last = 0
                if postal:
                    if print_file is None:
                        print_file = PrintFile(
                            opened.enter_context(self.outputs.open(target)),
                            body,
                            self.embedded,
                            title=f"{self.dhpc.id} {language}: print file",
                            identifier=hashlib.sha256(
                                f"{self.dhpc.id}\0{language}".encode() + body.pdf
                            ).digest()[:16],
                            creation_date=f"D:{self.dhpc.meta.date:%Y%m%d}000000Z",
                        )
                    first, last = print_file.add_letter(overlay)
                    result.letters += 1
                if self.per_recipient:
                    items.append((recipient_id, overlay))
                    result.letter_files += 1
                batch.rows.append(
                    (recipient_id, relative if postal else "", first, last, address_sha256(lines))
                )
                if len(batch.rows) >= BATCH:
                    self._submit(batch, items)
                    batch, items = _Batch(language, []), []
            if batch.rows:
                self._submit(batch, items)
            if print_file is not None:
                print_file.close()
                result.pages = print_file.pages
        if print_file is not None:
            result.print_file = target
            result.print_bytes = self.outputs.staged_size(target)
        return result

    def _submit(self, batch: _Batch, items: list[tuple[str, bytes]]) -> None:
        if self.per_recipient:
            task = (self.templates[batch.language], self.letter_folders[batch.language], items)
            if self.pool is not None:
                batch.result = self.pool.apply_async(_write_letters, task)
            else:
                batch.result = _write_letters(*task)
        self.pending.append(batch)
        self._drain(self.in_flight)

    def _drain(self, keep: int) -> None:
        """Write the manifest rows of finished batches, in order, keeping ``keep`` pending."""
        while len(self.pending) > keep:
            batch = self.pending.popleft()
            digests: list[str] = []
            if isinstance(batch.result, list):
                digests = batch.result
            elif batch.result is not None:
                digests = batch.result.get()
            for index, (recipient_id, print_file, first, last, address) in enumerate(batch.rows):
                letter = digest = ""
                if digests:
                    letter = f"{LETTERS_DIR}/{batch.language}/{recipient_id}.pdf"
                    digest = digests[index]
                listed = self.letters_listed.pop(recipient_id, None)
                if listed and (listed["content_sha256"], listed["address_sha256"]) == (
                    self.content_sha256,
                    address,
                ):
                    letter, digest = listed["letter_file"], listed["letter_sha256"]
                self.manifest.row(
                    recipient_id,
                    batch.language,
                    print_file,
                    first or "",
                    last or "",
                    letter,
                    digest,
                    self.content_sha256,
                    address,
                )
            self.done += len(batch.rows)
            if self.progress:
                self.progress(self.done, self.total)

    def _remove_stale(self, results: list[LanguageResult]) -> None:
        """Outputs of an earlier merge for languages this one has no letters in."""
        produced = {r.print_file.name for r in results if r.print_file is not None}
        print_dir = self.out_dir / PRINT_DIR
        if print_dir.is_dir():
            for stale in sorted(print_dir.glob(f"{self.dhpc.file_stem}_*_print.pdf")):
                if stale.name not in produced:
                    self.outputs.remove(stale)
        letters_dir = self.out_dir / LETTERS_DIR
        if not self.per_recipient and not self.keep_letters and letters_dir.is_dir():
            # The new manifest describes what e-mail attaches: each language's letter. The
            # personalised letters of an earlier merge would be letters nobody vouches for.
            self.outputs.remove(letters_dir)
            self.letters_removed = True
        if self.per_recipient and letters_dir.is_dir():
            current = {result.language for result in results}
            for stale in sorted(letters_dir.iterdir()):
                if stale.is_dir() and stale.name not in current and not stale.name.startswith("."):
                    self.outputs.remove(stale)


_PRINT_PLACE = ("print_file", "first_page", "last_page")


def _letters_listed(manifest: Path) -> dict[str, dict[str, str]]:
    """The rows of an earlier manifest that list a per-recipient letter.

    A manifest of an older format cannot vouch for its letters (``dhpc send`` refuses
    them): none is kept.
    """
    if not manifest.is_file():
        return {}
    try:
        return {
            row["recipient_id"]: row
            for row in read_manifest(manifest)
            if row.get("letter_file") and row.get("recipient_id")
        }
    except DhpcError:
        return {}


def read_manifest(path: Path) -> Iterator[dict[str, str]]:
    """Stream the rows of a ``print-manifest.csv`` (a folder means ``<it>/print/``)."""
    if path.is_dir():
        path = path / PRINT_DIR / MANIFEST_FILE
    try:
        handle = path.open(encoding="utf-8", newline="")
    except OSError as exc:
        raise DhpcError(f"{path}: cannot read the print manifest: {exc.strerror}") from exc
    with handle:
        reader = csv.DictReader(handle)
        missing = [c for c in MANIFEST_COLUMNS if c not in (reader.fieldnames or ())]
        if missing:
            raise DhpcError(f"{path}: not a print manifest, columns missing: {', '.join(missing)}")
        yield from reader
