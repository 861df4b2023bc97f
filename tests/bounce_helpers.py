"""Bounce messages as mail servers write them, a Maildir to put them in, and an IMAP server.

The DSNs follow RFC 3464 as Postfix writes them (tests/test_delivery.py reads Postfix's
own); the non-standard ones are Exim's and qmail's formats, which flufl.bounce knows.

The IMAP server is a small one of the test's own over TLS on loopback, speaking just the
IMAP4rev1 a reader needs (CAPABILITY, LOGIN, EXAMINE/SELECT, UID SEARCH, UID FETCH,
LOGOUT): no IMAP server package can run here (Dovecot is not installed, and tests must
not install system packages). It refuses a wrong login, can drop the connection in the
middle of a message, and logs every command it got, so a test can see that the reader only
looked (no STORE, no EXPUNGE, BODY.PEEK only).
"""

from __future__ import annotations

import base64
import itertools
import os
import re
import socket
import ssl
import threading
import time
from collections.abc import Sequence
from contextlib import suppress
from dataclasses import dataclass, field
from pathlib import Path

_counter = itertools.count(1)


def dsn(
    *,
    action: str = "failed",
    status: str = "5.1.1",
    recipient: str = "anna@example.fi",
    to: str = "bounces@bounces.example",
    envid: str = "",
    message_id: str = "",
    dhpc_id: str = "",
    diagnostic: str = "smtp; 550 5.1.1 <{recipient}>: Recipient address rejected: User unknown",
    date: str = "Thu, 25 Apr 2019 10:00:00 +0200",
    fields: str | None = None,
) -> bytes:
    """A multipart/report DSN with the original's headers returned (RET=HDRS)."""
    boundary = f"B{next(_counter)}.mta.example"
    per_recipient = fields
    if per_recipient is None:
        per_recipient = (
            f"Final-Recipient: rfc822; {recipient}\r\n"
            f"Original-Recipient: rfc822;{recipient}\r\n"
            f"Action: {action}\r\n"
            f"Status: {status}\r\n"
            "Remote-MTA: dns; mx.example.fi\r\n"
        )
        if diagnostic:
            per_recipient += f"Diagnostic-Code: {diagnostic.format(recipient=recipient)}\r\n"
    original = f"From: Sanofi Oy <dhpc@sanofi.example>\r\nTo: <{recipient}>\r\n"
    if message_id:
        original += f"Message-ID: {message_id}\r\n"
    if dhpc_id:
        original += f"X-DHPC-Id: {dhpc_id}\r\n"
    text = (
        f"Date: {date}\r\n"
        "From: Mail Delivery System <MAILER-DAEMON@mta.example>\r\n"
        "Subject: Undelivered Mail Returned to Sender\r\n"
        f"To: {to}\r\n"
        "Auto-Submitted: auto-replied\r\n"
        "MIME-Version: 1.0\r\n"
        f'Content-Type: multipart/report; report-type=delivery-status; boundary="{boundary}"\r\n'
        f"Message-Id: <{boundary}@mta.example>\r\n"
        "\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Notification\r\n"
        "Content-Type: text/plain; charset=utf-8\r\n\r\n"
        "Your message could not be delivered.\r\n\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Delivery report\r\n"
        "Content-Type: message/delivery-status\r\n\r\n"
        "Reporting-MTA: dns; mta.example\r\n"
        + (f"Original-Envelope-Id: {envid}\r\n" if envid else "")
        + "Arrival-Date: Thu, 25 Apr 2019 09:59:00 +0200\r\n\r\n"
        + per_recipient
        + "\r\n"
        f"--{boundary}\r\n"
        "Content-Description: Undelivered Message Headers\r\n"
        "Content-Type: text/rfc822-headers\r\n\r\n" + original + f"\r\n--{boundary}--\r\n"
    )
    return text.encode()


def exim_bounce(recipient: str, *, to: str, message_id: str = "", dhpc_id: str = "") -> bytes:
    """Exim's own format: no DSN, the failed address and the original below a marker."""
    quoted = f"Message-ID: {message_id}\n" if message_id else ""
    quoted += f"X-DHPC-Id: {dhpc_id}\n" if dhpc_id else ""
    return (
        "From: Mail Delivery System <Mailer-Daemon@mx.example.fi>\n"
        f"To: {to}\n"
        "Subject: Mail delivery failed: returning message to sender\n"
        f"X-Failed-Recipients: {recipient}\n"
        "Date: Thu, 25 Apr 2019 10:05:00 +0200\n"
        "\n"
        "This message was created automatically by mail delivery software.\n\n"
        "A message that you sent could not be delivered to one or more of its\n"
        "recipients. This is a permanent error. The following address(es) failed:\n\n"
        f"  {recipient}\n"
        f"    SMTP error from remote mail server after RCPT TO:<{recipient}>:\n"
        "    550 5.2.1 Mailbox disabled\n\n"
        "------ This is a copy of the message, including all the headers. ------\n\n"
        f"{quoted}Subject: Important\n\nBody\n"
    ).encode()


def auto_reply(to: str, message_id: str = "") -> bytes:
    """An out-of-office reply (RFC 3834) sent to the return path."""
    return (
        f"From: anna@example.fi\r\nTo: {to}\r\nSubject: Out of office\r\n"
        "Auto-Submitted: auto-replied\r\n"
        + (f"In-Reply-To: {message_id}\r\n" if message_id else "")
        + f"Date: Fri, 26 Apr 2019 08:00:00 +0200\r\n\r\nI am away until May. {next(_counter)}\r\n"
    ).encode()


class Maildir:
    """A Maildir that messages are delivered into the way an MTA does (tmp/, then new/)."""

    def __init__(self, path: Path) -> None:
        self.path = path
        for name in ("tmp", "new", "cur"):
            (path / name).mkdir(parents=True, exist_ok=True)

    def deliver(self, data: bytes, name: str | None = None) -> Path:
        name = name or f"{time.time_ns()}.M{next(_counter)}P{os.getpid()}.test"
        tmp = self.path / "tmp" / name
        tmp.write_bytes(data)
        target = self.path / "new" / name
        os.replace(tmp, target)
        return target

    def mark_seen(self, name: str) -> Path:
        """What a mail program does: new/NAME → cur/NAME:2,S."""
        target = self.path / "cur" / f"{name}:2,S"
        os.replace(self.path / "new" / name, target)
        return target


# -- IMAP ----------------------------------------------------------------------------------


@dataclass
class ImapServer:
    """A TLS IMAP server on 127.0.0.1 holding ``messages`` in INBOX."""

    messages: Sequence[bytes]
    context: ssl.SSLContext | None
    user: str = "bounces"
    password: str = "imap-secret-Ä1"
    drop_after: int | None = None
    """Close the connection half-way through the message after this many FETCHes."""
    starttls: bool = False
    """Speak plain IMAP first and offer STARTTLS (port 143 style) instead of TLS at once."""
    commands: list[str] = field(default_factory=list)
    port: int = 0

    def __post_init__(self) -> None:
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)
        self.fetches = 0

    def __enter__(self) -> ImapServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        self.listener.close()

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                continue
            with suppress(OSError, ssl.SSLError):
                self._session(client)
            with suppress(OSError):
                client.close()

    def _session(self, raw: socket.socket) -> None:
        raw.settimeout(5)
        at_once = self.context is not None and not self.starttls
        self._conn = self.context.wrap_socket(raw, server_side=True) if at_once else raw
        self._reader = self._conn.makefile("rb")
        try:
            self._converse()
        finally:
            self._reader.close()
            self._conn.close()

    def _converse(self) -> None:
        def send(text: str | bytes) -> None:
            self._conn.sendall(text.encode() if isinstance(text, str) else text)

        send("* OK IMAP4rev1 test server ready\r\n")
        while True:
            reader = self._reader
            line = reader.readline()
            if not line:
                return
            tag, _, rest = line.decode("utf-8", "replace").rstrip("\r\n").partition(" ")
            command, _, args = rest.partition(" ")
            command = command.upper()
            if command == "UID":
                sub, _, args = args.partition(" ")
                command = f"UID {sub.upper()}"
            self.commands.append(command if command != "LOGIN" else "LOGIN")
            if command == "CAPABILITY":
                offer = " STARTTLS" if self.starttls else ""
                send(f"* CAPABILITY IMAP4rev1 AUTH=PLAIN{offer}\r\n{tag} OK done\r\n")
            elif command == "STARTTLS" and self.starttls and self.context is not None:
                send(f"{tag} OK begin TLS now\r\n")
                self._reader.close()
                self._conn = self.context.wrap_socket(self._conn, server_side=True)
                self._reader = self._conn.makefile("rb")
            elif command == "LOGIN":
                user, password = _login_args(args)
                if (user, password) == (self.user, self.password):
                    send(f"{tag} OK LOGIN completed\r\n")
                else:
                    send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n")
            elif command == "AUTHENTICATE" and args.upper() == "PLAIN":
                send("+ \r\n")
                token = base64.b64decode(reader.readline().strip() or b"=")
                _, user, password = [*token.decode("utf-8", "replace").split("\0"), "", ""][:3]
                if (user, password) == (self.user, self.password):
                    send(f"{tag} OK AUTHENTICATE completed\r\n")
                else:
                    send(f"{tag} NO [AUTHENTICATIONFAILED] Invalid credentials (Failure)\r\n")
            elif command in ("EXAMINE", "SELECT"):
                send(
                    f"* {len(self.messages)} EXISTS\r\n* 0 RECENT\r\n"
                    "* OK [UIDVALIDITY 1714] UIDs valid\r\n* FLAGS (\\Seen)\r\n"
                    f"{tag} OK [READ-ONLY] done\r\n"
                )
            elif command == "UID SEARCH":
                uids = " ".join(str(n) for n in range(1, len(self.messages) + 1))
                send(f"* SEARCH {uids}\r\n{tag} OK done\r\n")
            elif command == "UID FETCH":
                uid = int(args.split()[0])
                self.commands[-1] = f"UID FETCH {args.split(' ', 1)[1]}"
                data = self.messages[uid - 1]
                if self.drop_after is not None and self.fetches >= self.drop_after:
                    send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n".encode())
                    send(data[: len(data) // 2])
                    return  # the connection drops in the middle of the message
                self.fetches += 1
                send(f"* {uid} FETCH (UID {uid} BODY[] {{{len(data)}}}\r\n".encode())
                send(data + b")\r\n")
                send(f"{tag} OK FETCH completed\r\n")
            elif command == "LOGOUT":
                send(f"* BYE logging out\r\n{tag} OK done\r\n")
                return
            else:
                send(f"{tag} BAD not here\r\n")


def _login_args(args: str) -> tuple[str, str]:
    parts = re.findall(r'"((?:[^"\\]|\\.)*)"|(\S+)', args)
    values = [quoted.replace('\\"', '"').replace("\\\\", "\\") or bare for quoted, bare in parts]
    first, second, *_ = [*values, "", ""]
    return first, second
