"""SMTP settings, one connection to the mail server, and the retry policy.

Settings come from a TOML or YAML file and from ``DHPC_SMTP_*`` environment variables
(which win over the file). The password is held in a :class:`Secret` that never shows
itself in ``repr``, logs or error messages; it is read from ``DHPC_SMTP_PASSWORD`` or,
only when the file is readable by its owner alone, from the file.

:class:`SmtpConnection` runs one SMTP transaction per message and says exactly how it
ended: accepted, refused for now (4xx), refused for good (5xx), the connection dropped
before the end of the message (safe to try again), or dropped after the whole message was
sent but before the server answered (it may have been delivered: ``unknown``).
"""

from __future__ import annotations

import base64
import ipaddress
import logging
import os
import re
import smtplib
import socket
import ssl
import tomllib
from collections.abc import Mapping
from dataclasses import dataclass, field
from email.utils import parseaddr
from pathlib import Path
from typing import Any, Literal

from dhpc_gen.errors import DhpcError

logger = logging.getLogger(__name__)

Security = Literal["none", "starttls", "tls"]
SECURITY_CHOICES: tuple[Security, ...] = ("none", "starttls", "tls")
DEFAULT_PORTS: Mapping[str, int] = {"none": 25, "starttls": 587, "tls": 465}
ENV_PREFIX = "DHPC_SMTP_"


class SmtpConfigError(DhpcError):
    """The SMTP settings are incomplete or wrong, or the server refuses them."""


class Secret:
    """A password that does not show itself in ``repr``, ``str`` or tracebacks."""

    __slots__ = ("_value",)

    def __init__(self, value: str) -> None:
        self._value = value

    def reveal(self) -> str:
        return self._value

    def __repr__(self) -> str:
        return "Secret('********')"

    __str__ = __repr__

    def __eq__(self, other: object) -> bool:
        return isinstance(other, Secret) and other._value == self._value

    def __hash__(self) -> int:
        return hash(self._value)


@dataclass(frozen=True)
class RetryPolicy:
    """How often and how patiently a message is tried within one run."""

    attempts: int = 5
    """Tries per message in one run (the first included)."""
    delay: float = 2.0
    """Seconds before the second try; doubled before each further one."""
    max_delay: float = 60.0

    def backoff(self, failed_attempts: int) -> float:
        """Seconds to wait after the ``failed_attempts``-th failure in a row."""
        exponent = min(max(failed_attempts - 1, 0), 30)
        return float(min(self.max_delay, self.delay * (2**exponent)))


@dataclass(frozen=True)
class SmtpSettings:
    """Where and how to send; ``host`` may be empty for a dry run."""

    host: str = ""
    port: int = 0
    security: Security = "starttls"
    user: str = ""
    password: Secret | None = field(default=None, repr=False)
    sender: str = ""
    """``From:``, e.g. ``Sanofi Oy <dhpc@sanofi.example>``; empty: the first MAH of the DHPC."""
    envelope_from: str = ""
    """Bounce address for ``MAIL FROM``; empty: the address of ``sender``."""
    reply_to: str = ""
    message_id_domain: str = "dhpc.invalid"
    timeout: float = 30.0
    """Seconds to wait for each answer of the server once the session is set up."""
    connect_timeout: float = 10.0
    """Seconds to connect, to finish a TLS handshake and to get the greeting: a wrong host,
    port or security mode is said within seconds, not after minutes of retries."""
    smtputf8: bool = False
    """Send non-ASCII addresses as UTF-8 (the server must support SMTPUTF8)."""
    ca_file: Path | None = None
    """Trust this CA bundle (PEM) instead of the system's, e.g. for a company relay."""
    local_hostname: str = ""
    retry: RetryPolicy = RetryPolicy()
    verp: bool = False
    """A return path of its own for each message (``bounces+<token>@…``), so that every bounce
    names the message it is about; the bounce mailbox must take sub-addresses."""
    dkim_key_file: Path | None = None
    """The DKIM private key (PEM, RSA); each message is signed when it is given."""
    dkim_selector: str = ""
    dkim_domain: str = ""
    """The signing domain (``d=``); default: the domain of the From address."""

    @property
    def effective_port(self) -> int:
        return self.port or DEFAULT_PORTS[self.security]

    def describe(self) -> str:
        """Where messages go, for the terminal (never the password)."""
        who = f"{self.user}@" if self.user else ""
        return f"{who}{self.host}:{self.effective_port} ({self.security})"

    @property
    def where(self) -> str:
        """Host, port and security mode, as every connection error names them."""
        return f"{self.host}:{self.effective_port} (security {self.security})"


# key in the file / environment → (field name, parser)
_STRING_KEYS = {
    "host": "host",
    "user": "user",
    "from": "sender",
    "envelope_from": "envelope_from",
    "reply_to": "reply_to",
    "message_id_domain": "message_id_domain",
    "local_hostname": "local_hostname",
    "dkim_selector": "dkim_selector",
    "dkim_domain": "dkim_domain",
}
_KNOWN_KEYS = (
    *_STRING_KEYS,
    "port",
    "security",
    "password",
    "timeout",
    "connect_timeout",
    "smtputf8",
    "ca_file",
    "retries",
    "retry_delay",
    "retry_max_delay",
    "verp",
    "dkim_key_file",
)
_DOMAIN = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62}\.)*[A-Za-z0-9-]{1,63}$")


def read_settings_file(
    path: Path,
    known_keys: tuple[str, ...] = _KNOWN_KEYS,
    section: str = "smtp",
    prefix: str = ENV_PREFIX,
) -> dict[str, Any]:
    what = section.upper()
    try:
        raw = path.read_bytes()
    except OSError as exc:
        raise SmtpConfigError(f"{path}: cannot read the {what} settings: {exc.strerror}") from exc
    data: object
    if path.suffix.lower() == ".toml":
        try:
            data = tomllib.loads(raw.decode("utf-8"))
        except (tomllib.TOMLDecodeError, UnicodeDecodeError) as exc:
            raise SmtpConfigError(f"{path}: not valid TOML: {exc}") from exc
    elif path.suffix.lower() in (".yaml", ".yml"):
        from ruamel.yaml import YAML
        from ruamel.yaml.error import YAMLError

        try:
            data = YAML(typ="safe", pure=True).load(raw.decode("utf-8"))
        except (YAMLError, UnicodeDecodeError) as exc:
            raise SmtpConfigError(f"{path}: not valid YAML: {exc}") from exc
    else:
        raise SmtpConfigError(f"{path}: {what} settings must be a .toml, .yaml or .yml file")
    if data is None:
        data = {}
    if isinstance(data, dict) and set(data) == {section} and isinstance(data[section], dict):
        data = data[section]
    if not isinstance(data, dict):
        raise SmtpConfigError(f"{path}: expected keys such as host, port and user at the top")
    unknown = sorted(str(k) for k in data if k not in known_keys)
    if unknown:
        raise SmtpConfigError(
            f"{path}: unknown key {', '.join(unknown)}; known keys: {', '.join(known_keys)}"
        )
    if "password" in data and os.stat(path).st_mode & 0o077:
        raise SmtpConfigError(
            f"{path}: holds a password but others can read it; run: chmod 600 {path} "
            f"(or take the password out and set {prefix}PASSWORD)"
        )
    return {str(k): v for k, v in data.items()}


def settings_from_environment(
    environ: Mapping[str, str],
    known_keys: tuple[str, ...] = _KNOWN_KEYS,
    prefix: str = ENV_PREFIX,
) -> dict[str, Any]:
    values: dict[str, Any] = {}
    for key in known_keys:
        name = prefix + key.upper()
        if environ.get(name, "") != "":
            values[key] = environ[name]
    return values


def _number(where: str, key: str, value: object, kind: type[int] | type[float]) -> Any:
    if isinstance(value, bool):
        raise SmtpConfigError(f"{where}: {key} must be a number, not {value!r}")
    try:
        number = kind(str(value).strip())
    except (TypeError, ValueError):
        raise SmtpConfigError(f"{where}: {key} must be a number, not {value!r}") from None
    if number < 0:
        raise SmtpConfigError(f"{where}: {key} must not be negative")
    return number


def _boolean(where: str, key: str, value: object) -> bool:
    if isinstance(value, bool):
        return value
    text = str(value).strip().lower()
    if text in ("1", "true", "yes", "on"):
        return True
    if text in ("0", "false", "no", "off", ""):
        return False
    raise SmtpConfigError(f"{where}: {key} must be true or false, not {value!r}")


def load_settings(
    config_file: Path | None = None, environ: Mapping[str, str] | None = None
) -> SmtpSettings:
    """Settings from ``config_file`` (TOML or YAML) and ``DHPC_SMTP_*`` variables.

    Each environment variable overrides the same key of the file.
    """
    environ = os.environ if environ is None else environ
    values: dict[str, Any] = {}
    origin: dict[str, str] = {}
    if config_file is not None:
        for key, value in read_settings_file(config_file).items():
            values[key] = value
            origin[key] = str(config_file)
    for key, value in settings_from_environment(environ).items():
        values[key] = value
        origin[key] = ENV_PREFIX + key.upper()

    def where(key: str) -> str:
        return origin.get(key, key)

    kwargs: dict[str, Any] = {}
    for key, name in _STRING_KEYS.items():
        if key in values:
            if not isinstance(values[key], str):
                raise SmtpConfigError(f"{where(key)}: {key} must be text")
            kwargs[name] = values[key].strip()
    if "port" in values:
        port = _number(where("port"), "port", values["port"], int)
        if not 0 < port < 65536:
            raise SmtpConfigError(f"{where('port')}: port must be between 1 and 65535")
        kwargs["port"] = port
    if "security" in values:
        security = str(values["security"]).strip().lower()
        if security not in SECURITY_CHOICES:
            raise SmtpConfigError(
                f"{where('security')}: security must be one of {', '.join(SECURITY_CHOICES)}, "
                f"not {values['security']!r}"
            )
        kwargs["security"] = security
    if "password" in values:
        if not isinstance(values["password"], str):
            raise SmtpConfigError(f"{where('password')}: the password must be text")
        kwargs["password"] = Secret(values["password"])
    if "timeout" in values:
        kwargs["timeout"] = _number(where("timeout"), "timeout", values["timeout"], float) or 30.0
    if "connect_timeout" in values:
        kwargs["connect_timeout"] = (
            _number(where("connect_timeout"), "connect_timeout", values["connect_timeout"], float)
            or 10.0
        )
    if "smtputf8" in values:
        kwargs["smtputf8"] = _boolean(where("smtputf8"), "smtputf8", values["smtputf8"])
    if "ca_file" in values:
        kwargs["ca_file"] = config_path(values, "ca_file", config_file, origin)
    if "verp" in values:
        kwargs["verp"] = _boolean(where("verp"), "verp", values["verp"])
    if "dkim_key_file" in values:
        kwargs["dkim_key_file"] = config_path(values, "dkim_key_file", config_file, origin)
    retry = RetryPolicy()
    if "retries" in values:
        attempts = _number(where("retries"), "retries", values["retries"], int) + 1
        retry = RetryPolicy(attempts, retry.delay, retry.max_delay)
    if "retry_delay" in values:
        delay = _number(where("retry_delay"), "retry_delay", values["retry_delay"], float)
        retry = RetryPolicy(retry.attempts, delay, max(retry.max_delay, delay))
    if "retry_max_delay" in values:
        top = _number(where("retry_max_delay"), "retry_max_delay", values["retry_max_delay"], float)
        retry = RetryPolicy(retry.attempts, min(retry.delay, top), top)
    kwargs["retry"] = retry
    settings = SmtpSettings(**kwargs)
    _check_addresses(settings, where)
    return settings


def config_path(
    values: Mapping[str, Any], key: str, config_file: Path | None, origin: Mapping[str, str]
) -> Path:
    """A file named in the settings: relative to the settings file when it comes from it."""
    path = Path(str(values[key])).expanduser()
    if config_file is not None and origin[key] == str(config_file):
        path = config_file.parent / path
    if not path.is_file():
        raise SmtpConfigError(f"{origin.get(key, key)}: {key} {path} does not exist")
    return path


_SELECTOR = re.compile(r"^[A-Za-z0-9](?:[A-Za-z0-9-]{0,62})(?:\.[A-Za-z0-9-]{1,63})*$")


def _check_addresses(settings: SmtpSettings, where: Any) -> None:
    for key, value in (
        ("from", settings.sender),
        ("envelope_from", settings.envelope_from),
        ("reply_to", settings.reply_to),
    ):
        if value and "@" not in parseaddr(value)[1]:
            raise SmtpConfigError(f"{where(key)}: {key} is not an e-mail address: {value!r}")
    if not _DOMAIN.match(settings.message_id_domain):
        raise SmtpConfigError(
            f"{where('message_id_domain')}: message_id_domain must be a domain name such as "
            f"dhpc.example.com, not {settings.message_id_domain!r}"
        )
    if settings.dkim_key_file is not None and not settings.dkim_selector:
        raise SmtpConfigError(
            f"{where('dkim_key_file')}: a DKIM key needs its selector: set dkim_selector (the "
            "name of the DNS record <selector>._domainkey.<domain> that publishes the public key)"
        )
    if (settings.dkim_selector or settings.dkim_domain) and settings.dkim_key_file is None:
        key = "dkim_selector" if settings.dkim_selector else "dkim_domain"
        raise SmtpConfigError(f"{where(key)}: {key} is set but dkim_key_file is not")
    if settings.dkim_selector and not _SELECTOR.match(settings.dkim_selector):
        raise SmtpConfigError(
            f"{where('dkim_selector')}: dkim_selector must be a DNS label such as dhpc2019, not "
            f"{settings.dkim_selector!r}"
        )
    if settings.dkim_domain and not _DOMAIN.match(settings.dkim_domain):
        raise SmtpConfigError(
            f"{where('dkim_domain')}: dkim_domain must be a domain name such as sanofi.example, "
            f"not {settings.dkim_domain!r}"
        )


def require_server(settings: SmtpSettings) -> None:
    """Refuse settings a real send cannot use."""
    if not settings.host:
        raise SmtpConfigError(
            f"no SMTP server: set {ENV_PREFIX}HOST or 'host' in the file given with --smtp-config"
        )
    if settings.user and settings.password is None:
        raise SmtpConfigError(
            f"SMTP user {settings.user!r} has no password: set {ENV_PREFIX}PASSWORD"
        )
    if settings.user and settings.security == "none" and not _is_loopback(settings.host):
        raise SmtpConfigError(
            f"refusing to send the SMTP password to {settings.host} unencrypted: "
            "set security to starttls or tls"
        )


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


# -- one connection ------------------------------------------------------------------------


@dataclass(frozen=True)
class Reply:
    """The server's answer that ended a transaction."""

    code: int
    text: str

    @property
    def accepted(self) -> bool:
        return 200 <= self.code < 300

    @property
    def temporary(self) -> bool:
        return 400 <= self.code < 500

    def __str__(self) -> str:
        return f"{self.code} {self.text}".strip()


class ConnectionDropped(Exception):
    """The connection broke before the server had the whole message: safe to try again.

    ``reason`` says in a few words what happened, for the line that announces a retry.
    """

    def __init__(self, message: str, reason: str = "") -> None:
        super().__init__(message)
        self.reason = reason or message


class OutcomeUnknown(Exception):
    """The connection broke after the whole message was sent, before the server answered."""


class SenderRefused(SmtpConfigError):
    """The server refuses the sender address for good: no message can go out."""


def _reply(code: int, message: bytes | str) -> Reply:
    text = message.decode("utf-8", "replace") if isinstance(message, bytes) else message
    return Reply(code, " ".join(text.split()))


def _dot_stuffed(data: bytes) -> bytes:
    body = re.sub(rb"(?m)^\.", b"..", data)
    if not body.endswith(b"\r\n"):
        body += b"\r\n"
    return body + b".\r\n"


_PORT_HINT = "usually 25 for none, 587 for starttls, 465 for tls"


class _Client(smtplib.SMTP):
    """smtplib's client that knows which step of connecting it is in.

    ``phase`` is ``connect`` (TCP), ``tls`` (the handshake of implicit TLS) or ``greeting``
    (waiting for the server's 220): the same timeout means a different fault in each.
    """

    def __init__(
        self, local_hostname: str | None, timeout: float, tls: ssl.SSLContext | None
    ) -> None:
        self.phase = "connect"
        self._tls = tls
        super().__init__(local_hostname=local_hostname, timeout=timeout)

    def _get_socket(self, host: str, port: int, timeout: float) -> socket.socket:
        self.phase = "connect"
        self._host = host  # STARTTLS checks the certificate against it
        sock = socket.create_connection((host, port), timeout, self.source_address)
        if self._tls is not None:
            self.phase = "tls"
            try:
                sock = self._tls.wrap_socket(sock, server_hostname=host)
            except BaseException:
                sock.close()
                raise
        self.phase = "greeting"
        return sock


class SmtpConnection:
    """A connection to the mail server, opened when first needed."""

    def __init__(self, settings: SmtpSettings) -> None:
        self.settings = settings
        self._smtp: smtplib.SMTP | None = None
        self.body_sent = False
        """True from the moment the whole message is with the server until its answer."""

    @property
    def is_open(self) -> bool:
        return self._smtp is not None

    def _context(self) -> ssl.SSLContext:
        cafile = str(self.settings.ca_file) if self.settings.ca_file else None
        return ssl.create_default_context(cafile=cafile)

    def open(self) -> None:
        """Connect, greet, secure and log in.

        Raises :class:`SmtpConfigError` when trying again cannot help (a TLS mismatch, an
        untrusted certificate, a refused login, an answer that is not SMTP) and
        :class:`ConnectionDropped` when it may work later (refused or timed-out
        connections, a server that is busy). Every message names host, port and security
        mode. Connecting, the TLS handshake and the greeting wait ``connect_timeout``
        seconds at most, each.
        """
        if self._smtp is not None:
            return
        s = self.settings
        tls = self._context() if s.security == "tls" else None
        client = _Client(s.local_hostname or None, s.connect_timeout, tls)
        try:
            code, message = client.connect(s.host, s.effective_port)
        except BaseException as exc:
            client.close()
            if isinstance(exc, Exception):
                raise self._connect_error(client.phase, exc) from None
            raise
        try:
            if code != 220:
                raise self._greeting_refused(_reply(code, message))
            self._greet(client)
            assert client.sock is not None
            client.sock.settimeout(s.timeout)
            client.timeout = s.timeout
        except BaseException:
            client.close()
            raise
        self._smtp = client
        logger.info("connected to %s", s.describe())

    def _connect_error(self, phase: str, exc: Exception) -> Exception:
        """What went wrong while connecting, as the user can act on it."""
        s = self.settings
        where = f"cannot connect to {s.where}"
        wait = f"{s.connect_timeout:g} s"
        if isinstance(exc, ssl.SSLCertVerificationError):
            return SmtpConfigError(
                f"{where}: the server's TLS certificate is not trusted ({exc.verify_message}); "
                "give its CA with ca_file in the SMTP settings"
            )
        if isinstance(exc, socket.gaierror):
            return ConnectionDropped(
                f"{where}: the host name cannot be resolved ({exc.strerror}); check host in the "
                "SMTP settings",
                "the mail server's name cannot be resolved",
            )
        if isinstance(exc, ConnectionRefusedError):
            return ConnectionDropped(
                f"{where}: connection refused, nothing listens on port {s.effective_port}; "
                f"check host and port ({_PORT_HINT})",
                "the mail server refused the connection",
            )
        if phase == "tls":
            if isinstance(exc, TimeoutError):
                return ConnectionDropped(
                    f"{where}: connected, but no answer to the TLS handshake within {wait}",
                    "no answer to the TLS handshake",
                )
            if isinstance(exc, ssl.SSLError) and not isinstance(exc, ssl.SSLEOFError):
                return SmtpConfigError(
                    f"{where}: the TLS handshake failed ({exc.reason or exc}) - does the server "
                    "speak plain SMTP on this port? Then use security = starttls (usually port "
                    "587) or none (25)"
                )
            return ConnectionDropped(
                f"{where}: the server closed the connection during the TLS handshake",
                "the server closed the connection",
            )
        if phase == "greeting":
            if _timed_out(exc):
                hint = (
                    ""
                    if s.security == "tls"
                    else "; if this port expects TLS from the start (usually 465), use "
                    "security = tls"
                )
                return ConnectionDropped(
                    f"{where}: connected, but timed out waiting for the greeting ({wait}){hint}",
                    "timed out waiting for the server's greeting",
                )
            return ConnectionDropped(
                f"{where}: the server closed the connection before its greeting ({_why(exc)})",
                "the server closed the connection",
            )
        if isinstance(exc, TimeoutError):
            return ConnectionDropped(
                f"{where}: no answer within {wait} (a wrong host, or a firewall that drops the "
                "connection)",
                "no answer from the mail server",
            )
        return ConnectionDropped(f"{where}: {_why(exc)}", f"cannot connect ({_why(exc)})")

    def _greeting_refused(self, reply: Reply) -> Exception:
        where = f"cannot connect to {self.settings.where}"
        if reply.code < 0:
            return SmtpConfigError(
                f"{where}: the server's first answer is not SMTP ({reply.text[:60]!r}); is this "
                "the mail server's port?"
            )
        if reply.temporary:
            return ConnectionDropped(
                f"{where}: the server refuses connections for now: {reply}",
                f"the server refuses connections for now ({reply.code})",
            )
        return SmtpConfigError(f"{where}: the server refuses the session: {reply}")

    def _greet(self, smtp: smtplib.SMTP) -> None:
        """EHLO, STARTTLS and login on a connection that has been greeted."""
        s = self.settings
        where = s.where
        phase = "EHLO"
        try:
            code, message = smtp.ehlo()
            if not 200 <= code < 300:
                raise ConnectionDropped(
                    f"{where} refused EHLO: {_reply(code, message)}", "the server refused EHLO"
                )
            if s.security == "starttls":
                if not smtp.has_extn("starttls"):
                    raise SmtpConfigError(
                        f"{where} does not offer STARTTLS; use security = tls or, for a relay on "
                        "this machine only, security = none"
                    )
                phase = "STARTTLS"
                smtp.starttls(context=self._context())
                phase = "EHLO"
                smtp.ehlo()
            if s.user:
                assert s.password is not None
                phase = "login"
                _login(smtp, s.user, s.password, where)
        except ssl.SSLCertVerificationError as exc:
            raise SmtpConfigError(
                f"{where}: the server's TLS certificate is not trusted ({exc.verify_message}); "
                "give its CA with ca_file in the SMTP settings"
            ) from None
        except ssl.SSLError as exc:
            if isinstance(exc, ssl.SSLEOFError):
                raise ConnectionDropped(
                    f"{where}: the server closed the connection during the TLS handshake",
                    "the server closed the connection",
                ) from None
            raise SmtpConfigError(
                f"{where}: the TLS handshake after STARTTLS failed ({exc.reason or exc})"
            ) from None
        except smtplib.SMTPAuthenticationError as exc:
            raise SmtpConfigError(
                f"{where} refused the login of user {s.user!r}: "
                f"{_reply(exc.smtp_code, exc.smtp_error)}; check the user and password"
            ) from None
        except smtplib.SMTPNotSupportedError:
            raise SmtpConfigError(
                f"{where} does not offer a login (AUTH); remove user from the SMTP settings"
            ) from None
        except smtplib.SMTPException as exc:
            if isinstance(exc, smtplib.SMTPResponseException) and exc.smtp_code >= 500:
                raise SmtpConfigError(f"{where}: {_reply(exc.smtp_code, exc.smtp_error)}") from None
            raise ConnectionDropped(
                f"{where}: {phase} failed: {_why(exc)}", f"{phase} failed ({_why(exc)})"
            ) from None
        except OSError as exc:
            raise ConnectionDropped(
                f"{where}: {phase} failed: {_why(exc)}", f"{phase} failed ({_why(exc)})"
            ) from None
        if s.smtputf8 and not smtp.has_extn("smtputf8"):
            raise SmtpConfigError(
                f"{where} does not support SMTPUTF8; set smtputf8 = false in the SMTP settings"
            )

    def close(self) -> None:
        """Say goodbye if the server still listens; forget the connection either way."""
        smtp, self._smtp = self._smtp, None
        if smtp is None:
            return
        try:
            smtp.quit()
        except (OSError, smtplib.SMTPException):
            smtp.close()

    def drop(self) -> None:
        """Forget a broken connection without talking to the server."""
        smtp, self._smtp = self._smtp, None
        if smtp is not None:
            smtp.close()

    def send(self, envelope_from: str, recipient: str, data: bytes, envid: str = "") -> Reply:
        """One transaction: MAIL, RCPT, DATA. Returns the server's final answer.

        When the server offers DSN (RFC 3461), ``envid`` goes with MAIL FROM as the envelope
        id every delivery report names, with ``RET=HDRS`` (a bounce carries the headers,
        not the letter back) and ``NOTIFY=FAILURE,DELAY`` on the recipient.

        Raises :class:`ConnectionDropped` (nothing delivered, try again),
        :class:`OutcomeUnknown` (the message may have been delivered) or
        :class:`SenderRefused` (a 5xx to MAIL FROM: no message can go out).
        """
        smtp = self._smtp
        if smtp is None:
            raise ConnectionDropped("not connected")
        options = ["SMTPUTF8"] if self.settings.smtputf8 else []
        rcpt_options: list[str] = []
        if envid and smtp.has_extn("dsn"):
            options += ["RET=HDRS", f"ENVID={envid}"]
            rcpt_options = ["NOTIFY=FAILURE,DELAY"]
        self.body_sent = False
        try:
            code, message = smtp.mail(envelope_from, options)
            if code != 250:
                reply = _reply(code, message)
                if reply.temporary:
                    return self._reset(reply)
                self._reset(reply)
                raise SenderRefused(
                    f"{self.settings.host} refuses the sender address {envelope_from}: {reply}; "
                    "check 'from' and 'envelope_from' in the SMTP settings"
                )
            code, message = smtp.rcpt(recipient, rcpt_options)
            if code not in (250, 251):
                return self._reset(_reply(code, message))
            code, message = smtp.docmd("data")
            if code != 354:
                return self._reset(_reply(code, message))
            smtp.send(_dot_stuffed(data))
            self.body_sent = True
            code, message = smtp.getreply()
            self.body_sent = False
        except (OSError, smtplib.SMTPServerDisconnected) as exc:
            self.drop()
            if self.body_sent:
                self.body_sent = False
                raise OutcomeUnknown(f"connection lost awaiting the answer: {_why(exc)}") from None
            closed = isinstance(
                exc, smtplib.SMTPServerDisconnected | ConnectionResetError | BrokenPipeError
            )
            reason = "the server closed the connection" if closed else "the connection was lost"
            raise ConnectionDropped(f"connection lost: {_why(exc)}", reason) from None
        reply = _reply(code, message)
        if not 200 <= code < 600:
            # Not an SMTP answer: the message's fate cannot be told.
            self.drop()
            raise OutcomeUnknown(f"unreadable answer from the server: {reply.text[:200]!r}")
        if not reply.accepted:
            self._reset(reply)
        return reply

    def _reset(self, reply: Reply) -> Reply:
        """Clear the transaction after a refusal; a 421 means the server hangs up."""
        if reply.code == 421 or self._smtp is None:
            self.drop()
            return reply
        try:
            code, _ = self._smtp.rset()
            if code != 250:
                self.drop()
        except (OSError, smtplib.SMTPException):
            self.drop()
        return reply


def _login(smtp: smtplib.SMTP, user: str, password: Secret, where: str) -> None:
    """Log in; UTF-8 user names and passwords work too (smtplib's own login is ASCII only).

    No exception raised here carries the password.
    """
    secret = password.reveal()
    try:
        if user.isascii() and secret.isascii():
            smtp.login(user, secret)
            return
        mechanisms = smtp.esmtp_features.get("auth", "").upper().split()
        if "PLAIN" not in mechanisms:
            raise SmtpConfigError(
                f"{where} offers no AUTH PLAIN, needed for a user name or password with "
                "letters outside ASCII"
            )
        token = base64.b64encode(f"\0{user}\0{secret}".encode()).decode("ascii")
        code, message = smtp.docmd("AUTH", f"PLAIN {token}")
        if code != 235:
            raise smtplib.SMTPAuthenticationError(code, message)
    except (smtplib.SMTPException, OSError):
        raise
    except Exception as exc:
        raise SmtpConfigError(
            f"{where}: the login of user {user!r} failed ({type(exc).__name__})"
        ) from None


def _timed_out(exc: BaseException) -> bool:
    """A timeout, also when smtplib has wrapped it (it reports a timed-out read as a
    disconnection)."""
    return isinstance(exc, TimeoutError) or isinstance(exc.__context__, TimeoutError)


def _why(exc: BaseException) -> str:
    if isinstance(exc, smtplib.SMTPResponseException):
        return str(_reply(exc.smtp_code, exc.smtp_error))
    if isinstance(exc, socket.timeout):
        return "timed out"
    text = getattr(exc, "strerror", None) or str(exc) or type(exc).__name__
    return str(text)
