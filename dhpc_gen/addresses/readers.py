"""Stream the rows of a register export (CSV or XLSX) as canonical fields.

CSV: the encoding (UTF-8 with or without BOM, UTF-16 with BOM, else cp1252 or Latin-1)
and the delimiter (``,`` ``;`` tab ``|``) are detected when sources.yaml does not give
them. A row that cannot be read (an unclosed quote, an over-long line, more cells than
headers) comes out as a :class:`RawRow` with an error, so it can be rejected with its
row number; a file that cannot be read at all raises :class:`DhpcError`.

XLSX: read with openpyxl in read-only mode, so rows are streamed, not loaded at once.
"""

from __future__ import annotations

import codecs
import csv
import datetime as dt
import itertools
import warnings
import zipfile
from collections import deque
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import IO, Any, NamedTuple

from dhpc_gen.addresses.normalise import clean, line_is_clean
from dhpc_gen.addresses.sources import AddressSource
from dhpc_gen.errors import DhpcError

MAX_LINE = 1 << 16
"""Characters in one row; a longer row is rejected (a register row is a few hundred)."""
MAX_RECORD_LINES = 20
"""Lines one quoted cell may span before its quote counts as never closed."""
_SAMPLE = 1 << 16
_CHUNK = 1 << 20
_DELIMITER_CANDIDATES = (";", ",", "\t", "|")

Progress = Callable[[int], None]
"""Called with the number of bytes (or byte-equivalents) read since the last call."""


class RawRow(NamedTuple):
    """One data row: canonical field → text (trimmed, see :func:`clean`), or why not.

    ``number`` is the line in a CSV file where the row starts, or the row number in an
    XLSX sheet (a tuple: there are one of these per row read).
    """

    number: int
    cells: dict[str, str]
    error: str | None = None


@dataclass
class ReadInfo:
    """What the reader found out about the file (for the report)."""

    encoding: str | None = None
    delimiter: str | None = None
    blank_rows: int = 0


def header_key(text: str) -> str:
    """Headers match case-insensitively, ignoring spaces around and inside."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


class ColumnMap:
    """Which cell of a row goes to which canonical field, from the header row."""

    def __init__(
        self,
        source: AddressSource,
        headers: Sequence[str],
        where: str,
        *,
        require_all: bool = True,
    ) -> None:
        found: dict[str, int] = {}
        duplicates: set[str] = set()
        for index, header in enumerate(headers):
            key = header_key(header)
            if not key:
                continue
            if key in found:
                duplicates.add(key)
            found.setdefault(key, index)
        self.width = len(headers)
        pairs: list[tuple[int, str]] = []
        missing = []
        for header, field in source.columns.items():
            key = header_key(header)
            if key in duplicates:
                raise DhpcError(
                    f"{where}: the header {header!r} appears more than once; rename one "
                    f"column in the file or map another header in {source.name!r}"
                )
            if key in found:
                pairs.append((found[key], field))
            elif require_all:
                missing.append(header)
        if missing:
            shown = ", ".join(repr(h) for h in headers if h.strip()) or "(none)"
            raise DhpcError(
                f"{where}: header row has no column {', '.join(repr(m) for m in missing)} "
                f"(mapped under columns in sources.yaml for {source.name!r}). "
                f"The headers in the file are: {shown}"
                + (
                    ""
                    if source.header_row
                    else ". If the headers are not in the first non-empty row, "
                    "set header_row: N (the row number of the headers)"
                )
            )
        by_field: dict[str, list[int]] = {}
        for index, field in sorted(pairs):
            by_field.setdefault(field, []).append(index)
        self.single = tuple((ix[0], field) for field, ix in by_field.items() if len(ix) == 1)
        # Several headers mapped to one field (e.g. two address lines): joined with a space.
        self.joined = tuple((field, tuple(ix)) for field, ix in by_field.items() if len(ix) > 1)

    def map(
        self, cells: Sequence[str], tidy: Callable[[str], str] = clean
    ) -> tuple[dict[str, str], str | None]:
        """Canonical fields of one row; an error when it has extra non-empty cells.

        ``tidy`` cleans one cell (:func:`clean`; ``str.strip`` where that is enough).
        """
        if len(cells) > self.width and any(c.strip() for c in cells[self.width :]):
            return {}, (
                f"the row has {len(cells)} cells but the header has {self.width} "
                "(a delimiter inside an unquoted value?)"
            )
        count = len(cells)
        out = {
            field: value
            for index, field in self.single
            if index < count and (value := tidy(cells[index]))
        }
        for field, indexes in self.joined:
            parts = [value for i in indexes if i < count and (value := tidy(cells[i]))]
            if parts:
                out[field] = " ".join(parts)
        return out, None


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
        return _xlsx_rows(source, info, progress, require_all)
    return _csv_rows(source, info, progress, require_all)


# --- CSV -------------------------------------------------------------------------------


def _sniff_bytes(path: Path, where: str) -> bytes:
    try:
        with path.open("rb") as handle:
            return handle.read(_SAMPLE)
    except OSError as exc:
        raise DhpcError(f"{where}: cannot read the file: {exc.strerror}") from exc


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


def detect_encoding(path: Path, where: str) -> str:
    """UTF-8 (with or without BOM), UTF-16 with BOM, else cp1252, else Latin-1."""
    head = _sniff_bytes(path, where)
    if head.startswith(codecs.BOM_UTF8):
        return "utf-8-sig"
    if head.startswith((codecs.BOM_UTF16_LE, codecs.BOM_UTF16_BE)):
        return "utf-16"
    if b"\x00" in head:
        utf16 = _utf16_without_bom(head)
        if utf16:
            raise DhpcError(
                f"{where}: looks like UTF-16 without a byte-order mark: set encoding: "
                f"{utf16} in sources.yaml, or export the register as UTF-8 CSV"
            )
        raise DhpcError(
            f"{where}: not a text file (it contains binary data): export the register as "
            "CSV, or set format: xlsx for an Excel workbook"
        )
    if _decodes_as(path, "utf-8"):
        return "utf-8"
    if _decodes_as(path, "cp1252"):
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


def _check_not_binary(head: bytes, where: str) -> None:
    if head.startswith(b"PK\x03\x04"):
        raise DhpcError(f"{where}: this is an Excel workbook (XLSX), not CSV: set format: xlsx")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DhpcError(
            f"{where}: this is an old Excel .xls workbook: save it as .xlsx or CSV in Excel"
        )


def detect_delimiter(header_line: str) -> str:
    """The candidate that occurs most often in the header line, outside quotes."""
    outside = "".join(part for index, part in enumerate(header_line.split('"')) if index % 2 == 0)
    counts = [(outside.count(c), -rank, c) for rank, c in enumerate(_DELIMITER_CANDIDATES)]
    best = max(counts)
    return best[2] if best[0] > 0 else ","


def _physical_lines(handle: IO[str], where: str, encoding: str) -> Iterator[str | None]:
    """Lines of the file; None for a line longer than MAX_LINE (its text is skipped)."""
    while True:
        try:
            line = handle.readline(MAX_LINE + 1)
        except UnicodeError as exc:
            # UnicodeDecodeError for a bad byte; a plain UnicodeError from the UTF-16
            # codec when a file given as utf-16 has no byte-order mark.
            near = (
                f" near byte {exc.start} of a line" if isinstance(exc, UnicodeDecodeError) else ""
            )
            raise DhpcError(
                f"{where}: not valid {encoding} text{near}: "
                "set encoding in sources.yaml (e.g. utf-8, cp1252, utf-16-le)"
            ) from exc
        if not line:
            return
        if len(line) > MAX_LINE and not line.endswith(("\n", "\r")):
            while True:
                rest = handle.readline(MAX_LINE)
                if not rest or rest.endswith(("\n", "\r")):
                    break
            yield None
            continue
        yield line


def _records(lines: Iterator[str | None]) -> Iterator[tuple[int, str | None, str | None, int]]:
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
        if line.count('"') % 2 == 0:
            yield number, line, None, len(line)
            continue
        parts = [line]
        taken: list[tuple[int, str | None]] = []
        closed = False
        size = len(line)
        while len(taken) < MAX_RECORD_LINES:
            following = next_line()
            if following is None:
                break
            taken.append(following)
            text = following[1]
            if text is None or size + len(text) > MAX_LINE:
                break
            parts.append(text)
            size += len(text)
            if text.count('"') % 2 == 1:
                closed = True
                break
        if closed:
            yield number, "".join(parts), None, size
        else:
            yield number, None, 'a quote (") is opened but never closed', len(line)
            pending.extendleft(reversed(taken))


def _parse(record: str, delimiter: str) -> list[str]:
    return next(csv.reader([record], delimiter=delimiter, quotechar='"', strict=False), [])


def _csv_rows(
    source: AddressSource, info: ReadInfo, progress: Progress | None, require_all: bool
) -> Iterator[RawRow]:
    where = source.shown
    head = _sniff_bytes(source.path, where)
    _check_not_binary(head, where)
    if not head.strip():
        raise DhpcError(f"{where}: the file is empty: export the register again")
    encoding = source.encoding or detect_encoding(source.path, where)
    info.encoding = encoding
    try:
        handle = source.path.open(encoding=encoding, newline="")
    except OSError as exc:
        raise DhpcError(f"{where}: cannot read the file: {exc.strerror}") from exc
    with handle:
        records = _records(_physical_lines(handle, where, encoding))
        header: list[str] | None = None
        delimiter = source.delimiter
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
                delimiter = delimiter or detect_delimiter(record)
                info.delimiter = delimiter
                header = _parse(record, delimiter)
                columns = ColumnMap(source, header, where, require_all=require_all)
                continue
            if error is not None:
                yield RawRow(number, {}, error)
                continue
            assert record is not None and delimiter is not None
            cells = _parse(record, delimiter)
            if not any(cell.strip() for cell in cells):
                info.blank_rows += 1
                continue
            # Most lines need no more than trimming each cell: check the line once.
            line = record.rstrip("\r\n")
            if delimiter == "\t":
                line = line.replace("\t", ";")
            mapped, problem = columns.map(cells, str.strip if line_is_clean(line) else clean)
            yield RawRow(number, mapped, problem)
        if columns is None:
            raise DhpcError(
                f"{where}: no header row found"
                + (f" at row {source.header_row}" if source.header_row else "")
                + ": the first non-empty row must name the columns"
            )


# --- XLSX ------------------------------------------------------------------------------


def _cell_text(value: Any) -> str:
    """A cell as text, the way a person reads it in Excel (100.0 → "100")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _open_workbook(path: Path, where: str) -> Any:
    import openpyxl

    try:
        with path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise DhpcError(f"{where}: cannot read the file: {exc.strerror}") from exc
    if not head:
        raise DhpcError(f"{where}: the file is empty: export the register again")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DhpcError(f"{where}: an old Excel .xls workbook: save it as .xlsx or CSV in Excel")
    if not head.startswith(b"PK\x03\x04"):
        raise DhpcError(f"{where}: not an Excel .xlsx workbook: set format: csv if it is text")
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not matter here.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, OSError, KeyError, ValueError, TypeError, IndexError) as exc:
        raise DhpcError(
            f"{where}: cannot read the workbook ({exc}): save it again in Excel"
        ) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        raise DhpcError(f"{where}: cannot read the workbook ({type(exc).__name__}: {exc})") from exc


def _batches(rows: Iterator[tuple[Any, ...]], where: str) -> Iterator[list[tuple[Any, ...]]]:
    """Rows in batches, read with openpyxl's warnings silenced and its errors explained."""
    while True:
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                batch = list(itertools.islice(rows, 500))
        except Exception as exc:  # a damaged sheet can fail anywhere in the XML
            raise DhpcError(f"{where}: the sheet is damaged ({type(exc).__name__}: {exc})") from exc
        if not batch:
            return
        yield batch


def _xlsx_rows(
    source: AddressSource, info: ReadInfo, progress: Progress | None, require_all: bool
) -> Iterator[RawRow]:
    where = source.shown
    workbook = _open_workbook(source.path, where)
    try:
        names = list(workbook.sheetnames)
        if source.sheet is not None and source.sheet not in names:
            raise DhpcError(
                f"{where}: no sheet {source.sheet!r}; the sheets are: {', '.join(names)}"
            )
        if not names:
            raise DhpcError(f"{where}: the workbook has no sheets")
        sheet = workbook[source.sheet or names[0]]
        size = source.path.stat().st_size
        try:
            max_row = int(sheet.max_row or 0)
        except (TypeError, ValueError):
            max_row = 0
        per_row = size // max_row if max_row else 0
        columns: ColumnMap | None = None
        number = 0
        for batch in _batches(sheet.iter_rows(values_only=True), where):
            if progress is not None and per_row:
                progress(per_row * len(batch))
            for values in batch:
                number += 1
                cells = [_cell_text(v) for v in values]
                empty = not any(c.strip() for c in cells)
                if columns is None:
                    if source.header_row and number != source.header_row:
                        continue
                    if empty:
                        continue
                    columns = ColumnMap(source, cells, where, require_all=require_all)
                    continue
                if empty:
                    info.blank_rows += 1
                    continue
                mapped, problem = columns.map(cells)
                yield RawRow(number, mapped, problem)
        if columns is None:
            raise DhpcError(
                f"{where}: no header row found"
                + (f" at row {source.header_row}" if source.header_row else "")
                + ": the first non-empty row must name the columns"
            )
    finally:
        workbook.close()
