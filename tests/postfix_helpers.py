"""A real Postfix on loopback for the delivery tests, and DKIM keys made in the test.

Postfix (Debian's, 3.7) runs as an instance of its own: configuration, queue and data
folders in a fresh folder below /tmp, smtpd with STARTTLS (a certificate made by the test)
on a free port of 127.0.0.1, relaying every message to an aiosmtpd sink on another free
port. The sink accepts most recipients and refuses chosen ones with ``550 5.1.1`` after
Postfix has accepted the message, so Postfix itself writes the delivery status
notifications, and delivers them through its virtual delivery agent into a Maildir: the
bounce mailbox ``dhpc bounces --maildir`` reads.

Needs Postfix installed (``make sysdeps``) and root (Postfix's master runs as root and
hands the queue to the ``postfix`` user); elsewhere the tests that use it are skipped with
that reason. The instance is always stopped, its master killed if it does not stop.
"""

from __future__ import annotations

import asyncio
import base64
import os
import re
import shutil
import signal
import socket
import subprocess
import tempfile
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager, suppress
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

import pytest
from send_helpers import LoopbackController, Received, make_certificate

POSTFIX = shutil.which("postfix") or next(
    (str(p) for p in (Path("/usr/sbin/postfix"),) if p.exists()), None
)
BOUNCE_DOMAIN = "bounces.dhpc.test"

MAIN_CF = """\
compatibility_level = 3.6
queue_directory = {root}/queue
data_directory = {root}/data
meta_directory = /etc/postfix
shlib_directory = /usr/lib/postfix
myhostname = mta.dhpc.test
mydomain = dhpc.test
myorigin = dhpc.test
mydestination =
inet_interfaces = 127.0.0.1
inet_protocols = ipv4
mynetworks = 127.0.0.0/8
relayhost = [127.0.0.1]:{sink_port}
smtp_tls_security_level = none
smtpd_tls_security_level = may
smtpd_tls_cert_file = {cert}
smtpd_tls_key_file = {key}
virtual_mailbox_domains = {bounce_domain}
virtual_mailbox_base = {root}/mail
virtual_mailbox_maps = static:bounces/
virtual_uid_maps = static:65534
virtual_gid_maps = static:65534
maillog_file = {root}/maillog
maillog_file_prefixes = {root}
alias_maps =
alias_database =
biff = no
smtputf8_enable = yes
bounce_queue_lifetime = 0
maximal_queue_lifetime = 1h
queue_run_delay = 1s
minimal_backoff_time = 1s
maximal_backoff_time = 2s
"""


@dataclass
class Sink:
    """The server Postfix relays to: keeps what it accepts, refuses ``reject`` with 550."""

    reject: frozenset[str]
    received: list[Received] = field(default_factory=list)
    refused: list[str] = field(default_factory=list)
    lock: threading.Lock = field(default_factory=threading.Lock)

    async def handle_RCPT(
        self, server: Any, session: Any, envelope: Any, address: str, options: list[str]
    ) -> str:
        if address.lower() in self.reject:
            with self.lock:
                self.refused.append(address)
            return f"550 5.1.1 <{address}>: Recipient address rejected: User unknown"
        envelope.rcpt_tos.append(address)
        return "250 OK"

    async def handle_DATA(self, server: Any, session: Any, envelope: Any) -> str:
        item = Received(envelope.mail_from, tuple(envelope.rcpt_tos), bytes(envelope.content))
        with self.lock:
            self.received.append(item)
        return "250 2.0.0 OK"


@dataclass
class Postfix:
    """A running instance: where to send, what to trust, where the bounces arrive."""

    root: Path
    port: int
    ca_file: Path
    maildir: Path
    sink: Sink

    def wait_for(self, delivered: int, bounces: int, timeout: float = 60.0) -> None:
        """Until the sink has ``delivered`` messages and the Maildir ``bounces`` files."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with self.sink.lock:
                got = len(self.sink.received)
            arrived = len(list((self.maildir / "new").glob("*"))) if self.maildir.exists() else 0
            if got >= delivered and arrived >= bounces:
                return
            time.sleep(0.1)
        raise AssertionError(
            f"Postfix delivered {got} of {delivered} message(s) and {arrived} of {bounces} "
            f"bounce(s) within {timeout:g} s; its log:\n{self.log()[-3000:]}"
        )

    def log(self) -> str:
        path = self.root / "maillog"
        return path.read_text(errors="replace") if path.exists() else "(no log)"


def free_port() -> int:
    with socket.socket() as holder:
        holder.bind(("127.0.0.1", 0))
        return int(holder.getsockname()[1])


def _master_cf(port: int) -> str:
    """Debian's master.cf with smtpd on ``port`` of 127.0.0.1 and no chroot."""
    lines = []
    replaced = False
    for line in Path("/etc/postfix/master.cf").read_text().splitlines():
        if not replaced and re.match(r"^smtp\s+inet\s", line):
            line, replaced = f"127.0.0.1:{port} inet n - n - - smtpd", True
        else:
            line = re.sub(r"^(\S+\s+\S+\s+\S+\s+\S+\s+)y", r"\1n", line)
        lines.append(line)
    return "\n".join(lines) + "\n"


def _postfix(conf: Path, *args: str) -> subprocess.CompletedProcess[str]:
    assert POSTFIX is not None
    return subprocess.run(
        [POSTFIX, "-c", str(conf), *args], capture_output=True, text=True, timeout=60
    )


def _listening(port: int, timeout: float) -> bool:
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        with suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=1):
            return True
        time.sleep(0.1)
    return False


@contextmanager
def running_postfix(reject: frozenset[str]) -> Iterator[Postfix]:
    """Start Postfix relaying to a sink that refuses ``reject``; always stopped afterwards."""
    if POSTFIX is None:
        pytest.skip("Postfix is not installed (make sysdeps installs it: Debian package postfix)")
    if os.geteuid() != 0:
        pytest.skip("starting a Postfix instance of its own needs root (its master runs as root)")
    # Below /tmp with 0755 folders: Postfix's daemons and its virtual delivery agent (user
    # nobody) must reach the queue and the Maildir; pytest's own tmp folders are 0700.
    root = Path(tempfile.mkdtemp(prefix="dhpc-postfix-", dir="/tmp"))
    os.chmod(root, 0o755)
    sink = Sink(frozenset(a.lower() for a in reject))
    loop = asyncio.new_event_loop()
    controller = LoopbackController(sink, hostname="127.0.0.1", port=0, loop=loop)
    conf = root / "conf"
    started = False
    try:
        controller.start()
        for name in ("conf", "queue", "data", "mail"):
            (root / name).mkdir(mode=0o755)
        cert, key = make_certificate(root / "tls")
        port = free_port()
        (conf / "main.cf").write_text(
            MAIN_CF.format(
                root=root,
                sink_port=controller.port,
                cert=cert,
                key=key,
                bounce_domain=BOUNCE_DOMAIN,
            )
        )
        (conf / "master.cf").write_text(_master_cf(port))
        shutil.copy("/etc/postfix/dynamicmaps.cf", conf / "dynamicmaps.cf")
        shutil.chown(root / "data", "postfix", "postfix")
        os.chown(root / "mail", 65534, 65534)
        for step in ("set-permissions", "start"):
            started = step == "start"
            done = _postfix(conf, step)
            if done.returncode != 0:
                log = (root / "maillog").read_text() if (root / "maillog").exists() else ""
                pytest.fail(f"postfix {step} failed: {done.stderr.strip()}\n{log[-2000:]}")
        if not _listening(port, 20):
            pytest.fail(f"Postfix does not listen on 127.0.0.1:{port}")
        yield Postfix(root, port, cert, root / "mail" / "bounces", sink)
    finally:
        if started:
            _stop(root, conf)
        controller.stop()
        loop.close()
        shutil.rmtree(root, ignore_errors=True)


def _stop(root: Path, conf: Path) -> None:
    """``postfix stop``; the master is killed when it has not gone within 10 s."""
    pid_file = root / "queue" / "pid" / "master.pid"
    try:
        pid = int(pid_file.read_text().split()[0])
    except (OSError, ValueError, IndexError):
        pid = 0
    with suppress(subprocess.SubprocessError, OSError):
        _postfix(conf, "stop")
    deadline = time.monotonic() + 10
    while pid and time.monotonic() < deadline:
        try:
            os.kill(pid, 0)
        except ProcessLookupError:
            return
        time.sleep(0.1)
    if pid:
        with suppress(ProcessLookupError):
            os.killpg(os.getpgid(pid), signal.SIGKILL)
        with suppress(ProcessLookupError):
            os.kill(pid, signal.SIGKILL)


# -- DKIM ----------------------------------------------------------------------------------


def dkim_key(directory: Path, bits: int = 2048) -> tuple[Path, bytes]:
    """An RSA key made here (PKCS#8 PEM, 0600) and the DNS TXT record that publishes it."""
    from cryptography.hazmat.primitives import serialization
    from cryptography.hazmat.primitives.asymmetric import rsa

    key = rsa.generate_private_key(public_exponent=65537, key_size=bits)
    directory.mkdir(parents=True, exist_ok=True)
    path = directory / "dkim.pem"
    path.write_bytes(
        key.private_bytes(
            serialization.Encoding.PEM,
            serialization.PrivateFormat.PKCS8,
            serialization.NoEncryption(),
        )
    )
    path.chmod(0o600)
    public = key.public_key().public_bytes(
        serialization.Encoding.DER, serialization.PublicFormat.SubjectPublicKeyInfo
    )
    return path, b"v=DKIM1; k=rsa; p=" + base64.b64encode(public)


def dns_with(records: dict[str, bytes]) -> Callable[..., bytes | None]:
    """A ``dnsfunc`` for ``dkim.verify``: answers from ``records``, never the network."""

    def lookup(name: bytes | str, timeout: float = 5) -> bytes | None:
        text = name.decode() if isinstance(name, bytes) else name
        return records.get(text.rstrip(".").lower())

    return lookup
