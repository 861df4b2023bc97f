"""``dhpc serve`` over plain HTTP: who may connect, what is served, what may change.

One real server (``dhpc serve`` as a process) on a free loopback port per module; every
request is sent byte for byte as written, so a forged Host header or a path with ``..``
reaches the server as an attacker would send it.
"""

from __future__ import annotations

import json
import re
import shutil
import sqlite3
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from urllib.parse import urlencode

import pytest
from babel.messages.pofile import read_po
from click.testing import CliRunner
from review_helpers import edit_yaml
from serve_helpers import PROJECT, Server, running_server

from dhpc_gen.build import language_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.i18n import INTERFACE_DOMAIN, UNREVIEWED_FLAG, catalog_path
from dhpc_gen.resources import LOCALES_DIR
from dhpc_gen.review.checks import placeholders
from dhpc_gen.serve.interface import interface_languages, negotiate

EXAMPLE = PROJECT / "content" / "lemtrada-2019"
SECRET = "Pertti Personal-Data-Marker"
"""Written into the mailing list, the journal and the personal letters: never served."""


@pytest.fixture(scope="module")
def folder(tmp_path_factory: pytest.TempPathFactory) -> Path:
    root = tmp_path_factory.mktemp("serve")
    content = root / "content" / "lemtrada-2019"
    shutil.copytree(EXAMPLE, content)
    out = root / "output" / "lemtrada-2019"
    (out / "mailing").mkdir(parents=True)
    (out / "mailing" / "recipients.csv").write_text(f"recipient_id,name\nr1,{SECRET}\n", "utf-8")
    (out / "mailing" / "report.json").write_text(
        json.dumps({"recipients": 3, "recipients_per_language": {"sv": 1, "fi": 2}}), "utf-8"
    )
    (out / "letters" / "fi").mkdir(parents=True)
    (out / "letters" / "fi" / "r1.pdf").write_text(SECRET, "utf-8")
    (out / "outbox").mkdir()
    (out / "outbox" / "r1.eml").write_text(SECRET, "utf-8")
    with sqlite3.connect(out / "journal.sqlite") as db:
        db.execute("CREATE TABLE secret (name TEXT)")
        db.execute("INSERT INTO secret VALUES (?)", (SECRET,))
    (content / "sources").mkdir(exist_ok=True)
    (content / "sources" / "register.csv").write_text(f"name\n{SECRET}\n", "utf-8")
    return content


@pytest.fixture(scope="module")
def server(folder: Path) -> Iterator[Server]:
    with running_server(folder, out=folder.parents[1] / "output", cwd=folder.parents[1]) as s:
        yield s


def _post(server: Server, path: str, fields: dict[str, str], **headers: str) -> object:
    return server.request(
        "POST",
        path,
        headers={"Content-Type": "application/x-www-form-urlencoded", **headers},
        body=urlencode(fields),
    )


# --- the interface's own catalogs ---------------------------------------------------------


def _catalog(path: Path) -> object:
    with path.open("rb") as handle:
        return read_po(handle, abort_invalid=True)


INTERFACE_MSGIDS = [str(m.id) for m in _catalog(LOCALES_DIR / "serve.pot") if m.id]  # type: ignore[attr-defined]
LETTER_CATALOGS = sorted(
    p.parent.parent.name for p in LOCALES_DIR.glob("*/LC_MESSAGES/messages.po")
)


def test_every_letter_language_has_the_pages_catalog() -> None:
    assert interface_languages() == tuple(LETTER_CATALOGS)


@pytest.mark.parametrize("language", LETTER_CATALOGS)
def test_pages_catalog_translates_every_msgid_flagged_unreviewed(language: str) -> None:
    catalog = _catalog(catalog_path(language, domain=INTERFACE_DOMAIN))
    entries = {str(m.id): m for m in catalog if m.id}  # type: ignore[attr-defined]
    assert set(entries) == set(INTERFACE_MSGIDS)
    for msgid, message in entries.items():
        assert message.string and not message.fuzzy, (language, msgid)
        assert placeholders(msgid) == sorted(set(placeholders(str(message.string)))), msgid
        # Only English, the language of the msgids, needs no native speaker's review.
        assert (UNREVIEWED_FLAG in message.flags) == (language != "en"), (language, msgid)
    assert not catalog.obsolete  # type: ignore[attr-defined]


def test_pages_template_has_every_phrase_of_the_pages_and_none_of_the_letter(
    tmp_path: Path,
) -> None:
    target = tmp_path / "serve.pot"
    pybabel = Path(sys.executable).parent / "pybabel"
    subprocess.run(
        [
            str(pybabel),
            "extract",
            "-F",
            "babel-serve.cfg",
            "-o",
            str(target),
            "--no-location",
            "--sort-output",
            ".",
        ],
        cwd=PROJECT,
        check=True,
        capture_output=True,
    )
    extracted = [str(m.id) for m in _catalog(target) if m.id]  # type: ignore[attr-defined]
    assert extracted == INTERFACE_MSGIDS, "run make i18n"
    letter = {str(m.id) for m in _catalog(LOCALES_DIR / "messages.pot") if m.id}  # type: ignore[attr-defined]
    assert letter.isdisjoint(INTERFACE_MSGIDS)


@pytest.mark.parametrize(
    ("header", "expected"),
    [
        ("sv-FI,sv;q=0.9,en;q=0.5", "sv"),
        ("fi", "fi"),
        ("en-GB,en;q=0.8", "en"),
        ("de-AT;q=0.4, fi;q=0.9", "fi"),
        ("no", "nb"),
        ("zh-CN,ja;q=0.9", "en"),
        ("", "en"),
        ("fi;q=0, sv;q=0.1", "sv"),
        ("*;q=0.5", "en"),
        ("garbage,,;;q=x", "en"),
    ],
)
def test_pages_follow_the_browsers_language(header: str, expected: str) -> None:
    assert negotiate(header, interface_languages()) == expected


def test_page_words_come_from_the_catalog_the_browser_asks_for(server: Server) -> None:
    assert "<h1>Förhandsvisning</h1>" in server.get("/preview", accept_language="sv").body
    assert "<h1>Esikatselu</h1>" in server.get("/preview", accept_language="fi-FI").body
    english = server.get("/review", accept_language="en-US").body
    assert "<h1>Review</h1>" in english and 'lang="en"' in english


# --- who may connect ------------------------------------------------------------------------


@pytest.mark.parametrize(
    "host",
    [
        "attacker.example",
        "attacker.example:{port}",
        "127.0.0.1.attacker.example:{port}",
        "localhost.:{port}",
        "127.0.0.1:{other}",
        "",
    ],
)
def test_a_foreign_host_header_is_refused(server: Server, host: str) -> None:
    """DNS rebinding: a site that points its own name at 127.0.0.1 is not this server."""
    value = host.format(port=server.port, other=server.port + 1)
    reply = server.request("GET", "/review", headers={"Host": value})
    assert reply.status == 421
    assert "lemtrada" not in reply.body and "csrf" not in reply.body


def test_a_request_without_host_header_is_refused(server: Server) -> None:
    assert server.request("GET", "/review", headers={"Host": None}).status in (400, 421)  # type: ignore[dict-item]


@pytest.mark.parametrize("name", ["127.0.0.1", "localhost"])
def test_the_servers_own_names_are_served(server: Server, name: str) -> None:
    reply = server.request("GET", "/review", headers={"Host": f"{name}:{server.port}"})
    assert reply.status == 200
    assert "default-src 'none'" in reply.headers["content-security-policy"]
    assert reply.headers["x-content-type-options"] == "nosniff"


# --- what is served -------------------------------------------------------------------------


@pytest.mark.parametrize(
    "path",
    [
        "/../../etc/passwd",
        "/static/../../pyproject.toml",
        "/static/..%2f..%2fpyproject.toml",
        "/static/%2e%2e%2f%2e%2e%2fpyproject.toml",
        "/assets/fonts/..%2F..%2Fcontent%2Flemtrada-2019%2Fdhpc.yaml",
        "/assets/fonts/../../content/lemtrada-2019/fi.yaml",
        "/letter/..%2F..%2Fetc%2Fpasswd",
        "/letter/fi.yaml",
        "/letter/../fi.yaml",
        "/fi.yaml",
        "/dhpc.yaml",
        "/static//etc/passwd",
        "/static/%2Fetc%2Fpasswd",
    ],
)
def test_a_path_that_leaves_the_served_files_is_refused(server: Server, path: str) -> None:
    reply = server.request("GET", path)
    assert reply.status == 404
    assert "root:" not in reply.body and "[build-system]" not in reply.body
    assert "key_message" not in reply.body


@pytest.mark.parametrize(
    "path",
    [
        "/output/lemtrada-2019/mailing/recipients.csv",
        "/mailing/recipients.csv",
        "/mailing",
        "/recipients.csv",
        "/journal.sqlite",
        "/output/lemtrada-2019/journal.sqlite",
        "/letters/fi/r1.pdf",
        "/outbox/r1.eml",
        "/sources/register.csv",
        "/static/recipients.csv",
        "/static/..%2F..%2F..%2F..%2Foutput%2Flemtrada-2019%2Fmailing%2Frecipients.csv",
        "/letter/..%2F..%2Foutput%2Flemtrada-2019%2Fjournal.sqlite",
    ],
)
def test_personal_data_is_never_served(server: Server, path: str) -> None:
    reply = server.request("GET", path)
    assert reply.status == 404
    assert SECRET not in reply.body


def test_pages_show_only_counts_of_the_mailing_list(server: Server) -> None:
    status = server.get("/status").body
    assert "Recipients: 2" in status and "Recipients: 1" in status
    for page in ("/status", "/review", "/preview", "/preview?lang=sv", "/letter/fi"):
        assert SECRET not in server.get(page).body, page


def test_only_get_head_and_post(server: Server) -> None:
    for method in ("PUT", "DELETE", "PATCH", "OPTIONS", "TRACE"):
        assert server.request(method, "/comments").status == 405


# --- what may change ------------------------------------------------------------------------


def _approval_fields(folder: Path, csrf: str | None) -> dict[str, str]:
    dhpc = load_dhpc(folder)
    fields = {
        "language": "fi",
        "content_sha256": language_hash(dhpc, "fi"),
        "name": "Maija Tarkastaja",
        "role": "Regulatory affairs",
        "back": "/review",
    }
    if csrf is not None:
        fields["csrf"] = csrf
    return fields


@pytest.mark.parametrize("token", [None, "", "wrong-token-0123456789"])
def test_an_approval_without_the_csrf_token_is_refused(
    server: Server, folder: Path, token: str | None
) -> None:
    reply = _post(server, "/approve", _approval_fields(folder, token))
    assert reply.status == 403  # type: ignore[attr-defined]
    assert not (folder / "signoffs.jsonl").exists()


def test_a_change_from_another_site_is_refused_even_with_the_token(
    server: Server, folder: Path
) -> None:
    fields = _approval_fields(folder, server.csrf())
    for headers in (
        {"Origin": "http://attacker.example"},
        {"Origin": f"http://127.0.0.1:{server.port + 1}"},
        {"Origin": "null"},
        {"Sec-Fetch-Site": "cross-site"},
    ):
        assert _post(server, "/approve", fields, **headers).status == 403, headers  # type: ignore[attr-defined]
    assert not (folder / "signoffs.jsonl").exists()
    comment = {"csrf": "nope", "language": "fi", "field": "summary[0]", "text": "x", "name": "M"}
    assert _post(server, "/comments", comment).status == 403  # type: ignore[attr-defined]
    assert not (folder / "comments.jsonl").exists()


def test_an_approval_of_a_version_not_shown_is_refused(server: Server, folder: Path) -> None:
    fields = {**_approval_fields(folder, server.csrf()), "content_sha256": "0" * 64}
    reply = _post(server, "/approve", fields, Origin=f"http://{server.host}")
    assert reply.status == 409  # type: ignore[attr-defined]
    assert "reload it and review again" in reply.body  # type: ignore[attr-defined]
    assert not (folder / "signoffs.jsonl").exists()


def test_a_comment_on_an_unknown_field_is_refused(server: Server, folder: Path) -> None:
    for field, language in (("summary[99]", "fi"), ("../../etc", "fi"), ("summary[0]", "de")):
        fields = {
            "csrf": server.csrf(),
            "language": language,
            "field": field,
            "text": "x",
            "name": "Maija",
        }
        assert _post(server, "/comments", fields).status == 400  # type: ignore[attr-defined]
    assert not (folder / "comments.jsonl").exists()


def test_a_comment_is_one_json_line_in_the_content_folder(server: Server, folder: Path) -> None:
    text = 'Käännös: "1-4" <script>alert(1)</script>'
    fields = {
        "csrf": server.csrf(),
        "language": "fi",
        "field": "summary[2]",
        "text": text,
        "name": " Maija  Tarkastaja ",
        "role": "Medical",
        "back": "https://evil.example/",
    }
    reply = _post(server, "/comments", fields)
    assert reply.status == 303  # type: ignore[attr-defined]
    assert reply.headers["location"] == "/review#field-summary-2"  # type: ignore[attr-defined]
    (line,) = (folder / "comments.jsonl").read_text("utf-8").splitlines()
    record = json.loads(line)
    assert list(record) == [
        "time",
        "dhpc",
        "language",
        "field",
        "author",
        "role",
        "text",
        "content_sha256",
    ]
    assert record["field"] == "summary[2]" and record["author"] == "Maija Tarkastaja"
    assert record["text"] == text
    assert record["content_sha256"] == language_hash(load_dhpc(folder), "fi")
    assert re.fullmatch(r"\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ", record["time"])
    review = server.get("/review").body
    assert "&lt;script&gt;alert(1)&lt;/script&gt;" in review and "<script>alert" not in review
    (folder / "comments.jsonl").unlink()


# --- content as the letter shows it -----------------------------------------------------------


def test_content_is_escaped_as_in_the_letter(tmp_path: Path) -> None:
    content = tmp_path / "lemtrada-2019"
    shutil.copytree(EXAMPLE, content)
    hostile = "<img src=x onerror=alert(1)> **Tärkeää** [x](javascript:alert(1))"
    edit_yaml(content / "fi.yaml", lambda data: data["summary"].__setitem__(0, hostile))
    with running_server(content, cwd=tmp_path) as server:
        letter = _untypeset(server.get("/letter/fi").body)
        review = server.get("/review").body
    # Escaped (a finding may mark the number inside it: "alert(<mark>1</mark>)").
    assert "&lt;img src=x onerror=alert(" in letter and "<img src=x" not in letter
    assert "<strong>Tärkeää</strong>" in letter  # the safe markup, as in the PDF
    assert 'href="javascript' not in letter
    assert "<img src=x" not in review and "&lt;img src=x onerror=alert(" in review


def _untypeset(html: str) -> str:
    """The letter's text without the soft hyphens and no-break spaces typesetting adds."""
    html = re.sub(r"&#x?(ad|173|shy);|&shy;|\u00ad|\u2060", "", html)
    return re.sub(r"[\u00a0\u202f]|&#xa0;|&nbsp;|&#x202f;", " ", html)


def test_a_content_error_shows_the_message_dhpc_build_gives(tmp_path: Path) -> None:
    content = tmp_path / "lemtrada-2019"
    shutil.copytree(EXAMPLE, content)
    fi = content / "fi.yaml"
    fi.write_text(fi.read_text("utf-8").replace("summary:", "summary: [", 1), "utf-8")
    result = subprocess.run(
        [sys.executable, "-m", "dhpc_gen", "build", "lemtrada-2019", "--out", "o"],
        cwd=tmp_path,
        capture_output=True,
        text=True,
    )
    assert result.returncode == 1
    message = result.stderr.strip()
    assert message.startswith("Error: ") and "fi.yaml:" in message
    with running_server(Path("lemtrada-2019"), cwd=tmp_path) as server:
        for path in ("/preview?lang=fi", "/review", "/status"):
            page = server.get(path).body
            assert _escaped(message) in page, path
            assert "Traceback" not in page


def _escaped(text: str) -> str:
    return (
        text.replace("&", "&amp;")
        .replace("<", "&lt;")
        .replace(">", "&gt;")
        .replace("'", "&#39;")
        .replace('"', "&#34;")
    )


def test_status_tells_a_current_build_from_an_outdated_one(tmp_path: Path) -> None:
    content = tmp_path / "lemtrada-2019"
    shutil.copytree(EXAMPLE, content)
    runner = CliRunner()
    built = runner.invoke(
        main, ["build", str(content), "--out", str(tmp_path / "out"), "--lang", "fi"]
    )
    assert built.exit_code == 0, built.output
    with running_server(content, out=tmp_path / "out", cwd=tmp_path) as server:
        status = server.get("/status").body
        assert re.search(r'id="status-fi">.*?build-current', status, re.DOTALL)
        assert re.search(r'id="status-sv">.*?build-missing', status, re.DOTALL)
        fi = content / "fi.yaml"
        fi.write_text(fi.read_text("utf-8") + "\n# edited\n", "utf-8")
        status = server.get("/status").body
        assert re.search(r'id="status-fi">.*?build-outdated', status, re.DOTALL)


# --- starting the server ----------------------------------------------------------------------


def test_another_address_needs_a_token(tmp_path: Path) -> None:
    result = CliRunner().invoke(main, ["serve", str(EXAMPLE), "--host", "0.0.0.0", "--port", "0"])
    assert result.exit_code == 2
    assert "--token" in result.output and "Traceback" not in result.output
    short = CliRunner().invoke(main, ["serve", str(EXAMPLE), "--token", "short", "--port", "0"])
    assert short.exit_code == 2 and "at least 16 characters" in short.output
    missing = CliRunner().invoke(main, ["serve", str(tmp_path / "nothing"), "--port", "0"])
    assert missing.exit_code == 1 and "no such content folder" in missing.output


def test_with_a_token_every_request_must_carry_it(tmp_path: Path) -> None:
    token = "a-long-access-token-for-the-test"
    with running_server(EXAMPLE, "--token", token, cwd=tmp_path) as server:
        assert server.url.endswith(f"/?token={token}")
        assert server.request("GET", "/review").status == 401
        assert server.request("GET", "/review?token=wrong").status == 401
        entry = server.request("GET", f"/review?token={token}&lang=fi")
        assert entry.status == 303 and entry.headers["location"] == "/review?lang=fi"
        cookie = entry.headers["set-cookie"]
        assert "HttpOnly" in cookie and "SameSite=strict" in cookie.replace("Strict", "strict")
        value = cookie.split(";")[0]
        assert server.request("GET", "/review", headers={"Cookie": value}).status == 200
        bearer = {"Authorization": f"Bearer {token}"}
        assert server.request("GET", "/status", headers=bearer).status == 200


def test_the_event_stream_names_the_version_at_once(server: Server) -> None:
    import http.client

    connection = http.client.HTTPConnection("127.0.0.1", server.port, timeout=10)
    connection.request("GET", "/events", headers={"Host": server.host})
    response = connection.getresponse()
    assert response.status == 200
    assert response.getheader("content-type", "").startswith("text/event-stream")
    assert re.fullmatch(rb"data: \d+\n", response.readline())
    connection.close()


def test_help_describes_the_command() -> None:
    result = CliRunner().invoke(main, ["serve", "--help"])
    assert result.exit_code == 0
    for option in ("--port", "--host", "--token", "--out"):
        assert option in result.output


def test_a_comments_file_that_links_elsewhere_is_neither_read_nor_written(
    tmp_path: Path,
) -> None:
    content = tmp_path / "lemtrada-2019"
    shutil.copytree(EXAMPLE, content)
    elsewhere = tmp_path / "elsewhere.txt"
    elsewhere.write_text(SECRET, "utf-8")
    (content / "comments.jsonl").symlink_to(elsewhere)
    with running_server(content, cwd=tmp_path) as server:
        review = server.get("/review").body
        assert "is a link" in review and SECRET not in review
        fields = {
            "csrf": server.csrf(),
            "language": "fi",
            "field": "summary[0]",
            "text": "x",
            "name": "Maija",
        }
        reply = _post(server, "/comments", fields)
    assert reply.status == 400  # type: ignore[attr-defined]
    assert elsewhere.read_text("utf-8") == SECRET
    assert (content / "comments.jsonl").is_symlink()
