"""Edit a ``<lang>.yaml`` in place, keeping its comments, key order and styles.

Every writer of content (XLIFF import, Word import) calls :func:`edit_language_file`.
The file is edited value by value, at the positions ruamel.yaml's round-trip parser
reports: comments, key order, blank lines, line endings and the style of every other
scalar stay as they were. Unchanged values therefore leave the file byte-identical, and a
changed value changes only its own text. Fields the file lacks (a new bullet) are added
through ruamel.yaml's round-trip dumper, in the model's field order.
"""

from __future__ import annotations

import io
import itertools
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError
from ruamel.yaml.nodes import MappingNode, Node, ScalarNode, SequenceNode
from ruamel.yaml.scalarstring import (
    DoubleQuotedScalarString,
    FoldedScalarString,
    LiteralScalarString,
    SingleQuotedScalarString,
)

from dhpc_gen.content.fields import Step, parse_field_path, value_at
from dhpc_gen.content.loader import format_loc
from dhpc_gen.content.model import ContactPoint, LanguageText, Section
from dhpc_gen.content.yaml_values import content_yaml
from dhpc_gen.errors import ContentError, DhpcError, display_path
from dhpc_gen.fsutil import atomic_write_bytes

DEFAULT_WRAP_WIDTH = 92
"""Line width for folded values when the file gives no hint (the bundled example's)."""

_SHOWN_IN_LISTS = 20


def shown_list(items: Sequence[str]) -> str:
    """At most twenty items, then how many more."""
    shown = ", ".join(items[:_SHOWN_IN_LISTS])
    if len(items) > _SHOWN_IN_LISTS:
        shown += f" and {len(items) - _SHOWN_IN_LISTS} more"
    return shown


def same_words(a: str, b: str) -> bool:
    """The same text but for spacing."""
    return a.split() == b.split()


@dataclass(frozen=True)
class Indentation:
    """Block indentation in ruamel.yaml's terms (``YAML.indent``)."""

    mapping: int = 2
    sequence: int = 4
    offset: int = 2


@dataclass(frozen=True)
class EditOutcome:
    text: str
    changed: tuple[str, ...] = ()
    added: tuple[str, ...] = ()
    whitespace_only: tuple[str, ...] = ()
    warnings: tuple[str, ...] = ()
    removed: tuple[str, ...] = ()


@dataclass(frozen=True)
class _Located:
    node: Node
    in_flow: bool
    parent_is_mapping: bool
    parent_column: int
    """Column of the key (mapping) or of the item's text (sequence)."""


@dataclass
class _Edits:
    spans: list[tuple[int, int, str]] = field(default_factory=list)
    changed: list[str] = field(default_factory=list)
    whitespace_only: list[str] = field(default_factory=list)
    missing: list[tuple[str, tuple[Step, ...], str]] = field(default_factory=list)


def rt_yaml(indent: Indentation = Indentation()) -> YAML:
    yaml = content_yaml()  # reads back what the loader reads (dates stay text)
    yaml.indent(mapping=indent.mapping, sequence=indent.sequence, offset=indent.offset)
    yaml.width = 1 << 20  # never wrap a value we did not fold ourselves
    yaml.preserve_quotes = True
    return yaml


def _dump(yaml: YAML, data: Any) -> str:
    buffer = io.StringIO()
    yaml.dump(data, buffer)
    return buffer.getvalue()


def edit_language_file(
    text: str,
    updates: Sequence[tuple[str, str]],
    *,
    language: str,
    shown: str,
    removals: Sequence[str] = (),
) -> EditOutcome:
    """Return ``text`` (a ``<lang>.yaml``) with each (field path, text) of ``updates`` set.

    Values whose text is already the same are left alone; an empty ``text`` starts a new
    file. ``removals`` names fields to take out (a bullet the document no longer has, an
    optional field): each goes with its lines, and the rest of the file stays as it was.
    The result is parsed again and every value checked before it is returned.
    """
    newline = "\r\n" if "\r\n" in text else "\n"
    root = _compose(text, shown)
    width = _wrap_width(root, text)
    indent = _detect_indentation(root)
    edits = _Edits()
    owners: dict[int, list[str]] = {}
    for path, new in updates:
        steps = parse_field_path(path)
        located = _locate(root, steps)
        if located is None or _is_empty(located.node):
            edits.missing.append((path, steps, new))
            continue
        node = located.node
        if not isinstance(node, ScalarNode):
            raise DhpcError(f"{shown} {path}: is a list or mapping, not a text; fix the file first")
        owners.setdefault(id(node), []).append(path)
        current = _scalar_value(node)
        if current.strip() == new:
            continue
        if same_words(current, new):
            edits.whitespace_only.append(path)
            continue
        edits.spans.append(_replacement(text, located, new, width, indent, newline, shown, path))
        edits.changed.append(path)
    shared = [
        paths for paths in owners.values() if len(paths) > 1 and set(paths) & set(edits.changed)
    ]
    if shared:
        raise DhpcError(
            f"{shown}: {' and '.join(shared[0])} are one value (a YAML alias); write each text "
            "out in full and import again"
        )
    removed: list[str] = []
    relayout: list[tuple[Step, ...]] = []
    for path in removals:
        steps = parse_field_path(path)
        if _locate(root, steps) is None:
            continue
        span = _removal_span(text, root, steps, newline)
        if span is None:
            relayout.append(steps)
        else:
            edits.spans.append((*span, ""))
        removed.append(path)
    result = text
    for start, end, fragment in sorted(edits.spans, reverse=True):
        result = result[:start] + fragment + result[end:]
    warnings: list[str] = []
    if relayout:
        result = _remove_relaid(result, relayout, indent, newline)
        warnings.append(
            f"{shown}: removing {shown_list(removed)} made the YAML writer lay out the rest "
            "of the file anew; check the result with a diff"
        )
    added: list[str] = []
    if edits.missing:
        result, relaid = _insert_missing(
            result, edits.missing, language, indent, width, newline, shown
        )
        added = [path for path, _, _ in edits.missing]
        if relaid:
            warnings.append(
                f"{shown}: adding {shown_list(added)} made the YAML writer lay out the rest "
                "of the file anew; check the result with a diff"
            )
    wanted = {path: new for path, new in updates if path in edits.changed or path in added}
    _verify(result, wanted, shown, removed)
    return EditOutcome(
        result,
        tuple(edits.changed),
        tuple(added),
        tuple(edits.whitespace_only),
        tuple(warnings),
        tuple(removed),
    )


def _removal_span(
    text: str, root: Node | None, steps: Sequence[Step], newline: str
) -> tuple[int, int] | None:
    """The lines that hold the field at ``steps`` (None: not in block style)."""
    parent = root if len(steps) == 1 else getattr(_locate(root, steps[:-1]), "node", None)
    last = steps[-1]
    first: Node | None = None
    value: Node | None = None
    if isinstance(parent, MappingNode) and not parent.flow_style and isinstance(last, str):
        for key, item in parent.value:
            if isinstance(key, ScalarNode) and key.value == last:
                first, value = key, item
                break
    elif (
        isinstance(parent, SequenceNode)
        and not parent.flow_style
        and isinstance(last, int)
        and last < len(parent.value)
    ):
        first = value = parent.value[last]
    if first is None or value is None:
        return None
    start = text.rfind("\n", 0, first.start_mark.index) + 1
    if text[start : first.start_mark.index].strip() not in ("", "-"):
        return None  # shares its line with something else
    content_end = len(text[: value.end_mark.index].rstrip())
    line_end = text.find("\n", content_end)
    end = len(text) if line_end < 0 else line_end + 1
    # Blank lines before and after: keep one of them.
    blank = newline * 2
    if text[:start].endswith(blank) and text.startswith(newline, end):
        end += len(newline)
    return start, end


def _remove_relaid(
    text: str, removals: Sequence[tuple[Step, ...]], indent: Indentation, newline: str
) -> str:
    """Remove fields through ruamel.yaml (flow-style lists), which lays the file out anew."""
    yaml = rt_yaml(indent)
    data = yaml.load(text.replace("\r\n", "\n"))
    # Later list items first, so that the earlier indices still hold.
    for steps in sorted(removals, key=lambda s: s[-1] if isinstance(s[-1], int) else -1)[::-1]:
        container = value_at(data, steps[:-1]) if len(steps) > 1 else data
        last = steps[-1]
        present = (isinstance(container, CommentedMap) and last in container) or (
            isinstance(container, CommentedSeq) and isinstance(last, int) and last < len(container)
        )
        if present:
            del container[last]
    return _dump(yaml, data).replace("\n", newline)


def _compose(text: str, shown: str) -> Node | None:
    if not text.strip():
        return None
    try:
        root = rt_yaml().compose(text)
    except YAMLError as exc:
        raise DhpcError(f"{shown}: not valid YAML, fix it before importing: {exc}") from None
    if root is not None and not isinstance(root, MappingNode):
        raise DhpcError(f"{shown}: expected a mapping of fields at the top level")
    return root


def _locate(root: Node | None, steps: Sequence[Step]) -> _Located | None:
    node = root
    located: _Located | None = None
    for step in steps:
        if isinstance(step, str) and isinstance(node, MappingNode):
            for key, value in node.value:
                if isinstance(key, ScalarNode) and key.value == step:
                    located = _Located(value, bool(node.flow_style), True, key.start_mark.column)
                    node = value
                    break
            else:
                return None
        elif isinstance(step, int) and isinstance(node, SequenceNode) and step < len(node.value):
            item = node.value[step]
            located = _Located(item, bool(node.flow_style), False, item.start_mark.column)
            node = item
        else:
            return None
    return located


def _is_empty(node: Node) -> bool:
    return isinstance(node, ScalarNode) and (
        node.tag == "tag:yaml.org,2002:null" or not _scalar_value(node).strip()
    )


def _scalar_value(node: ScalarNode) -> str:
    # The round-trip composer marks the fold points of a folded scalar with BEL.
    value = str(node.value)
    return value.replace("\a", "") if node.style == ">" else value


def _wrap_width(root: Node | None, text: str) -> int:
    """The width folded values of this file are wrapped at (their longest line)."""
    longest = 0
    for node in _walk(root):
        if isinstance(node, ScalarNode) and node.style == ">":
            lines = text[node.start_mark.index : node.end_mark.index].splitlines()
            longest = max([longest, *(len(line.rstrip()) for line in lines[1:])])
    return min(max(longest, 60), 120) if longest else DEFAULT_WRAP_WIDTH


def _walk(root: Node | None) -> Iterator[Node]:
    stack = [] if root is None else [root]
    while stack:
        node = stack.pop()
        yield node
        if isinstance(node, MappingNode):
            for key, value in node.value:
                stack += [key, value]
        elif isinstance(node, SequenceNode):
            stack += node.value


def _detect_indentation(root: Node | None) -> Indentation:
    mapping: int | None = None
    sequence: int | None = None
    offset: int | None = None
    for node in _walk(root):
        if not isinstance(node, MappingNode) or node.flow_style:
            continue
        for key, value in node.value:
            column = key.start_mark.column
            block = not getattr(value, "flow_style", True) and bool(value.value)
            if mapping is None and isinstance(value, MappingNode) and block:
                mapping = value.value[0][0].start_mark.column - column
            if sequence is None and isinstance(value, SequenceNode) and block:
                offset = value.start_mark.column - column
                sequence = value.value[0].start_mark.column - column
    default = Indentation()
    return Indentation(
        mapping if mapping and mapping > 0 else default.mapping,
        sequence
        if sequence and offset is not None and sequence >= offset + 2
        else default.sequence,
        offset if sequence and offset is not None and sequence >= offset + 2 else default.offset,
    )


def fold_positions(text: str, width: int) -> list[int]:
    """Where a folded scalar breaks ``text`` so that lines stay within ``width``.

    Only single spaces between two non-space characters can be folded, and never inside
    a more-indented line (one that starts with a space), whose breaks YAML keeps.
    """
    positions: list[int] = []
    offset = 0
    for line in text.split("\n"):
        if line[:1] not in (" ", "\t"):
            candidates = [
                i
                for i in range(1, len(line) - 1)
                if line[i] == " " and not line[i - 1].isspace() and not line[i + 1].isspace()
            ]
            start = 0
            previous: int | None = None
            for i in [*candidates, len(line)]:
                if i - start > width and previous is not None and previous >= start:
                    positions.append(offset + previous)
                    start = previous + 1
                previous = i
        offset += len(line) + 1
    return positions


def _folded(text: str, width: int) -> FoldedScalarString:
    value: FoldedScalarString = FoldedScalarString(text)
    value.fold_pos = fold_positions(text, max(width, 20))  # type: ignore[attr-defined]
    return value


def _emit(value: Any, *, flow: bool) -> tuple[str, list[str]]:
    """How ruamel.yaml writes ``value``: (one-line form or block header, block lines)."""
    yaml = rt_yaml()
    if flow:
        seq = CommentedSeq([value])
        seq.fa.set_flow_style()
        out = _dump(yaml, CommentedMap([("k", seq)]))
        assert out.startswith("k: [") and out.endswith("]\n"), out
        return out[4:-2], []
    out = _dump(yaml, CommentedMap([("k", value)]))
    assert out.startswith("k: "), out
    first, *rest = out[3:].split("\n")
    lines = [line[2:] if line.startswith("  ") else line for line in rest]
    while lines and lines[-1] in ("", "..."):
        lines.pop()
    return first, lines


def _replacement(
    text: str,
    located: _Located,
    new: str,
    width: int,
    indent: Indentation,
    newline: str,
    shown: str,
    path: str,
) -> tuple[int, int, str]:
    """(start, end, new text) that sets the scalar at ``located`` to ``new`` in its style."""
    node = located.node
    assert isinstance(node, ScalarNode)
    start, end = node.start_mark.index, node.end_mark.index
    style = node.style
    line_end = text.find("\n", end)
    rest_of_line = text[end : len(text) if line_end < 0 else line_end].strip()

    if style in ("|", ">"):
        header_end = text.find("\n", start)
        header = text[start:header_end].rstrip("\r")
        indicator = re.match(r"[|>][-+0-9]*", header)
        comment = header[indicator.end() :] if indicator else ""
        body = text[header_end + 1 : end].split("\n")
        content_indent = next(len(line) - len(line.lstrip(" ")) for line in body if line.strip())
        old = _scalar_value(node)
        trailing = old[len(old.rstrip("\n")) :]
        value: Any = (
            _folded(new + trailing, width - content_indent)
            if style == ">"
            else LiteralScalarString(new + trailing)
        )
        cut = start + len(text[start:end].rstrip())
        return _block_span(text, start, cut, value, content_indent, newline, comment)

    if located.in_flow:
        value = new
        if style == "'" and "\n" not in new:
            value = SingleQuotedScalarString(new)
        elif style in ("'", '"') or "\n" in new:
            value = DoubleQuotedScalarString(new)
        return start, end, _emit(value, flow=True)[0]

    content_indent = (
        located.parent_column + indent.mapping
        if located.parent_is_mapping
        else located.parent_column
    )
    if style is None and "\n" in new:
        value = LiteralScalarString(new)
    elif style is None and node.start_mark.column + len(new) > width:
        value = _folded(new, width - content_indent)
    elif style == "'" and "\n" not in new:
        value = SingleQuotedScalarString(new)
    elif style in ("'", '"'):
        value = DoubleQuotedScalarString(new)
    else:
        value = new
    inline, lines = _emit(value, flow=False)
    if not lines:
        return start, end, inline
    if rest_of_line:
        if style is None and "\n" not in new:
            return start, end, _emit(new, flow=False)[0]  # too long, but a comment follows
        raise DhpcError(
            f"{shown} {path}: the new text needs several lines, but a comment follows the "
            "value on its line; move the comment above the field and import again"
        )
    return _block_span(text, start, end, value, content_indent, newline, "")


def _block_span(
    text: str,
    start: int,
    cut: int,
    value: Any,
    content_indent: int,
    newline: str,
    comment: str,
) -> tuple[int, int, str]:
    """Replace ``text[start:cut]`` and the end of its line with a block scalar."""
    header, lines = _emit(value, flow=False)
    if text.startswith("\r\n", cut):
        ending, cut = "\r\n", cut + 2
    elif text.startswith("\n", cut):
        ending, cut = "\n", cut + 1
    else:
        ending = ""
    pad = " " * content_indent
    fragment = newline.join([header + comment, *(pad + line if line else "" for line in lines)])
    return start, cut, fragment + ending


_FIELD_ORDER: dict[tuple[str, ...], list[str]] = {
    (): list(LanguageText.model_fields),
    ("sections",): list(Section.model_fields),
    ("contact_points",): list(ContactPoint.model_fields),
}


def _insert_key(container: CommentedMap, parents: Sequence[Step], key: str, value: Any) -> None:
    order = _FIELD_ORDER.get(tuple(s for s in parents if isinstance(s, str)), [])
    position = len(container)
    if key in order:
        rank = order.index(key)
        for index, existing in enumerate(container):
            if existing in order and order.index(existing) > rank:
                position = index
                break
    container.insert(position, key, value)


def _content_indent(steps: Sequence[Step], indent: Indentation) -> int:
    """Column of the text of a new value at ``steps``, as ruamel.yaml will write it."""
    column = 0
    for step, following in itertools.pairwise(steps):
        if isinstance(step, str):
            column += indent.mapping if isinstance(following, str) else indent.sequence
    return column + indent.mapping if isinstance(steps[-1], str) else column


def _new_value(text: str, steps: Sequence[Step], indent: Indentation, width: int) -> Any:
    column = _content_indent(steps, indent)
    last = steps[-1]
    one_line = column + len(text)
    if isinstance(last, str):
        one_line += len(last) + 2 - indent.mapping
    if "\n" in text:
        return LiteralScalarString(text)
    if one_line <= width:
        return text
    return _folded(text, width - column)


def _insert_missing(
    text: str,
    missing: Sequence[tuple[str, tuple[Step, ...], str]],
    language: str,
    indent: Indentation,
    width: int,
    newline: str,
    shown: str,
) -> tuple[str, bool]:
    """Add fields the file lacks through ruamel.yaml; says whether the rest was laid out anew."""
    yaml = rt_yaml(indent)
    body = text.replace("\r\n", "\n")
    if body.strip():
        data = yaml.load(body)
        relaid = _dump(yaml, yaml.load(body)) != body
    else:
        data = CommentedMap([("language", language)])
        relaid = False
    for path, steps, new in missing:
        container: Any = data
        for depth, step in enumerate(steps):
            where = format_loc(steps[:depth]) or "the top level"
            if isinstance(step, str):
                if not isinstance(container, CommentedMap):
                    raise DhpcError(f"{shown} {path}: {where} is not a mapping; fix the file")
                present = container.get(step)
            else:
                if not isinstance(container, CommentedSeq):
                    raise DhpcError(f"{shown} {path}: {where} is not a list; fix the file")
                if step > len(container):
                    raise DhpcError(
                        f"{shown}: cannot add {path}: {where} has {len(container)} entries and "
                        "the XLIFF has no unit for the ones before it"
                    )
                present = container[step] if step < len(container) else None
            value: Any
            if depth == len(steps) - 1:
                value = new if container.fa.flow_style() else _new_value(new, steps, indent, width)
            elif present is not None:
                container = present
                continue
            elif isinstance(steps[depth + 1], str):
                value = CommentedMap()
            else:
                value = CommentedSeq()
            if isinstance(step, str):
                if step in container:
                    container[step] = value
                else:
                    _insert_key(container, steps[:depth], step, value)
            elif step == len(container):
                container.append(value)
            else:
                container[step] = value
            container = value
    return _dump(yaml, data).replace("\n", newline), relaid


def _verify(text: str, wanted: Mapping[str, str], shown: str, removed: Sequence[str] = ()) -> None:
    """Parse the edited file and check every value written reads back as intended."""
    if not wanted and not removed:
        return
    try:
        data = rt_yaml().load(text)
    except YAMLError as exc:
        raise DhpcError(f"{shown}: editing produced invalid YAML ({exc}); please report") from None
    wrong = [
        path
        for path, new in wanted.items()
        if not isinstance(value := value_at(data, parse_field_path(path)), str)
        or value.strip() != new
    ]
    wrong += [path for path in removed if value_at(data, parse_field_path(path)) is not None]
    if wrong:
        raise DhpcError(
            f"{shown}: could not write {shown_list(wrong)} faithfully; nothing was written, "
            "please report"
        )


def decode_text(data: bytes | None, shown: str) -> tuple[str, bool]:
    """The text of a language file's bytes (None: a new file) and whether it had a BOM."""
    if data is None:
        return "", False
    try:
        text = data.decode("utf-8")
    except UnicodeDecodeError as exc:
        raise DhpcError(f"{shown}: not UTF-8 text (byte {exc.start})") from None
    if text.startswith("\ufeff"):
        return text[1:], True
    return text, False


def validate_or_restore(
    directory: Path, target_path: Path, original: bytes | None, shown_input: str
) -> list[str]:
    """Load the DHPC; put the language file back if it became invalid. Returns warnings.

    ``shown_input`` names the file the text came from (an XLIFF, a Word document). A
    campaign is loaded as a whole, every national version made from the file.
    """
    from dhpc_gen.content.campaign import COUNTRIES_DIR, load_campaign

    shown_target = display_path(target_path)
    shared = (directory / COUNTRIES_DIR).is_dir()
    try:
        load_campaign(directory)
    except ContentError as exc:
        # In a campaign a shared text can break a country's file too: a placeholder it
        # does not define, a deviation of a field no longer there ("fr.yaml uses …").
        mine = [
            p
            for p in exc.problems
            if p.file == shown_target or (shared and f"{target_path.name} " in p.message)
        ]
        if not mine:
            # Problems in other files (a language still to be translated) are not ours.
            count = len(exc.problems)
            return [
                f"the DHPC still has {count} problem{'s' if count != 1 else ''} in other files "
                f"than {shown_target}; dhpc build lists them"
            ]
        if original is None:
            target_path.unlink(missing_ok=True)
        else:
            private = target_path.stat().st_mode & 0o077 == 0
            atomic_write_bytes(target_path, original, private=private)
        raise DhpcError(
            "\n".join(
                [
                    f"{shown_input} was not imported: {shown_target} would not be valid "
                    "(the file is as it was):",
                    *(f"  {p}" for p in mine),
                ]
            )
        ) from None
    return []
