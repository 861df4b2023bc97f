"""A round-trip YAML reader for content that no typed value can crash.

ruamel.yaml turns a scalar into a Python value by its tag, and some of those turn a
typing slip into an exception without a line: ``date: 2019-02-30`` (an impossible date),
``!!float abc``, an integer of 5,000 digits. Here:

- timestamps stay text: the model parses the dates it expects and names the field when
  one is impossible, and a text that looks like a date (``key_message: 2019-13-45``) is
  just text;
- a scalar that cannot become the value its tag asks for becomes an :class:`Unreadable`,
  which validation then reports at its own field and line;
- a collection that cannot be built (an ``!!omap`` with a key twice) is a YAML error
  with the line it starts on;
- ``[`` or ``{`` nested deeper than any content needs is a YAML error at once (the
  scanner's work per token grows with the depth: 2,000 levels took 8 s to refuse).
"""

from __future__ import annotations

from collections.abc import Iterator
from dataclasses import dataclass
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.constructor import ConstructorError, RoundTripConstructor
from ruamel.yaml.error import MarkedYAMLError
from ruamel.yaml.nodes import Node, ScalarNode
from ruamel.yaml.scanner import RoundTripScanner, ScannerError

MAX_FLOW_DEPTH = 64
"""``[`` and ``{`` open inside one another at most this deep."""

# What ruamel's constructors raise on a value they cannot build (int(), float(), base64,
# date(), dict look-ups, and asserts in the ordered-map constructor).
_BUILD_ERRORS = (ValueError, TypeError, KeyError, OverflowError, AssertionError, IndexError)

_KINDS = {
    "tag:yaml.org,2002:int": "a whole number",
    "tag:yaml.org,2002:float": "a number",
    "tag:yaml.org,2002:bool": "true or false",
    "tag:yaml.org,2002:binary": "base64 data",
    "tag:yaml.org,2002:null": "an empty value",
}


@dataclass(frozen=True)
class Unreadable:
    """A scalar YAML could not turn into the value its tag asks for."""

    text: str
    tag: str
    reason: str

    @property
    def kind(self) -> str:
        return _KINDS.get(self.tag, f"a value tagged {short_tag(self.tag)}")

    def describe(self) -> str:
        text = self.text if len(self.text) <= 40 else self.text[:39] + "…"
        return f"{text!r} cannot be read as {self.kind} ({self.reason})"


def short_tag(tag: str) -> str:
    """``tag:yaml.org,2002:float`` → ``!!float``."""
    return "!!" + tag.removeprefix("tag:yaml.org,2002:") if tag.startswith("tag:yaml.org") else tag


def _reason(exc: BaseException) -> str:
    if isinstance(exc, KeyError):
        return "not one of its values"
    if isinstance(exc, AssertionError):
        return "a key is given twice"
    reason = " ".join(str(exc).split()) or type(exc).__name__
    return reason if len(reason) <= 80 else reason[:79] + "…"


def _marked(generator: Iterator[Any], node: Node) -> Iterator[Any]:
    """Finish building a collection; a failure names the line it starts on."""
    try:
        yield from generator
    except MarkedYAMLError:
        raise
    except _BUILD_ERRORS as exc:
        raise ConstructorError(
            None,
            None,
            f"cannot build this {short_tag(str(node.tag))}: {_reason(exc)}",
            node.start_mark,
        ) from None


class ContentConstructor(RoundTripConstructor):
    """Round-trip constructor that keeps timestamps as text and never raises untyped."""

    def construct_yaml_timestamp(self, node: Any, values: Any = None) -> Any:
        return self.construct_yaml_str(node)

    def construct_non_recursive_object(self, node: Any, tag: str | None = None) -> Any:
        before = len(self.state_generators)
        try:
            data = super().construct_non_recursive_object(node, tag)
        except MarkedYAMLError:
            raise
        except _BUILD_ERRORS as exc:
            if isinstance(node, ScalarNode):
                return Unreadable(str(node.value), tag or str(node.tag), _reason(exc))
            raise ConstructorError(
                None,
                None,
                f"cannot build this {short_tag(node.tag)}: {_reason(exc)}",
                node.start_mark,
            ) from None
        # Mappings and sequences are filled in later by generators: mark those too.
        pending = self.state_generators[before:]
        self.state_generators[before:] = [_marked(g, node) for g in pending]
        return data


ContentConstructor.add_constructor(
    "tag:yaml.org,2002:timestamp", ContentConstructor.construct_yaml_timestamp
)


class ContentScanner(RoundTripScanner):
    """Round-trip scanner that refuses flow collections nested too deep, at their line."""

    def fetch_flow_collection_start(self, TokenClass: Any, to_push: str) -> None:
        if len(self.flow_context) >= MAX_FLOW_DEPTH:
            raise ScannerError(
                None,
                None,
                f"'[' or '{{' nested more than {MAX_FLOW_DEPTH} levels deep",
                self.reader.get_mark(),
            )
        super().fetch_flow_collection_start(TokenClass, to_push)


def content_yaml() -> YAML:
    """A round-trip YAML (line numbers, comments) with :class:`ContentConstructor`."""
    yaml = YAML(typ="rt")
    yaml.Constructor = ContentConstructor
    yaml.Scanner = ContentScanner
    return yaml
