"""``dhpc send``: the DHPC by e-mail to every recipient who has an address, exactly once.

A real run goes through the send journal (:mod:`.journal`): each message is committed as
``sending`` before the server is contacted and as ``sent`` right after it accepts, so a
run stopped in any way can simply be run again. A dry run (the default) writes the
messages as ``.eml`` files to ``outbox/`` (replacing those of an earlier dry run) and does
not write to the journal: it only reads it, to pick the recipients a real run would send to.

Attachments: a recipient's personalised letter ``letters/<lang>/<recipient_id>.pdf``
(from ``dhpc merge``) when there is one, else the language's PDF ``<id>_<lang>.pdf`` from
``dhpc build``, which must be of the content version being sent.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import logging
import sys
import time
from collections.abc import Callable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass, field
from pathlib import Path

from dhpc_gen.addresses.recipients import (
    RECIPIENTS_FILE,
    Recipient,
    person_key,
    read_recipients,
)
from dhpc_gen.approval.sent import letter_versions, record_versions
from dhpc_gen.approval.state import approval_states, refusal_message
from dhpc_gen.build import MANIFEST, content_hash
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.address_block import AddressProblem, address_block, address_sha256
from dhpc_gen.distribution.journal import (
    JOURNAL_FILE,
    WENT,
    DeliveryKey,
    JournalEntry,
    JournalSnapshot,
    PlannedDelivery,
    SendJournal,
    State,
    read_snapshot,
    utc_now,
)
from dhpc_gen.distribution.message import AddressError, MessageComposer, mail_address
from dhpc_gen.distribution.report import PRINT_MANIFEST, PrintEntry, read_print_manifest
from dhpc_gen.distribution.send_state import (
    SEND_STATE_FILE,
    Purpose,
    SendState,
    check_journal,
    supersede,
    write_send_state,
)
from dhpc_gen.distribution.sending_record import (
    RECORD_FILE,
    CountrySending,
    record_path,
    record_run,
    recorded_sending,
)
from dhpc_gen.distribution.smtp import (
    ConnectionDropped,
    OutcomeUnknown,
    SmtpConfigError,
    SmtpConnection,
    SmtpSettings,
    require_server,
)
from dhpc_gen.errors import DhpcError, UsageError, display_path
from dhpc_gen.fsutil import OutputSet, inside, safe_name, sha256_bytes, sha256_file

logger = logging.getLogger(__name__)

OUTBOX = "outbox"
LETTERS = "letters"


@dataclass(frozen=True)
class SendOptions:
    """What the user asked for; the defaults are the safe ones."""

    dry_run: bool = True
    limit: int | None = 1
    """At most this many messages in this run; None: no limit."""
    rate_per_minute: float | None = None
    resend_unknown: bool = False
    retry_failed: bool = False
    new_version: bool = False
    """Allow sending although the journal has recipients sent another content version."""
    require_signoff: bool = False
    """Refuse, before anything is sent, unless every language's current text is approved."""
    resend_changed: bool = False
    """Send again, to the new address, those sent at an address that has since changed."""
    new_journal: bool = False
    """Start an empty journal although the output folder shows earlier sending."""


@dataclass
class SendSummary:
    """Counts of one run (no personal data: the report has the details)."""

    dhpc_id: str
    content_hash: str
    dry_run: bool
    recipients: int = 0
    without_email: int = 0
    duplicate_addresses: int = 0
    invalid_addresses: int = 0
    already_sent: int = 0
    bounced_before: int = 0
    """A bounce came back (``dhpc bounces``): never sent again to that address."""
    address_changed: int = 0
    """Sent (or maybe sent) at an address that has since changed, and not sent again."""
    readdressed: int = 0
    """Of the messages of this run, those to a changed address (``--resend-changed``)."""
    failed_before: int = 0
    recognised: int = 0
    """Sent (or maybe sent) under an earlier recipient id: the journal now keeps them under
    the current one (the same name and postal code, the earlier id no longer listed)."""
    unclear: int = 0
    """Could be one of several recipients sent under an earlier id: not sent unless
    ``--resend-changed``."""
    unknown_waiting: int = 0
    recovered_unknown: int = 0
    written: int = 0
    sent: int = 0
    failed: int = 0
    deferred: int = 0
    unknown: int = 0
    remaining: int = 0
    outbox: Path | None = None
    journal: Path | None = None
    superseded: Path | None = None
    """Where ``--new-journal`` moved the evidence of the earlier journal."""
    recorded_in: Path | None = None
    """The content folder's ``distribution.yaml``, written by a real run."""
    new_journal_recorded: bool = False
    """``--new-journal`` gave up a journal that had sent, and the decision was recorded."""
    attempted: int = field(default=0)


@dataclass(frozen=True)
class RetryNotice:
    """A run waits before it tries again (given to the caller's ``notify``, for the terminal)."""

    reason: str
    """What happened, in a few words and without personal data."""
    delay: float
    """Seconds the run now waits."""
    attempt: int
    """The try that comes after the wait (the first try is 1)."""
    attempts: int

    def __str__(self) -> str:
        return (
            f"{self.reason}; retrying in {self.delay:.3g} s "
            f"(attempt {self.attempt} of {self.attempts})"
        )


Notify = Callable[[RetryNotice], None]


class SmtpConnectError(SmtpConfigError):
    """The mail server could not be reached (or refused the session) before anything was sent."""


def parse_rate(text: str) -> float:
    """``30/min``, ``2/s``, ``600/h`` or ``30`` (per minute) → messages per minute."""
    value, _, unit = text.strip().partition("/")
    factor = {"": 1.0, "min": 1.0, "m": 1.0, "s": 60.0, "sec": 60.0, "h": 1 / 60}.get(
        unit.strip().lower()
    )
    try:
        number = float(value)
    except ValueError:
        number = -1.0
    if factor is None or not number > 0:
        raise UsageError(f"--rate {text!r}: give messages per minute, e.g. 30/min (or 2/s, 600/h)")
    return number * factor


# -- what goes in the attachment -----------------------------------------------------------


class LetterFiles:
    """Finds and checks the PDF each recipient gets.

    :meth:`verify` checks every attachment of a run before its first message is sent or
    written: a personalised letter against the print manifest (the version of the text, the
    address merged into it, its SHA-256), a language's letter against the build manifest.
    Each file is checked again as it is attached.
    """

    def __init__(self, dhpc: Dhpc, out_dir: Path, chash: str) -> None:
        self.dhpc = dhpc
        self.out_dir = out_dir
        self.content_hash = chash
        self._generic: dict[str, bytes] = {}
        self.manifest_path = out_dir / PRINT_MANIFEST
        self._printed: dict[str, PrintEntry] = {}
        if self.manifest_path.exists():
            for entry in read_print_manifest(self.manifest_path):
                if entry.letter_file:
                    self._printed.setdefault(entry.recipient_id, entry)
        self._verified: dict[str, tuple[Path, str]] = {}
        """recipient id → the personalised letter checked and its SHA-256."""

    def _country(self) -> str:
        return f" --country {self.dhpc.meta.country}" if self.dhpc.in_campaign else ""

    def _merge_again(self) -> str:
        return (
            f"run dhpc merge {display_path(self.dhpc.directory)}{self._country()} "
            "--per-recipient again"
        )

    def _check_manifest(self) -> None:
        """The manifest must say which text and whose address its letters were merged from."""
        manifest = display_path(self.manifest_path)
        for entry in self._printed.values():
            if not entry.content_sha256:
                raise DhpcError(
                    f"{manifest} does not say which version of the content its letters were "
                    f"merged from; {self._merge_again()}"
                )
            if entry.content_sha256 != self.content_hash:
                raise DhpcError(
                    f"{manifest}: the letters were merged from another version of the content "
                    f"({entry.content_sha256[:12]}, now {self.content_hash[:12]}); "
                    f"{self._merge_again()}"
                )
            if entry.address_sha256 is None:
                raise DhpcError(
                    f"{manifest} does not say whose address its letters were merged with; "
                    f"{self._merge_again()}"
                )

    def _address_sha256(self, recipient: Recipient) -> str:
        meta = self.dhpc.meta
        try:
            block = address_block(
                recipient,
                home=meta.country,
                language=recipient.language,
                name_languages=tuple(meta.languages),
            )
        except AddressProblem:
            return ""
        return address_sha256(block.lines)

    def verify(self, recipients: Sequence[Recipient]) -> None:
        """Check the attachment of every recipient; refuse before anything is sent or written."""
        if self._printed:
            self._check_manifest()
        problems: dict[str, list[str]] = {kind: [] for kind in _LETTER_PROBLEMS}
        generic: set[str] = set()
        for recipient in recipients:
            rid = recipient.recipient_id
            entry = self._printed.get(rid)
            if rid in self._verified:
                continue  # checked again as it is attached
            if entry is None:
                unlisted = self.out_dir / LETTERS / recipient.language / f"{rid}.pdf"
                if unlisted.is_file():
                    problems["unlisted"].append(f"{LETTERS}/{recipient.language}/{rid}.pdf")
                else:
                    generic.add(recipient.language)
                continue
            name = entry.letter_file
            path = inside(self.out_dir, *Path(name).parts)
            if entry.language != recipient.language:
                problems["language"].append(name)
            elif entry.address_sha256 != self._address_sha256(recipient):
                problems["address"].append(name)
            elif not path.is_file():
                problems["missing"].append(name)
            else:
                digest = sha256_file(path)
                if digest != entry.letter_sha256:
                    problems["changed"].append(name)
                else:
                    self._verified[rid] = (path, digest)
        for language in sorted(generic):
            self.generic(language)
        found = {kind: names for kind, names in problems.items() if names}
        if found:
            count = sum(len(names) for names in found.values())
            parts = [
                f"{len(names)} {_LETTER_PROBLEMS[kind]} ({_first_names(names)})"
                for kind, names in found.items()
            ]
            raise DhpcError(
                f"{count} personalised letter(s) in {display_path(self.out_dir)} cannot be "
                f"attached: {'; '.join(parts)}. Nothing was sent or written; "
                f"{self._merge_again()}"
            )

    def generic(self, language: str) -> bytes:
        if language in self._generic:
            return self._generic[language]
        filename = f"{self.dhpc.file_stem}_{language}.pdf"
        pdf_path = self.out_dir / filename
        manifest_path = self.out_dir / MANIFEST
        out_root = self.out_dir.parent.parent if self.dhpc.in_campaign else self.out_dir.parent
        rebuild = (
            f"run: dhpc build {display_path(self.dhpc.directory)}{self._country()} "
            f"--out {display_path(out_root)}"
        )
        if not pdf_path.is_file() or not manifest_path.is_file():
            missing = pdf_path if not pdf_path.is_file() else manifest_path
            raise DhpcError(
                f"{display_path(missing)} is missing: the e-mail attaches the built letter; "
                f"{rebuild}"
            )
        try:
            manifest = json.loads(manifest_path.read_text(encoding="utf-8"))
            outputs = {o["path"]: o["sha256"] for o in manifest["outputs"]}
            built_from = manifest["content_sha256"]
        except (OSError, ValueError, KeyError, TypeError) as exc:
            raise DhpcError(
                f"{display_path(manifest_path)}: not a build manifest ({exc}); {rebuild}"
            ) from exc
        if built_from != self.content_hash:
            raise DhpcError(
                f"{display_path(pdf_path)} was built from another version of the content "
                f"({built_from[:12]}, now {self.content_hash[:12]}); {rebuild}"
            )
        data = pdf_path.read_bytes()
        if outputs.get(filename) != sha256_bytes(data):
            raise DhpcError(f"{display_path(pdf_path)} has changed since it was built; {rebuild}")
        self._generic[language] = data
        return data

    def for_recipient(self, recipient: Recipient) -> bytes:
        """The attachment's bytes; :meth:`verify` must have accepted the recipient."""
        rid = recipient.recipient_id
        if rid not in self._verified and rid not in self._printed:
            return self.generic(recipient.language)
        if rid not in self._verified:
            self.verify([recipient])
        path, digest = self._verified[rid]
        data = path.read_bytes()
        if sha256_bytes(data) != digest:
            raise DhpcError(
                f"{display_path(path)} changed while dhpc send was running (its SHA-256 is no "
                f"longer the one in {display_path(self.manifest_path)}); {self._merge_again()}"
            )
        return data


_LETTER_PROBLEMS = {
    "changed": "changed since dhpc merge",
    "missing": "missing",
    "address": "merged for another name or address than the mailing list has now",
    "language": "merged in another language than the mailing list has now",
    "unlisted": f"not listed in {PRINT_MANIFEST.as_posix()}",
}


def _first_names(names: Sequence[str], count: int = 3) -> str:
    shown = ", ".join(names[:count])
    return shown + (f" and {len(names) - count} more" if len(names) > count else "")


# -- the run -------------------------------------------------------------------------------


@dataclass(frozen=True)
class _Planned:
    recipient: Recipient
    key: DeliveryKey
    address: str
    """As sent (IDNA domain); the address as given when it cannot be used."""
    problem: str
    """Why the address cannot be used; empty when it can."""
    readdress: bool = False
    """Sent before at another address; this run sends it to ``address`` (--resend-changed)."""


class _Throttle:
    def __init__(
        self,
        per_minute: float | None,
        sleep: Callable[[float], None],
        clock: Callable[[], float],
    ) -> None:
        self.interval = 60.0 / per_minute if per_minute else 0.0
        self.sleep = sleep
        self.clock = clock
        self.next_start: float | None = None

    def wait(self) -> None:
        if not self.interval:
            return
        now = self.clock()
        if self.next_start is not None and self.next_start > now:
            self.sleep(self.next_start - now)
            now = self.clock()
        self.next_start = max(now, self.next_start or now) + self.interval


def _read_mailing(dhpc: Dhpc, mailing: Path) -> list[Recipient]:
    path = mailing / RECIPIENTS_FILE if mailing.is_dir() else mailing
    shown = display_path(path)
    recipients = []
    seen: set[str] = set()
    for number, recipient in enumerate(read_recipients(path), start=2):
        if recipient.recipient_id in seen:
            raise DhpcError(
                f"{shown}:{number}: recipient_id {recipient.recipient_id} appears twice; "
                "build the mailing list again with dhpc mailing-list"
            )
        seen.add(recipient.recipient_id)
        safe_name(recipient.recipient_id, f"{shown}:{number}: recipient_id")
        if recipient.language not in dhpc.meta.languages:
            raise DhpcError(
                f"{shown}:{number}: language {recipient.language!r} of recipient "
                f"{recipient.recipient_id} is not one of the DHPC's languages "
                f"({', '.join(dhpc.meta.languages)})"
            )
        recipients.append(recipient)
    return recipients


def refuse_unapproved(dhpc: Dhpc) -> None:
    """Raise unless the authority's approval is recorded, where the country requires one."""
    from dhpc_gen.regulators import registry

    if dhpc.meta.authority_approval is not None:
        return
    if not registry.conventions(dhpc.meta.country).approval_before_sending:
        return
    where = dhpc.country_file if dhpc.country_file is not None else dhpc.files[0]
    raise DhpcError(
        f"{dhpc.meta.country}: the authority approves the final letter before it is sent "
        f"({display_path(registry.file_for(dhpc.meta.country))}, conventions), and "
        f"{display_path(where)} records no approval. Once it is given, record it there: "
        "authority_approval: {reference: <the authority's decision>, date: <YYYY-MM-DD>}. "
        "Nothing was sent (a dry run shows the messages)"
    )


def send_dhpc(
    dhpc: Dhpc,
    out_root: Path,
    *,
    mailing: Path | None = None,
    settings: SmtpSettings,
    options: SendOptions = SendOptions(),
    progress: Callable[[int, int], None] | None = None,
    notify: Notify | None = None,
    sleep: Callable[[float], None] = time.sleep,
    clock: Callable[[], float] = time.monotonic,
) -> SendSummary:
    """Send (or, in a dry run, write) the e-mails of ``dhpc``; return the counts.

    ``progress`` is called with (messages done, messages in this run); ``notify`` with a
    :class:`RetryNotice` before each wait for a retry.
    """
    out_dir = dhpc.output_dir(out_root)
    mailing = mailing if mailing is not None else out_dir / "mailing"
    chash = content_hash(dhpc)
    summary = SendSummary(dhpc.id, chash, options.dry_run, journal=out_dir / JOURNAL_FILE)
    if options.limit is not None and options.limit < 1:
        raise UsageError("--limit must be at least 1 (or use --no-limit)")
    if not options.dry_run:
        if dhpc.meta.status != "final":
            raise DhpcError(
                f"{dhpc.directory / 'dhpc.yaml'}: status is {dhpc.meta.status}; only a final "
                "DHPC can be sent (a dry run shows the messages). Set status: final once the "
                "authorities have agreed the text."
            )
        refuse_unapproved(dhpc)
        require_server(settings)

    versions = letter_versions(dhpc)
    refused = [v.language for v in versions.values() if not v.approval]
    if options.require_signoff and refused:
        raise DhpcError(refusal_message(dhpc, [s for s in approval_states(dhpc, refused)]))
    recipients = _read_mailing(dhpc, mailing)
    summary.recipients = len(recipients)
    if not options.dry_run:
        record_versions(dhpc, out_dir)  # the distribution record names what was sent
    composer = MessageComposer(dhpc, chash, settings, versions=versions)
    composer.sender  # noqa: B018 - a bad sender address is an error before anything else
    composer.signer  # noqa: B018 - and so is a DKIM key that cannot sign for it
    planned = _plan(dhpc, chash, recipients, settings, composer, summary)
    letters = LetterFiles(dhpc, out_dir, chash)
    run = _Run(dhpc, chash, out_dir, settings, options, composer, letters, summary)
    run.listed = {recipient.recipient_id for recipient in recipients}
    run.progress = progress
    run.notify = notify
    run.throttle = _Throttle(options.rate_per_minute, sleep, clock)
    run.sleep = sleep
    if options.dry_run:
        run.dry(planned)
    else:
        run.real(planned)
    return summary


def _plan(
    dhpc: Dhpc,
    chash: str,
    recipients: Sequence[Recipient],
    settings: SmtpSettings,
    composer: MessageComposer,
    summary: SendSummary,
) -> list[_Planned]:
    planned = []
    addresses: set[str] = set()
    for recipient in recipients:
        if not recipient.email.strip():
            summary.without_email += 1
            continue
        key = DeliveryKey(dhpc.id, chash, recipient.recipient_id, "email")
        try:
            address = mail_address(recipient.email, smtputf8=settings.smtputf8).addr_spec
            problem = ""
        except AddressError as exc:
            address, problem = recipient.email.strip(), str(exc)
        if address.lower() in addresses:
            summary.duplicate_addresses += 1
            continue
        addresses.add(address.lower())
        planned.append(_Planned(recipient, key, address, problem))
    return planned


def recognise_earlier_ids(
    planned: Sequence[_Planned],
    entries: Mapping[str, JournalEntry],
    listed: AbstractSet[str],
) -> tuple[dict[str, str], set[str]]:
    """Recipients sent the letter under an id they no longer have: (current → earlier, unclear).

    A recipient whose own row of this version never went is the person of an earlier row
    when that row went (or may have gone), its id is no longer on the mailing list, and its
    ``person_key`` (name and postal code) is the recipient's. Where several recipients and
    earlier rows share one key, those with the same address pair up, and one left of each
    side pairs too; the recipients still left are *unclear*: they may have had the letter.
    """
    orphans: dict[str, list[JournalEntry]] = {}
    for rid, entry in entries.items():
        if rid not in listed and entry.state in WENT and entry.person_key:
            orphans.setdefault(entry.person_key, []).append(entry)
    if not orphans:
        return {}, set()
    waiting: dict[str, list[_Planned]] = {}
    for item in planned:
        own = entries.get(item.key.recipient_id)
        if own is not None and own.state in WENT:
            continue
        key = person_key(item.recipient)
        if key in orphans:
            waiting.setdefault(key, []).append(item)
    pairs: dict[str, str] = {}
    unclear: set[str] = set()
    for key, items in waiting.items():
        earlier = sorted(orphans[key], key=lambda e: e.key.recipient_id)
        left = []
        for item in items:
            same = next((e for e in earlier if e.address.lower() == item.address.lower()), None)
            if same is None:
                left.append(item)
            else:
                pairs[item.key.recipient_id] = same.key.recipient_id
                earlier.remove(same)
        if len(left) == 1 and len(earlier) == 1:
            pairs[left[0].key.recipient_id] = earlier[0].key.recipient_id
        elif earlier:
            unclear.update(item.key.recipient_id for item in left)
    return pairs, unclear


def _as_recognised(
    pairs: Mapping[str, str],
    entries: Mapping[str, JournalEntry],
    earlier: Sequence[JournalEntry],
) -> tuple[dict[str, JournalEntry], list[JournalEntry]]:
    """The rows as :meth:`SendJournal.adopt` leaves them (for a run that reads only)."""
    renamed = {old: new for new, old in pairs.items()}

    def moved(entry: JournalEntry) -> JournalEntry:
        new = renamed.get(entry.key.recipient_id)
        if new is None:
            return entry
        return dataclasses.replace(
            entry,
            key=dataclasses.replace(entry.key, recipient_id=new),
            former_ids=(*entry.former_ids, entry.key.recipient_id),
        )

    current = {rid: e for rid, e in entries.items() if rid not in pairs}
    for entry in entries.values():
        if entry.key.recipient_id in renamed:
            current[renamed[entry.key.recipient_id]] = moved(entry)
    return current, [moved(e) for e in earlier]


class _Run:
    def __init__(
        self,
        dhpc: Dhpc,
        chash: str,
        out_dir: Path,
        settings: SmtpSettings,
        options: SendOptions,
        composer: MessageComposer,
        letters: LetterFiles,
        summary: SendSummary,
    ) -> None:
        self.dhpc = dhpc
        self.chash = chash
        self.out_dir = out_dir
        self.settings = settings
        self.options = options
        self.composer = composer
        self.letters = letters
        self.summary = summary
        self.progress: Callable[[int, int], None] | None = None
        self.notify: Notify | None = None
        self.throttle = _Throttle(None, time.sleep, time.monotonic)
        self.sleep: Callable[[float], None] = time.sleep
        self.listed: set[str] = set()
        """Every recipient id of the mailing list (with or without an e-mail address)."""
        self.recorded: CountrySending | None = recorded_sending(
            dhpc.directory, dhpc.id, dhpc.meta.country
        )
        """What the content folder's ``distribution.yaml`` records of this country."""

    @property
    def allowed(self) -> list[State]:
        states: list[State] = ["pending"]
        if self.options.resend_unknown:
            states.append("unknown")
        if self.options.retry_failed:
            states.append("failed")
        return states

    def _guard_versions(self, elsewhere: int) -> None:
        if elsewhere and not self.options.new_version:
            raise DhpcError(
                f"{self.summary.journal}: {elsewhere} recipient(s) were already sent another "
                f"version of {self.dhpc.id}; the content has changed since (now "
                f"{self.chash[:12]}). To send this version to everyone again, add "
                "--new-version; to finish the earlier one, restore its content."
            )

    def _select(
        self,
        planned: Sequence[_Planned],
        entries: dict[str, JournalEntry],
        earlier: Sequence[JournalEntry],
        summary: SendSummary,
        unclear: AbstractSet[str] = frozenset(),
    ) -> tuple[list[_Planned], list[_Planned]]:
        """(unusable addresses to mark failed, messages to send in this run).

        Each address gets the letter once: an address a message went (or may have gone) to,
        now or before a resend to a changed address, is never sent to again. ``entries``
        and ``earlier`` hold the rows of recipients recognised under an earlier id under
        their current one; ``unclear`` recipients are held unless ``--resend-changed``.
        """
        allowed = self.allowed
        taken: dict[str, str] = {}
        reached: dict[str, set[str]] = {}
        for e in [*earlier, *entries.values()]:
            if e.state in WENT:
                taken.setdefault(e.address.lower(), e.key.recipient_id)
                reached.setdefault(e.key.recipient_id, set()).add(e.address.lower())
        invalid, candidates = [], []
        for item in planned:
            rid = item.key.recipient_id
            entry = entries.get(rid)
            if rid in unclear and not self.options.resend_changed:
                summary.unclear += 1
                continue
            state: State = entry.state if entry else "pending"
            address = item.address.lower()
            if entry is not None and state in WENT and entry.address.lower() != address:
                # The address changed in the mailing list after a message went to the old one.
                if address in reached.get(rid, set()):
                    summary.already_sent += 1  # and it went to this address before
                elif taken.get(address, rid) != rid:
                    summary.duplicate_addresses += 1
                elif item.problem or not self.options.resend_changed:
                    summary.address_changed += 1
                else:
                    candidates.append(dataclasses.replace(item, readdress=True))
                continue
            if state in ("sent", "deferred"):
                summary.already_sent += 1
            elif state == "bounced":
                summary.bounced_before += 1
            elif state not in allowed:
                if state == "unknown":
                    summary.unknown_waiting += 1
                else:
                    summary.failed_before += 1
            elif taken.get(address, rid) != rid:
                summary.duplicate_addresses += 1
            elif item.problem:
                invalid.append(item)
            else:
                candidates.append(item)
        self.letters.verify([item.recipient for item in candidates])
        limit = self.options.limit
        todo = candidates if limit is None else candidates[:limit]
        summary.remaining = len(candidates) - len(todo)
        summary.readdressed = sum(1 for item in todo if item.readdress)
        return invalid, todo

    # -- dry run ---------------------------------------------------------------------------

    def dry(self, planned: Sequence[_Planned]) -> None:
        summary = self.summary
        invalid, todo = self._preflight(planned, "dry-run", summary)
        summary.invalid_addresses = len(invalid)
        outbox = self.out_dir / OUTBOX
        when = dt.datetime.now(dt.UTC)
        # The outbox shows this run only, and only a run that finished: it is written as a
        # new folder that replaces the old one at the end.
        with OutputSet(self.out_dir, private=True) as outputs:
            staged = outputs.stage_folder(outbox)
            for index, item in enumerate(todo, start=1):
                attachment = self.letters.for_recipient(item.recipient)
                composed = self.composer.compose(item.recipient, attachment, when=when)
                staged.write_file(f"{item.key.recipient_id}.eml", composed.data)
                summary.written += 1
                if self.progress:
                    self.progress(index, len(todo))
        summary.outbox = outbox
        logger.info("dry run: %d message(s) written to %s", summary.written, display_path(outbox))

    # -- real run --------------------------------------------------------------------------

    def _preflight(
        self, planned: Sequence[_Planned], purpose: Purpose, summary: SendSummary
    ) -> tuple[list[_Planned], list[_Planned]]:
        """Everything that can refuse a run, checked before anything is sent or written.

        Reads the journal without changing it: is it the one that sent before, was another
        version sent, who is to be sent to in this run, and are all their attachments the
        files that were built and merged.
        """
        journal = read_snapshot(self.out_dir / JOURNAL_FILE)
        check_journal(
            self.out_dir,
            self.dhpc.id,
            journal,
            purpose=purpose,
            new_journal=self.options.new_journal,
            recorded=self.recorded,
            record_file=record_path(self.dhpc.directory),
        )
        entries: list[JournalEntry] = []
        earlier: list[JournalEntry] = []
        if journal is not None and not self.options.new_journal:
            entries = [e for e in journal.entries if e.key.dhpc_id == self.dhpc.id]
            earlier = [e for e in journal.earlier if e.key.content_hash == self.chash]
        self._guard_versions(
            sum(1 for e in entries if e.key.content_hash != self.chash and e.state in WENT)
        )
        current = _current(entries, self.chash)
        pairs, unclear = recognise_earlier_ids(planned, current, self.listed)
        current, earlier = _as_recognised(pairs, current, earlier)
        summary.recognised = len(pairs)
        return self._select(planned, current, earlier, summary, unclear)

    def _check_journal(self, journal: JournalSnapshot | None) -> None:
        """Before the journal is created or changed: is it the one that sent before?"""
        check_journal(
            self.out_dir,
            self.dhpc.id,
            journal,
            purpose="send",
            new_journal=self.options.new_journal,
            recorded=self.recorded,
            record_file=record_path(self.dhpc.directory),
        )
        if self.options.new_journal:
            self.summary.superseded = supersede(self.out_dir, utc_now())

    def _write_state(self, journal: SendJournal, *, running: bool) -> None:
        went = journal.snapshot().went(self.dhpc.id)
        write_send_state(
            self.out_dir,
            SendState(self.dhpc.id, journal.journal_id, running, utc_now(), dict(went)),
        )

    def _record(self, journal: SendJournal, *, running: bool) -> None:
        """The content folder's ``distribution.yaml``: this journal sends this country."""
        before = self.recorded
        self.recorded = record_run(
            self.dhpc.directory,
            self.dhpc.id,
            self.dhpc.meta.country,
            journal.snapshot(),
            running=running,
            now=utc_now(),
            new_journal=self.options.new_journal,
        )
        self.summary.recorded_in = record_path(self.dhpc.directory)
        if running and len(self.recorded.decisions) > len(before.decisions if before else ()):
            self.summary.new_journal_recorded = True

    def real(self, planned: Sequence[_Planned]) -> None:
        summary = self.summary
        assert summary.journal is not None
        self._preflight(planned, "send", SendSummary(self.dhpc.id, self.chash, dry_run=False))
        with SendJournal.open(summary.journal, self.dhpc.id, check=self._check_journal) as journal:
            summary.recovered_unknown = journal.recover(self.dhpc.id)
            if summary.recovered_unknown:
                logger.warning(
                    "%d message(s) were interrupted while sending in an earlier run: unknown",
                    summary.recovered_unknown,
                )
            self._guard_versions(journal.sent_elsewhere(self.dhpc.id, self.chash))
            journal.use_version(self.chash)
            self._record(journal, running=True)  # before the first message, or nothing goes
            self._write_state(journal, running=True)
            try:
                self._send_all(journal, planned)
            finally:
                for finish, what in (
                    (self._write_state, SEND_STATE_FILE),
                    (self._record, RECORD_FILE),
                ):
                    try:
                        finish(journal, running=False)
                    except DhpcError:
                        if sys.exc_info()[0] is None:
                            raise
                        logger.warning("could not update %s", what)
        logger.info(
            "sent %d, failed %d, deferred %d, unknown %d",
            summary.sent,
            summary.failed,
            summary.deferred,
            summary.unknown,
        )

    def _send_all(self, journal: SendJournal, planned: Sequence[_Planned]) -> None:
        summary = self.summary
        journal.add_pending(
            PlannedDelivery(
                item.key,
                item.recipient.language,
                item.address,
                self.composer.message_id(item.key.recipient_id),
                person_key(item.recipient),
            )
            for item in planned
        )
        entries = journal.entries(self.dhpc.id, self.chash)
        pairs, unclear = recognise_earlier_ids(planned, _current(entries, self.chash), self.listed)
        if pairs:
            journal.adopt(self.dhpc.id, self.chash, pairs)
            entries = journal.entries(self.dhpc.id, self.chash)
            logger.info("%d recipient(s) recognised under an earlier recipient id", len(pairs))
        summary.recognised = len(pairs)
        earlier = journal.earlier(self.dhpc.id, self.chash)
        invalid, todo = self._select(
            planned, _current(entries, self.chash), earlier, summary, unclear
        )
        for item in invalid:
            journal.mark_failed(item.key, f"not sent: {item.problem}")
            summary.failed += 1
            summary.invalid_addresses += 1
        connection = SmtpConnection(self.settings)
        if todo:
            _connect_first(connection)
        try:
            for index, item in enumerate(todo, start=1):
                outcome = self._deliver(journal, connection, item)
                summary.attempted += 1
                setattr(summary, outcome, getattr(summary, outcome) + 1)
                if self.progress:
                    self.progress(index, len(todo))
        finally:
            connection.close()

    def _deliver(self, journal: SendJournal, connection: SmtpConnection, item: _Planned) -> str:
        """Try one message until it is sent, refused, unknown or out of tries in this run."""
        policy = self.settings.retry
        attachment = self.letters.for_recipient(item.recipient)
        failures = 0
        for attempt in range(1, policy.attempts + 1):
            last = attempt == policy.attempts
            self.throttle.wait()
            try:
                connection.open()
            except ConnectionDropped as exc:
                failures += 1
                if last:
                    raise DhpcError(
                        f"{exc} (tried {policy.attempts} times); nothing more was sent. "
                        "Run the same command again later to go on."
                    ) from None
                logger.warning("%s; trying again", exc)
                self._wait(exc.reason, failures, attempt + 1)
                continue
            composed = self.composer.compose(
                item.recipient, attachment, when=dt.datetime.now(dt.UTC)
            )
            if item.readdress:
                journal.readdress(item.key, item.address)  # the earlier message is kept
            if not journal.begin_attempt(item.key, self.allowed, item.address):
                return "already_sent"
            try:
                reply = connection.send(
                    composed.envelope_from, composed.envelope_to, composed.data, composed.token
                )
            except ConnectionDropped as exc:
                journal.mark_pending(item.key, str(exc))
                failures += 1
                logger.warning("a message was not taken (%s); trying again", exc)
                if not last:
                    self._wait(exc.reason, failures, attempt + 1)
                continue
            except OutcomeUnknown as exc:
                journal.mark_unknown(item.key, str(exc))
                logger.warning("a message may or may not have been delivered: %s", exc)
                return "unknown"
            except BaseException:
                # Interrupted (Ctrl-C, the sender refused, a bug): record what is known.
                if connection.body_sent:
                    journal.mark_unknown(item.key, "interrupted awaiting the server's answer")
                else:
                    journal.mark_pending(item.key, "interrupted before the message was complete")
                raise
            if reply.accepted:
                journal.mark_sent(item.key, str(reply))
                return "sent"
            if not reply.temporary:
                journal.mark_failed(item.key, str(reply))
                logger.info("a message was refused: %s", reply.code)
                return "failed"
            journal.mark_pending(item.key, str(reply))
            failures += 1
            logger.info("a message was deferred by the server: %s", reply.code)
            if not last:
                self._wait(f"the server deferred a message ({reply.code})", failures, attempt + 1)
        return "deferred"

    def _wait(self, reason: str, failures: int, attempt: int) -> None:
        """Back off before the next try, and say so."""
        policy = self.settings.retry
        delay = policy.backoff(failures)
        if self.notify:
            self.notify(RetryNotice(reason, delay, attempt, policy.attempts))
        self.sleep(delay)


def _current(entries: Sequence[JournalEntry], chash: str) -> dict[str, JournalEntry]:
    """recipient id → the journal's row of this content version."""
    return {e.key.recipient_id: e for e in entries if e.key.content_hash == chash}


def _connect_first(connection: SmtpConnection) -> None:
    """Connect before the first message: a server that cannot be reached is said at once.

    Retries are for a server lost in the middle of a run; one that refuses, stays silent or
    speaks another security mode from the start will not change its mind in a minute.
    """
    try:
        connection.open()
    except ConnectionDropped as exc:
        raise SmtpConnectError(
            f"{exc}. Nothing was sent; run the same command again once the server can be reached."
        ) from None
    except SmtpConfigError as exc:
        raise SmtpConnectError(f"{exc}. Nothing was sent.") from None
