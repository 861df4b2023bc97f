"""Every translatable text field of a language file, by field path.

The field path (``summary[2]``, ``sections[1].paragraphs[0]``) is the one name a text
has everywhere: in validation messages, in ``dhpc check`` findings, in the review
document and as the XLIFF trans-unit id.
"""

from __future__ import annotations

import ast
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass
from typing import Any

from dhpc_gen.content.model import LanguageText

Step = str | int
"""One step of a field path: a key of a mapping or an index into a list."""


@dataclass(frozen=True)
class TextField:
    path: str
    text: str
    kind: str
    """What the text is: title, opening, bullet, paragraph, heading, name, boilerplate."""


def text_fields(text: LanguageText) -> Iterator[TextField]:
    """Yield every text of ``text`` in reading order."""
    for index, substance in enumerate(text.active_substances):
        yield TextField(f"active_substances[{index}]", substance, "name")
    yield TextField("key_message", text.key_message, "title")
    if text.title is not None:
        yield TextField("title", text.title, "title")
    if text.salutation is not None:
        yield TextField("salutation", text.salutation, "salutation")
    yield TextField("opening", text.opening, "opening")
    for index, paragraph in enumerate(text.introduction):
        yield TextField(f"introduction[{index}]", paragraph, "paragraph")
    for index, bullet in enumerate(text.summary):
        yield TextField(f"summary[{index}]", bullet, "bullet")
    if text.background_heading is not None:
        yield TextField("background_heading", text.background_heading, "heading")
    for index, paragraph in enumerate(text.background):
        yield TextField(f"background[{index}]", paragraph, "paragraph")
    for index, section in enumerate(text.sections):
        yield TextField(f"sections[{index}].heading", section.heading, "heading")
        for number, paragraph in enumerate(section.paragraphs):
            yield TextField(f"sections[{index}].paragraphs[{number}]", paragraph, "paragraph")
    for index, paragraph in enumerate(text.reporting):
        yield TextField(f"reporting[{index}]", paragraph, "paragraph")
    for index, contact in enumerate(text.contact_points):
        if contact.department is not None:
            yield TextField(f"contact_points[{index}].department", contact.department, "name")
    for index, title in enumerate(text.signatory_titles):
        yield TextField(f"signatory_titles[{index}]", title, "name")
    for index, source in enumerate(text.address_sources):
        yield TextField(f"address_sources[{index}]", source, "name")
    for msgid, override in sorted(text.boilerplate.items()):
        yield TextField(f"boilerplate[{msgid!r}]", override, "boilerplate")


def parse_field_path(path: str) -> tuple[Step, ...]:
    """``sections[1].paragraphs[0]`` → ``('sections', 1, 'paragraphs', 0)``.

    Accepts exactly what :func:`text_fields` writes, including ``boilerplate['msgid']``
    with a Python string literal as key; raises ``ValueError`` on anything else.
    """
    steps: list[Step] = []
    pos = 0
    while True:
        name = re.compile(r"[a-z_]+").match(path, pos)
        if name is None:
            raise ValueError(f"not a field path: {path!r}")
        steps.append(name.group())
        pos = name.end()
        while pos < len(path) and path[pos] == "[":
            number = re.compile(r"\[(\d+)\]").match(path, pos)
            if number is not None:
                steps.append(int(number.group(1)))
                pos = number.end()
                continue
            literal = re.compile(r"""\[('(?:[^'\\]|\\.)*'|"(?:[^"\\]|\\.)*")\]""").match(path, pos)
            if literal is None:
                raise ValueError(f"not a field path: {path!r}")
            key = ast.literal_eval(literal.group(1))
            if not isinstance(key, str):
                raise ValueError(f"not a field path: {path!r}")
            steps.append(key)
            pos = literal.end()
        if pos == len(path):
            return tuple(steps)
        if path[pos] != ".":
            raise ValueError(f"not a field path: {path!r}")
        pos += 1


def value_at(data: Any, steps: Sequence[Step]) -> Any:
    """The value at ``steps`` in parsed YAML ``data``, or None where there is none."""
    node = data
    for step in steps:
        found = (isinstance(step, str) and isinstance(node, Mapping) and step in node) or (
            isinstance(step, int) and isinstance(node, list) and step < len(node)
        )
        if not found:
            return None
        node = node[step]
    return node
