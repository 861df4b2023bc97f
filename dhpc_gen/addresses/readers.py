"""Stream the rows of a register export (CSV or XLSX) as canonical fields.

CSV: the encoding (UTF-8 with or without BOM, UTF-16 with BOM, else cp1252 or Latin-1)
and the delimiter (``,`` ``;`` tab ``|``) are detected when sources.yaml does not give
them, from the whole file, so where the first non-ASCII byte stands does not matter. A
row that cannot be read (an unclosed quote, an over-long line, more cells than headers,
a control character) comes out as a :class:`RawRow` with an error, so it can be
rejected with its row number; a file that cannot be read at all raises
:class:`DhpcError`.

XLSX: see :mod:`dhpc_gen.addresses.workbook`.
"""

from __future__ import annotations

import codecs
import csv
import functools
import re
from collections import deque
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import IO

from dhpc_gen.addresses.columns import (
    MAX_CELL,
    MAX_LINE,
    ColumnMap,
    RawRow,
    ReadInfo,
    for_source,
    header_key,
)
from dhpc_gen.addresses.normalise import clean, line_is_clean
from dhpc_gen.addresses.sources import AddressSource
from dhpc_gen.errors import DhpcError

__all__ = ["MAX_LINE", "ColumnMap", "RawRow", "ReadInfo", "header_key", "read_rows"]

MAX_RECORD_LINES = 20
"""Lines one quoted cell may span before its quote counts as never closed."""
BINARY_SHARE = 0.01
"""Share of control bytes above which a file is binary, not text with a damaged row."""
_SAMPLE = 1 << 16
_CHUNK = 1 << 20
_DELIMITER_CANDIDATES = (";", ",", "\t", "|")
# Bytes that are control characters in every 8-bit encoding and UTF-8 (tab, line feed,
# vertical tab, form feed and carriage return aside).
_CONTROL_BYTES = bytes([*range(0, 9), *range(14, 32), 127])

Progress = Callable[[int], None]
"""Called with the number of bytes (or byte-equivalents) read since the last call."""


def read_rows(
    source: AddressSource,
    info: ReadInfo | None = None,
    progress: Progress | None = None,
    *,
    require_all: bool = True,
) -> Iterator[RawRow]:
    """Stream the data rows of ``source`` (blank rows are counted in ``info``, not yielded)."""
    info = info if info is not None else ReadInfo()
    if source.format == "xlsx":
        from dhpc_gen.addresses.workbook import xlsx_rows

        return xlsx_rows(source, info, progress, require_all)
    return _csv_rows(source, info, progress, require_all)


# --- CSV -------------------------------------------------------------------------------

# An undecodable byte becomes this (a lone surrogate, which no decoded text holds), so
# the line it is on can be named.
_UNDECODABLE = "\udcff"


def _mark_undecodable(exc: UnicodeError) -> tuple[str, int]:
    if not isinstance(exc, UnicodeDecodeError):
        raise exc
    return _UNDECODABLE, exc.end


codecs.register_error("dhpc-undecodable", _mark_undecodable)


def _sniff_bytes(path: Path, where: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_SAMPLE)
    except OSError as exc:
        raise DhpcError(f"{where}: cannot read the file: {exc.strerror}") from exc


def _scan(path: Path, where: str) -> tuple[bool, float]:
    """(decodes as UTF-8, share of control bytes) of the whole file, in one pass."""
    decoder = codecs.getincrementaldecoder("utf-8")()
    is_utf8 = True
    size = control = 0
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                size += len(block)
                control += len(block) - len(block.translate(None, _CONTROL_BYTES))
                if is_utf8:
                    try:
                        decoder.decode(block)
                    except UnicodeDecodeError:
                        is_utf8 = False
            if is_utf8:
                decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        is_utf8 = False
    except OSError as exc:
        raise DhpcError(f"{where}: cannot read the file: {exc.strerror}") from exc
    return is_utf8, control / size if size else 0.0


def _decodes_as(path: Path, encoding: str) -> bool:
    """Whether the whole file decodes as ``encoding`` (streamed, low memory)."""
    decoder = codecs.getincrementaldecoder(encoding)()
    try:
        with path.open("rb") as handle:
            for block in iter(lambda: handle.read(_CHUNK), b""):
                decoder.decode(block)
            decoder.decode(b"", final=True)
    except UnicodeDecodeError:
        return False
    return True


def detect_encoding(source: AddressSource) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252, else Latin-1.

    Decided on the whole file. A file with more than 1% control bytes is binary; fewer
    are damaged rows, each rejected on its own (see :meth:`ColumnMap.check`).
    """
    where = source.shown
    head = _sniff_bytes(source.path, where)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    utf16 = _utf16_without_bom(head)
    if utf16:
        raise DhpcError(
            f"{where}: looks like UTF-16 without a byte-order mark: "
            + for_source(
                source,
                f"set encoding: {utf16} in sources.yaml, or export the register as UTF-8 CSV",
                "save it as UTF-8 CSV (or as UTF-16 with a byte-order mark)",
            )
        )
    is_utf8, control = _scan(source.path, where)
    if control > BINARY_SHARE:
        raise DhpcError(
            f"{where}: not a text file (it contains binary data): "
            + for_source(
                source,
                "export the register as CSV, or set format: xlsx for an Excel workbook",
                "save it as CSV",
            )
        )
    if is_utf8:
        return "utf-8"
    if _decodes_as(source.path, "cp1252"):
        return "cp1252"
    return "latin-1"


def _utf16_without_bom(head: bytes) -> str | None:
    """``utf-16-le`` or ``utf-16-be`` when text looks like that (every other byte 0)."""
    even, odd = head[0::2], head[1::2]
    if len(head) < 4:
        return None
    if odd.count(0) >= 0.9 * len(odd) and even.count(0) <= 0.1 * len(even):
        return "utf-16-le"
    if even.count(0) >= 0.9 * len(even) and odd.count(0) <= 0.1 * len(odd):
        return "utf-16-be"
    return None


def _check_not_binary(head: bytes, source: AddressSource) -> None:
    where = source.shown
    if head.startswith(b"PK\x03\x04"):
        raise DhpcError(
            f"{where}: this is an Excel workbook (XLSX), not CSV: "
            + for_source(source, "set format: xlsx", "save it as CSV in Excel")
        )
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DhpcError(
            f"{where}: this is an old Excel .xls workbook: "
            + for_source(source, "save it as .xlsx or CSV in Excel", "save it as CSV in Excel")
        )


def detect_delimiter(header_line: str) -> str:
    """The candidate that occurs most often in the header line, outside quotes."""
    outside = "".join(part for index, part in enumerate(header_line.split('"')) if index % 2 == 0)
    counts = [(outside.count(c), -rank, c) for rank, c in enumerate(_DELIMITER_CANDIDATES)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def _physical_lines(handle: IO[str], source: AddressSource, encoding: str) -> Iterator[str | None]:
    """Lines of the file; None for a line longer than MAX_LINE (its text is skipped)."""
    number = 0

    def undecodable(near: str) -> DhpcError:
        return DhpcError(
            f"{source.shown}: not valid {encoding} text{near}: "
            + for_source(
                source,
                "set encoding in sources.yaml (e.g. utf-8, cp1252, utf-16-le)",
                "save it as UTF-8 CSV",
            )
        )

    while True:
        try:
            line = handle.readline(MAX_LINE + 1)
        except UnicodeError as exc:
            # A plain UnicodeError from the UTF-16 codec when a file given as utf-16 has
            # no byte-order mark (undecodable bytes are marked, see _UNDECODABLE).
            raise undecodable("") from exc
        if not line:
            return
        number += 1
        if _UNDECODABLE in line:
            raise undecodable(f" at line {number}")
        if len(line) > MAX_LINE and not line.endswith(("\n", "\r")):
            while True:
                rest = handle.readline(MAX_LINE)
                if _UNDECODABLE in rest:
                    raise undecodable(f" at line {number}")
                if not rest or rest.endswith(("\n", "\r")):
                    break
            yield None
            continue
        yield line


@functools.lru_cache(maxsize=8)
def _complete_record(delimiter: str) -> re.Pattern[str]:
    """A record whose quoted cells are all closed (a quote only opens a cell at its start).

    Possessive quantifiers: a line with many quotes fails in linear time.
    """
    d = re.escape(delimiter)
    quoted = f'"(?:[^"]|"")*+"[^{d}\\r\\n]*+'
    plain = f'[^{d}"\\r\\n][^{d}\\r\\n]*+'
    cell = f"(?:{quoted}|{plain}|)"
    return re.compile(f"{cell}(?:{d}{cell})*+(?:\\r\\n|\\n|\\r)?")


def _records(
    lines: Iterator[str | None], delimiter_of: Callable[[str], str]
) -> Iterator[tuple[int, str | None, str | None, int]]:
    """(line number, record text, error, characters) — joining quoted cells across lines.

    A quote still open after MAX_RECORD_LINES lines (or at the end) is reported on its
    line, and the lines after it are read again as rows of their own.
    """
    numbered = enumerate(lines, start=1)
    pending: deque[tuple[int, str | None]] = deque()

    def next_line() -> tuple[int, str | None] | None:
        if pending:
            return pending.popleft()
        return next(numbered, None)

    while True:
        item = next_line()
        if item is None:
            return
        number, line = item
        if line is None:
            yield number, None, f"the row is longer than {MAX_LINE} characters", MAX_LINE
            continue
        if '"' not in line:
            yield number, line, None, len(line)
            continue
        complete = _complete_record(delimiter_of(line)).fullmatch
        if complete(line):
            yield number, line, None, len(line)
            continue
        text = line
        taken: list[tuple[int, str | None]] = []
        closed = False
        while len(taken) < MAX_RECORD_LINES:
            following = next_line()
            if following is None:
                break
            taken.append(following)
            more = following[1]
            if more is None or len(text) + len(more) > MAX_LINE:
                break
            text += more
            if complete(text):
                closed = True
                break
        if closed:
            yield number, text, None, len(text)
        else:
            yield number, None, 'a quote (") is opened but never closed', len(line)
            pending.extendleft(reversed(taken))


def _parse(record: str, delimiter: str) -> list[str] | None:
    try:
        return next(csv.reader([record], delimiter=delimiter, quotechar='"', strict=False), [])
    except csv.Error:  # not expected after _records; a row error rather than a traceback
        return None


def _csv_rows(
    source: AddressSource, info: ReadInfo, progress: Progress | None, require_all: bool
) -> Iterator[RawRow]:
    where = source.shown
    head = _sniff_bytes(source.path, where)
    _check_not_binary(head, source)
    if not head.strip():
        raise DhpcError(f"{where}: the file is empty")
    encoding = source.encoding or detect_encoding(source)
    info.encoding = encoding
    try:
        handle = source.path.open(encoding=encoding, errors="dhpc-undecodable", newline="")
    except OSError as exc:
        raise DhpcError(f"{where}: cannot read the file: {exc.strerror}") from exc
    delimiter = source.delimiter

    def delimiter_of(line: str) -> str:
        return delimiter or detect_delimiter(line)

    with handle:
        records = _records(_physical_lines(handle, source, encoding), delimiter_of)
        columns: ColumnMap | None = None
        for number, record, error, size in records:
            if progress is not None:
                progress(size)
            if columns is None:
                # Still looking for the header row: the one given, else the first non-empty.
                if source.header_row and number != source.header_row:
                    if number > source.header_row:
                        break
                    continue
                if record is None or not record.strip():
                    continue
                delimiter = delimiter_of(record)
                info.delimiter = delimiter
                header = _parse(record, delimiter) or []
                columns = ColumnMap(source, header, where, number=number, require_all=require_all)
                continue
            if error is not None:
                yield RawRow(number, {}, error)
                continue
            assert record is not None and delimiter is not None
            cells = _parse(record, delimiter)
            if cells is None:
                yield RawRow(number, {}, "the row cannot be read as CSV")
                continue
            if not any(cell.strip() for cell in cells):
                info.blank_rows += 1
                continue
            # Most lines need no more than trimming each cell: check the line once.
            line = record.rstrip("\r\n")
            if delimiter == "\t":
                line = line.replace("\t", ";")
            tidy = line_is_clean(line)
            if not tidy or len(line) > MAX_CELL or "#" in line or columns.may_repeat_header(cells):
                problem = columns.check(cells, number)
                if problem is not None:
                    yield RawRow(number, {}, problem[1], problem[0])
                    continue
            mapped, error = columns.map(cells, str.strip if tidy else clean)
            yield RawRow(number, mapped, error)
        if columns is None:
            raise DhpcError(
                f"{where}: no header row found"
                + (f" at row {source.header_row}" if source.header_row else "")
                + ": the first non-empty row must name the columns"
            )
