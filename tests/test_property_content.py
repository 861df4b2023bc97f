"""Random hostile text in every text field and boilerplate override (Hypothesis).

Whatever is typed — markup, format characters, control, bidi and zero-width characters,
very long words — the build either succeeds or stops with a :class:`DhpcError` whose
message names the file, never with another exception; and no typed markup becomes
live: the letter and the e-mail hold no element the templates and the safe markup do
not make, every link is http, https or mailto and made by ``[text](url)``, and the
review document shows every text as text.

Most examples render HTML (letter, e-mail, review document); a few go the whole way to
PDF. For a long local hunt:
``DHPC_PROPERTY_EXAMPLES=5000 .venv/bin/pytest tests/test_property_content.py``.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import tempfile
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import Any

from babel.messages.pofile import read_po
from hypothesis import HealthCheck, event, given, settings
from hypothesis import strategies as st

from dhpc_gen.build import build
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.loader import consistency_problems, parse_loc, registry_problems
from dhpc_gen.distribution.message import MessageComposer
from dhpc_gen.distribution.smtp import SmtpSettings
from dhpc_gen.errors import ContentError, DhpcError
from dhpc_gen.render.letter import render_html
from dhpc_gen.resources import LOCALES_DIR, TEMPLATES_DIR
from dhpc_gen.review.report import ReviewInputs, build_review
from tests.conftest import EXAMPLE
from tests.markup_helpers import SAFE_SCHEMES, elements, pdf_link_uris
from tests.test_hostile_content import person

EXAMPLES = int(os.environ.get("DHPC_PROPERTY_EXAMPLES", "40"))

# -- what is typed ---------------------------------------------------------------------------

FRAGMENTS = [
    # the safe markup, well and badly formed
    "**", "*", "_", "__", "**vahva**", "*kursiivi*", "[ok](https://ok.example/p)",
    "[m](mailto:a@ok.example)", "[x](javascript:alert(1))", "[x](JAVASCRIPT:alert(1))",
    "[x](data:text/html,<script>alert(1)</script>)", "[x](//ok.example)", "[x](", ")",
    "](https://ok.example/c)", "[x](<https://ok.example/b>)", "![i](https://ok.example/i.png)",
    "\n- ", "\n\n- kohta\n- toinen", "  \n", "\\", "\\*", "`", "<https://ok.example/auto>",
    # HTML: the only place "evil.example" is typed, so a link to it came from typed HTML
    '<a href="https://evil.example/a">e</a>', "<a href=https://evil.example/b>", "<b>", "</b>",
    "<b>lihava</b>", "<i>", "<u>",
    "<script>alert(1)</script>", "<img src=x onerror=alert(1)>", "<!--", "-->", "<![CDATA[",
    "<style>*{}</style>", '"', "'", "&", "&amp;", "&lt;b&gt;", "&#60;b&#62;", "<", ">",
    # format characters
    "%", "%%", "%s", "%d", "%(x)s", "%(name)s", "%(name)d", "%(", "{", "}", "{0}", "{name}",
    "{{ 7*7 }}", "{% if x %}", "{% endif %}", "{#", "#}", "${x}",
    # bidi, zero-width and other awkward characters a letter may hold
    "\t", "\u2028", "\u2029", "\u202e", "\u202d", "\u2066", "\u2069", "\u200b", "\u200c",
    "\u200d", "\u2060", "\ufeff", "\u00ad", "\ufffd", "\U0001f600", "\u0301", "ß", "ﬁ", "İ",
]  # fmt: skip
UNPRINTABLE = ["\x00", "\x07", "\x1b[31m", "\r", "\x0c", "\x7f", "\x85", "\ufffe", "\uffff"]


def _texts(pieces: st.SearchStrategy[str]) -> st.SearchStrategy[str]:
    return st.lists(
        st.one_of(
            st.sampled_from(FRAGMENTS),
            pieces,
            st.integers(min_value=50, max_value=3000).map(lambda n: "x" * n),  # a long word
        ),
        min_size=1,
        max_size=10,
    ).map("".join)


NONCHARACTERS = "".join(map(chr, range(0xFDD0, 0xFDF0))) + "\ufffe\uffff"
printable = _texts(
    st.text(
        st.characters(exclude_categories=("Cc", "Cs"), exclude_characters=NONCHARACTERS),
        max_size=12,
    )
)
unprintable = _texts(st.one_of(st.sampled_from(UNPRINTABLE), st.text(max_size=12)))

# -- where it goes ---------------------------------------------------------------------------

SOURCE = load_dhpc(EXAMPLE)
FI_DATA: dict[str, Any] = SOURCE.text("fi").model_dump(mode="json", exclude_defaults=True)
FIELD_PATHS = sorted(
    {field.path for field in text_fields(SOURCE.text("fi")) if field.kind != "boilerplate"}
    | {"title", "salutation", "background_heading"}
)
with (LOCALES_DIR / "messages.pot").open("rb") as _handle:
    PHRASES = sorted(str(m.id) for m in read_po(_handle) if m.id and isinstance(m.id, str))
PHRASES.append("Not a phrase of the templates")
META_PATHS = [
    ("products", 0, "name"),
    ("mahs", 0, "name"),
    ("authorities", 0),
    ("signatories", 0, "name"),
    ("signatories", 0, "title"),
    ("address_sources", 0),
]


def _edits(text: st.SearchStrategy[str]) -> st.SearchStrategy[dict[str, dict[Any, str]]]:
    return st.fixed_dictionaries(
        {
            "fields": st.dictionaries(st.sampled_from(FIELD_PATHS), text, max_size=4),
            "phrases": st.dictionaries(st.sampled_from(PHRASES), text, max_size=3),
            "meta": st.dictionaries(st.sampled_from(META_PATHS), text, max_size=1),
        }
    )


# Mostly text a letter could print, so that most examples get as far as the layout; one
# in four with characters that must be refused.
edits = st.one_of(_edits(printable), _edits(printable), _edits(printable), _edits(unprintable))

# Characters a YAML file may not hold raw (or would read as a line break): written as
# escapes, so that what the loader reads is exactly what was generated.
_ESCAPE = re.compile("[\x7f-\uffff]")


def as_yaml(data: Any) -> str:
    """``data`` as YAML: JSON (a subset of YAML 1.2) with every awkward character escaped."""
    return _ESCAPE.sub(lambda m: f"\\u{ord(m.group()):04x}", json.dumps(data, ensure_ascii=False))


def put(data: Any, loc: tuple[int | str, ...], value: str) -> None:
    for part in loc[:-1]:
        data = data[part]
    data[loc[-1]] = value


@contextmanager
def content_with(change: dict[str, dict[Any, str]]) -> Iterator[Path]:
    """A copy of the example with the generated texts in place."""
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp) / "content" / SOURCE.id
        shutil.copytree(EXAMPLE, folder)
        fi = json.loads(json.dumps(FI_DATA))
        for path, value in change["fields"].items():
            put(fi, parse_loc(path), value)
        if change["phrases"]:
            fi["boilerplate"] = dict(change["phrases"])
        (folder / "fi.yaml").write_text(as_yaml(fi), encoding="utf-8")
        if change["meta"]:
            meta = SOURCE.meta.model_dump(mode="json", exclude_defaults=True)
            for loc, value in change["meta"].items():
                put(meta, loc, value)
            (folder / "dhpc.yaml").write_text(as_yaml(meta), encoding="utf-8")
        yield folder


# -- what must hold --------------------------------------------------------------------------


def _made_by_templates() -> tuple[set[tuple[str, str]], set[tuple[str, str]]]:
    """(tag, attribute) pairs the letter and e-mail make from the example itself."""
    letter = render_html(SOURCE, "fi")
    mail = MessageComposer(SOURCE, "0" * 64, SmtpSettings()).render(person(1)).html

    def pairs(html: str) -> set[tuple[str, str]]:
        found = set()
        for element in elements(html):
            found.add((element.tag, ""))
            found.update((element.tag, name) for name, _ in element.attrs)
        return found

    return pairs(letter), pairs(mail)


# The safe markup adds these wherever content goes: emphasis, links, lists, line breaks.
SAFE_PAIRS = {
    ("strong", ""), ("em", ""), ("a", ""), ("a", "href"), ("a", "title"), ("ul", ""),
    ("li", ""), ("p", ""), ("br", ""),
}  # fmt: skip
LETTER_PAIRS, MAIL_PAIRS = _made_by_templates()
# The review prints every text as text: only the template's own elements, and the <mark>
# of a finding, may appear in it.
REVIEW_PAIRS = {
    (tag, "")
    for tag in re.findall(r"<([a-z][a-z0-9]*)", (TEMPLATES_DIR / "review.html").read_text())
} | {("mark", "")}


def assert_nothing_live(
    html: str, allowed: set[tuple[str, str]], typed: str, *, attributes: bool = True
) -> None:
    for element in elements(html):
        pairs = [(element.tag, "")]
        if attributes:
            pairs += [(element.tag, name) for name, _ in element.attrs]
        unexpected = [pair for pair in pairs if pair not in allowed | SAFE_PAIRS]
        assert not unexpected, (unexpected, typed)
        if element.tag == "a":
            href = element.attr("href") or ""
            assert href.lower().startswith(SAFE_SCHEMES), (href, typed)
            assert "evil.example" not in href, (href, typed)


def assert_names_a_file(error: DhpcError) -> None:
    message = str(error)
    assert re.search(r"(fi|dhpc)\.yaml|messages\.po", message), message
    if isinstance(error, ContentError):
        assert all(problem.file for problem in error.problems)


@settings(
    max_examples=EXAMPLES,
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(change=edits)
def test_hostile_text_builds_html_or_is_a_message(change: dict[str, dict[Any, str]]) -> None:
    typed = repr(change)
    with content_with(change) as folder:
        try:
            dhpc = load_dhpc(folder)
            problems = consistency_problems(dhpc) + registry_problems(dhpc)
            if problems:
                raise ContentError(problems)
            letter = render_html(dhpc, "fi")
            mail = MessageComposer(dhpc, "0" * 64, SmtpSettings()).render(person(1))
            review = build_review(dhpc, ReviewInputs(thumbnails=False, approvals=False)).html
        except DhpcError as error:
            assert_names_a_file(error)
            event("refused with a message")
            return
    event("rendered")
    assert_nothing_live(letter, LETTER_PAIRS, typed)
    assert_nothing_live(mail.html, MAIL_PAIRS, typed)
    assert_nothing_live(review, REVIEW_PAIRS, typed, attributes=False)
    assert not any(element.tag == "a" for element in elements(review)), typed
    assert "\n" not in mail.subject and "\r" not in mail.subject


@settings(
    max_examples=max(3, EXAMPLES // 10),
    deadline=None,
    database=None,
    suppress_health_check=[HealthCheck.too_slow, HealthCheck.data_too_large],
)
@given(change=edits)
def test_hostile_text_builds_pdfs_or_is_a_message(change: dict[str, dict[Any, str]]) -> None:
    with content_with(change) as folder, tempfile.TemporaryDirectory() as out:
        try:
            result = build(load_dhpc(folder), Path(out), languages=["fi"])
        except DhpcError as error:
            assert_names_a_file(error)
            event("refused with a message")
            return
        event("built")
        pdf = result.out_dir / f"{SOURCE.id}_fi.pdf"
        for uri in pdf_link_uris(pdf):
            assert uri.lower().startswith(SAFE_SCHEMES) and "evil.example" not in uri, uri
