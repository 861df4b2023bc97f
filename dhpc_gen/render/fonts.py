"""The letters' fonts: the bundled ones only, and the characters they can print.

WeasyPrint finds fonts through fontconfig, which by default offers every font of the
machine: a character the bundled Liberation Sans lacks (an emoji, a CJK name, U+2011)
would silently be printed in whatever font the machine has, so the same content would
give other bytes, or a glyph box, elsewhere. Rendering therefore runs with a fontconfig
configuration that knows only ``assets/fonts/``, and content whose characters the fonts
cannot print is refused before anything is laid out, naming the file, line and field.
"""

from __future__ import annotations

import atexit
import contextlib
import os
import shutil
import tempfile
import unicodedata
from collections.abc import Iterator, Sequence
from functools import lru_cache
from pathlib import Path
from typing import Any
from xml.sax.saxutils import escape

from dhpc_gen.errors import Problem, display_path
from dhpc_gen.resources import ASSETS_DIR

FONTS_DIR = ASSETS_DIR / "fonts"

_NOT_PRINTED = ("audience",)
"""Top-level keys of ``dhpc.yaml`` that no letter prints."""


@lru_cache(maxsize=1)
def _config_file() -> Path:
    """A fontconfig file, made once per process, that lists the bundled fonts only."""
    folder = Path(tempfile.mkdtemp(prefix="dhpc-fontconfig-"))
    atexit.register(shutil.rmtree, folder, True)
    path = folder / "fonts.conf"
    path.write_text(
        '<?xml version="1.0"?>\n<fontconfig>\n'
        f"  <dir>{escape(str(FONTS_DIR.resolve()))}</dir>\n"
        f"  <cachedir>{escape(str(folder / 'cache'))}</cachedir>\n"
        "</fontconfig>\n",
        encoding="utf-8",
    )
    return path


@contextlib.contextmanager
def bundled_fonts_only() -> Iterator[None]:
    """Let fontconfig configurations made inside see only ``assets/fonts/``.

    WeasyPrint loads a fresh configuration for each document (``FontConfiguration``),
    reading ``FONTCONFIG_FILE`` then; the previous value is restored afterwards.
    """
    previous = os.environ.get("FONTCONFIG_FILE")
    os.environ["FONTCONFIG_FILE"] = str(_config_file())
    try:
        yield
    finally:
        if previous is None:
            os.environ.pop("FONTCONFIG_FILE", None)
        else:
            os.environ["FONTCONFIG_FILE"] = previous


@lru_cache(maxsize=1)
def printable_codepoints() -> frozenset[int]:
    """Code points every bundled face has a glyph for (regular, bold, italic alike)."""
    from fontTools.ttLib import TTFont  # type: ignore[import-untyped]

    covered: frozenset[int] | None = None
    for path in sorted(FONTS_DIR.glob("*.ttf")):
        with TTFont(path, lazy=True) as font:
            cmap = frozenset(font.getBestCmap())
        covered = cmap if covered is None else covered & cmap
    return covered or frozenset()


def _needs_no_glyph(char: str) -> bool:
    # Line breaks and tabs are layout; format characters (soft hyphen, word joiner,
    # zero-width spaces, bidi marks) are never drawn.
    return char in "\n\r\t" or unicodedata.category(char) == "Cf"


def unprintable(text: str) -> list[str]:
    """The characters of ``text`` the bundled fonts cannot print, each once, in order."""
    covered = printable_codepoints()
    found: dict[str, None] = {}
    for char in text:
        if ord(char) not in covered and not _needs_no_glyph(char):
            found.setdefault(char, None)
    return list(found)


def prints_every_character(text: str) -> bool:
    """Whether the bundled fonts print every character of ``text``: quick, for a whole file."""
    covered = printable_codepoints()
    return all(ord(char) in covered or _needs_no_glyph(char) for char in set(text))


def describe(chars: Sequence[str]) -> str:
    """``'😀' (U+1F600 GRINNING FACE)`` for each character, for a message."""
    return ", ".join(
        f"{char!r} (U+{ord(char):04X} {unicodedata.name(char, 'unnamed character')})"
        for char in chars
    )


def glyph_problems(files: Sequence[Path]) -> list[Problem]:
    """Every text in the content's YAML files that the letter's fonts cannot print."""
    from dhpc_gen.content.loader import format_loc, line_of, read_yaml

    problems = []
    for path in files:
        if path.suffix != ".yaml" or _all_printable(path):
            continue
        shown = display_path(path)
        data, _ = read_yaml(path, shown)
        for loc, text in _strings(data, ()):
            if loc and loc[0] in _NOT_PRINTED:
                continue
            missing = unprintable(text)
            if missing:
                problems.append(
                    Problem(
                        shown,
                        format_loc(loc),
                        f"the letter's font cannot print {describe(missing)}: replace or remove it",
                        line_of(data, loc),
                    )
                )
    return problems


def _all_printable(path: Path) -> bool:
    """True if every character typed in the file is printable, so that every text is.

    A text holds only characters of the file, but for an escape (``"\\U0001F600"``):
    a file with a backslash is read and each text looked at.
    """
    try:
        text = path.read_bytes().decode("utf-8-sig")
    except (OSError, UnicodeDecodeError):
        return False
    return "\\" not in text and not unprintable(text)


def _strings(node: Any, loc: tuple[int | str, ...]) -> Iterator[tuple[tuple[int | str, ...], str]]:
    if isinstance(node, str):
        yield loc, node
    elif isinstance(node, dict):
        for key, value in node.items():
            if isinstance(key, str):
                yield from _strings(value, (*loc, key))
    elif isinstance(node, list):
        for index, value in enumerate(node):
            yield from _strings(value, (*loc, index))
