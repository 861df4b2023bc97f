"""The letterhead a DHPC names: its own (files in the content folder) or a shared one.

``letterhead:`` in ``dhpc.yaml`` is either a mapping (``logo``, ``lines``, ``footer``)
whose logo is a file of the content folder, or the name of a shared letterhead,
``letterheads/<name>/letterhead.yaml`` in the project, whose logo is a file of that
folder. The logo is read here, once, and checked: an SVG or PNG picture inside its
folder, self-contained (an SVG naming any other file or address is refused), so that
rendering reads nothing else.
"""

from __future__ import annotations

import re
import xml.etree.ElementTree as ElementTree
from collections.abc import Callable
from pathlib import Path

from dhpc_gen.content.model import Letterhead, LetterheadSpec, Logo
from dhpc_gen.errors import Problem, display_path

LETTERHEAD_FILE = "letterhead.yaml"
MAX_LOGO_BYTES = 1 << 20

_MEDIA_TYPES = {".svg": "image/svg+xml", ".png": "image/png"}
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
_URL_IN_CSS = re.compile(r"url\(\s*['\"]?\s*([^'\")\s]*)", re.IGNORECASE)
_REFERENCE_ATTRIBUTES = ("href", "src")
_INLINE_PNG = "data:image/png;base64,"

Line = Callable[[tuple[int | str, ...]], int | None]


def resolve_letterhead(
    spec: LetterheadSpec,
    directory: Path,
    shown: str,
    line: Line,
    letterheads_dir: Path,
) -> tuple[Letterhead | None, list[Problem]]:
    """The letterhead named by ``dhpc.yaml``'s ``letterhead`` (read from ``shown``)."""
    if spec.shared is None:
        return _letterhead(spec, directory, shown, line, ())
    value = spec.shared
    # Late import: the loader imports this module.
    from dhpc_gen.content.loader import line_of, read_yaml, validate_model

    folder = letterheads_dir / value
    path = folder / LETTERHEAD_FILE
    if not path.is_file():
        available = sorted(
            p.parent.name for p in letterheads_dir.glob(f"*/{LETTERHEAD_FILE}") if p.is_file()
        )
        return None, [
            Problem(
                shown,
                "letterhead",
                f"no shared letterhead {value!r}: {display_path(path)} is missing "
                f"(available: {', '.join(available) or 'none'})",
                line(("letterhead",)),
            )
        ]
    shared_shown = display_path(path)
    data, problems = read_yaml(path, shared_shown)
    if data is None:
        return None, problems
    shared, problems = validate_model(LetterheadSpec, data, shared_shown)
    if shared is None:
        return None, problems
    if shared.shared is not None:
        return None, [Problem(shared_shown, "shared", "a shared letterhead names no other")]
    return _letterhead(shared, folder, shared_shown, lambda loc: line_of(data, loc), (path,))


def _letterhead(
    spec: LetterheadSpec,
    folder: Path,
    shown: str,
    line: Line,
    files: tuple[Path, ...],
) -> tuple[Letterhead | None, list[Problem]]:
    logo = None
    if spec.logo is not None:
        field = "letterhead.logo" if not files else "logo"
        logo, reason = read_logo(folder, spec.logo)
        if reason is not None:
            loc = ("letterhead", "logo") if not files else ("logo",)
            return None, [Problem(shown, field, f"{spec.logo!r}: {reason}", line(loc))]
        assert logo is not None
        files = (*files, logo.path)
    return Letterhead(logo, spec.lines, spec.footer, files), []


def read_logo(folder: Path, name: str) -> tuple[Logo | None, str | None]:
    """The logo ``name`` of ``folder``, or the reason it cannot be used."""
    path = folder / name
    media_type = _MEDIA_TYPES.get(path.suffix.lower())
    if media_type is None:
        return None, "a logo is an .svg or .png file"
    root = folder.resolve()
    if Path(name).is_absolute() or root not in path.resolve().parents:
        return None, f"the logo must be a file in {display_path(folder)}"
    if not path.is_file():
        return None, f"no such file in {display_path(folder)}"
    try:
        data = path.read_bytes()
    except OSError as exc:
        return None, f"cannot read the file: {exc.strerror}"
    if len(data) > MAX_LOGO_BYTES:
        return None, f"the file is larger than {MAX_LOGO_BYTES} bytes"
    if media_type == "image/png":
        if not data.startswith(_PNG_SIGNATURE):
            return None, "not a PNG picture"
    else:
        reason = svg_problem(data)
        if reason is not None:
            return None, reason
    return Logo(path, media_type, data), None


def svg_problem(data: bytes) -> str | None:
    """Why ``data`` is not a self-contained SVG picture (None: it is one)."""
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError:
        return "not an SVG picture in UTF-8"
    if re.search(r"<!(DOCTYPE|ENTITY)", text, re.IGNORECASE):
        return "an SVG logo may not have a DOCTYPE or entities"
    try:
        root = ElementTree.fromstring(text)
    except ElementTree.ParseError as exc:
        return f"not a valid SVG picture ({exc})"
    if _local(root.tag) != "svg":
        return "not an SVG picture (its root element is not <svg>)"
    for element in root.iter():
        tag = _local(element.tag)
        if tag in ("script", "foreignObject"):
            return f"an SVG logo may not contain <{tag}>"
        style = element.attrib.get("style", "")
        if tag == "style":
            style += " " + (element.text or "")
            if "@import" in style:
                return "an SVG logo may not import style sheets"
        references = [
            value for key, value in element.attrib.items() if _local(key) in _REFERENCE_ATTRIBUTES
        ]
        for value in [style, *element.attrib.values()]:
            references += _URL_IN_CSS.findall(value)
        for reference in references:
            if reference and not reference.startswith(("#", _INLINE_PNG)):
                return (
                    f"the SVG refers to {reference[:60]!r}: a logo must be self-contained "
                    "(shapes, text and embedded PNG pictures only)"
                )
    return None


def _local(name: str) -> str:
    return name.rpartition("}")[2]
