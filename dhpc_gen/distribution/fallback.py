"""The postal fallback: who is to get the letter by post because e-mail did not reach them.

``dhpc merge --only bounced,no-email`` prints exactly the recipients whose e-mail came back
and those without an e-mail address, so that with ``dhpc send`` every recipient gets the
letter one way or another. What e-mail did for each recipient is read from the send
journal (the current version of the content), never changed.
"""

from __future__ import annotations

from collections import Counter
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path

from dhpc_gen.addresses.recipients import read_recipients
from dhpc_gen.build import content_hash
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.journal import JOURNAL_FILE, read_snapshot
from dhpc_gen.distribution.send_state import check_journal
from dhpc_gen.distribution.sending_record import record_path, recorded_sending
from dhpc_gen.errors import UsageError, display_path

ONLY_CHOICES = ("bounced", "deferred", "failed", "unknown", "not-sent", "no-email")
"""What ``--only`` can select, by what e-mail did for a recipient:

- ``bounced``: the message came back (``dhpc bounces``): permanently undeliverable;
- ``deferred``: a server reported a delay and is still trying;
- ``failed``: the mail server refused the message when it was sent, or the address is
  unusable;
- ``unknown``: sending was interrupted; the message may or may not have gone;
- ``not-sent``: an e-mail address, but no message went (not sent yet, or the address is
  another recipient's too);
- ``no-email``: no e-mail address in the mailing list.
"""


@dataclass(frozen=True)
class PostalSelection:
    """The recipients ``--only`` selects, and why (counts only)."""

    kinds: tuple[str, ...]
    recipient_ids: frozenset[str]
    counts: dict[str, int]
    """Per kind asked for: how many recipients of the mailing list it selects."""
    read: int
    """Recipients in the mailing list."""
    bounces_read_at: str
    """When ``dhpc bounces`` last read the mailbox; empty: never."""


def parse_only(text: str) -> tuple[str, ...]:
    """``bounced,no-email`` → the kinds, in the order of :data:`ONLY_CHOICES`."""
    asked = [part.strip().lower() for part in text.split(",") if part.strip()]
    unknown = [part for part in asked if part not in ONLY_CHOICES]
    if unknown or not asked:
        raise UsageError(
            f"--only {text!r}: give one or more of {', '.join(ONLY_CHOICES)}, separated by "
            "commas (for example --only bounced,no-email)"
        )
    return tuple(kind for kind in ONLY_CHOICES if kind in asked)


def select_for_post(
    dhpc: Dhpc, out_dir: Path, mailing: Path, kinds: Iterable[str]
) -> PostalSelection:
    """The recipients of ``mailing`` whose e-mail state is one of ``kinds``."""
    kinds = tuple(kinds)
    journal = read_snapshot(out_dir / JOURNAL_FILE)
    check_journal(
        out_dir,
        dhpc.id,
        journal,
        purpose="report",
        recorded=recorded_sending(dhpc.directory, dhpc.id, dhpc.meta.country),
        record_file=record_path(dhpc.directory),
    )
    chash = content_hash(dhpc)
    states: dict[str, str] = {}
    if journal is not None:
        for entry in journal.entries:
            if entry.key.dhpc_id == dhpc.id and entry.key.content_hash == chash:
                states[entry.key.recipient_id] = entry.state
    selected: set[str] = set()
    counts: Counter[str] = Counter()
    read = 0
    for recipient in read_recipients(mailing):
        read += 1
        rid = recipient.recipient_id
        has = set()
        if not recipient.email.strip():
            has.add("no-email")
        state = states.get(rid)
        if state is not None:
            has.add({"pending": "not-sent", "sending": "unknown"}.get(state, state))
        elif recipient.email.strip():
            has.add("not-sent")
        matched = has.intersection(kinds)
        if matched:
            selected.add(rid)
            counts.update(matched)
    if journal is None and set(kinds) - {"no-email"}:
        raise UsageError(
            f"--only {','.join(kinds)}: {display_path(out_dir / JOURNAL_FILE)} does not exist, "
            "so nothing was sent by e-mail from this output folder; check --out, or use "
            "--only no-email"
        )
    return PostalSelection(
        kinds,
        frozenset(selected),
        {kind: counts[kind] for kind in kinds},
        read,
        journal.bounces_read_at if journal is not None else "",
    )
