"""Address sources → one mailing list: read, normalise, dedupe, suppress, filter, write.

Every row read ends in exactly one of: a recipient, a duplicate merged into a recipient,
a reject, a suppressed row, a row outside the audience. ``report.json`` counts each, and
``rows_read`` is their sum. Personal data goes only into the files (owner-readable);
logs carry counts.
"""

from __future__ import annotations

import contextlib
import csv
import gc
import hashlib
import io
import json
import logging
import time
from collections import Counter
from collections.abc import Callable, Iterable, Iterator, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhpc_gen.addresses.audience import Audience
from dhpc_gen.addresses.dedupe import DEFAULT_THRESHOLD, cluster, find_matches
from dhpc_gen.addresses.language import LanguagePolicy
from dhpc_gen.addresses.normalise import fold
from dhpc_gen.addresses.readers import ReadInfo, read_rows
from dhpc_gen.addresses.recipients import (
    RECIPIENTS_FILE,
    Recipient,
    neutralise,
    person_basis,
    recipients_csv,
    register_basis,
)
from dhpc_gen.addresses.records import PersonRow, Reject, RowNormaliser
from dhpc_gen.addresses.sources import SourceSet
from dhpc_gen.addresses.suppression import SuppressionList
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError, UsageError, display_path
from dhpc_gen.fsutil import OutputSet, inside, safe_name

logger = logging.getLogger(__name__)

MAILING_DIR = "mailing"
REJECTS_FILE = "rejects.csv"
DUPLICATES_FILE = "duplicates.csv"
PROVENANCE_FILE = "provenance.csv"
REPORT_FILE = "report.json"

REJECT_COLUMNS = ("source", "file", "row", "reason", "detail", "name", "postal_code", "email")
DUPLICATE_COLUMNS = (
    "recipient_id",
    "outcome",
    "match",
    "score",
    "kept_source",
    "kept_row",
    "kept_name",
    "kept_address",
    "kept_email",
    "other_recipient_id",
    "other_outcome",
    "other_source",
    "other_row",
    "other_name",
    "other_address",
    "other_email",
)
PROVENANCE_COLUMNS = ("recipient_id", "source", "row")

Progress = Callable[[str, int, int], None]
"""``progress(stage, done, total)``: stage is ``read`` (bytes) or ``match`` (rows)."""

_PROGRESS_BYTES = 1 << 18


@dataclass(frozen=True)
class Duplicate:
    """Two rows found alike, for a human to check: joined into one person, or possibly one.

    ``match`` is ``merged`` (``other`` was joined to ``kept``'s person) or ``possible``
    (they look like one person but their streets differ: both people are kept).
    """

    recipient_id: str
    outcome: str
    """``recipient``, ``suppressed`` or ``filtered`` (what became of the person)."""
    match: str
    score: float
    kept: PersonRow
    other: PersonRow
    other_id: str
    other_outcome: str


@dataclass(frozen=True)
class MailingList:
    """The outcome of one run, before it is written."""

    dhpc_id: str
    recipients: tuple[Recipient, ...]
    provenance: Mapping[str, tuple[tuple[str, int], ...]]
    """recipient_id → every (source name, row) the person came from."""
    rejects: tuple[Reject, ...]
    duplicates: tuple[Duplicate, ...]
    source_names: tuple[str, ...]
    report: Mapping[str, Any]
    country: str | None = None
    """One country of a campaign: the list goes to ``<out>/<id>/<CC>/mailing/``."""


@dataclass(slots=True)
class _Person:
    person_id: str
    members: tuple[PersonRow, ...]
    outcome: str


def _first(members: Iterable[PersonRow], attribute: str) -> str:
    return next((str(getattr(m, attribute)) for m in members if getattr(m, attribute)), "")


def _identity(members: Sequence[PersonRow], names: Sequence[str]) -> str:
    """What a person's recipient id is derived from: never their e-mail address.

    The register's own id of the person, from the first register (in ``sources.yaml``
    order) that gives one; else the name and the postal code as the list prints them
    (:func:`person_basis`). A register that corrects an e-mail address, a street or a
    typo in a name (with an id) leaves the id as it was, so ``dhpc send`` knows whom it
    sent the letter.
    """
    registered = next((m for m in members if m.source_id), None)
    if registered is not None:
        return register_basis(names[registered.source], registered.source_id)
    named, address = _name_row(members), _address_row(members)
    return person_basis(named.first_name, named.last_name, address.country, address.postal_code)


def _tie_break(members: Sequence[PersonRow]) -> tuple[str, str, str, int, int]:
    """Orders people with the same identity (one name in one postal code, no register id)."""
    address = _address_row(members)
    first = members[0]
    return (fold(address.street), fold(first.organisation), fold(address.city), first.source,
            first.row)  # fmt: skip


def _person_ids(clusters: Sequence[Sequence[PersonRow]], names: Sequence[str]) -> list[str]:
    """The recipient id of each cluster (see :func:`_identity`), in the clusters' order.

    People whose identities are the same get the hash with a counter, in the order of
    their streets and organisations (not of the rows in the files, which a new export
    reorders).
    """
    identities = [_identity(members, names) for members in clusters]
    order = sorted(range(len(clusters)), key=lambda i: (identities[i], _tie_break(clusters[i])))
    used: set[str] = set()
    ids = [""] * len(clusters)
    for index in order:
        ids[index] = _person_id(identities[index], used)
    return ids


def _person_id(text: str, used: set[str]) -> str:
    """``r-`` and 12 hex digits of a hash: stable for the same inputs, safe in file names."""
    salt = 0
    while True:
        digest = hashlib.sha256(f"{text}\x1e{salt}".encode()).hexdigest()[:12]
        candidate = f"r-{digest}"
        if candidate not in used:
            used.add(candidate)
            return candidate
        salt += 1


def _shouting(text: str) -> bool:
    return text.isupper() and len(text) > 3


def _name_row(members: Sequence[PersonRow]) -> PersonRow:
    """Whose name to print: two name columns beat a split one, "Virtanen" beats "VIRTANEN"."""
    return min(
        members,
        key=lambda m: (
            not (m.first_name and m.last_name),
            _shouting(m.last_name) or _shouting(m.first_name),
            m.name_split,
        ),
    )


def _address_row(members: Sequence[PersonRow]) -> PersonRow:
    """Whose postal address to print (as a whole): a complete one, not in capitals."""
    return min(members, key=lambda m: (not m.has_postal_address, _shouting(m.street)))


def _recipient(person: _Person, source_names: Sequence[str]) -> tuple[Recipient, str]:
    """One person from the rows joined, and how their language was chosen.

    Earlier sources win ties (min() keeps the first).
    """
    members = person.members
    primary = members[0]
    if len(members) == 1:
        return Recipient(
            recipient_id=person.person_id,
            language=primary.language,
            title=primary.title,
            first_name=primary.first_name,
            last_name=primary.last_name,
            profession=primary.profession,
            specialty=primary.specialty,
            organisation=primary.organisation,
            street=primary.street,
            postal_code=primary.postal_code,
            city=primary.city,
            country=primary.country,
            email=primary.email,
            sources=source_names[primary.source],
        ), primary.language_how
    named = _name_row(members)
    address = _address_row(members)
    language_row = next((m for m in members if m.language_given), address)
    names = [source_names[i] for i in sorted({m.source for m in members})]
    recipient = Recipient(
        recipient_id=person.person_id,
        language=language_row.language,
        title=primary.title or _first(members, "title"),
        first_name=named.first_name,
        last_name=named.last_name,
        profession=primary.profession or _first(members, "profession"),
        specialty=primary.specialty or _first(members, "specialty"),
        organisation=primary.organisation or _first(members, "organisation"),
        street=address.street,
        postal_code=address.postal_code,
        city=address.city,
        country=address.country,
        email=_first(members, "email"),
        sources="; ".join(names),
    )
    return recipient, language_row.language_how


class _Clock:
    """Logs how long each stage took (a hint for large runs; no personal data)."""

    def __init__(self) -> None:
        self.start = time.perf_counter()

    def lap(self, stage: str) -> None:
        now = time.perf_counter()
        logger.info("%s: %.2f s", stage, now - self.start)
        self.start = now


@contextlib.contextmanager
def _collector_paused() -> Iterator[None]:
    """Pause the cyclic garbage collector for a run.

    A run keeps ~20 objects per row alive until it ends and makes no reference cycles:
    the collector would only scan them again and again (half the time of a run of
    100,000 rows). Reference counting still frees whatever is dropped.
    """
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if enabled:
            gc.enable()


def default_language(dhpc: Dhpc) -> str | None:
    """The language of a recipient nothing else places: the DHPC's, else the country's."""
    if dhpc.meta.default_language is not None:
        return dhpc.meta.default_language
    from dhpc_gen.errors import RegistryError
    from dhpc_gen.regulators import registry

    try:
        chosen = registry.conventions(dhpc.meta.country).default_language
    except RegistryError:
        return None
    return chosen if chosen in dhpc.meta.languages else None


def make_mailing_list(
    dhpc: Dhpc,
    sources: SourceSet,
    *,
    audience: Audience | None,
    suppression: SuppressionList | None = None,
    threshold: float = DEFAULT_THRESHOLD,
    languages_of: Callable[[str], Sequence[str]] | None = None,
    progress: Progress | None = None,
) -> MailingList:
    """Read every source and build the mailing list in memory (nothing is written)."""
    with _collector_paused():
        return _make_mailing_list(
            dhpc,
            sources,
            audience=audience,
            suppression=suppression,
            threshold=threshold,
            languages_of=languages_of,
            progress=progress,
        )


def _make_mailing_list(
    dhpc: Dhpc,
    sources: SourceSet,
    *,
    audience: Audience | None,
    suppression: SuppressionList | None,
    threshold: float,
    languages_of: Callable[[str], Sequence[str]] | None,
    progress: Progress | None,
) -> MailingList:
    if not 0 < threshold <= 100:
        raise UsageError(f"the threshold must be above 0 and at most 100, not {threshold}")
    if languages_of is None:
        from dhpc_gen.regulators import registry

        languages_of = registry.languages
    meta = dhpc.meta
    policy = LanguagePolicy.for_dhpc(
        meta.country, meta.languages, languages_of, default=default_language(dhpc)
    )
    names = tuple(source.name for source in sources.sources)

    total_bytes = sum(source.path.stat().st_size for source in sources.sources)
    read_bytes = 0
    pending_bytes = 0

    def advance(size: int) -> None:
        nonlocal read_bytes, pending_bytes
        pending_bytes += size
        if pending_bytes >= _PROGRESS_BYTES and progress is not None:
            read_bytes += pending_bytes
            pending_bytes = 0
            progress("read", min(read_bytes, total_bytes), total_bytes)

    clock = _Clock()
    rows: list[PersonRow] = []
    rejects: list[Reject] = []
    per_source: list[dict[str, Any]] = []
    invalid_emails = 0
    for index, source in enumerate(sources.sources):
        info = ReadInfo()
        normaliser = RowNormaliser(source, index, policy, meta.country)
        read = rejected = 0
        for raw in read_rows(source, info, advance):
            read += 1
            result = normaliser(raw)
            if isinstance(result, Reject):
                rejected += 1
                rejects.append(result)
            else:
                rows.append(result)
        invalid_emails += normaliser.invalid_emails_cleared
        if read == 0:
            logger.warning("%s: no data rows below the header", source.shown)
        logger.info("%s: %d rows read, %d rejected", source.shown, read, rejected)
        per_source.append(
            {
                "name": source.name,
                "file": source.shown,
                "format": source.format,
                "encoding": info.encoding,
                "delimiter": info.delimiter,
                "sheet": info.sheet,
                "rows_read": read,
                "blank_rows": info.blank_rows,
                "hidden_rows": info.hidden_rows,
                "merged_ranges": info.merged_ranges,
                "rejected": rejected,
                "recipients": 0,
            }
        )
    if progress is not None:
        progress("read", total_bytes, total_bytes)

    clock.lap("read and normalise")
    matches = find_matches(
        rows,
        threshold,
        None if progress is None else (lambda done, total: progress("match", done, total)),
    )
    clusters, joins, possible = cluster(len(rows), matches)
    clock.lap(f"match ({len(matches)} pairs)")
    paired = {i for m in (*joins, *possible) for i in (m.a, m.b)}

    people: list[_Person] = []
    row_person: dict[int, int] = {}
    suppressed_rows = filtered_rows = suppressed_people = 0
    filtered_values: Counter[str] = Counter()
    grouped = [tuple(rows[i] for i in members_index) for members_index in clusters]
    for members_index, members, person_id in zip(
        clusters, grouped, _person_ids(grouped, names), strict=True
    ):
        if suppression is not None and any(suppression.matches(m, threshold) for m in members):
            outcome = "suppressed"
            suppressed_rows += len(members)
            suppressed_people += 1
        elif audience is not None and not any(
            audience.admits(m.profession, m.specialty) for m in members
        ):
            outcome = "filtered"
            filtered_rows += len(members)
            first = members[0]
            filtered_values[
                f"profession={first.profession[:40]}; specialty={first.specialty[:40]}"
            ] += len(members)
        else:
            outcome = "recipient"
        for i in members_index:
            if i in paired:
                row_person[i] = len(people)
        people.append(_Person(person_id, members, outcome))

    clock.lap("suppress and filter")
    recipients: list[Recipient] = []
    provenance: dict[str, tuple[tuple[str, int], ...]] = {}
    language_from: Counter[str] = Counter()
    contributed = [0] * len(names)
    for person in people:
        if person.outcome != "recipient":
            continue
        recipient, how = _recipient(person, names)
        recipients.append(recipient)
        language_from[how] += 1
        provenance[person.person_id] = tuple((names[m.source], m.row) for m in person.members)
        for member in person.members:
            contributed[member.source] += 1
    recipients.sort(
        key=lambda r: (r.language, r.postal_code, fold(r.last_name), fold(r.first_name),
                       r.recipient_id)
    )  # fmt: skip

    for counts, rows_given in zip(per_source, contributed, strict=True):
        counts["recipients"] = rows_given
    clock.lap("merge people")
    duplicates = []
    for pair in (*joins, *possible):
        person, other = people[row_person[pair.a]], people[row_person[pair.b]]
        duplicates.append(
            Duplicate(
                person.person_id,
                person.outcome,
                "possible" if pair.possible else "merged",
                pair.score,
                rows[pair.a],
                rows[pair.b],
                other.person_id,
                other.outcome,
            )
        )
    # The possible duplicates first: they are the ones a human must look at.
    duplicates.sort(
        key=lambda d: (d.match != "possible", d.outcome != "recipient", d.recipient_id, -d.score)
    )

    rows_read = sum(s["rows_read"] for s in per_source)
    merged = sum(len(p.members) - 1 for p in people if p.outcome == "recipient")
    report = _report(
        dhpc=dhpc,
        sources=sources,
        per_source=per_source,
        rejects=rejects,
        rows_read=rows_read,
        filtered=filtered_rows,
        filtered_values=filtered_values,
        suppressed=suppressed_rows,
        suppressed_people=suppressed_people,
        suppression=suppression,
        merged=merged,
        possible=len(possible),
        recipients=recipients,
        language_from=language_from,
        invalid_emails=invalid_emails,
        audience=audience,
        threshold=threshold,
    )
    clock.lap("report")
    accounted = len(rejects) + filtered_rows + suppressed_rows + merged + len(recipients)
    if accounted != rows_read:  # a bug, never bad input: fail loudly rather than lose rows
        raise RuntimeError(f"{rows_read} rows read but {accounted} accounted for")
    logger.info(
        "%d rows read: %d rejected, %d filtered, %d suppressed, %d merged, %d recipients",
        rows_read,
        len(rejects),
        filtered_rows,
        suppressed_rows,
        merged,
        len(recipients),
    )
    return MailingList(
        dhpc_id=dhpc.id,
        recipients=tuple(recipients),
        provenance=provenance,
        rejects=tuple(rejects),
        duplicates=tuple(duplicates),
        source_names=names,
        report=report,
        country=dhpc.meta.country if dhpc.in_campaign else None,
    )


def _ordered_used(dhpc: Dhpc, names: Sequence[str], used: set[str]) -> list[str]:
    """Used sources in dhpc.yaml's order (as the letter lists them), then the others."""
    canonical = [name for name in dhpc.meta.address_sources if name in used]
    return canonical + [name for name in names if name in used and name not in canonical]


def _report(
    *,
    dhpc: Dhpc,
    sources: SourceSet,
    per_source: list[dict[str, Any]],
    rejects: Sequence[Reject],
    rows_read: int,
    filtered: int,
    filtered_values: Counter[str],
    suppressed: int,
    suppressed_people: int,
    suppression: SuppressionList | None,
    merged: int,
    possible: int,
    recipients: Sequence[Recipient],
    language_from: Counter[str],
    invalid_emails: int,
    audience: Audience | None,
    threshold: float,
) -> dict[str, Any]:
    names = [s["name"] for s in per_source]
    used = {s["name"] for s in per_source if s["recipients"]}
    per_language = Counter(r.language for r in recipients)
    return {
        "dhpc": dhpc.id,
        "sources_file": display_path(sources.file),
        "threshold": threshold,
        "audience": None if audience is None else audience.describe(),
        "sources": per_source,
        "rows_read": rows_read,
        "rejected": len(rejects),
        "rejected_by_reason": dict(sorted(Counter(r.reason for r in rejects).items())),
        "filtered": filtered,
        "filtered_values": dict(
            sorted(filtered_values.items(), key=lambda item: (-item[1], item[0]))[:20]
        ),
        "suppressed": suppressed,
        "suppressed_people": suppressed_people,
        "suppression_entries": None if suppression is None else suppression.entries,
        "duplicates_merged": merged,
        "possible_duplicates": possible,
        "recipients": len(recipients),
        "recipients_per_language": {
            lang: per_language.get(lang, 0) for lang in dhpc.meta.languages
        },
        "recipients_with_postal_address": sum(1 for r in recipients if r.has_postal_address),
        "recipients_email_only": sum(1 for r in recipients if r.email and not r.has_postal_address),
        "language_from": dict(sorted(language_from.items())),
        "invalid_emails_cleared": invalid_emails,
        "sources_used": _ordered_used(dhpc, names, used),
    }


# --- Writing ---------------------------------------------------------------------------


# First characters that neutralise() changes (derived from it, so the two cannot drift).
_RISKY = frozenset(c for c in map(chr, range(128)) if neutralise(c) != c)


def _csv_text(columns: Sequence[str], rows: Iterable[Sequence[str]]) -> str:
    """CSV text; cells a spreadsheet would run are neutralised."""
    buffer = io.StringIO()
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(
        [neutralise(value) if value[:1] in _RISKY else value for value in row] for row in rows
    )
    return buffer.getvalue()


def _address(row: PersonRow) -> str:
    return ", ".join(p for p in (row.street, f"{row.postal_code} {row.city}".strip()) if p)


def _duplicate_row(d: Duplicate, names: Sequence[str]) -> tuple[str, ...]:
    """One line of duplicates.csv (see :data:`DUPLICATE_COLUMNS`)."""
    return (
        d.recipient_id,
        d.outcome,
        d.match,
        f"{d.score:.1f}",
        names[d.kept.source],
        str(d.kept.row),
        d.kept.display_name,
        _address(d.kept),
        d.kept.email,
        d.other_id,
        d.other_outcome,
        names[d.other.source],
        str(d.other.row),
        d.other.display_name,
        _address(d.other),
        d.other.email,
    )


def mailing_dir(out: Path, dhpc_id: str, country: str | None = None) -> Path:
    """``<out>/<id>/mailing``, or for one country of a campaign ``<out>/<id>/<CC>/mailing``."""
    national = () if country is None else (safe_name(country, "country"),)
    return inside(out, safe_name(dhpc_id, "DHPC id"), *national, MAILING_DIR)


def write_mailing_list(mailing: MailingList, out: Path) -> Path:
    """Write the files of ``mailing`` to ``<out>/<id>/mailing/``; return that folder.

    Every file is owner-readable only; all five replace the old ones together (report.json
    last), or, on any failure, none does.
    """
    with _collector_paused():
        return _write_mailing_list(mailing, out)


def _write_mailing_list(mailing: MailingList, out: Path) -> Path:
    folder = mailing_dir(out, mailing.dhpc_id, mailing.country)
    # The five files describe one run: a new recipients.csv never stands beside an old
    # report, whatever fails on the way.
    with OutputSet(folder, private=True) as outputs:
        _stage_mailing_list(mailing, folder, outputs)
    return folder


def _stage_mailing_list(mailing: MailingList, folder: Path, outputs: OutputSet) -> None:
    clock = _Clock()
    names = mailing.source_names
    outputs.write_text(folder / RECIPIENTS_FILE, recipients_csv(mailing.recipients))
    clock.lap(RECIPIENTS_FILE)
    outputs.write_text(
        folder / REJECTS_FILE,
        _csv_text(
            REJECT_COLUMNS,
            (
                (r.source, r.file, str(r.row), r.reason, r.detail, r.name, r.postal_code, r.email)
                for r in mailing.rejects
            ),
        ),
    )
    outputs.write_text(
        folder / DUPLICATES_FILE,
        _csv_text(
            DUPLICATE_COLUMNS,
            (_duplicate_row(d, names) for d in mailing.duplicates),
        ),
    )
    outputs.write_text(
        folder / PROVENANCE_FILE,
        _csv_text(
            PROVENANCE_COLUMNS,
            (
                (recipient.recipient_id, source, str(row))
                for recipient in mailing.recipients
                for source, row in mailing.provenance[recipient.recipient_id]
            ),
        ),
    )
    clock.lap("rejects, duplicates, provenance")
    outputs.write_text(
        folder / REPORT_FILE,
        json.dumps(mailing.report, ensure_ascii=False, indent=2) + "\n",
        last=True,
    )


def sources_used(mailing_dir: Path) -> list[str]:
    """The sources that gave at least one recipient, as report.json of a run lists them."""
    path = mailing_dir / REPORT_FILE
    shown = display_path(path)
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError as exc:
        raise DhpcError(
            f"{shown}: no mailing list report here: run dhpc mailing-list first"
        ) from exc
    except OSError as exc:
        raise DhpcError(f"{shown}: cannot read the mailing list report: {exc.strerror}") from exc
    except (UnicodeDecodeError, json.JSONDecodeError) as exc:
        raise DhpcError(
            f"{shown}: not a mailing list report ({exc}): run dhpc mailing-list again"
        ) from exc
    used = data.get("sources_used") if isinstance(data, dict) else None
    if not isinstance(used, list) or not all(isinstance(name, str) and name for name in used):
        raise DhpcError(
            f"{shown}: sources_used is missing or not a list of names: run dhpc mailing-list again"
        )
    return list(used)
