"""A fast reader for the plain YAML that content is written in, or nothing.

The round-trip reader (:mod:`dhpc_gen.content.yaml_values`) keeps each value's line for
the messages, and is written in Python: it took longer to read a letter's three files
than to check them. Here libyaml's parser (ruamel.yaml's C extension) reads the events
of a file and they are turned into plain values, but only for the YAML whose meaning
both readers agree on:

- mappings with text keys, each once; sequences; scalars that are text, ``null``,
  ``true``/``false``, whole numbers written plainly (``12``, ``-3``) and decimals
  written plainly (``2.5``); a date stays text, as the round-trip reader keeps it;
- no tags, anchors, aliases, merge keys, directives (``%YAML 1.1`` changes what ``no``
  means), or a second document;
- no character the round-trip reader refuses, no line break that YAML 1.1 and 1.2
  count differently (U+0085, U+2028, U+2029), and none of what the tests found libyaml
  to read otherwise (a tab, a byte-order mark inside the text, ``|#``);
- a mapping at the top level.

Anything else, and anything libyaml cannot parse, gives ``None``: the caller then reads
the text with the round-trip reader, which gives the same values or the message with
its line. ``yes``, ``on``, ``012``, ``0o14``, ``1_000``, ``1:20`` or ``.inf`` are read by
the same resolver as the round-trip reader (YAML 1.2), so ``yes`` is text in both, and
a number not written plainly is left to the round-trip reader. ``tests/test_plain_yaml.py``
checks on generated texts that whatever this reads, the round-trip reader reads alike.
"""

from __future__ import annotations

import re
from typing import Any

from ruamel.yaml.events import (
    DocumentEndEvent,
    DocumentStartEvent,
    MappingEndEvent,
    MappingStartEvent,
    ScalarEvent,
    SequenceEndEvent,
    SequenceStartEvent,
    StreamEndEvent,
    StreamStartEvent,
)
from ruamel.yaml.nodes import ScalarNode
from ruamel.yaml.reader import Reader
from ruamel.yaml.resolver import Resolver

try:
    from _ruamel_yaml import CParser
except ImportError:  # no C extension here (another Python): every text is read round-trip
    CParser = None

_STR = "tag:yaml.org,2002:str"
_NULL = "tag:yaml.org,2002:null"
_BOOL = "tag:yaml.org,2002:bool"
_INT = "tag:yaml.org,2002:int"
_FLOAT = "tag:yaml.org,2002:float"
_TIMESTAMP = "tag:yaml.org,2002:timestamp"

_PLAIN_INT = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,17})")
_PLAIN_FLOAT = re.compile(r"[-+]?(?:0|[1-9][0-9]{0,17})\.[0-9]{1,17}")
_DIVERGENT = re.compile("[\t\ufeff\x85\u2028\u2029]|[|>][-+0-9]*#")
"""What libyaml reads otherwise than the round-trip reader, or may: a tab, a byte-order
mark inside the text, the line breaks of YAML 1.1 alone, a block scalar's header with a
comment right after it (``|#``)."""

_resolver = Resolver()  # YAML 1.2, as the round-trip reader resolves a file without %YAML


class _Unsure(Exception):
    """The text uses YAML this reader leaves to the round-trip reader."""


def plain_load(text: str, *, dates_as_text: bool = True) -> dict[str, Any] | None:
    """The mapping ``text`` holds, or ``None`` if the round-trip reader must read it
    (or the text is not a mapping at the top level, which it then reports).

    ``dates_as_text``: a plain ``2019-04-24`` is text (as content reads it); otherwise
    such a value is left to the round-trip reader too.
    """
    if CParser is None or Reader.NON_PRINTABLE.search(text) or _DIVERGENT.search(text):
        return None
    try:
        data = _build(CParser(text), dates_as_text)
    except _Unsure:
        return None
    except Exception:  # libyaml refuses it: the round-trip reader names the line
        return None
    return data if isinstance(data, dict) else None


def _build(parser: Any, dates_as_text: bool) -> Any:
    stack: list[list[Any]] = []  # [container, pending key or _NO_KEY]
    root: Any = None
    documents = 0
    done = False
    while parser.check_event():
        event = parser.get_event()
        kind = type(event)
        if kind is ScalarEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unsure
            value = _scalar(event, dates_as_text)
        elif kind is MappingStartEvent or kind is SequenceStartEvent:
            if event.anchor is not None or event.tag is not None:
                raise _Unsure
            container: Any = {} if kind is MappingStartEvent else []
            if stack:
                _add(stack[-1], container, is_scalar=False)
            else:
                root = container
            stack.append([container, _NO_KEY])
            continue
        elif kind is MappingEndEvent or kind is SequenceEndEvent:
            stack.pop()
            if not stack:
                done = True
            continue
        elif kind is DocumentStartEvent:
            documents += 1
            if documents > 1 or event.version is not None or event.tags:
                raise _Unsure
            continue
        elif kind is StreamStartEvent or kind is StreamEndEvent or kind is DocumentEndEvent:
            continue
        else:  # an alias, or an event this reader does not know
            raise _Unsure
        if stack:
            _add(stack[-1], value, is_scalar=True)
        else:
            root = value
            done = True
    if not done:
        raise _Unsure
    return root


_NO_KEY = object()


def _add(frame: list[Any], value: Any, *, is_scalar: bool) -> None:
    container, key = frame
    if isinstance(container, list):
        container.append(value)
    elif key is _NO_KEY:
        if not is_scalar or not isinstance(value, str):
            raise _Unsure  # a key that is a collection, a number, null or true
        if value in container:
            raise _Unsure  # a key twice: the round-trip reader refuses it with its line
        frame[1] = value
    else:
        container[key] = value
        frame[1] = _NO_KEY


def _scalar(event: Any, dates_as_text: bool) -> Any:
    value: str = event.value
    if not event.implicit[0]:  # quoted or a block: text
        return value
    tag = str(_resolver.resolve(ScalarNode, value, (True, False)))
    if tag == _STR:
        return value
    if tag == _NULL:
        return None
    if tag == _BOOL:
        return value.lower() == "true"
    if tag == _INT and _PLAIN_INT.fullmatch(value):
        return int(value)
    if tag == _FLOAT and _PLAIN_FLOAT.fullmatch(value):
        return float(value)
    if tag == _TIMESTAMP and dates_as_text:
        return value
    raise _Unsure
