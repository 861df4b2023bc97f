"""PDF objects written by hand: a streaming writer and a copier of pypdf objects.

pypdf's own writer keeps every object of the document in memory until the end. A print
file of tens of thousands of letters must be written as it is produced, so the print
file and the per-recipient letters are written here, object by object, with a classic
cross-reference table. Objects read with pypdf (the letter body WeasyPrint laid out) are
copied over with new object numbers.
"""

from __future__ import annotations

import io
import zlib
from array import array
from collections import deque
from collections.abc import Callable, Iterable
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import (
    ArrayObject,
    DictionaryObject,
    IndirectObject,
    NameObject,
    PdfObject,
    StreamObject,
)

from dhpc_gen.errors import RenderError

HEADER = b"%PDF-1.7\n%\xe2\xe3\xcf\xd3\n"


def pdf_string(text: str) -> bytes:
    """A PDF text string: literal ASCII when it can be, else UTF-16BE with a BOM."""
    try:
        raw = text.encode("ascii")
    except UnicodeEncodeError:
        return b"<feff" + text.encode("utf-16-be").hex().encode("ascii") + b">"
    escaped = raw.replace(b"\\", b"\\\\").replace(b"(", b"\\(").replace(b")", b"\\)")
    return b"(" + escaped + b")"


def pdf_number(value: float) -> bytes:
    """A number as PDF writes it: no exponent, at most 4 decimals."""
    text = f"{value:.4f}".rstrip("0").rstrip(".")
    return (text if text not in ("", "-0") else "0").encode("ascii")


def deflate(data: bytes) -> bytes:
    """Flate-compress; small data with a small window, whose set-up costs a quarter."""
    if len(data) > 2048:
        return zlib.compress(data, 6)
    compressor = zlib.compressobj(6, zlib.DEFLATED, 11, 4)
    return compressor.compress(data) + compressor.flush()


def stream_object(entries: bytes, data: bytes, *, compress: bool = True) -> bytes:
    """The body of a stream object (``entries`` are extra dictionary entries)."""
    if compress:
        data = deflate(data)
        entries = b"/Filter /FlateDecode " + entries
    return (
        b"<<"
        + entries
        + b"/Length "
        + str(len(data)).encode()
        + b">>\nstream\n"
        + data
        + (b"\nendstream")
    )


class PdfFileWriter:
    """Writes numbered objects to a binary file as they come, then the xref table.

    Only the byte offsets of the objects are kept (8 bytes each), so memory does not
    depend on what the objects hold.
    """

    def __init__(self, handle: BinaryIO) -> None:
        self._handle = handle
        self._offsets = array("Q")
        self._position = 0
        self._emit(HEADER)

    def _emit(self, data: bytes) -> None:
        self._handle.write(data)
        self._position += len(data)

    def reserve(self) -> int:
        """A new object number, to be written later with :meth:`write`."""
        self._offsets.append(0)
        return len(self._offsets)

    def write(self, number: int, body: bytes) -> None:
        if self._offsets[number - 1]:
            raise RenderError(f"internal: PDF object {number} written twice")
        self._offsets[number - 1] = self._position
        self._emit(b"%d 0 obj\n" % number + body + b"\nendobj\n")

    def add(self, body: bytes) -> int:
        number = self.reserve()
        self.write(number, body)
        return number

    def close(self, trailer: bytes) -> None:
        """Write the xref table and the trailer (``trailer``: its entries besides /Size)."""
        missing = [n + 1 for n, offset in enumerate(self._offsets) if not offset]
        if missing:
            raise RenderError(f"internal: PDF objects reserved but never written: {missing[:5]}")
        xref_at = self._position
        self._emit(xref_table(self._offsets))
        self._emit(
            b"trailer\n<</Size %d " % (len(self._offsets) + 1)
            + trailer
            + b">>\nstartxref\n%d\n%%%%EOF\n" % xref_at
        )


def xref_table(offsets: Iterable[int]) -> bytes:
    entries = [b"%010d 00000 n \n" % offset for offset in offsets]
    head = b"xref\n0 %d\n0000000000 65535 f \n" % (len(entries) + 1)
    return head + b"".join(entries)


class ObjectSet:
    """Objects collected in memory (for a small document written many times over)."""

    def __init__(self) -> None:
        self.bodies: dict[int, bytes] = {}
        self._next = 0

    def reserve(self) -> int:
        self._next += 1
        return self._next

    def write(self, number: int, body: bytes) -> None:
        if number in self.bodies:
            raise RenderError(f"internal: PDF object {number} written twice")
        self.bodies[number] = body


def is_stream(body: bytes) -> bool:
    return body.endswith(b"endstream")


def object_stream(objects: list[tuple[int, bytes]]) -> bytes:
    """An object stream (PDF 1.5) holding ``objects``, none of them a stream."""
    header = []
    data = []
    offset = 0
    for number, body in objects:
        header.append(b"%d %d" % (number, offset))
        data.append(body)
        offset += len(body) + 1
    head = b" ".join(header) + b"\n"
    return stream_object(
        b"/Type /ObjStm /N %d /First %d " % (len(objects), len(head)),
        head + b"\n".join(data),
    )


class ObjectCopier:
    """Copies objects of a :class:`PdfReader` into a writer, renumbering references.

    ``number(ref)`` gives the new number of an old object, reserving it at first sight;
    :meth:`flush` then writes every reserved object that has not been written yet,
    following the references it meets, except those the caller writes itself (the page
    it personalises) under the number they were given.
    """

    def __init__(self, reader: PdfReader, reserve: Callable[[], int]) -> None:
        self._reader = reader
        self._reserve = reserve
        self._numbers: dict[int, int] = {}
        self._pending: deque[int] = deque()
        self._done: set[int] = set()

    def number(self, ref: IndirectObject) -> int:
        old = ref.idnum
        if old not in self._numbers:
            self._numbers[old] = self._reserve()
            self._pending.append(old)
        return self._numbers[old]

    def serialise(self, obj: PdfObject) -> bytes:
        """A direct object as PDF syntax, its references renumbered (reserving them)."""
        if isinstance(obj, IndirectObject):
            return b"%d 0 R" % self.number(obj)
        if isinstance(obj, StreamObject):
            raise RenderError("internal: a stream can only be written as an indirect object")
        if isinstance(obj, DictionaryObject):
            parts = [b"<<"]
            for key, value in obj.items():
                parts += [_raw(NameObject(key)), b" ", self.serialise(value), b"\n"]
            parts.append(b">>")
            return b"".join(parts)
        if isinstance(obj, ArrayObject):
            return b"[" + b" ".join(self.serialise(item) for item in obj) + b"]"
        return _raw(obj)

    def object_body(self, obj: PdfObject) -> bytes:
        """The body of an indirect object (a stream keeps its encoded data and filters)."""
        if isinstance(obj, StreamObject):
            entries = DictionaryObject({k: v for k, v in obj.items() if k != "/Length"})
            data = obj._data  # the encoded bytes, filters as in the dictionary
            head = self.serialise(entries)[:-2]
            return head + b"/Length %d>>\nstream\n" % len(data) + data + b"\nendstream"
        return self.serialise(obj)

    def flush(self, write: Callable[[int, bytes], None], skip: Iterable[int] = ()) -> None:
        """Write every object numbered so far (and what they refer to), except ``skip``.

        ``skip`` holds old object numbers the caller writes itself.
        """
        skipped = set(skip)
        while self._pending:
            old = self._pending.popleft()
            if old in self._done or old in skipped:
                continue
            self._done.add(old)
            obj = self._reader.get_object(old)
            if obj is None:
                raise RenderError(f"internal: the letter body refers to a missing object {old}")
            write(self._numbers[old], self.object_body(obj))


def _raw(obj: PdfObject) -> bytes:
    buffer = io.BytesIO()
    obj.write_to_stream(buffer)
    return buffer.getvalue()
