"""``dhpc send`` against mail servers that cannot be used: each fault is named within seconds.

Real servers on 127.0.0.1: aiosmtpd in plain, STARTTLS and implicit-TLS mode (with a
certificate made in the test), a raw socket that accepts and stays silent or answers
something that is not SMTP, and a port where nothing listens. A failure before the first
message is an immediate error naming host, port and security mode, exit code 1, nothing
sent and nobody marked sent; only failures in the middle of a run are retried, and each
retry says what it waits for.
"""

from __future__ import annotations

import sqlite3
import time
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from send_helpers import (
    DHPC_ID,
    Authenticator,
    FaultyHandler,
    RawServer,
    built_letters,
    closed_port,
    content_copy,
    make_certificate,
    make_recipients,
    output_with_mailing,
    smtp_environment,
    smtp_server,
    tls_context_for,
)

from dhpc_gen.cli import main
from dhpc_gen.distribution.journal import JOURNAL_FILE

HANG_GUARD = 10.0
"""Seconds: far more than a refusal takes, far less than the retries of old (30 s to 3 min)."""


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_letters(tmp_path_factory)


@pytest.fixture
def out_root(built: Path, tmp_path: Path) -> Path:
    return output_with_mailing(tmp_path / "out", built, make_recipients(3))


def sent_rows(out_root: Path) -> int:
    path = out_root / DHPC_ID / JOURNAL_FILE
    if not path.exists():
        return 0
    connection = sqlite3.connect(path)
    try:
        row = connection.execute("SELECT COUNT(*) FROM deliveries WHERE state = 'sent'")
        return int(row.fetchone()[0])
    finally:
        connection.close()


def send(out_root: Path, port: int, **env: str) -> tuple[Result, float]:
    environment = smtp_environment(port, DHPC_SMTP_CONNECT_TIMEOUT="2", **env)
    # The retries of a real run (5 tries, 2 s doubled): a fault that were retried would
    # take far longer than the guard.
    environment.pop("DHPC_SMTP_RETRY_DELAY")
    environment.pop("DHPC_SMTP_RETRY_MAX_DELAY")
    started = time.monotonic()
    result = CliRunner().invoke(
        main,
        ["send", str(content_copy(out_root)), "--out", str(out_root), "--no-dry-run", "--no-limit"],
        env=environment,
    )
    return result, time.monotonic() - started


def assert_refused(result: Result, elapsed: float, out_root: Path, *phrases: str) -> None:
    assert result.exit_code == 1, result.output
    assert "Traceback" not in result.output
    for phrase in phrases:
        assert phrase in result.output, (phrase, result.output)
    assert "Nothing was sent" in result.output
    assert elapsed < HANG_GUARD, f"took {elapsed:.1f} s"
    assert sent_rows(out_root) == 0


@contextmanager
def tls_server(tmp_path: Path, **kwargs: object) -> Iterator[tuple[FaultyHandler, int, Path]]:
    cert, key = make_certificate(tmp_path / "tls")
    handler = FaultyHandler()
    with smtp_server(handler, **kwargs, tls_context=tls_context_for(cert, key)) as server:
        yield handler, server.port, cert


def test_a_closed_port_is_named_at_once(out_root: Path) -> None:
    with closed_port() as port:
        result, elapsed = send(out_root, port)
    assert_refused(
        result,
        elapsed,
        out_root,
        f"cannot connect to 127.0.0.1:{port} (security none)",
        "connection refused",
    )


def test_a_silent_port_times_out_waiting_for_the_greeting(out_root: Path) -> None:
    with RawServer() as silent:
        result, elapsed = send(out_root, silent.port)
    assert_refused(
        result,
        elapsed,
        out_root,
        f"127.0.0.1:{silent.port} (security none)",
        "timed out waiting for the greeting (2 s)",
        "use security = tls",
    )
    assert silent.connections == 1, "a silent port is not tried again and again"


def test_a_silent_port_with_implicit_tls_times_out_in_the_handshake(out_root: Path) -> None:
    with RawServer() as silent:
        result, elapsed = send(out_root, silent.port, DHPC_SMTP_SECURITY="tls")
    assert_refused(
        result, elapsed, out_root, "(security tls)", "no answer to the TLS handshake within 2 s"
    )


def test_implicit_tls_against_a_plain_server_says_it_speaks_plain_smtp(out_root: Path) -> None:
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        result, elapsed = send(out_root, server.port, DHPC_SMTP_SECURITY="tls")
    assert_refused(
        result,
        elapsed,
        out_root,
        f"cannot connect to 127.0.0.1:{server.port} (security tls)",
        "TLS handshake failed",
        "speak plain SMTP on this port",
    )
    assert handler.received == []


def test_starttls_against_an_implicit_tls_port_hints_at_security_tls(
    out_root: Path, tmp_path: Path
) -> None:
    cert, key = make_certificate(tmp_path / "tls")
    handler = FaultyHandler()
    with smtp_server(handler, ssl_context=tls_context_for(cert, key)) as server:
        result, elapsed = send(out_root, server.port, DHPC_SMTP_SECURITY="starttls")
    assert_refused(
        result,
        elapsed,
        out_root,
        "(security starttls)",
        "timed out waiting for the greeting",
        "use security = tls",
    )
    assert handler.received == []


def test_starttls_not_offered(out_root: Path) -> None:
    handler = FaultyHandler()
    with smtp_server(handler) as server:
        result, elapsed = send(out_root, server.port, DHPC_SMTP_SECURITY="starttls")
    assert_refused(
        result, elapsed, out_root, f"127.0.0.1:{server.port} (security starttls) does not offer"
    )
    assert handler.received == []


def test_an_untrusted_certificate_is_named_and_a_trusted_one_works(
    out_root: Path, tmp_path: Path
) -> None:
    with tls_server(tmp_path, require_starttls=True) as (handler, port, cert):
        result, elapsed = send(out_root, port, DHPC_SMTP_SECURITY="starttls")
        assert_refused(result, elapsed, out_root, "(security starttls)", "not trusted", "ca_file")
        assert handler.received == []
        result, _ = send(out_root, port, DHPC_SMTP_SECURITY="starttls", DHPC_SMTP_CA_FILE=str(cert))
        assert result.exit_code == 0, result.output
    assert len(handler.received) == 3


def test_implicit_tls_with_a_certificate_made_here(out_root: Path, tmp_path: Path) -> None:
    cert, key = make_certificate(tmp_path / "tls")
    handler = FaultyHandler()
    with smtp_server(handler, ssl_context=tls_context_for(cert, key)) as server:
        result, elapsed = send(out_root, server.port, DHPC_SMTP_SECURITY="tls")
        assert_refused(result, elapsed, out_root, "(security tls)", "not trusted")
        result, _ = send(
            out_root, server.port, DHPC_SMTP_SECURITY="tls", DHPC_SMTP_CA_FILE=str(cert)
        )
        assert result.exit_code == 0, result.output
    assert len(handler.received) == 3


def test_a_refused_login_is_not_retried(out_root: Path, tmp_path: Path) -> None:
    authenticator = Authenticator("dhpc", "right-password")
    with tls_server(
        tmp_path, require_starttls=True, authenticator=authenticator, auth_required=True
    ) as (handler, port, cert):
        result, elapsed = send(
            out_root,
            port,
            DHPC_SMTP_SECURITY="starttls",
            DHPC_SMTP_CA_FILE=str(cert),
            DHPC_SMTP_USER="dhpc",
            DHPC_SMTP_PASSWORD="wrong-password",
        )
    assert_refused(
        result, elapsed, out_root, "(security starttls) refused the login of user 'dhpc'"
    )
    # One connection (EHLO before and after STARTTLS), one login (smtplib tries PLAIN, then
    # LOGIN), not one per retry.
    assert handler.connections == 2 and len(authenticator.tried) == 2
    assert "wrong-password" not in result.output
    assert handler.received == []


@pytest.mark.parametrize(
    ("greeting", "close", "phrase"),
    [
        (b"421 4.3.2 too busy, try later\r\n", True, "refuses connections for now: 421"),
        (b"554 5.7.1 no relaying for you\r\n", True, "refuses the session: 554"),
        (b"SSH-2.0-OpenSSH_9.6\r\n", False, "first answer is not SMTP"),
        (b"", True, "closed the connection before its greeting"),
    ],
)
def test_a_server_that_will_not_talk_smtp(
    out_root: Path, greeting: bytes, close: bool, phrase: str
) -> None:
    with RawServer(greeting, close=close) as server:
        result, elapsed = send(out_root, server.port)
    assert_refused(result, elapsed, out_root, f"127.0.0.1:{server.port} (security none)", phrase)
    assert server.connections == 1


def test_an_unknown_host_name(out_root: Path) -> None:
    result, elapsed = send(out_root, 25, DHPC_SMTP_HOST="mail.dhpc-test.invalid")
    assert_refused(
        result, elapsed, out_root, "mail.dhpc-test.invalid:25 (security none)", "cannot be resolved"
    )


def test_a_connection_lost_mid_run_is_retried_and_the_wait_is_shown(out_root: Path) -> None:
    handler = FaultyHandler(drop_at_rcpt=2)
    with smtp_server(handler) as server:
        result = CliRunner().invoke(
            main,
            [
                "send",
                str(content_copy(out_root)),
                "--out",
                str(out_root),
                "--no-dry-run",
                "--no-limit",
            ],
            env=smtp_environment(server.port),
        )
    assert result.exit_code == 0, result.output
    assert "the server closed the connection; retrying in 0.01 s (attempt 2 of 5)" in result.output
    assert "sent 3, failed 0" in result.output
    assert sorted(handler.per_recipient().values()) == [1, 1, 1]


def test_a_server_lost_mid_run_stops_after_the_retries(out_root: Path) -> None:
    """Once messages went out, a server that goes away is waited for, then the run stops."""
    handler = FaultyHandler(drop_at_rcpt=2)
    with smtp_server(handler) as server:
        port = server.port
        original = handler.handle_RCPT

        async def stop_after_drop(*args: Any) -> str:
            reply = await original(*args)
            if handler.rcpt_count == 2:
                assert server.server is not None
                server.server.close()  # no new connections from now on
            return reply

        handler.handle_RCPT = stop_after_drop  # type: ignore[method-assign]
        result = CliRunner().invoke(
            main,
            [
                "send",
                str(content_copy(out_root)),
                "--out",
                str(out_root),
                "--no-dry-run",
                "--no-limit",
            ],
            env=smtp_environment(port),
        )
    assert result.exit_code == 1, result.output
    assert "the mail server refused the connection; retrying in" in result.output
    assert "(attempt 5 of 5)" in result.output
    assert "tried 5 times" in result.output and "nothing more was sent" in result.output
    assert sent_rows(out_root) == 1 == len(handler.received)
