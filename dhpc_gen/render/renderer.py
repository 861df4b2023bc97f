"""One warm renderer per process: what letters share is set up once, not per letter.

``dhpc build``, a campaign's workers and ``dhpc serve`` render letter after letter. They
share the compiled letter template (its Jinja environment), the compiled catalogs
(:func:`dhpc_gen.i18n.translations`, kept per file version), the font configuration
that knows the bundled fonts only, and the colour profile's bytes. None of that changes
a letter's bytes: a fresh colour profile object is still made per document (a used one
serialises differently), and the clock fontTools writes into fonts is pinned while each
letter is laid out (``SOURCE_DATE_EPOCH``).

The renderer lays out one letter at a time (a lock): the template's gettext is
installed per letter, and fontconfig is not made for threads.
"""

from __future__ import annotations

import atexit
import os
import threading
from collections.abc import Callable
from functools import lru_cache
from typing import TYPE_CHECKING, Any, TypeVar

if TYPE_CHECKING:
    import jinja2

    from dhpc_gen.render.pdf import LaidOutPdf

T = TypeVar("T")


class LetterRenderer:
    """Renders letters one after another, keeping what they share warm."""

    def __init__(self) -> None:
        self.lock = threading.RLock()
        self._font_config: Any = None
        self._font_files: tuple[tuple[str, int, int], ...] = ()

    @property
    def environment(self) -> jinja2.Environment:
        """The letter template's environment (it recompiles a template that changed)."""
        from dhpc_gen.render.letter import letter_environment

        return letter_environment()

    def with_environment(self, render: Callable[[jinja2.Environment], T]) -> T:
        """Run ``render`` with the environment, one letter at a time."""
        with self.lock:
            return render(self.environment)

    def pdf(self, html: str, *, variant: str, identifier: bytes, epoch: int) -> LaidOutPdf:
        """Lay out a letter's HTML (see :func:`dhpc_gen.render.pdf.render_pdf`)."""
        from dhpc_gen.render.pdf import render_pdf

        with self.lock:
            return render_pdf(
                html,
                variant=variant,
                identifier=identifier,
                epoch=epoch,
                font_config=self._fonts(),
            )

    def _fonts(self) -> Any:
        """The font configuration, made again when the letter's fonts or styles change."""
        from dhpc_gen.build import letter_layout_files
        from dhpc_gen.render.pdf import bundled_font_config

        files = []
        for path in letter_layout_files():
            stat = path.stat()
            files.append((str(path), stat.st_mtime_ns, stat.st_size))
        key = tuple(files)
        if self._font_config is None or key != self._font_files:
            self._font_config = bundled_font_config()
            self._font_files = key
        return self._font_config

    def close(self) -> None:
        """Let the font configuration go (at exit, while fontconfig and Pango still are)."""
        with self.lock:
            self._font_config = None
            self._font_files = ()

    def _forked(self) -> None:
        # A forked worker starts with a lock no thread of its own holds and its own fonts.
        # The parent's configuration would delete the parent's font folder when it goes.
        if self._font_config is not None:
            self._font_config._folder = None
        self.lock = threading.RLock()
        self._font_config = None
        self._font_files = ()


@lru_cache(maxsize=1)
def warm_renderer() -> LetterRenderer:
    """This process's renderer; a forked campaign worker keeps its compiled template and
    catalogs, and makes its own font configuration."""
    renderer = LetterRenderer()
    os.register_at_fork(after_in_child=renderer._forked)
    atexit.register(renderer.close)
    return renderer
