"""The layout process ``dhpc build`` forks as it starts, to import WeasyPrint meanwhile.

A build spends most of its time importing: WeasyPrint for the layout; the content model,
Jinja2, Babel and the YAML readers for the rest. On a machine of two cores or more,
:func:`layout_server` forks, before the content is even read, a process that imports
WeasyPrint and warms it up (fontconfig's scan of the bundled fonts, WeasyPrint's C
types) while the build imports the content stack, reads and checks the content and
makes each letter's HTML. The build then sends it each letter as plain data
(:class:`LetterLayout`: the HTML and the layout's options), so the process needs neither
the content model nor the templates. For each letter, it forks a child that lays the
letter out (up to one per slot, ``--jobs`` of them at once) and sends the PDF back to
the build on that slot's pipe; the build writes the outputs as without it.

The bytes are those of a letter laid out anywhere else: the same HTML, the same
options, a font configuration of the child's own (as a campaign worker makes).

A child that fails sends its error, message and exit code, as a campaign worker does;
one that dies without a word is reported by the layout process (its exit code), and
a layout process that dies is seen by the build as the end of its pipe. When the build
stops (done, an error, Ctrl-C), it closes the pipe: the layout process ends the
children still laying out, waits for them and ends; the build waits for it.
"""

from __future__ import annotations

import contextlib
import hashlib
import multiprocessing
import multiprocessing.process
import os
import pickle
import shutil
import signal
import sys
import time
import traceback
from collections.abc import Iterator
from dataclasses import dataclass
from multiprocessing.connection import Connection, Pipe, wait


@dataclass(frozen=True)
class LetterLayout:
    """A letter's HTML and its layout's options: all a layout process needs of it."""

    language: str
    html: str
    variant: str
    identifier: bytes
    epoch: int


def pdf_identifier(*parts: str) -> bytes:
    """A PDF file identifier derived from the content, so rebuilds are byte-identical."""
    digest = hashlib.sha256("\x1f".join(parts).encode("utf-8")).hexdigest()
    return digest[:32].encode("ascii")


@dataclass(frozen=True)
class _Request:
    slot: int
    layout: LetterLayout


@dataclass(frozen=True)
class LaidOut:
    """A letter's PDF, from the child that laid it out."""

    slot: int
    pdf: bytes
    pages: int
    process: int
    started: float
    finished: float


@dataclass(frozen=True)
class LayoutFailed:
    """A letter's layout raised: a :class:`DhpcError`'s message and exit code, or (exit
    code None) an unexpected error, itself when it survives pickling, and its trace."""

    slot: int
    message: str
    exit_code: int | None
    error: BaseException | None
    trace: str


@dataclass(frozen=True)
class LayoutStopped:
    """The process laying out a letter (or the layout process) ended without a word."""

    slot: int | None
    exit_code: int | None


class LayoutServer:
    """The build's side of the layout process: ``slots`` letters laid out at once."""

    def __init__(self, slots: int) -> None:
        self.slots = slots
        control, theirs = Pipe()
        pipes = [Pipe(duplex=False) for _ in range(slots)]
        for stream in (sys.stdout, sys.stderr):
            with contextlib.suppress(Exception):
                stream.flush()
        pid = os.fork()
        if pid == 0:  # the layout process
            code = 1
            try:
                control.close()
                for reader, _ in pipes:
                    reader.close()
                _serve(theirs, [writer for _, writer in pipes])
                code = 0
            finally:
                os._exit(code)
        self.pid = pid
        theirs.close()
        for _, writer in pipes:
            writer.close()
        self.control = control
        self.results = [reader for reader, _ in pipes]
        self.used = False
        self.closed = False

    def send(self, slot: int, layout: LetterLayout) -> None:
        """Have ``layout`` laid out on ``slot`` (one that is free)."""
        self.used = True
        # A layout process that has gone is reported by receive(), as the pipe's end.
        with contextlib.suppress(OSError):
            self.control.send(_Request(slot, layout))

    def receive(self) -> LaidOut | LayoutFailed | LayoutStopped:
        """The next letter back (or why one will not come)."""
        for ready in wait([self.control, *self.results]):
            assert isinstance(ready, Connection)
            try:
                message = ready.recv()
            except (EOFError, OSError):
                return self.stopped(None)
            assert isinstance(message, LaidOut | LayoutFailed | LayoutStopped)
            return message
        raise AssertionError("wait() returned nothing")  # pragma: no cover

    def stopped(self, slot: int | None) -> LayoutStopped:
        """The layout process has ended: its exit code."""
        self.close(abandon=True)
        return LayoutStopped(slot, self.exit_code)

    exit_code: int | None = None

    def close(self, *, abandon: bool = False) -> None:
        """Let the layout process end (at once if ``abandon``) and wait for it."""
        if self.closed:
            return
        self.closed = True
        if not self.used:
            # Still importing, likely: nothing of it is needed, nor is anything running.
            # (It removes its fontconfig folder on the way out.)
            with contextlib.suppress(ProcessLookupError):
                os.kill(self.pid, signal.SIGTERM)
        elif not abandon:
            with contextlib.suppress(OSError):
                self.control.send(None)
        self.control.close()
        for reader in self.results:
            reader.close()
        _, status = os.waitpid(self.pid, 0)
        self.exit_code = os.waitstatus_to_exitcode(status)


_server: LayoutServer | None = None


def running_server() -> LayoutServer | None:
    """The layout process :func:`layout_server` started for this build, if any."""
    return _server if _server is not None and not _server.closed else None


def _cores() -> int:
    try:
        return len(os.sched_getaffinity(0))
    except AttributeError:  # not on Linux
        return os.cpu_count() or 1


@contextlib.contextmanager
def layout_server(jobs: int | None) -> Iterator[LayoutServer | None]:
    """A layout process for the build inside, with ``jobs`` slots (by default one per
    core); None, and the build lays out as before, for ``--jobs 1``, one core or no fork."""
    global _server
    slots = jobs or _cores()
    fork = hasattr(os, "fork") and "fork" in multiprocessing.get_all_start_methods()
    if slots <= 1 or not fork or _server is not None:
        yield None
        return
    server = LayoutServer(slots)
    _server = server
    try:
        yield server
    finally:
        _server = None
        server.close(abandon=sys.exc_info()[0] is not None)


# --- the layout process -------------------------------------------------------------------


_C_TYPES = (
    "PangoRectangle *",
    "PangoLogAttr[]",
    "PangoFcFontMap *",
    "FcResult *",
    "FcChar8 **",
    "hb_tag_t[100]",
    "unsigned int *",
    "char[]",
    "char[4]",
)
"""The C types WeasyPrint's text layout asks its bindings for: cffi parses each, once per
process, on first use (with a C parser it builds the first time, in a tenth of a second)."""


def warm_up_layout() -> None:
    """Load what laying out any letter needs: WeasyPrint, fontconfig's scan of the bundled
    fonts (into the cache every later configuration reads), WeasyPrint's C types."""
    from weasyprint.text.ffi import ffi
    from weasyprint.text.fonts import FontConfiguration

    from dhpc_gen.render import pdf
    from dhpc_gen.render.fonts import bundled_fonts_only

    pdf._srgb_bytes()
    with bundled_fonts_only():
        FontConfiguration()
    for name in _C_TYPES:
        with contextlib.suppress(Exception):  # a warm-up only: WeasyPrint may name others
            ffi.typeof(name)


def _serve(control: Connection, writers: list[Connection]) -> None:
    """Lay out each letter the build sends, a child each, until it sends None or goes."""
    # Ctrl-C reaches every process of the terminal: the build stops this one itself.
    signal.signal(signal.SIGINT, signal.SIG_IGN)
    signal.signal(signal.SIGTERM, _end)
    from dhpc_gen.render.fonts import _config_file

    # A fontconfig folder of this process's own, removed as it ends: the build's (if it
    # has one already) stays the build's.
    _config_file.cache_clear()
    try:
        warm_up_layout()
        context = multiprocessing.get_context("fork")
        running: dict[int, tuple[multiprocessing.process.BaseProcess, int]] = {}
        listening = True
        while listening or running:
            for ready in wait([control, *running] if listening else list(running)):
                if ready is control:
                    try:
                        request = control.recv()
                    except (EOFError, OSError):
                        request = None
                        # The build has stopped short: so do the letters.
                        for process, _ in running.values():
                            process.terminate()
                    if request is None:
                        listening = False
                        continue
                    assert isinstance(request, _Request)
                    process = context.Process(
                        target=_lay_out,
                        args=(request, writers[request.slot]),
                        name=f"dhpc-layout-{request.slot}",
                    )
                    process.start()
                    running[process.sentinel] = (process, request.slot)
                else:
                    assert isinstance(ready, int)
                    process, slot = running.pop(ready)
                    process.join()
                    if process.exitcode != 0 and listening:
                        with contextlib.suppress(OSError):
                            control.send(LayoutStopped(slot, process.exitcode))
    finally:
        if _config_file.cache_info().currsize:
            shutil.rmtree(_config_file().parent, ignore_errors=True)


def _end(signum: int, frame: object) -> None:
    """SIGTERM in the layout process: end, removing what it made on the way out.

    The build stops it so when it fails before needing it, often while WeasyPrint is
    still being imported: the exit then unwinds through the import machinery, which
    would print "Exception ignored in: …" beside the build's own message, on the
    terminal both share. This process has nothing more to say, so it says nothing.
    """
    sys.unraisablehook = lambda unraisable: None
    raise SystemExit(1)


def _lay_out(request: _Request, writer: Connection) -> None:
    """A child of the layout process: lay one letter out, send it back to the build."""
    signal.signal(signal.SIGTERM, signal.SIG_DFL)
    from dhpc_gen.errors import DhpcError
    from dhpc_gen.render.pdf import bundled_font_config, render_pdf

    layout = request.layout
    started = time.perf_counter()
    message: LaidOut | LayoutFailed
    try:
        font_config = bundled_font_config()
        laid_out = render_pdf(
            layout.html,
            variant=layout.variant,
            identifier=layout.identifier,
            epoch=layout.epoch,
            font_config=font_config,
        )
        del font_config
    except DhpcError as exc:
        message = LayoutFailed(request.slot, str(exc), exc.exit_code, None, "")
    except Exception as exc:
        trace = "".join(traceback.format_exception(exc))
        try:
            error: BaseException | None = pickle.loads(pickle.dumps(exc))
        except Exception:
            error = None
        message = LayoutFailed(request.slot, f"{type(exc).__name__}: {exc}", None, error, trace)
    else:
        message = LaidOut(
            request.slot,
            laid_out.data,
            laid_out.pages,
            os.getpid(),
            started,
            time.perf_counter(),
        )
    writer.send(message)
