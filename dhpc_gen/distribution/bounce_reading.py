"""What one message in the bounce mailbox says: a bounce, a delay, or nothing of the kind.

Delivery status notifications (DSNs, RFC 3464) are read field by field: the action
(``failed``, ``delayed``, ``delivered``), the status code (RFC 3463) and the diagnostic of
each recipient. Bounces in the older, non-standard formats (Exim, qmail, Exchange, Yahoo
and others) are recognised by flufl.bounce, which tells permanent from temporary failures.

Which message a report is about is told by what it carries of the original: the message's
token (in the return path under VERP, and as the DSN envelope id ``Original-Envelope-Id``),
the original's ``Message-ID`` and ``X-DHPC-Id`` from the returned headers. Matching these
to the journal is :mod:`.bounces`'s job; this module only reads.

A message whose MIME structure ends before its last boundary, or whose header has no end,
is *incomplete* (a file still being written, a copy cut short): it is never taken for a
bounce, and is read again next time. Anything else that does not parse is *malformed*.
Hostile input never raises: every outcome is a :class:`Reading`.
"""

from __future__ import annotations

import datetime as dt
import email
import email.errors
import re
from dataclasses import dataclass
from email.message import Message
from email.utils import parseaddr, parsedate_to_datetime
from typing import Literal

from flufl.bounce import all_failures

from dhpc_gen.distribution.message import TOKEN_LENGTH

Verdict = Literal["bounced", "deferred", "delivered", "not-a-bounce", "malformed", "incomplete"]

_TOKEN = re.compile(rf"\+([0-9a-f]{{{TOKEN_LENGTH}}})@", re.IGNORECASE)
_ENVID = re.compile(rf"^[0-9a-f]{{{TOKEN_LENGTH}}}$", re.IGNORECASE)
_QUOTED_MESSAGE_ID = re.compile(r"^[>\s]*message-id:\s*(<[^<>\s]+>)", re.IGNORECASE | re.MULTILINE)
_QUOTED_DHPC_ID = re.compile(r"^[>\s]*x-dhpc-id:\s*([A-Za-z0-9._-]+)", re.IGNORECASE | re.MULTILINE)
_STATUS = re.compile(r"^([245])\.(\d{1,3})\.(\d{1,3})$")
_STATUS_IN_TEXT = re.compile(r"(?<![\d.])([45]\.\d{1,3}\.\d{1,3})(?![\d.])")
_SMTP_REPLY = re.compile(r"(?<!\d)[45]\d\d(?!\d)")
_ENVELOPE_HEADERS = (
    "To",
    "Delivered-To",
    "X-Original-To",
    "Envelope-To",
    "X-Envelope-To",
    "X-Delivered-To",
)
_ACTIONS = ("failed", "delayed", "delivered", "relayed", "expanded")
_INCOMPLETE = (
    email.errors.CloseBoundaryNotFoundDefect,
    email.errors.StartBoundaryNotFoundDefect,
    email.errors.MissingHeaderBodySeparatorDefect,
)

# RFC 3463 subjects and details, for a report that gives a status without a diagnostic.
_STATUS_TEXT = {
    "1.1": "bad destination mailbox address",
    "1.2": "bad destination system address",
    "1.3": "bad destination mailbox address syntax",
    "1.6": "destination mailbox has moved",
    "2.1": "mailbox disabled, not accepting messages",
    "2.2": "mailbox full",
    "2.3": "message length exceeds administrative limit",
    "3.4": "message too big for system",
    "4.1": "no answer from host",
    "4.4": "unable to route",
    "4.7": "delivery time expired",
    "7.1": "delivery not authorized, message refused",
    "7.26": "message not authenticated (multiple authentication checks failed)",
}


@dataclass(frozen=True)
class Reading:
    """What a message in the bounce mailbox says (no journal involved)."""

    verdict: Verdict
    kind: str
    """``DSN``, ``non-standard bounce``, ``automatic reply``, …: for the listing."""
    status: str = ""
    """RFC 3463 status code (``5.1.1``), when the report gives one."""
    reason: str = ""
    """The diagnostic as the reporting server wrote it, or what is wrong with the message."""
    addresses: tuple[str, ...] = ()
    """The recipients the report is about, lower case."""
    tokens: tuple[str, ...] = ()
    message_ids: tuple[str, ...] = ()
    dhpc_ids: tuple[str, ...] = ()
    reported_at: str | None = None
    """When the report was written (its Date), UTC; None if it does not say."""


def read_report(data: bytes) -> Reading:
    """Read one message of the bounce mailbox; never raises for what the message holds."""
    if not data.strip():
        return Reading("incomplete", "empty file", reason="the file is empty")
    try:
        message = email.message_from_bytes(data)
        parts = list(message.walk())
    except Exception as exc:  # the parser on hostile bytes: any failure is "malformed"
        return Reading("malformed", "unreadable message", reason=f"cannot be parsed ({exc})")
    if b"\n\n" not in data.replace(b"\r\n", b"\n") or any(
        isinstance(defect, _INCOMPLETE) for part in parts for defect in part.defects
    ):
        return Reading(
            "incomplete",
            "incomplete message",
            reason="the message ends before its last part: it may still be being written",
        )
    try:
        return _read(message, parts)
    except Exception as exc:  # a detector tripping over a hostile message
        return Reading(
            "malformed", "unreadable message", reason=f"cannot be read ({type(exc).__name__})"
        )


@dataclass
class _Original:
    """What a report carries of the message it is about."""

    tokens: set[str]
    message_ids: tuple[str, ...]
    dhpc_ids: tuple[str, ...]
    reported_at: str | None

    def reading(
        self,
        verdict: Verdict,
        kind: str,
        *,
        status: str = "",
        reason: str = "",
        addresses: tuple[str, ...] = (),
    ) -> Reading:
        return Reading(
            verdict,
            kind,
            status=status,
            reason=reason,
            addresses=addresses,
            tokens=tuple(sorted(self.tokens)),
            message_ids=self.message_ids,
            dhpc_ids=self.dhpc_ids,
            reported_at=self.reported_at,
        )


def _read(message: Message, parts: list[Message]) -> Reading:
    quoted = _quoted_text(parts)
    envelope = " ".join(str(message.get(h, "")) for h in _ENVELOPE_HEADERS)
    original = _Original(
        tokens={t.lower() for t in _TOKEN.findall(envelope + "\n" + quoted)},
        message_ids=tuple(dict.fromkeys(_QUOTED_MESSAGE_ID.findall(quoted))),
        dhpc_ids=tuple(dict.fromkeys(_QUOTED_DHPC_ID.findall(quoted))),
        reported_at=_utc(message.get("Date")),
    )
    status_parts = [p for p in parts if p.get_content_type() == "message/delivery-status"]
    if status_parts:
        return _read_dsn(status_parts, original)
    report_type = str(message.get_param("report-type") or "").lower()
    if message.get_content_type() == "multipart/report" and report_type == "delivery-status":
        return original.reading(
            "malformed", "DSN", reason="a delivery report without its delivery-status part"
        )
    if message.get_content_type() == "multipart/report" and report_type.startswith("disposition"):
        return original.reading("not-a-bounce", "read receipt", reason="a read receipt")
    temporary, permanent = all_failures(message)
    if permanent or temporary:
        addresses = {a.decode("ascii", "replace").lower() for a in (*permanent, *temporary)}
        status = _STATUS_IN_TEXT.search(quoted)
        return original.reading(
            "bounced" if permanent else "deferred",
            "non-standard bounce",
            status=status.group(1) if status else "",
            reason=_diagnostic_line(quoted) or "reported by a bounce in a non-standard format",
            addresses=tuple(sorted(addresses)),
        )
    if _is_auto_reply(message):
        return original.reading(
            "not-a-bounce",
            "automatic reply",
            reason="an automatic reply (such as out of office)",
        )
    return original.reading("not-a-bounce", "other mail", reason="not a delivery report")


def _read_dsn(status_parts: list[Message], original: _Original) -> Reading:
    """RFC 3464: the per-recipient fields of every delivery-status part."""
    blocks: list[tuple[str, str, str, str]] = []
    """(action, status, address, diagnostic)"""
    for part in status_parts:
        payload = part.get_payload()
        blocks_found = payload if isinstance(payload, list) else []
        fields = [b for b in blocks_found if isinstance(b, Message) and b.keys()]
        if len(fields) < 2:
            return original.reading(
                "malformed", "DSN", reason="the delivery-status part has no per-recipient fields"
            )
        per_message, *per_recipient = fields
        envid = str(per_message.get("Original-Envelope-Id", "")).strip()
        if _ENVID.match(envid):
            original.tokens.add(envid.lower())
        for block in per_recipient:
            action = str(block.get("Action", "")).strip().lower().split(" ", 1)[0]
            status = str(block.get("Status", "")).strip().split(" ", 1)[0]
            problem = ""
            found = _STATUS.match(status)
            if action not in _ACTIONS:
                problem = f"Action {action!r}" if action else "no Action field"
            elif not found:
                problem = f"Status {status!r}" if status else "no Status field"
            elif found.group(1) not in {"failed": "45", "delayed": "45"}.get(action, "2"):
                problem = f"Action {action} but Status {status}"
            if problem:
                return original.reading(
                    "malformed", "DSN", reason=f"a delivery report with {problem}"
                )
            address = _recipient(block.get("Final-Recipient")) or _recipient(
                block.get("Original-Recipient")
            )
            blocks.append((action, status, address, _diagnostic(block, status)))
    for action, verdict in (("failed", "bounced"), ("delayed", "deferred")):
        chosen = [b for b in blocks if b[0] == action]
        if chosen:
            return original.reading(
                verdict,  # type: ignore[arg-type]
                "DSN",
                status=chosen[0][1],
                reason=chosen[0][3],
                addresses=tuple(sorted({b[2] for b in chosen if b[2]})),
            )
    return original.reading(
        "delivered",
        "DSN",
        status=blocks[0][1],
        reason=blocks[0][3] or "delivered",
        addresses=tuple(sorted({b[2] for b in blocks if b[2]})),
    )


def _quoted_text(parts: list[Message]) -> str:
    """The text of every part, the returned headers included; not the report's own header."""
    texts = []
    for index, part in enumerate(parts):
        if part.is_multipart():
            continue
        try:
            payload = part.get_payload(decode=True)
        except Exception:  # a broken transfer encoding: use the text as it is
            payload = None
        if isinstance(payload, bytes):
            charset = part.get_content_charset() or "utf-8"
            try:
                texts.append(payload.decode(charset, "replace"))
            except LookupError:
                texts.append(payload.decode("utf-8", "replace"))
        else:
            texts.append(str(part.get_payload()))
        if index and (part.get_content_type() != "text/plain" or part.get("Content-Type") is None):
            # a header block of the delivery-status part, or the returned message's header
            texts.append("\n".join(f"{k}: {v}" for k, v in part.items()))
    return "\n".join(texts)


def _recipient(value: object) -> str:
    """``rfc822; anna@example.fi`` → ``anna@example.fi``."""
    if value is None:
        return ""
    text = " ".join(str(value).split())
    kind, _, address = text.partition(";")
    if not address:
        address = kind
    elif kind.strip().lower() != "rfc822":
        return ""
    return parseaddr(address.strip())[1].lower()


def _diagnostic(block: Message, status: str) -> str:
    """The server's own words (``Diagnostic-Code``), else what the status code means."""
    text = " ".join(str(block.get("Diagnostic-Code", "")).split())
    kind, _, rest = text.partition(";")
    if rest and " " not in kind.strip():
        text = rest.strip()
    if text:
        return text
    detail = ".".join(status.split(".")[1:])
    return _STATUS_TEXT.get(detail, "")


def _diagnostic_line(text: str) -> str:
    """The first line of a non-standard bounce that carries an SMTP reply code."""
    for line in text.splitlines():
        line = " ".join(line.split())
        if _SMTP_REPLY.search(line) and len(line) > 8:
            return line[:300]
    return ""


def _is_auto_reply(message: Message) -> bool:
    submitted = str(message.get("Auto-Submitted", "")).strip().lower()
    precedence = str(message.get("Precedence", "")).strip().lower()
    return (
        submitted.startswith("auto-replied")
        or precedence == "auto_reply"
        or "X-Autoreply" in message
        or "X-Autorespond" in message
    )


def _utc(value: object) -> str | None:
    if value is None:
        return None
    try:
        when = parsedate_to_datetime(str(value))
    except (TypeError, ValueError, IndexError):
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=dt.UTC)
    return when.astimezone(dt.UTC).isoformat(timespec="seconds").replace("+00:00", "Z")
