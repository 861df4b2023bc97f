"""Hostile and clumsy content: every value typed is a message or is printed as typed.

Two classes of failure, each fed through the real commands:

- a value a user can type (an impossible date, a tagged YAML scalar, a control
  character, a ``%`` in a boilerplate override) reaches the user as a message naming
  file, line and field, exit 1, and leaves the output folder as it was;
- markup typed into a boilerplate override or a catalog entry (an HTML link, ``<b>``)
  is printed as the characters typed — in the PDF, the e-mail and the review alike —
  while the small safe markup (``**bold**``, ``[links](https://…)``) works there as in
  every other text field.
"""

from __future__ import annotations

import hashlib
import re
import shutil
import subprocess
import sys
from dataclasses import dataclass
from email import message_from_bytes, policy
from email.message import EmailMessage
from pathlib import Path

import pytest
from click.testing import CliRunner, Result

from dhpc_gen.addresses.recipients import Recipient, write_recipients
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.markup import render_block, render_inline
from dhpc_gen.distribution.message import MessageComposer
from dhpc_gen.distribution.smtp import SmtpSettings
from dhpc_gen.errors import RenderError
from dhpc_gen.render.letter import render_html
from dhpc_gen.render.long_words import ZERO_WIDTH_SPACE, break_long_words
from dhpc_gen.render.pdf import pdf_identifier, write_pdf
from dhpc_gen.resources import LOCALES_DIR
from tests.conftest import EXAMPLE, PROJECT
from tests.markup_helpers import count, link_targets, pdf_link_uris, visible_text
from tests.pdf_helpers import pdftotext
from tests.send_helpers import built_letters

DHPC_ID = "lemtrada-2019"
KEY_MESSAGE = "key_message: Käytön rajoittaminen vakavien haittavaikutusten vuoksi"


def person(number: int, language: str = "fi") -> Recipient:
    """A made-up recipient (no real person)."""
    return Recipient(
        recipient_id=f"r-test-{number:03d}",
        language=language,
        title="",
        first_name="Testi",
        last_name=f"Henkilö{number}",
        profession="physician",
        specialty="neurology",
        organisation="",
        street="Testikatu 1",
        postal_code="00100",
        city="Helsinki",
        country="FI",
        email=f"hcp{number:03d}@example.fi",
        sources="Lääketietokeskus Oy",
    )


@dataclass
class Workspace:
    """A copy of the example and of its built outputs (with a mailing list), to break."""

    content: Path
    out: Path

    @property
    def fi(self) -> Path:
        return self.content / "fi.yaml"

    def edit(self, name: str, old: str, new: str) -> None:
        path = self.content / name
        text = path.read_text(encoding="utf-8")
        assert old in text, old
        path.write_text(text.replace(old, new, 1), encoding="utf-8")

    def append(self, name: str, text: str) -> int:
        """Append ``text`` to a content file; returns the line number it starts on."""
        path = self.content / name
        before = path.read_text(encoding="utf-8")
        path.write_text(before + text, encoding="utf-8")
        return before.count("\n") + 1

    def snapshot(self) -> dict[str, tuple[str, int]]:
        """Every file under the output folder: its hash and modification time."""
        return {
            str(p.relative_to(self.out)): (
                hashlib.sha256(p.read_bytes()).hexdigest(),
                p.stat().st_mtime_ns,
            )
            for p in sorted(self.out.rglob("*"))
            if p.is_file()
        }

    def command(self, name: str) -> list[str]:
        """The arguments of one command, every output of it under ``out``."""
        content, out = str(self.content), str(self.out)
        return {
            "build": ["build", content, "--out", out, "--html"],
            "check": ["check", content],
            "review": ["review", content, "-o", f"{out}/review.html", "--no-thumbnails"],
            "xliff": ["xliff", "export", content, "--target", "fi", "-o", f"{out}/fi.xlf"],
            "send": ["send", content, "--out", out],
        }[name]


@pytest.fixture(scope="module")
def built(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return built_letters(tmp_path_factory)


@pytest.fixture
def ws(tmp_path: Path, built: Path) -> Workspace:
    content = tmp_path / "content" / DHPC_ID
    shutil.copytree(EXAMPLE, content)
    out = tmp_path / "out"
    shutil.copytree(built, out / DHPC_ID)
    write_recipients(out / DHPC_ID / "mailing" / "recipients.csv", [person(1), person(2, "sv")])
    return Workspace(content, out)


def run(args: list[str]) -> Result:
    """The command in-process, as a user runs it; an exception other than exit is a bug."""
    result = CliRunner().invoke(main, args)
    if result.exception is not None and not isinstance(result.exception, SystemExit):
        raise AssertionError(f"dhpc {' '.join(args[:2])} raised") from result.exception
    return result


def refused(ws: Workspace, command: str, *expected: str) -> str:
    """Run ``command``; assert exit 1, each expected text, and an untouched output folder."""
    before = ws.snapshot()
    result = run(ws.command(command))
    assert result.exit_code == 1, (command, result.output)
    for text in expected:
        assert text in result.output, (command, text, result.output)
    assert "Traceback" not in result.output
    assert ws.snapshot() == before, f"dhpc {command} changed the output folder"
    return result.output


# -- class 1: every value typed is a message -------------------------------------------------


@pytest.mark.parametrize("command", ["build", "check", "review", "xliff", "send"])
def test_an_impossible_date_is_a_message_in_every_command(ws: Workspace, command: str) -> None:
    ws.edit("dhpc.yaml", "date: 2019-04-24", "date: 2019-02-30")
    refused(
        ws,
        command,
        f"{DHPC_ID}/dhpc.yaml:7 date: '2019-02-30' is not a date: write the date as YYYY-MM-DD",
    )


def test_an_impossible_date_in_a_real_process_shows_no_traceback(ws: Workspace) -> None:
    ws.edit("dhpc.yaml", "date: 2019-04-24", "date: 2019-13-01")
    before = ws.snapshot()
    result = subprocess.run(
        [sys.executable, "-m", "dhpc_gen", *ws.command("build")],
        capture_output=True,
        text=True,
        cwd=PROJECT,
    )
    assert result.returncode == 1
    assert "dhpc.yaml:7 date: '2019-13-01' is not a date" in result.stderr
    assert "Traceback" not in result.stderr
    assert ws.snapshot() == before


@pytest.mark.parametrize(
    ("file", "old", "new", "expected"),
    [
        # A tagged scalar that cannot be built: at its own field and line.
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: !!float abc",
            "fi.yaml:5 key_message: 'abc' cannot be read as a number",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: !!int abc",
            "fi.yaml:5 key_message: 'abc' cannot be read as a whole number",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: !!bool abc",
            "fi.yaml:5 key_message: 'abc' cannot be read as true or false",
        ),
        ("fi.yaml", KEY_MESSAGE, "key_message: " + "9" * 5000, "fi.yaml:5 key_message: '999"),
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: !!binary SGVq",
            "fi.yaml:5 key_message: is binary data (!!binary)",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: !!python/object:os.system [ls]",
            "fi.yaml:5 key_message: should be text, not a list",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: !!python/name:os.system",
            "fi.yaml:5 key_message: should be text, not a value tagged !!python/name:os.system",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: 1234",
            "fi.yaml:5 key_message: should be text, but YAML reads it as a number: put it in",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            "key_message: !!omap [a: 1, a: 2]",
            "fi.yaml:5: invalid YAML: cannot build this !!omap: a key is given twice",
        ),
        (
            "dhpc.yaml",
            "date: 2019-04-24",
            "date: .inf",
            "dhpc.yaml:7 date: YAML reads it as a number, not a date",
        ),
        # Keys that are not text.
        (
            "fi.yaml",
            KEY_MESSAGE,
            KEY_MESSAGE + "\nboilerplate:\n  1: Yhteenveto",
            "fi.yaml:7 boilerplate[1]: the key should be text, but YAML reads it as a number",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            KEY_MESSAGE + "\nboilerplate:\n  '': Yhteenveto",
            "fi.yaml:7 boilerplate['']: the key is empty",
        ),
        # Control characters typed as escapes: named with their code and position.
        (
            "fi.yaml",
            KEY_MESSAGE,
            'key_message: "Käytön\\0 rajoittaminen"',
            "fi.yaml:5 key_message: contains U+0000 at character 7, a control character",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            'key_message: "Käytön \\e[2J rajoittaminen"',
            "fi.yaml:5 key_message: contains U+001B at character 8",
        ),
        (
            "fi.yaml",
            "  - Maksan toiminta on arvioitava ennen hoitoa ja hoidon aikana.",
            '  - "Maksan\\x07 toiminta"',
            "fi.yaml:30 summary[2]: contains U+0007",
        ),
        (
            "dhpc.yaml",
            "  - name: Sanofi Oy\n",
            '  - name: "Sanofi\\x85 Oy"\n',
            "dhpc.yaml:13 mahs[0].name: contains U+0085",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            KEY_MESSAGE + '\nboilerplate:\n  Summary: "Yhteen\\rveto"',
            "fi.yaml:7 boilerplate['Summary']: contains U+000D",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            KEY_MESSAGE + '\nboilerplate:\n  "Sum\\x1bmary": Yhteenveto',
            "fi.yaml:7 boilerplate['Sum\\x1bmary']: the key contains U+001B",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            'key_message: "\\ud800"',
            "fi.yaml:5 key_message: contains an unpaired surrogate",
        ),
        # A placeholder the phrase does not have would print '%(nimi)s' to every doctor.
        (
            "fi.yaml",
            KEY_MESSAGE,
            KEY_MESSAGE + "\nboilerplate:\n  'Dear %(name)s,': 'Hyvä %(nimi)s,'",
            "fi.yaml:7 boilerplate['Dear %(name)s,']: uses %(nimi)s, which the phrase does not "
            "have (it has %(name)s)",
        ),
        (
            "fi.yaml",
            KEY_MESSAGE,
            KEY_MESSAGE + "\nboilerplate:\n  Summary: '%(x)s yhteenveto'",
            "fi.yaml:7 boilerplate['Summary']: uses %(x)s, which the phrase does not have (it has "
            "none)",
        ),
    ],
)
def test_typed_values_that_crashed_are_messages_at_their_field(
    ws: Workspace, file: str, old: str, new: str, expected: str
) -> None:
    ws.edit(file, old, new)
    for command in ("build", "check"):
        refused(ws, command, f"{DHPC_ID}/{expected}")


def block_nesting(depth: int) -> bytes:
    """Mappings in mappings, ``depth`` levels of indentation."""
    return b"".join(b" " * level + b"k:\n" for level in range(depth)) + b" " * depth + b"v"


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        (
            b"language: fi\nx: " + b"[" * 30_000 + b"]" * 30_000 + b"\n",
            "fi.yaml:2: invalid YAML: '[' or '{' nested more than 64 levels deep",
        ),
        (
            b"language: fi\nx: " + b"{a: " * 100 + b"1" + b"}" * 100 + b"\n",
            "fi.yaml:2: invalid YAML: '[' or '{' nested more than 64 levels deep",
        ),
        (
            b"language: fi\n" + block_nesting(100),
            "fi.yaml:1: values nested more than 64 levels deep",
        ),
        (
            b"language: fi\n" + block_nesting(350),
            "fi.yaml: values nested more than 64 levels deep",
        ),
        (
            EXAMPLE.joinpath("fi.yaml").read_text(encoding="utf-8").encode("utf-16"),
            "fi.yaml:1: is saved as UTF-16: save it as UTF-8",
        ),
        (
            EXAMPLE.joinpath("fi.yaml").read_text(encoding="utf-8").encode("latin-1"),
            "fi.yaml:5: not UTF-8 text: byte 0xE4 at column 15",
        ),
        (
            b"language: fi\nkey_message: K\x07ytt\xc3\xb6\n",
            "fi.yaml:2: invalid YAML: the character U+0007 may not be typed in a YAML file",
        ),
    ],
)
def test_unreadable_files_are_messages(ws: Workspace, data: bytes, expected: str) -> None:
    ws.fi.write_bytes(data)
    for command in ("build", "send"):
        refused(ws, command, f"{DHPC_ID}/{expected}")


def test_a_utf8_bom_and_a_date_looking_text_are_fine(ws: Workspace) -> None:
    ws.edit("fi.yaml", KEY_MESSAGE, "key_message: 2019-13-45")
    ws.fi.write_bytes(b"\xef\xbb\xbf" + ws.fi.read_bytes())
    result = run(ws.command("build"))
    assert result.exit_code == 0, result.output
    assert "2019-13-45" in pdftotext(ws.out / DHPC_ID / f"{DHPC_ID}_fi.pdf")


def test_percent_and_jinja_in_an_override_are_printed_as_typed(ws: Workspace) -> None:
    typed = "50 % {{ 7*7 }} {% if x %} %s {0} 100%% {{"
    ws.append(
        "fi.yaml", f"boilerplate:\n  Summary: '{typed}'\n  'Dear %(name)s,': '%(name)s, 5 %'\n"
    )
    result = run(ws.command("build"))
    assert result.exit_code == 0, result.output
    text = " ".join(pdftotext(ws.out / DHPC_ID / f"{DHPC_ID}_fi.pdf").split())
    assert "50 % {{ 7*7 }} {% if x %} %s {0} 100% {{" in text, "%% is a percent sign"
    result = run(ws.command("send"))
    assert result.exit_code == 0, result.output
    message = only_message(ws)
    assert message.get_body(("plain",)).get_content().startswith("Testi Henkilö1, 5 %")  # type: ignore[union-attr]


def test_a_command_line_message_cannot_drive_the_terminal(ws: Workspace) -> None:
    ws.edit("fi.yaml", "language: fi", 'language: fi\n"\\e[31mred": x')
    result = run(ws.command("build"))
    assert result.exit_code == 1
    assert "\x1b" not in result.output and "['\\x1b[31mred']: unknown field" in result.output


# -- class 2: typed markup is printed as typed ------------------------------------------------

EVIL = '<a href="https://evil.example/s">Yhteenveto</a>'
BOLD = "<b>Ilmoita</b> <script>alert(1)</script>"
JS_LINK = "[x](javascript:alert(1))"
OVERRIDES = f"""boilerplate:
  Summary: '{EVIL}'
  Call for reporting: '{BOLD}'
  Company contact point: '**Yhteystiedot** [verkkosivu](https://ok.example/y) {JS_LINK}'
  'Dear %(name)s,': 'Hyvä <i>%(name)s</i>,'
salutation: '*Hyvä* <u>lukija</u>'
"""


def only_message(ws: Workspace) -> EmailMessage:
    files = sorted((ws.out / DHPC_ID / "outbox").glob("*.eml"))
    assert len(files) == 1
    parsed = message_from_bytes(files[0].read_bytes(), policy=policy.default)
    assert isinstance(parsed, EmailMessage)
    return parsed


def assert_nothing_live(html: str) -> None:
    """No element made from typed HTML; links only where the safe markup made them."""
    for tag in ("b", "i", "u", "script"):
        assert count(html, tag) == 0, tag
    assert not any("evil" in href or "javascript" in href for href in link_targets(html))


def test_markup_typed_in_overrides_is_printed_as_typed_in_letter_mail_and_review(
    ws: Workspace,
) -> None:
    ws.append("fi.yaml", OVERRIDES)
    result = run(ws.command("build"))
    assert result.exit_code == 0, result.output
    out = ws.out / DHPC_ID

    # The PDF: the typed link is text, not an annotation; the safe link is one.
    pdf = out / f"{DHPC_ID}_fi.pdf"
    uris = pdf_link_uris(pdf)
    assert "https://ok.example/y" in uris
    assert not any("evil" in uri or "javascript" in uri for uri in uris), uris
    text = " ".join(pdftotext(pdf).split())
    for typed in (EVIL, BOLD, "Hyvä <u>lukija</u>", JS_LINK):
        assert typed in text, typed
    assert "**" not in text

    # The letter's HTML: the same, element by element.
    html = (out / f"{DHPC_ID}_fi.html").read_text(encoding="utf-8")
    assert_nothing_live(html)
    assert "<strong>Yhteystiedot</strong>" in html and "<em>Hyvä</em>" in html
    assert EVIL in visible_text(html) and BOLD in visible_text(html)

    # The e-mail: HTML part escaped with the safe markup, text part as typed.
    result = run(ws.command("send"))
    assert result.exit_code == 0, result.output
    message = only_message(ws)
    body_html = message.get_body(("html",)).get_content()  # type: ignore[union-attr]
    assert_nothing_live(body_html)
    assert "<strong>Yhteystiedot</strong>" in body_html
    assert "https://ok.example/y" in link_targets(body_html)
    assert "Hyvä <i>Testi Henkilö1</i>," in visible_text(body_html)
    assert EVIL in visible_text(body_html)
    body_text = message.get_body(("plain",)).get_content()  # type: ignore[union-attr]
    assert "Hyvä <i>Testi Henkilö1</i>," in body_text and EVIL in body_text
    assert "Yhteystiedot verkkosivu https://ok.example/y" in body_text and "**" not in body_text

    # The review document shows the overrides as text.
    result = run(ws.command("review"))
    assert result.exit_code == 0, result.output
    review = (ws.out / "review.html").read_text(encoding="utf-8")
    assert_nothing_live(review)
    assert EVIL in visible_text(review) and BOLD in visible_text(review)


def catalog_copy(tmp_path: Path, replacements: dict[str, str]) -> Path:
    """The project's catalogs with some Finnish entries replaced."""
    locales = tmp_path / "locales"
    shutil.copytree(LOCALES_DIR, locales)
    po = locales / "fi" / "LC_MESSAGES" / "messages.po"
    text = po.read_text(encoding="utf-8")
    for old, new in replacements.items():
        assert old in text, old
        text = text.replace(old, new, 1)
    po.write_text(text, encoding="utf-8")
    return locales


def test_markup_and_percent_in_a_catalog_entry_are_text(tmp_path: Path) -> None:
    locales = catalog_copy(
        tmp_path,
        {
            'msgstr "Yhteenveto"': 'msgstr "<b>Yhteen</b> 50 % <a href=\\"https://evil.example/c\\">veto</a>"',
            'msgstr "Yrityksen yhteystiedot"': 'msgstr "**Yrityksen** [yhteystiedot](https://ok.example/c)"',
        },
    )
    dhpc = load_dhpc(EXAMPLE)
    html = render_html(dhpc, "fi", locales_dir=locales)
    assert_nothing_live(html)
    assert '<b>Yhteen</b> 50 % <a href="https://evil.example/c">veto</a>' in visible_text(html)
    assert "<strong>Yrityksen</strong>" in html
    pdf = write_pdf(html, variant="pdf/a-3u", identifier=pdf_identifier("t"), epoch=0)
    assert pdf_link_uris(pdf) == ["https://ok.example/c"]
    path = tmp_path / "letter.pdf"
    path.write_bytes(pdf)
    assert '<b>Yhteen</b> 50 % <a href="https://evil.example/c">veto</a>' in " ".join(
        pdftotext(path).split()
    )


def test_a_catalog_entry_with_a_foreign_placeholder_or_a_control_character_is_refused(
    tmp_path: Path,
) -> None:
    dhpc = load_dhpc(EXAMPLE)
    locales = catalog_copy(tmp_path, {'msgstr "Hyvä %(name)s,"': 'msgstr "Hyvä %(nimi)s,"'})
    composer = MessageComposer(dhpc, "0" * 64, SmtpSettings(), locales_dir=locales)
    with pytest.raises(
        RenderError, match=r"messages\.po:\d+ msgid 'Dear %\(name\)s,': uses %\(nimi\)s"
    ):
        composer.render(person(1))
    locales = catalog_copy(tmp_path / "2", {'msgstr "Yhteenveto"': 'msgstr "Yhteen\x1bveto"'})
    with pytest.raises(RenderError, match=r"messages\.po:\d+ msgid 'Summary': contains U\+001B"):
        render_html(dhpc, "fi", locales_dir=locales)


def test_no_template_puts_a_phrase_into_an_attribute() -> None:
    """A phrase is HTML (its markup rendered): inside an attribute, a link's quotes would
    end the attribute. Attributes get plain text from the view instead."""
    in_attribute = re.compile(r"""=\s*["'][^"'>]*\{\{\s*(_|gettext|ngettext)\(""")
    # The templates rendered with a letter's phrases (dhpc serve's pages have their own).
    letters = [PROJECT / "templates" / "letter.html", PROJECT / "templates" / "email" / "body.html"]
    for template in letters:
        text = template.read_text(encoding="utf-8")
        assert not in_attribute.search(text), template.name


# -- big content: limits that lay out in seconds, and long words without the slow path -----


def test_a_language_file_past_the_limit_is_refused_with_its_size(ws: Workspace) -> None:
    ws.append("fi.yaml", "# " + "täyte " * 12_000 + "\n")
    for command in ("build", "check", "send"):
        refused(
            ws,
            command,
            f"{DHPC_ID}/fi.yaml: is 88 KiB; a content file may have at most 64 KiB (about 15 "
            "pages of letter, which build in seconds): shorten the text",
        )


def test_a_text_field_past_the_limit_names_its_line_and_length(ws: Workspace) -> None:
    ws.edit("fi.yaml", KEY_MESSAGE, "key_message: " + "sana " * 1001)
    refused(
        ws,
        "build",
        f"{DHPC_ID}/fi.yaml:5 key_message: has 5004 characters; a text may have at most 5000",
    )


def test_a_word_longer_than_a_line_breaks_where_it_must(ws: Workspace) -> None:
    word = "x" * 3000
    address = "https://www.example.fi/" + "a" * 30  # fits on a line: left whole
    ws.edit("fi.yaml", KEY_MESSAGE, f"key_message: Pitkä {word} sana {address}")
    result = run(ws.command("build"))
    assert result.exit_code == 0, result.output
    out = ws.out / DHPC_ID
    html = (out / f"{DHPC_ID}_fi.html").read_text(encoding="utf-8")
    head, body = html.split("<body", 1)
    assert ZERO_WIDTH_SPACE not in head, "the PDF's title stays as typed"
    assert body.count(ZERO_WIDTH_SPACE) == 3000 // 4 - 1
    assert address in body and "\u00ad" not in body.split("Pitkä")[1].split("sana")[0]
    text = pdftotext(out / f"{DHPC_ID}_fi.pdf")
    assert ZERO_WIDTH_SPACE not in text
    printed = text.split("Pitkä", 1)[1].split("sana", 1)[0]
    assert printed.count("x") == 3000 and "-" not in printed, "all of it, over several lines"


def test_break_long_words_leaves_tags_attributes_and_short_words() -> None:
    long = "y" * 70
    html = (
        f'<html><head><title>{long}</title></head><body class="b">'
        f'<p title="{long}">kort {long} &amp; {"z" * 60}</p><script>{long}</script></body></html>'
    )
    broken = break_long_words(html)
    assert broken.count(ZERO_WIDTH_SPACE) == 70 // 4
    assert f"<title>{long}</title>" in broken and f'title="{long}"' in broken
    assert f"<script>{long}</script>" in broken and "z" * 60 in broken and "&amp;" in broken
    assert break_long_words("<p>no body</p>") == "<p>no body</p>"


@pytest.mark.parametrize(
    "typed",
    ["[x]()", "[x]( )", '[x]("t")', "[x](javascript:alert(1))", "[x](//evil.example)", "[x](<>)"],
)
def test_a_link_whose_address_is_refused_is_printed_as_typed(typed: str) -> None:
    for html in (render_inline(f"a {typed} b"), render_block(f"- a {typed} b")):
        assert link_targets(html) == [], (typed, html)
        assert "[x]" in visible_text(html)
