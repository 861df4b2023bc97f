"""The bounce mailbox: a Maildir on this machine, or a mailbox on an IMAP server over TLS.

Both are only read, never changed: no message is moved, flagged or deleted (IMAP mailboxes
are opened read-only with ``EXAMINE`` and messages fetched with ``BODY.PEEK``), so reading
again is always safe and the mail team keeps its mailbox as it was.

A Maildir is read the way its format allows while mail is delivered into it: ``tmp/`` holds
messages still being written and is not read (only counted); a message moved from ``new/``
to ``cur/`` by a mail program while it is read is looked for there; one gone altogether is
listed, not an error.

IMAP settings come like the SMTP ones: a TOML or YAML file (``--imap-config``, keys at the
top or under ``imap:``) and ``DHPC_IMAP_*`` environment variables, which win; the password
never from the command line.
"""

from __future__ import annotations

import contextlib
import datetime as dt
import imaplib
import os
import re
import socket
import ssl
from collections.abc import Iterator, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Literal

from dhpc_gen.distribution.smtp import (
    Secret,
    SmtpConfigError,
    config_path,
    read_settings_file,
    settings_from_environment,
)
from dhpc_gen.errors import DhpcError, display_path

IMAP_ENV_PREFIX = "DHPC_IMAP_"
ImapSecurity = Literal["tls", "starttls"]
IMAP_PORTS: Mapping[str, int] = {"tls": 993, "starttls": 143}
_IMAP_KEYS = ("host", "port", "security", "user", "password", "mailbox", "ca_file", "timeout")


class MailboxError(DhpcError):
    """The mailbox cannot be read (any further)."""

    def __init__(self, message: str, *, read: int = 0) -> None:
        super().__init__(message)
        self.read = read
        """Messages handed on before the failure (they were recorded)."""


@dataclass(frozen=True)
class MailboxItem:
    """One message of the mailbox."""

    source: str
    """Where it is, without personal data: ``new/<file>``, ``imap://host/INBOX;UID=7``."""
    data: bytes | None
    """The message; None when it could not be read (``problem`` says why)."""
    arrived_at: str | None = None
    """When it arrived (UTC), if the mailbox tells."""
    problem: str = ""


@dataclass
class MailboxReport:
    """Counts the reader keeps while it goes (for the summary)."""

    description: str
    in_tmp: int = 0
    """Maildir: messages still being delivered (``tmp/``), not read."""
    items: int = 0


def _utc_stamp(seconds: float) -> str:
    stamp = dt.datetime.fromtimestamp(seconds, dt.UTC)
    return stamp.isoformat(timespec="seconds").replace("+00:00", "Z")


# -- Maildir -------------------------------------------------------------------------------


def maildir_messages(path: Path, report: MailboxReport) -> Iterator[MailboxItem]:
    """Every message in ``new/`` and ``cur/`` of the Maildir at ``path``, never ``tmp/``.

    A path that is not a Maildir is refused here, before anything is read.
    """
    shown = display_path(path)
    if not path.is_dir():
        raise MailboxError(f"{shown}: no such folder (--maildir names the bounce Maildir)")
    if not (path / "new").is_dir() or not (path / "cur").is_dir():
        raise MailboxError(
            f"{shown} is not a Maildir: it has no new/ and cur/ folders (give the folder that "
            "holds them)"
        )
    tmp = path / "tmp"
    report.in_tmp = len(_names(tmp)) if tmp.is_dir() else 0
    _names(path / "new")  # an unreadable folder is said now
    return _maildir_items(path, report)


def _maildir_items(path: Path, report: MailboxReport) -> Iterator[MailboxItem]:
    seen: set[str] = set()
    for folder in ("new", "cur"):
        for name in _names(path / folder):
            base = name.split(":", 1)[0]
            if base in seen:
                continue  # read from new/ already, then moved to cur/
            seen.add(base)
            report.items += 1
            yield _read_maildir_file(path, folder, name, base)


def _names(folder: Path) -> list[str]:
    try:
        return sorted(n for n in os.listdir(folder) if not n.startswith("."))
    except FileNotFoundError:
        return []
    except OSError as exc:
        raise MailboxError(f"{display_path(folder)}: cannot be read ({exc.strerror})") from None


def _read_maildir_file(path: Path, folder: str, name: str, base: str) -> MailboxItem:
    candidates = [path / folder / name]
    for attempt in range(3):
        for candidate in candidates:
            try:
                with candidate.open("rb") as handle:
                    arrived = os.fstat(handle.fileno()).st_mtime
                    data = handle.read()
            except FileNotFoundError:
                continue
            except OSError as exc:
                return MailboxItem(
                    f"{folder}/{name}", None, problem=f"cannot be read ({exc.strerror})"
                )
            relative = candidate.relative_to(path).as_posix()
            return MailboxItem(relative, data, _utc_stamp(arrived))
        # Moved while being read (a mail program marked it seen): look in cur/ again.
        candidates = [path / "cur" / n for n in _names(path / "cur") if n.split(":")[0] == base]
        if not candidates and attempt:
            break
    return MailboxItem(
        f"{folder}/{name}", None, problem="removed from the Maildir while it was being read"
    )


# -- IMAP ----------------------------------------------------------------------------------


@dataclass(frozen=True)
class ImapSettings:
    host: str = ""
    port: int = 0
    security: ImapSecurity = "tls"
    user: str = ""
    password: Secret | None = field(default=None, repr=False)
    mailbox: str = "INBOX"
    ca_file: Path | None = None
    timeout: float = 30.0

    @property
    def effective_port(self) -> int:
        return self.port or IMAP_PORTS[self.security]

    @property
    def where(self) -> str:
        return f"{self.host}:{self.effective_port} (IMAP, security {self.security})"

    def describe(self) -> str:
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}:{self.effective_port} mailbox {self.mailbox}"


def load_imap_settings(
    config_file: Path | None = None,
    environ: Mapping[str, str] | None = None,
    *,
    host: str = "",
) -> ImapSettings:
    """IMAP settings from ``config_file`` and ``DHPC_IMAP_*``; ``host`` (``--imap``) wins."""
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if config_file is not None:
        from_file = read_settings_file(config_file, _IMAP_KEYS, "imap", IMAP_ENV_PREFIX)
        for key, value in from_file.items():
            values[key] = value
            origin[key] = str(config_file)
    for key, value in settings_from_environment(environ, _IMAP_KEYS, IMAP_ENV_PREFIX).items():
        values[key] = value
        origin[key] = IMAP_ENV_PREFIX + key.upper()
    if host:
        values["host"], origin["host"] = host, "--imap"

    def where(key: str) -> str:
        return origin.get(key, key)

    kwargs: dict[str, Any] = {}
    for key in ("host", "user", "mailbox"):
        if key in values:
            if not isinstance(values[key], str):
                raise SmtpConfigError(f"{where(key)}: {key} must be text")
            kwargs[key] = values[key].strip()
    if "port" in values:
        port = int(_number(where("port"), "port", values["port"]))
        if not 0 < port < 65536 or port != _number(where("port"), "port", values["port"]):
            raise SmtpConfigError(f"{where('port')}: port must be between 1 and 65535")
        kwargs["port"] = port
    if "security" in values:
        security = str(values["security"]).strip().lower()
        if security not in IMAP_PORTS:
            raise SmtpConfigError(
                f"{where('security')}: security must be tls or starttls, not "
                f"{values['security']!r} (the password never goes over an unencrypted connection)"
            )
        kwargs["security"] = security
    if "password" in values:
        if not isinstance(values["password"], str):
            raise SmtpConfigError(f"{where('password')}: the password must be text")
        kwargs["password"] = Secret(values["password"])
    if "timeout" in values:
        kwargs["timeout"] = _number(where("timeout"), "timeout", values["timeout"]) or 30.0
    if "ca_file" in values:
        kwargs["ca_file"] = config_path(values, "ca_file", config_file, origin)
    settings = ImapSettings(**kwargs)
    if not settings.host:
        raise SmtpConfigError(
            f"no IMAP server: give it with --imap HOST, {IMAP_ENV_PREFIX}HOST or 'host' in "
            "the file given with --imap-config"
        )
    if not settings.user:
        raise SmtpConfigError(
            f"no IMAP user: set {IMAP_ENV_PREFIX}USER or 'user' in the file given with "
            "--imap-config"
        )
    if not settings.mailbox:
        raise SmtpConfigError(f"{where('mailbox')}: the mailbox name is empty")
    return settings


def _number(where: str, key: str, value: object) -> float:
    try:
        number = float(str(value).strip()) if not isinstance(value, bool) else -1.0
    except ValueError:
        number = -1.0
    if not number >= 0:
        raise SmtpConfigError(f"{where}: {key} must be a number, not {value!r}")
    return number


_FETCHED_UID = re.compile(rb"UID (\d+)")


def _quoted(mailbox: str) -> str:
    return '"' + mailbox.replace("\\", "\\\\").replace('"', '\\"') + '"'


def imap_messages(settings: ImapSettings, report: MailboxReport) -> Iterator[MailboxItem]:
    """Every message of the mailbox, read-only.

    Connecting, logging in and opening the mailbox happen here, and a failure raises
    :class:`MailboxError` at once; the messages are then fetched one by one as they are
    taken. A connection lost half-way raises after the messages already handed on, with
    their count: they were recorded, and the next run reads the rest.
    """
    if settings.password is None:
        raise SmtpConfigError(
            f"IMAP user {settings.user!r} has no password: set {IMAP_ENV_PREFIX}PASSWORD"
        )
    client = _connect(settings)
    try:
        uids, stem = _open_mailbox(client, settings)
    except BaseException:
        _close(client)
        raise
    return _fetch_all(client, settings, report, uids, stem)


def _open_mailbox(client: imaplib.IMAP4, settings: ImapSettings) -> tuple[list[str], str]:
    """Log in, open the mailbox read-only and list it: (UIDs, the source prefix)."""
    try:
        try:
            _login(client, settings)
        except imaplib.IMAP4.abort:
            raise
        except imaplib.IMAP4.error as exc:
            raise MailboxError(
                f"{settings.where} refused the login of user {settings.user!r}: "
                f"{_imap_text(exc)}; check the user and password"
            ) from None
        typ, data = client.select(_quoted(settings.mailbox), readonly=True)
        if typ != "OK":
            raise MailboxError(
                f"{settings.where}: cannot open the mailbox {settings.mailbox!r}: "
                f"{_imap_text(data)}; check 'mailbox' in the IMAP settings"
            )
        validity = ""
        for line in client.untagged_responses.get("UIDVALIDITY", []):
            if isinstance(line, bytes) and line.isdigit():
                validity = line.decode("ascii")
        typ, data = client.uid("SEARCH", "ALL")
        if typ != "OK":
            raise MailboxError(f"{settings.where}: the server refused to list the mailbox")
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise MailboxError(
            f"{settings.where}: the server closed the connection ({_imap_text(exc)}) before "
            "any message was read; nothing was recorded"
        ) from None
    except imaplib.IMAP4.error as exc:
        raise MailboxError(
            f"{settings.where}: the server refused a command: {_imap_text(exc)}"
        ) from None
    uids = [u.decode("ascii") for chunk in data if isinstance(chunk, bytes) for u in chunk.split()]
    stem = f"imap://{settings.host}/{settings.mailbox}"
    if validity:
        stem += f";UIDVALIDITY={validity}"
    return uids, stem


def _login(client: imaplib.IMAP4, settings: ImapSettings) -> None:
    """LOGIN, or AUTHENTICATE PLAIN in UTF-8 for a user or password beyond ASCII (imaplib's
    LOGIN is ASCII only). No exception raised here carries the password."""
    assert settings.password is not None
    user, secret = settings.user, settings.password.reveal()
    if user.isascii() and secret.isascii():
        client.login(user, secret)
        return
    if "AUTH=PLAIN" not in client.capabilities:
        raise MailboxError(
            f"{settings.where} offers no AUTHENTICATE PLAIN, needed for a user name or "
            "password with letters outside ASCII"
        )
    token = f"\0{user}\0{secret}".encode()
    client.authenticate("PLAIN", lambda _challenge: token)


def _fetch_all(
    client: imaplib.IMAP4,
    settings: ImapSettings,
    report: MailboxReport,
    uids: list[str],
    stem: str,
) -> Iterator[MailboxItem]:
    yielded = 0
    try:
        for uid in uids:
            typ, fetched = client.uid("FETCH", uid, "(BODY.PEEK[])")
            message = next(
                (
                    part[1]
                    for part in fetched
                    if isinstance(part, tuple) and _FETCHED_UID.search(part[0])
                ),
                None,
            )
            source = f"{stem}/;UID={uid}"
            report.items += 1
            if typ != "OK" or not isinstance(message, bytes):
                yield MailboxItem(source, None, problem="the server did not return the message")
            else:
                yield MailboxItem(source, message)
            yielded += 1
    except (imaplib.IMAP4.abort, OSError, EOFError) as exc:
        raise MailboxError(
            f"{settings.where}: the connection was lost ({_imap_text(exc)}) after {yielded} of "
            f"{len(uids)} message(s); those were recorded: run the same command again to read "
            "the rest",
            read=yielded,
        ) from None
    except imaplib.IMAP4.error as exc:
        raise MailboxError(
            f"{settings.where}: the server refused a command: {_imap_text(exc)}", read=yielded
        ) from None
    finally:
        _close(client)


def _close(client: imaplib.IMAP4) -> None:
    try:
        client.logout()
    except (imaplib.IMAP4.error, OSError, EOFError):
        with contextlib.suppress(OSError):
            client.shutdown()


def _connect(settings: ImapSettings) -> imaplib.IMAP4:
    """Connect and secure the connection; every failure names host, port and what to check."""
    cafile = str(settings.ca_file) if settings.ca_file else None
    context = ssl.create_default_context(cafile=cafile)
    where = f"cannot connect to {settings.where}"
    client: imaplib.IMAP4 | None = None
    try:
        if settings.security == "tls":
            client = imaplib.IMAP4_SSL(
                settings.host,
                settings.effective_port,
                ssl_context=context,
                timeout=settings.timeout,
            )
        else:
            client = imaplib.IMAP4(settings.host, settings.effective_port, timeout=settings.timeout)
            client.starttls(ssl_context=context)
        return client
    except ssl.SSLCertVerificationError as exc:
        reason = (
            f"the server's TLS certificate is not trusted ({exc.verify_message}); give its CA "
            "with ca_file in the IMAP settings"
        )
    except ssl.SSLError as exc:
        reason = (
            f"the TLS handshake failed ({exc.reason or exc}); if the server expects STARTTLS "
            "(usually port 143), set security = starttls"
        )
    except socket.gaierror as exc:
        reason = f"the host name cannot be resolved ({exc.strerror})"
    except ConnectionRefusedError:
        reason = f"connection refused, nothing listens on port {settings.effective_port}"
    except TimeoutError:
        reason = f"no answer within {settings.timeout:g} s"
    except (imaplib.IMAP4.error, OSError, EOFError) as exc:
        reason = f"the server closed the connection or refused it ({_imap_text(exc)})"
    if client is not None:
        with contextlib.suppress(OSError):
            client.shutdown()
    raise MailboxError(f"{where}: {reason}")


def _imap_text(value: object) -> str:
    """An IMAP error or response as one short line (never the password: it is not in them)."""
    if isinstance(value, list | tuple):
        value = b" ".join(v for v in value if isinstance(v, bytes))
    if isinstance(value, bytes):
        value = value.decode("utf-8", "replace")
    text = " ".join(str(value).split()) or type(value).__name__
    return text[:200]
