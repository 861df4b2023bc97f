"""``dhpc send``: DKIM signatures, a return path per message, and the headers of a one-off notice.

Real messages to an aiosmtpd server on loopback, each verified with dkimpy against the key
the test made and published through ``dnsfunc`` (no network).
"""

from __future__ import annotations

import datetime as dt
import email.utils
import os
from email import message_from_bytes, policy
from pathlib import Path

import dkim
import pytest
from click.testing import CliRunner
from postfix_helpers import dkim_key, dns_with
from send_helpers import (
    CONTENT,
    DHPC_ID,
    FaultyHandler,
    built_letters,
    content_copy,
    make_recipients,
    output_with_mailing,
    smtp_environment,
    smtp_server,
)

from dhpc_gen.build import content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.distribution.message import MessageComposer, delivery_token
from dhpc_gen.distribution.smtp import SmtpConfigError, SmtpSettings, load_settings

SENDER = "Sanofi Oy <dhpc@sanofi.example>"


@pytest.fixture(scope="module")
def key(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, bytes]:
    return dkim_key(tmp_path_factory.mktemp("dkim"))


def signing_env(port: int, key_file: Path, **extra: str) -> dict[str, str]:
    return smtp_environment(
        port,
        DHPC_SMTP_FROM=SENDER,
        DHPC_SMTP_ENVELOPE_FROM="bounces@bounces.sanofi.example",
        DHPC_SMTP_VERP="yes",
        DHPC_SMTP_DKIM_KEY_FILE=str(key_file),
        DHPC_SMTP_DKIM_SELECTOR="dhpc2019",
        **extra,
    )


def test_every_message_is_signed_with_its_own_return_path(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, key: tuple[Path, bytes]
) -> None:
    key_file, txt = key
    people = make_recipients(6, seed=4)
    out = output_with_mailing(tmp_path / "out", built_letters(tmp_path_factory), people)
    handler = FaultyHandler()
    before = dt.datetime.now(dt.UTC).replace(microsecond=0)
    with smtp_server(handler) as server:
        result = CliRunner().invoke(
            main,
            ["send", str(content_copy(out)), "--out", str(out), "--no-dry-run", "--no-limit"],
            env=signing_env(server.port, key_file),
        )
    assert result.exit_code == 0, result.output
    assert len(handler.received) == 6
    lookup = dns_with({"dhpc2019._domainkey.sanofi.example": txt})
    chash = content_hash(load_dhpc(CONTENT))
    paths = set()
    for item in handler.received:
        assert dkim.verify(item.data, dnsfunc=lookup)
        message = message_from_bytes(item.data, policy=policy.default)
        signature = dict(
            part.strip().split("=", 1)
            for part in " ".join(str(message["DKIM-Signature"]).split()).split(";")
            if "=" in part
        )
        assert signature["d"] == "sanofi.example" and signature["s"] == "dhpc2019"
        assert signature["c"] == "relaxed/relaxed" and signature["a"] == "rsa-sha256"
        signed = [name.strip() for name in signature["h"].lower().split(":")]
        for name in ("from", "to", "subject", "date", "message-id", "x-dhpc-hash"):
            assert signed.count(name) == 2, f"{name} is signed and cannot be added"
        assert message["Auto-Submitted"] == "auto-generated"
        assert message["X-Auto-Response-Suppress"] == "OOF, AutoReply"
        for absent in ("Precedence", "List-Unsubscribe", "List-Unsubscribe-Post", "List-Id"):
            assert absent not in message
        date = email.utils.parsedate_to_datetime(message["Date"])
        assert date.tzinfo is not None and before <= date <= dt.datetime.now(dt.UTC)
        assert message["Date"].endswith("+0000")
        address = message["To"].addresses[0].addr_spec
        token = delivery_token(message["Message-ID"], address)
        assert item.envelope_from == f"bounces+{token}@bounces.sanofi.example"
        assert message["X-DHPC-Hash"] == chash
        paths.add(item.envelope_from)
    assert len(paths) == 6
    # A changed body or a header added on the way breaks the signature.
    data = handler.received[0].data
    assert not dkim.verify(data.replace(b"Lemtrada", b"Lemtrade", 1), dnsfunc=lookup)
    assert not dkim.verify(b"Subject: urgent\r\n" + data, dnsfunc=lookup)


def test_the_dry_run_shows_the_signature_and_refuses_a_bad_key_first(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory, key: tuple[Path, bytes]
) -> None:
    key_file, txt = key
    out = output_with_mailing(
        tmp_path / "out", built_letters(tmp_path_factory), make_recipients(2, seed=5)
    )
    env = signing_env(2525, key_file)
    result = CliRunner().invoke(main, ["send", str(CONTENT), "--out", str(out)], env=env)
    assert result.exit_code == 0, result.output
    (eml,) = (out / DHPC_ID / "outbox").iterdir()
    lookup = dns_with({"dhpc2019._domainkey.sanofi.example": txt})
    assert dkim.verify(eml.read_bytes(), dnsfunc=lookup)

    readable = tmp_path / "readable.pem"
    readable.write_bytes(key_file.read_bytes())
    os.chmod(readable, 0o644)
    garbage = tmp_path / "garbage.pem"
    garbage.write_text("-----BEGIN PRIVATE KEY-----\nnot a key\n-----END PRIVATE KEY-----\n")
    garbage.chmod(0o600)
    for changes, expected in (
        ({"DHPC_SMTP_DKIM_KEY_FILE": str(readable)}, "can be read by others; run: chmod 600"),
        ({"DHPC_SMTP_DKIM_KEY_FILE": str(garbage)}, "not an RSA private key in PEM form"),
        ({"DHPC_SMTP_DKIM_KEY_FILE": str(tmp_path / "none.pem")}, "does not exist"),
        ({"DHPC_SMTP_DKIM_SELECTOR": ""}, "a DKIM key needs its selector"),
        ({"DHPC_SMTP_DKIM_SELECTOR": "bad selector"}, "dkim_selector must be a DNS label"),
        ({"DHPC_SMTP_DKIM_DOMAIN": "other.example"}, "does not cover the From address"),
    ):
        changed = {k: v for k, v in {**env, **changes}.items() if v}
        result = CliRunner().invoke(main, ["send", str(CONTENT), "--out", str(out)], env=changed)
        assert result.exit_code == 1, result.output
        assert expected in result.output and "Traceback" not in result.output
        assert "BEGIN" not in result.output, "the key is never shown"


def test_a_signing_domain_above_the_sender_and_verp_limits(key: tuple[Path, bytes]) -> None:
    key_file, _ = key
    dhpc = load_dhpc(CONTENT)
    settings = SmtpSettings(
        sender="Sanofi <dhpc@mail.sanofi.example>",
        dkim_key_file=key_file,
        dkim_selector="s1",
        dkim_domain="sanofi.example",
        verp=True,
        envelope_from=f"{'b' * 40}@bounces.example",
    )
    composer = MessageComposer(dhpc, content_hash(dhpc), settings)
    assert composer.signer is not None and composer.signer.covers("mail.sanofi.example")
    assert not composer.signer.covers("notsanofi.example")
    with pytest.raises(SmtpConfigError, match="too long for a return path"):
        composer.return_path("0" * 24)
    plain = MessageComposer(dhpc, content_hash(dhpc), SmtpSettings(sender=SENDER))
    assert plain.return_path("0" * 24) == "dhpc@sanofi.example", "without verp: one address"
    with pytest.raises(SmtpConfigError, match="dkim_domain is set but dkim_key_file is not"):
        load_settings(None, {"DHPC_SMTP_DKIM_DOMAIN": "sanofi.example"})


def test_the_key_in_a_settings_file_is_found_beside_it(
    tmp_path: Path, key: tuple[Path, bytes]
) -> None:
    key_file, _ = key
    (tmp_path / "keys").mkdir()
    (tmp_path / "keys" / "dkim.pem").write_bytes(key_file.read_bytes())
    config = tmp_path / "smtp.toml"
    config.write_text(
        'host = "smtp.example.com"\ndkim_key_file = "keys/dkim.pem"\ndkim_selector = "s1"\n'
        "verp = true\n"
    )
    settings = load_settings(config, {})
    assert settings.dkim_key_file == tmp_path / "keys" / "dkim.pem" and settings.verp
    config.write_text('verp = "sometimes"\n')
    with pytest.raises(SmtpConfigError, match="verp must be true or false"):
        load_settings(config, {})
