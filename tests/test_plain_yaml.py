"""The fast YAML reader reads whatever it reads exactly as the round-trip reader does.

:func:`plain_load` either gives up (``None``: the round-trip reader is used) or gives the
values the round-trip reader gives, type for type. Generated texts (Hypothesis) mix the
scalars YAML 1.1 and 1.2 read differently (``no``, ``on``, ``012``, ``1:20``, dates),
every scalar style, flow and block collections, tags, anchors, directives, duplicate
keys, and random YAML-like lines that are mostly invalid.
"""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st
from ruamel.yaml import YAML

from dhpc_gen.content.loader import PlainMapping, line_of, read_yaml
from dhpc_gen.content.plain_yaml import plain_load
from dhpc_gen.content.yaml_values import Unreadable, content_yaml
from dhpc_gen.resources import REGULATORS_DIR
from tests.conftest import CAMPAIGN, EXAMPLE

EXAMPLES = int(os.environ.get("DHPC_PROPERTY_EXAMPLES", "300"))


def plain(value: Any) -> Any:
    """The round-trip reader's value as plain Python (its str, int, float subclasses too)."""
    if isinstance(value, dict):
        return {plain(k): plain(v) for k, v in value.items()}
    if isinstance(value, list):
        return [plain(v) for v in value]
    if isinstance(value, bool) or value is None:
        return value
    for kind in (str, int, float):
        if isinstance(value, kind):
            return kind(value)
    return value  # bytes, Unreadable, sets: never equal to what plain_load gives


def same(a: Any, b: Any) -> bool:
    """Equal, with the same types all the way down and keys in the same order."""
    if type(a) is not type(b):
        return False
    if isinstance(a, dict):
        return list(a) == list(b) and all(same(a[k], b[k]) for k in a)
    if isinstance(a, list):
        return len(a) == len(b) and all(same(x, y) for x, y in zip(a, b, strict=True))
    return bool(a == b)


def assert_read_alike(text: str) -> None:
    fast = plain_load(text)
    if fast is None:
        return
    slow = content_yaml().load(text)  # must not fail where the fast reader read
    assert same(fast, plain(slow)), (text, fast, slow)


SCALARS = [
    "no", "No", "NO", "yes", "Yes", "on", "On", "off", "y", "n", "true", "True", "FALSE",
    "null", "Null", "~", "", "012", "0o14", "0x1F", "0b101", "1_000", "1:20", "1:20:30",
    "190:20:30", "12", "-3", "+1", "-0", "0", "1.5", "-2.25", "5.", ".5", "1e3", "1.5e3",
    "6.8523015e+5", ".inf", "-.Inf", ".NaN", "2019-04-24", "2019-02-30", "2019-4-24",
    "2001-12-14t21:59:43.10-05:00", "2001-12-14 21:59:43.10 -5", "=", "<<", "a b", "x: y",
    "10 mg/kg", "< 0,5 × 10⁹/l", "ääkköset", "LEMTRADA▼", "#not a comment", "a #comment",
    "100000000000000000000000", "3.14159265358979323846", "0.1", "00", "-", "?", ":",
    "@at", "`tick", "%pct", "!bang", "&amp", "*star", "|pipe", ">gt", "'q", '"dq', "a\\b",
]  # fmt: skip

KEYS = ["a", "b", "key", "title", "no", "yes", "1", "null", "true", "2019-04-24", "a b", "<<"]


def _quoted_single(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _quoted_double(text: str) -> str:
    return '"' + text.replace("\\", "\\\\").replace('"', '\\"') + '"'


ESCAPED = st.sampled_from(
    [
        '"\\x41\\u00e9\\U0001F600"',
        '"tab\\there"',
        '"a\\/b"',
        '"line\\\n  next"',
        '"\\N\\_\\L"',
        '"\\ud800"',
        '"\\e\\0\\a"',
        '"a\\ b"',
        '"multi\n  line\n\n  para"',
        "'it''s'",
        "'multi\n  line'",
    ]
)


def scalar(indent: int) -> st.SearchStrategy[str]:
    """A scalar value as typed after ``key:`` at ``indent``."""
    base = st.sampled_from(SCALARS)
    pad = " " * (indent + 2)
    block = st.tuples(
        st.sampled_from(["|", ">", "|-", ">-", "|+", ">+", "|2", ">1-"]),
        st.lists(
            st.sampled_from(["text", "more text", "", "  indented", "no", "a: b", "#"]),
            min_size=1,
            max_size=4,
        ),
    ).map(lambda b: b[0] + "\n" + "\n".join(pad + line if line else "" for line in b[1]) + "\n")
    return st.one_of(
        base,
        base.map(_quoted_single),
        base.map(_quoted_double),
        ESCAPED,
        block,
        st.tuples(
            st.sampled_from(["!!str ", "!!int ", "!!float ", "!!binary ", "! ", "&x "]), base
        ).map("".join),
        st.just("*x"),
    )


def node(indent: int, depth: int) -> st.SearchStrategy[str]:
    """A value after ``key:`` (inline, or starting on the next lines)."""
    leaves = scalar(indent).map(lambda s: " " + s if not s.startswith("\n") else s)
    flow = st.lists(st.sampled_from(SCALARS).map(lambda s: s if s else "''"), max_size=4).map(
        lambda items: " [" + ", ".join(items) + "]"
    )
    flow_map = st.lists(st.tuples(st.sampled_from(KEYS), st.sampled_from(SCALARS)), max_size=3).map(
        lambda items: " {" + ", ".join(f"{k}: {v}" for k, v in items) + "}"
    )
    if depth <= 0:
        return st.one_of(leaves, flow, flow_map)
    child = " " * (indent + 2)
    seq = st.lists(node(indent + 2, depth - 1), min_size=1, max_size=3).map(
        lambda items: "".join(f"\n{child}-{item}" for item in items)
    )
    mapping = mapping_lines(indent + 2, depth - 1).map(lambda body: "\n" + body.rstrip("\n"))
    return st.one_of(leaves, flow, flow_map, seq, mapping)


def mapping_lines(indent: int, depth: int) -> st.SearchStrategy[str]:
    pad = " " * indent
    entry = st.tuples(st.sampled_from(KEYS), node(indent, depth), st.sampled_from(["", " # c"]))
    return st.lists(entry, min_size=1, max_size=4).map(
        lambda entries: "".join(
            f"{pad}{key}:{value}{comment if not value.endswith(chr(10)) else ''}\n"
            for key, value, comment in entries
        )
    )


DOCUMENTS = st.tuples(
    st.sampled_from(["", "---\n", "%YAML 1.1\n---\n", "%YAML 1.2\n---\n", "# comment\n"]),
    mapping_lines(0, 2),
    st.sampled_from(["", "...\n", "---\nother: 1\n", "\n\n"]),
    st.sampled_from(["\n", "\r\n"]),
).map(lambda d: (d[0] + d[1] + d[2]).replace("\n", d[3]))

LINE_PIECES = [
    "a", "b", "key: ", ": ", "- ", "-", "'", '"', "|", ">", "|-", "[", "]", "{", "}", ", ",
    "#", " # c", "no", "012", "1:20", "\\", "\\n", "\\x41", "é", "\t", "---", "...", "&a ",
    "*a", "!!str ", "? ", "%YAML 1.1", "1.5", "2019-04-24", "~", "null", "  ", "\u2028",
    "\x85", "\ufeff", "<<: ", "text", "\r", "key:value", "- - ", "'a'': ", '"k": ', "|#",
    ">2", "|+", " \\", "\\\n", ":x", "a:", "-1", "?x", "! ", "&", "*", "@", "`", "%",
]  # fmt: skip

RANDOM_LINES = st.lists(
    st.tuples(
        st.sampled_from(["", "  ", "    ", " "]),
        st.lists(st.sampled_from(LINE_PIECES), max_size=5).map("".join),
    ),
    min_size=1,
    max_size=8,
).map(lambda lines: "\n".join(indent + text for indent, text in lines) + "\n")


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(DOCUMENTS)
def test_generated_documents_read_alike(text: str) -> None:
    assert_read_alike(text)


@settings(max_examples=EXAMPLES, deadline=None, suppress_health_check=list(HealthCheck))
@given(RANDOM_LINES)
def test_random_yaml_like_lines_read_alike(text: str) -> None:
    assert_read_alike(text)


@pytest.mark.parametrize(
    "text",
    [
        "%YAML 1.1\n---\na: no\n",  # YAML 1.1: no is false
        "a: &x 1\nb: *x\n",
        "a: !!str 3\n",
        "a: 1\na: 2\n",  # refused, with its line, by the round-trip reader
        "<<: {a: 1}\n",
        "a: 0o14\n",
        "a: 012\n",
        "a: 1_000\n",
        "a: .inf\n",
        "a: 1e3\n",
        "? [a]\n: b\n",
        "1: a\n",
        "null: a\n",
        "a: 1\n---\nb: 2\n",
        "a: x\x85y\n",
        "a: \x07\n",
        "a: [b\n",
        "",
    ],
)
def test_what_the_fast_reader_leaves_to_the_round_trip_reader(text: str) -> None:
    assert plain_load(text) is None


@pytest.mark.parametrize(
    ("text", "value"),
    [
        ("a: no\n", {"a": "no"}),
        ("a: yes\nb: on\nc: off\n", {"a": "yes", "b": "on", "c": "off"}),
        ("a: 1:20\n", {"a": "1:20"}),
        ("date: 2019-04-24\n", {"date": "2019-04-24"}),
        ("date: 2019-02-30\n", {"date": "2019-02-30"}),
        ("a: true\nb: ~\nc: 12\nd: -2.5\n", {"a": True, "b": None, "c": 12, "d": -2.5}),
        ("a: [sv, fi]\nb: {c: d}\n", {"a": ["sv", "fi"], "b": {"c": "d"}}),
        ("a: |\n  x\n  y\n", {"a": "x\ny\n"}),
    ],
)
def test_what_the_fast_reader_reads(text: str, value: dict[str, Any]) -> None:
    assert same(plain_load(text), value)
    assert same(plain(content_yaml().load(text)), value)


def test_an_impossible_date_under_a_tag_is_left_to_the_round_trip_reader() -> None:
    assert plain_load("a: !!timestamp 2019-02-30\n") is None
    assert isinstance(content_yaml().load("a: !!float abc\n")["a"], Unreadable)


def test_the_example_files_are_read_fast_with_the_same_lines() -> None:
    files = sorted(EXAMPLE.glob("*.yaml")) + sorted(CAMPAIGN.rglob("*.yaml"))
    fast = 0
    for path in files:
        data, problems = read_yaml(path, path.name)
        assert problems == []
        slow = content_yaml().load(path.read_text(encoding="utf-8"))
        assert same(plain(data), plain(slow))
        if isinstance(data, PlainMapping):
            fast += 1
            for loc in _locations(slow):
                assert line_of(data, loc) == line_of(slow, loc), (path, loc)
    assert fast >= len(files) - 1  # sources.yaml uses anchors: read round-trip


def _locations(data: Any, loc: tuple[int | str, ...] = ()) -> list[tuple[int | str, ...]]:
    found = [loc] if loc else []
    if isinstance(data, dict):
        for key, value in data.items():
            found += _locations(value, (*loc, key))
    elif isinstance(data, list):
        for index, value in enumerate(data):
            found += _locations(value, (*loc, index))
    return found


@pytest.mark.parametrize("path", sorted(REGULATORS_DIR.glob("*.yaml")), ids=lambda p: p.stem)
def test_every_registry_file_is_read_fast_as_the_safe_reader_reads_it(path: Path) -> None:
    text = path.read_text(encoding="utf-8")
    fast = plain_load(text, dates_as_text=False)
    assert fast is not None
    assert same(fast, plain(YAML(typ="safe", pure=True).load(text)))
