"""A real SMTP server on loopback with fault injection, test recipients, and the crash trials.

Shared by ``tests/test_send*.py``, ``tests/test_report.py`` and ``benchmarks/send_crash.py``.
"""

from __future__ import annotations

import asyncio
import json
import os
import random
import select
import shutil
import signal
import socket
import sqlite3
import ssl
import subprocess
import sys
import threading
import time
from collections import Counter
from collections.abc import Iterator, Mapping
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path
from typing import Any

from aiosmtpd.controller import Controller
from aiosmtpd.smtp import AuthResult, LoginPassword
from faker import Faker

from dhpc_gen.addresses.recipients import Recipient, write_recipients
from dhpc_gen.build import MANIFEST, build
from dhpc_gen.content import load_dhpc

REPO = Path(__file__).resolve().parent.parent
CONTENT = REPO / "content" / "lemtrada-2019"
DHPC_ID = "lemtrada-2019"

# A self-signed certificate for 127.0.0.1 (valid until 2126), for the TLS tests only.
TEST_CERT = """-----BEGIN CERTIFICATE-----
MIIB0DCCAXagAwIBAgIUDASLubdP+s53J4Ty5OIziPgxwzkwCgYIKoZIzj0EAwIw
GzEZMBcGA1UEAwwQZGhwYyB0ZXN0IHNlcnZlcjAgFw0yNjExMjYwMzE3MjZaGA8y
MTI2MTEwMjAzMTcyNlowGzEZMBcGA1UEAwwQZGhwYyB0ZXN0IHNlcnZlcjBZMBMG
ByqGSM49AgEGCCqGSM49AwEHA0IABA+W5MW3FL+1+maUopTvHbx/5d3NV+/6rbkz
Ab2dz88PNHjI2t+2BtZGrldgLtoOt2iGlNnfkyMC263e+bS9UUyjgZUwgZIwHQYD
VR0OBBYEFCTi+WuoHOhu8yE9HcvFdtjBbq3lMB8GA1UdIwQYMBaAFCTi+WuoHOhu
8yE9HcvFdtjBbq3lMBoGA1UdEQQTMBGHBH8AAAGCCWxvY2FsaG9zdDAPBgNVHRMB
Af8EBTADAQH/MA4GA1UdDwEB/wQEAwIChDATBgNVHSUEDDAKBggrBgEFBQcDATAK
BggqhkjOPQQDAgNIADBFAiB86B5GoWM6gYRT39at5cqK0p7zeCtjRH1nk52pYlZ1
tAIhAMMo1yevVo1fZfoO4T/fiRiddFrCCOk8kFcwsQnVzqki
-----END CERTIFICATE-----
"""
TEST_KEY = """-----BEGIN PRIVATE KEY-----
MIGHAgEAMBMGByqGSM49AgEGCCqGSM49AwEHBG0wawIBAQQg1Ar5YhWr2HKQsiZ1
mcstif8Hfz5ehCXQAbZO0d6zBjqhRANCAAQPluTFtxS/tfpmlKKU7x28f+XdzVfv
+q25MwG9nc/PDzR4yNrftgbWRq5XYC7aDrdohpTZ35MjAtut3vm0vVFM
-----END PRIVATE KEY-----
"""


# -- the server ----------------------------------------------------------------------------


@dataclass(frozen=True)
class Received:
    """One message the server accepted."""

    envelope_from: str
    recipients: tuple[str, ...]
    data: bytes

    @property
    def message(self) -> EmailMessage:
        parsed = message_from_bytes(self.data, policy=policy.default)
        assert isinstance(parsed, EmailMessage)
        return parsed


@dataclass
class FaultyHandler:
    """An aiosmtpd handler that records what it accepts and misbehaves on request.

    ``temporary``: address → how many RCPT tries get ``451`` before it is accepted.
    ``permanent``: addresses that get ``550``.
    ``drop_at_rcpt``: the n-th RCPT overall (from 1) closes the connection instead of answering.
    ``drop_after_data``: the n-th complete message is thrown away and the connection closed
    before the server answers (the client cannot know whether it arrived).
    """

    temporary: Mapping[str, int] = field(default_factory=dict)
    permanent: frozenset[str] = frozenset()
    drop_at_rcpt: int | None = None
    drop_after_data: int | None = None
    received: list[Received] = field(default_factory=list)
    rcpt_tries: Counter[str] = field(default_factory=Counter)
    connections: int = 0
    rcpt_count: int = 0
    data_count: int = 0
    condition: threading.Condition = field(default_factory=threading.Condition)

    async def handle_EHLO(
        self, server: Any, session: Any, envelope: Any, hostname: str, responses: list[str]
    ) -> list[str]:
        session.host_name = hostname
        with self.condition:
            self.connections += 1
        return responses

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        with self.condition:
            self.rcpt_count += 1
            self.rcpt_tries[address] += 1
            tries = self.rcpt_tries[address]
            drop = self.rcpt_count == self.drop_at_rcpt
        if drop:
            server.transport.abort()
            return "421 4.3.0 closing"
        if address in self.permanent:
            return "550 5.1.1 mailbox unavailable"
        if tries <= self.temporary.get(address, 0):
            return "451 4.7.1 greylisted, try again later"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        with self.condition:
            self.data_count += 1
            drop = self.data_count == self.drop_after_data
        if drop:
            server.transport.abort()
            return "451 4.3.0 dropped"
        item = Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
        with self.condition:
            self.received.append(item)
            self.condition.notify_all()
        return "250 2.0.0 queued"

    def wait_for(self, count: int, timeout: float) -> bool:
        """Wait until ``count`` messages have arrived."""
        with self.condition:
            return self.condition.wait_for(lambda: len(self.received) >= count, timeout)

    def per_recipient(self) -> Counter[str]:
        with self.condition:
            return Counter(rcpt for item in self.received for rcpt in item.recipients)


class LoopbackController(Controller):
    """aiosmtpd's Controller on a free port of 127.0.0.1."""

    def _trigger_server(self) -> None:
        assert self.server is not None
        self.port = self.server.sockets[0].getsockname()[1]
        super()._trigger_server()


class Authenticator:
    """Accepts one user and password; remembers every login tried."""

    def __init__(self, user: str, password: str) -> None:
        self.user, self.password = user, password
        self.tried: list[tuple[str, str]] = []

    def __call__(
        self, server: Any, session: Any, envelope: Any, mechanism: str, auth_data: Any
    ) -> AuthResult:
        assert isinstance(auth_data, LoginPassword)
        login, password = auth_data.login.decode(), auth_data.password.decode()
        self.tried.append((login, password))
        success = (login, password) == (self.user, self.password)
        return AuthResult(success=success, handled=False)


def server_tls_context(directory: Path) -> ssl.SSLContext:
    cert, key = directory / "server-cert.pem", directory / "server-key.pem"
    cert.write_text(TEST_CERT)
    key.write_text(TEST_KEY)
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


def make_certificate(directory: Path, host: str = "127.0.0.1") -> tuple[Path, Path]:
    """A fresh self-signed certificate for ``host`` (made here with ``cryptography``).

    Returns (certificate, key) as PEM files; the certificate is its own CA.
    """
    import datetime as dt
    import ipaddress

    from cryptography import x509
    from cryptography.hazmat.primitives import hashes, serialization
    from cryptography.hazmat.primitives.asymmetric import ec
    from cryptography.x509.oid import NameOID

    key = ec.generate_private_key(ec.SECP256R1())
    name = x509.Name([x509.NameAttribute(NameOID.COMMON_NAME, "dhpc test server")])
    now = dt.datetime.now(dt.UTC)
    certificate = (
        x509.CertificateBuilder()
        .subject_name(name)
        .issuer_name(name)
        .public_key(key.public_key())
        .serial_number(x509.random_serial_number())
        .not_valid_before(now - dt.timedelta(minutes=5))
        .not_valid_after(now + dt.timedelta(days=2))
        .add_extension(
            x509.SubjectAlternativeName(
                [x509.IPAddress(ipaddress.ip_address(host)), x509.DNSName("localhost")]
            ),
            critical=False,
        )
        .add_extension(x509.BasicConstraints(ca=True, path_length=None), critical=True)
        .sign(key, hashes.SHA256())
    )
    directory.mkdir(parents=True, exist_ok=True)
    cert_path, key_path = directory / "made-cert.pem", directory / "made-key.pem"
    cert_path.write_bytes(certificate.public_bytes(serialization.Encoding.PEM))
    key_path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    return cert_path, key_path


def tls_context_for(cert: Path, key: Path) -> ssl.SSLContext:
    context = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
    context.load_cert_chain(cert, key)
    return context


class RawServer:
    """A TCP server on 127.0.0.1 that is not a mail server.

    With ``greeting`` None it accepts connections and stays silent (a firewall that lets
    the connection through, a TLS port waiting for its handshake, a hung server); otherwise
    it sends ``greeting`` and, with ``close``, hangs up. ``connections`` counts the accepts
    and ``received`` keeps every byte clients sent.
    """

    def __init__(self, greeting: bytes | None = None, *, close: bool = False) -> None:
        self.greeting, self.close_after = greeting, close
        self.listener = socket.create_server(("127.0.0.1", 0))
        self.port = int(self.listener.getsockname()[1])
        self.connections = 0
        self.received = b""
        self._clients: list[socket.socket] = []
        self._stop = threading.Event()
        self._thread = threading.Thread(target=self._serve, daemon=True)

    def _serve(self) -> None:
        self.listener.settimeout(0.05)
        while not self._stop.is_set():
            try:
                client, _ = self.listener.accept()
            except TimeoutError:
                pass
            else:
                self.connections += 1
                client.settimeout(0.05)
                if self.greeting is not None:
                    client.sendall(self.greeting)
                if self.close_after:
                    client.close()
                else:
                    self._clients.append(client)
            for client in self._clients:
                with suppress(TimeoutError, OSError):
                    self.received += client.recv(65536)

    def __enter__(self) -> RawServer:
        self._thread.start()
        return self

    def __exit__(self, *exc: object) -> None:
        self._stop.set()
        self._thread.join(5)
        for client in self._clients:
            client.close()
        self.listener.close()


@contextmanager
def closed_port() -> Iterator[int]:
    """A port of 127.0.0.1 where nothing listens (held bound, so nobody else takes it)."""
    holder = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    holder.bind(("127.0.0.1", 0))
    try:
        yield int(holder.getsockname()[1])
    finally:
        holder.close()


@contextmanager
def smtp_server(handler: FaultyHandler, **kwargs: Any) -> Iterator[LoopbackController]:
    """Run ``handler`` behind a real SMTP server on 127.0.0.1 for the ``with`` block."""
    kwargs.setdefault("enable_SMTPUTF8", False)
    loop = asyncio.new_event_loop()
    controller = LoopbackController(handler, hostname="127.0.0.1", port=0, loop=loop, **kwargs)
    controller.start()
    try:
        yield controller
    finally:
        controller.stop()
        loop.close()


def smtp_environment(port: int, **extra: str) -> dict[str, str]:
    """``DHPC_SMTP_*`` for a plain loopback server with short retries."""
    env = {
        "DHPC_SMTP_HOST": "127.0.0.1",
        "DHPC_SMTP_PORT": str(port),
        "DHPC_SMTP_SECURITY": "none",
        "DHPC_SMTP_FROM": "Lääketurva Sanofi <dhpc@sanofi.example>",
        "DHPC_SMTP_RETRY_DELAY": "0.01",
        "DHPC_SMTP_RETRY_MAX_DELAY": "0.05",
        "DHPC_SMTP_TIMEOUT": "10",
    }
    env.update(extra)
    return env


# -- recipients and built letters ----------------------------------------------------------


def make_recipients(
    count: int,
    *,
    seed: int = 1,
    without_email: int = 0,
    domain: str = "example.fi",
) -> list[Recipient]:
    """``count`` people with Finnish and Swedish names, half in each language.

    Every address is unique; the last ``without_email`` people have none (post only).
    The first person of each language has a name with letters outside ASCII.
    """
    faker = {"fi": Faker("fi_FI"), "sv": Faker("sv_SE")}
    for index, generator in enumerate(faker.values()):
        generator.seed_instance(seed * 10 + index)
    people = []
    for number in range(count):
        language = "fi" if number % 2 else "sv"
        fake = faker[language]
        first, last = fake.first_name(), fake.last_name()
        while number < 2 and (first + last).isascii():
            first, last = fake.first_name(), fake.last_name()
        email = "" if number >= count - without_email else f"hcp{number:05d}@{domain}"
        people.append(
            Recipient(
                recipient_id=f"r{seed:02d}-{number:05d}",
                language=language,
                title="LL" if language == "fi" else "",
                first_name=first,
                last_name=last,
                profession="physician",
                specialty="neurology",
                organisation="",
                street=fake.street_address(),
                postal_code=fake.postcode(),
                city=fake.city(),
                country="FI",
                email=email,
                sources="Suomen Lääkäriliitto",
            )
        )
    return people


_BUILT: dict[str, Path] = {}


def built_letters(tmp_path_factory: Any) -> Path:
    """``dhpc build`` of the example, once per test session; returns its output folder."""
    if "out" not in _BUILT:
        out_root = tmp_path_factory.mktemp("built")
        build(load_dhpc(CONTENT), out_root)
        _BUILT["out"] = out_root / DHPC_ID
    return _BUILT["out"]


def output_with_mailing(root: Path, built: Path, recipients: list[Recipient] | None = None) -> Path:
    """An output root holding the built letters and, if given, the mailing list."""
    out_dir = root / DHPC_ID
    out_dir.mkdir(parents=True, exist_ok=True)
    for name in (f"{DHPC_ID}_sv.pdf", f"{DHPC_ID}_fi.pdf", MANIFEST):
        shutil.copy2(built / name, out_dir / name)
    if recipients is not None:
        write_recipients(out_dir / "mailing" / "recipients.csv", recipients)
    return root


def content_copy(out_root: Path) -> Path:
    """A private copy of the example's content folder beside ``out_root`` (made once).

    A real send records which journal sends in the content folder (``distribution.yaml``),
    so every test that really sends has a content folder of its own, as every DHPC has.
    """
    target = out_root.parent / "content" / DHPC_ID
    if not target.is_dir():
        shutil.copytree(CONTENT, target)
    return target


def dhpc_command(*args: str | Path) -> list[str]:
    return [sys.executable, "-m", "dhpc_gen", *(str(a) for a in args)]


def subprocess_env(extra: Mapping[str, str]) -> dict[str, str]:
    """The environment of a ``dhpc`` child: this checkout first on the path, no SMTP leftovers."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("DHPC_SMTP_")}
    env["PYTHONPATH"] = os.pathsep.join([str(REPO), env.get("PYTHONPATH", "")]).rstrip(os.pathsep)
    env.update(extra)
    return env


# -- the crash trials ----------------------------------------------------------------------


class Launched:
    """A running ``dhpc`` process, however it was started."""

    pid: int

    def poll(self) -> int | None:
        raise NotImplementedError

    def wait(self) -> int:
        raise NotImplementedError

    def kill(self) -> None:
        os.kill(self.pid, signal.SIGKILL)


class _Spawned(Launched):
    def __init__(self, process: subprocess.Popen[bytes]) -> None:
        self.process = process
        self.pid = process.pid

    def poll(self) -> int | None:
        return self.process.poll()

    def wait(self) -> int:
        return self.process.wait(timeout=120)


class SpawnLauncher:
    """Each run is a fresh ``python -m dhpc_gen`` (start-up included, about 1-3 s)."""

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env, self.cwd = dict(env), cwd

    def start(self, args: list[str]) -> Launched:
        process = subprocess.Popen(
            dhpc_command(*args),
            env=self.env,
            cwd=self.cwd,
            stdout=subprocess.DEVNULL,
            stderr=subprocess.DEVNULL,
        )
        return _Spawned(process)

    def close(self) -> None:
        pass


_ZYGOTE = """
import json, os, sys
import dhpc_gen.cli, dhpc_gen.distribution.send  # the imports every run shares
for line in sys.stdin:
    request = json.loads(line)
    pid = os.fork()
    if pid == 0:
        os.environ.update(request["env"])
        os.chdir(request["cwd"])
        null = os.open(os.devnull, os.O_RDWR)
        for fd in (0, 1, 2):
            os.dup2(null, fd)
        try:
            dhpc_gen.cli.main(request["args"], prog_name="dhpc")
        except SystemExit as exc:
            os._exit(exc.code if isinstance(exc.code, int) else 1)
        except BaseException:
            os._exit(70)
        os._exit(0)
    print(pid, flush=True)
    _, status = os.waitpid(pid, 0)
    print(os.waitstatus_to_exitcode(status), flush=True)
"""


class _Forked(Launched):
    def __init__(self, zygote: subprocess.Popen[str], pid: int) -> None:
        self.zygote = zygote
        self.pid = pid
        self.code: int | None = None

    def poll(self) -> int | None:
        if self.code is None:
            assert self.zygote.stdout is not None
            ready, _, _ = select.select([self.zygote.stdout], [], [], 0)
            if ready:
                self.code = int(self.zygote.stdout.readline())
        return self.code

    def wait(self) -> int:
        if self.code is None:
            assert self.zygote.stdout is not None
            self.code = int(self.zygote.stdout.readline())
        return self.code


class ForkLauncher:
    """Each run is a process forked from one that has already imported ``dhpc_gen``.

    The child runs the ``dhpc`` command line (``dhpc_gen.cli.main``) as a separate process
    with its own memory, file descriptors and SQLite connections, and dies by SIGKILL like
    any other; only the interpreter start-up and imports are shared, so a trial takes
    milliseconds instead of seconds.
    """

    def __init__(self, env: Mapping[str, str], cwd: Path) -> None:
        self.env, self.cwd = dict(env), cwd
        self.zygote = subprocess.Popen(
            [sys.executable, "-c", _ZYGOTE],
            env=subprocess_env({}),
            cwd=cwd,
            stdin=subprocess.PIPE,
            stdout=subprocess.PIPE,
            text=True,
        )

    def start(self, args: list[str]) -> Launched:
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        request = {"args": args, "env": self.env, "cwd": str(self.cwd)}
        self.zygote.stdin.write(json.dumps(request) + "\n")
        self.zygote.stdin.flush()
        return _Forked(self.zygote, int(self.zygote.stdout.readline()))

    def close(self) -> None:
        assert self.zygote.stdin is not None and self.zygote.stdout is not None
        self.zygote.stdin.close()
        self.zygote.wait(timeout=30)
        self.zygote.stdout.close()


@dataclass
class CrashFigures:
    mode: str = ""
    trials: int = 0
    kills: int = 0
    recipients: int = 0
    messages: int = 0
    """Messages the server accepted in all."""
    duplicates: int = 0
    """Recipients who got the message more than once."""
    duplicates_not_unknown: int = 0
    """Of those, how many had not been reported ``unknown`` (must be 0)."""
    lost: int = 0
    """Recipients who never got it (must be 0)."""
    unknown: int = 0
    """Rows reported ``unknown`` after the trials (at most one per kill)."""
    max_in_flight_per_crash: int = 0
    """The most rows left in ``sending`` by one kill (must be ≤ 1)."""
    not_sent_at_end: int = 0
    """Journal rows not ``sent`` after the final runs (must be 0)."""
    runs: int = 0
    seconds: float = 0.0
    exit_codes: Counter[int] = field(default_factory=Counter)

    def line(self) -> str:
        return (
            f"{self.mode}: trials {self.trials} (killed {self.kills}), recipients "
            f"{self.recipients}, messages received {self.messages}, duplicates {self.duplicates} "
            f"(not reported unknown: {self.duplicates_not_unknown}), lost {self.lost}, "
            f"reported unknown {self.unknown}, most in flight per crash "
            f"{self.max_in_flight_per_crash}, runs {self.runs}, {self.seconds:.1f} s"
        )


def _rows_in_state(journal: Path, state: str) -> set[str]:
    if not journal.exists():
        return set()
    connection = sqlite3.connect(f"{journal.resolve().as_uri()}?mode=ro", uri=True)
    try:
        tables = connection.execute(
            "SELECT name FROM sqlite_master WHERE name = 'deliveries'"
        ).fetchall()
        if not tables:
            return set()
        rows = connection.execute(
            "SELECT recipient_id FROM deliveries WHERE state = ?", (state,)
        ).fetchall()
    finally:
        connection.close()
    return {str(row[0]) for row in rows}


def _not_sent(journal: Path) -> int:
    connection = sqlite3.connect(f"{journal.resolve().as_uri()}?mode=ro", uri=True)
    try:
        row = connection.execute("SELECT COUNT(*) FROM deliveries WHERE state != 'sent'").fetchone()
    finally:
        connection.close()
    return int(row[0])


def run_crash_trials(
    workdir: Path,
    built: Path,
    *,
    mode: str = "fork",
    trials: int = 24,
    recipients: int = 300,
    seed: int = 2019,
    most_per_trial: int = 12,
    startup_window: float = 0.3,
) -> CrashFigures:
    """Kill ``dhpc send`` with SIGKILL ``trials`` times at random points, then finish the job.

    Each trial starts ``dhpc send --no-dry-run --no-limit`` again (which resumes from the
    journal) and kills it once the server has taken a random number (1 to
    ``most_per_trial``) of further messages plus 0-4 ms or 0-40 ms, so kills land before,
    during and after the journal's commits; one trial in five kills at a random moment of the first
    ``startup_window`` seconds instead (journal creation, recovery, connecting). Then the
    same command runs to the end as a fresh ``python -m dhpc_gen`` process, and once more
    with ``--resend-unknown``. ``mode`` "fork" starts the killed runs from a process that
    has done the imports already (see :class:`ForkLauncher`); "spawn" starts each afresh.
    """
    rng = random.Random(seed)
    figures = CrashFigures(mode=mode, recipients=recipients)
    people = make_recipients(recipients, seed=seed % 97)
    workdir.mkdir(parents=True, exist_ok=True)
    out_root = output_with_mailing(workdir / "out", built, people)
    journal = out_root / DHPC_ID / "journal.sqlite"
    address_of = {p.recipient_id: p.email for p in people}
    handler = FaultyHandler()
    started = time.monotonic()
    args = [
        "send",
        str(content_copy(out_root)),
        "--out",
        str(out_root),
        "--no-dry-run",
        "--no-limit",
    ]
    with smtp_server(handler) as server:
        smtp_env = smtp_environment(server.port)
        launcher: ForkLauncher | SpawnLauncher = (
            ForkLauncher(smtp_env, workdir)
            if mode == "fork"
            else SpawnLauncher(subprocess_env(smtp_env), workdir)
        )
        try:
            for _ in range(trials):
                figures.trials += 1
                figures.runs += 1
                before = len(handler.received)
                process = launcher.start(args)
                if rng.random() < 0.2:
                    time.sleep(rng.uniform(0.0, startup_window))
                else:
                    target = before + rng.randint(1, most_per_trial)
                    deadline = time.monotonic() + 60
                    while process.poll() is None and time.monotonic() < deadline:
                        if handler.wait_for(target, 0.02):
                            break
                    # Right after a message was accepted (the window before the journal
                    # says "sent"), or anywhere in the next message's cycle.
                    time.sleep(rng.uniform(0.0, 0.004 if rng.random() < 0.5 else 0.04))
                if process.poll() is None:
                    process.kill()
                    figures.kills += 1
                figures.exit_codes[process.wait()] += 1
                in_flight = len(_rows_in_state(journal, "sending"))
                figures.max_in_flight_per_crash = max(figures.max_in_flight_per_crash, in_flight)
        finally:
            launcher.close()

        # Finish the job as a user would: the same command, then the unknown ones on purpose.
        env = subprocess_env(smtp_env)
        for extra in ([], ["--resend-unknown"]):
            figures.runs += 1
            done = subprocess.run(
                dhpc_command(*args, *extra), env=env, cwd=workdir, capture_output=True, timeout=120
            )
            figures.exit_codes[done.returncode] += 1
            if not extra:
                unknown = _rows_in_state(journal, "unknown")
        received = handler.per_recipient()
    figures.seconds = time.monotonic() - started
    figures.unknown = len(unknown)
    figures.not_sent_at_end = _not_sent(journal)
    figures.messages = sum(received.values())
    twice = {rid for rid, addr in address_of.items() if received[addr] > 1}
    figures.duplicates = len(twice)
    figures.duplicates_not_unknown = len(twice - unknown)
    figures.lost = sum(1 for addr in address_of.values() if received[addr] == 0)
    return figures
