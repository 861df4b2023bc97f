"""Stream the rows of an XLSX sheet as a spreadsheet user sees them.

Rows are read with openpyxl in read-only mode (streamed, not loaded at once), which
shows each cell's saved value and nothing else. What that mode hides is read from the
sheet's XML in one quick pass before the rows: merged cells, hidden rows and formulas
whose result was never saved. Then:

- the sheet: the one ``sheet:`` names (by name, or 1 for the first); without it the
  only sheet that has data. Two sheets with data and none named is a
  :class:`DhpcError`: the reader does not guess;
- a range of merged cells within one mapped column (a hospital's name beside each of
  its doctors) gives its value to every row it covers, as Excel shows it; a range
  across several mapped columns (a section title over a whole row) rejects the rows
  it covers: which column would the value belong to?
- hidden rows are read like the others and counted;
- a date where text belongs (a postal code Excel turned into a date), an Excel error
  (``#N/A``) and a formula without its result reject their row, naming the column.
"""

from __future__ import annotations

import datetime as dt
import itertools
import logging
import re
import warnings
import zipfile
from collections.abc import Callable, Iterator
from dataclasses import dataclass, field
from typing import Any

from dhpc_gen.addresses.columns import (
    BAD_CONTROL,
    MAX_CELL,
    ColumnMap,
    RawRow,
    ReadInfo,
    for_source,
)
from dhpc_gen.addresses.sources import AddressSource
from dhpc_gen.errors import DhpcError

logger = logging.getLogger(__name__)

Progress = Callable[[int], None]
"""Called with the byte-equivalents read since the last call (see readers.Progress)."""

_BATCH = 500
_CHUNK = 1 << 20
_DATES = (dt.datetime, dt.date, dt.time, dt.timedelta)
_ESCAPE = re.compile(r"_x([0-9A-Fa-f]{4})_")

# In the sheet XML (namespace prefixes allowed): what read-only mode does not show.
_ROW_END = b"row>"
_MERGE = re.compile(
    rb"<(?:\w+:)?mergeCell\b[^>]*?\bref=\"([A-Z]{1,3})([0-9]+)(?::([A-Z]{1,3})([0-9]+))?\""
)
_ROW_TAG = re.compile(rb"<(?:\w+:)?row\b[^>]*>")
_HIDDEN = re.compile(rb"\bhidden=\"(?:1|true)\"")
_ROW_NUMBER = re.compile(rb"\br=\"([0-9]+)\"")
_FORMULA = re.compile(rb"<f[\s>/]")
_PREFIXED_FORMULA = re.compile(rb"<[A-Za-z_][\w.-]*:f[\s>/]")  # <x:f> (slower to look for)
_CELL_REF = re.compile(rb"\br=\"([A-Z]{1,3})([0-9]+)\"")
_TEXT_TYPE = re.compile(rb"\bt=\"str\"")
_CELL_END = re.compile(rb"</(?:\w+:)?c>")
_VALUE = re.compile(rb"<(?:\w+:)?v\s*/>|<(?:\w+:)?v>([^<]*)<")


def _column_index(letters: bytes) -> int:
    """0-based index of a column letter ("A" → 0, "AA" → 26)."""
    index = 0
    for char in letters:
        index = index * 26 + char - 64
    return index - 1


def _letters(index: int) -> str:
    letters = ""
    index += 1
    while index:
        index, rest = divmod(index - 1, 26)
        letters = chr(65 + rest) + letters
    return letters


@dataclass
class _Range:
    """A range of merged cells (rows 1-based, columns 0-based)."""

    first_row: int
    first_col: int
    last_row: int
    last_col: int
    kind: str = ""
    """``ignore``, ``fill`` (one mapped column) or ``reject``; set at its first data row."""
    column: int = -1
    value: str = ""
    detail: str = ""

    @property
    def ref(self) -> str:
        first = f"{_letters(self.first_col)}{self.first_row}"
        return f"{first}:{_letters(self.last_col)}{self.last_row}"


@dataclass
class SheetLayout:
    """What the sheet's XML says beyond the saved cell values."""

    rows: int = 0
    merged: list[_Range] = field(default_factory=list)
    hidden_rows: set[int] = field(default_factory=set)
    formulas_without_value: dict[int, list[int]] = field(default_factory=dict)
    """Row → 0-based columns of formula cells with no saved result."""


def _scan_piece(piece: bytes, layout: SheetLayout) -> None:
    layout.rows += piece.count(b"<row ") + piece.count(b":row ") + piece.count(b"<row>")
    if b'hidden="' in piece:
        for row_tag in _ROW_TAG.finditer(piece):
            text = row_tag.group()
            number = _ROW_NUMBER.search(text)
            if number is not None and _HIDDEN.search(text):
                layout.hidden_rows.add(int(number.group(1)))
    if b"mergeCell" in piece:
        for match in _MERGE.finditer(piece):
            col, row, last_col, last_row = match.groups()
            if last_col is None:
                continue  # one cell "merged" with itself
            first = (int(row), _column_index(col))
            last = (int(last_row), _column_index(last_col))
            (r1, c1), (r2, c2) = min(first, last), max(first, last)
            layout.merged.append(_Range(r1, min(c1, c2), r2, max(c1, c2)))
    formulas = [
        pattern.finditer(piece)
        for pattern, hint in ((_FORMULA, b"<f"), (_PREFIXED_FORMULA, b":f"))
        if hint in piece
    ]
    for match in itertools.chain(*formulas):
        # The cell's start tag is the tag just before its formula: <c r="D2" t="str"><f>
        start = piece.rfind(b"<", 0, match.start())
        tag = piece[start : match.start()]
        ref = _CELL_REF.search(tag)
        if ref is None:
            continue
        end = _CELL_END.search(piece, match.end())
        value = _VALUE.search(piece, match.end(), end.start() if end else len(piece))
        # No result saved: no <v>, or an empty one where the result is not text
        # (openpyxl writes <v/>; Excel writes an empty text result as t="str" <v></v>).
        if value is None or (not value.group(1) and _TEXT_TYPE.search(tag) is None):
            layout.formulas_without_value.setdefault(int(ref.group(2)), []).append(
                _column_index(ref.group(1))
            )


def scan_layout(source: AddressSource, member: str) -> SheetLayout:
    """Read the sheet's XML once, in blocks, for what read-only mode does not show."""
    layout = SheetLayout()
    try:
        with zipfile.ZipFile(source.path) as archive, archive.open(member) as stream:
            carry = b""
            for block in iter(lambda: stream.read(_CHUNK), b""):
                buffer = carry + block
                # Cut after the last complete row, so that no cell is split in two.
                cut = buffer.rfind(_ROW_END)
                if cut < 0:
                    carry = buffer
                    continue
                cut += len(_ROW_END)
                _scan_piece(buffer[:cut], layout)
                carry = buffer[cut:]
            _scan_piece(carry, layout)
    except (OSError, KeyError, zipfile.BadZipFile, EOFError) as exc:
        raise DhpcError(
            f"{source.shown}: cannot read the sheet ({type(exc).__name__}): save it again in Excel"
        ) from exc
    layout.merged.sort(key=lambda r: (r.first_row, r.first_col))
    return layout


class _MergedCells:
    """The merged ranges that cover the row being read, as rows go by."""

    def __init__(self, ranges: list[_Range]) -> None:
        self.pending = ranges  # sorted by first row
        self.next = 0
        self.active: list[_Range] = []
        self.filled = self.rejecting = 0

    def at(self, number: int) -> list[_Range]:
        pending = self.pending
        while self.next < len(pending) and pending[self.next].first_row <= number:
            self.active.append(pending[self.next])
            self.next += 1
        if self.active and any(r.last_row < number for r in self.active):
            self.active = [r for r in self.active if r.last_row >= number]
        return self.active

    def header(self, number: int, columns: ColumnMap, where: str) -> None:
        """Warn of a mapped header merged over several columns: only its first is read."""
        for merged in self.pending:
            if merged.first_row > number:
                break
            if (
                merged.last_row >= number
                and merged.last_col > merged.first_col
                and merged.first_col in columns.mapped
            ):
                logger.warning(
                    "%s: the header %s is merged over the cells %s: only its first column "
                    "is read under it",
                    where,
                    columns.column(merged.first_col),
                    merged.ref,
                )

    def _classify(self, merged: _Range, columns: ColumnMap, header: int) -> None:
        covered = [i for i in columns.mapped if merged.first_col <= i <= merged.last_col]
        if not covered:
            merged.kind = "ignore"
            return
        if merged.first_row <= header:
            merged.kind = "reject"
            merged.detail = f"the cells {merged.ref} are merged with the header row"
        elif len(covered) > 1:
            merged.kind = "reject"
            names = " and ".join(columns.column(i) for i in covered)
            merged.detail = (
                f"the cells {merged.ref} are merged across the columns {names}: unmerge "
                "them in Excel"
            )
        else:
            merged.kind = "fill"
            merged.column = covered[0]
        if merged.kind == "fill":
            self.filled += 1
        else:
            self.rejecting += 1

    def apply(
        self, active: list[_Range], number: int, cells: list[str], columns: ColumnMap, header: int
    ) -> str | None:
        """Fill the cells a merged range covers; the reason to reject the row, if any."""
        reject = None
        for merged in active:
            if not merged.kind:
                self._classify(merged, columns, header)
            if merged.kind == "reject":
                reject = reject or merged.detail
                continue
            if merged.kind != "fill":
                continue
            if number == merged.first_row:
                corner = merged.first_col
                merged.value = cells[corner] if corner < len(cells) else ""
            while len(cells) <= merged.column:
                cells.append("")
            cells[merged.column] = merged.value
        return reject


def _unescape(text: str) -> str:
    """Excel writes characters XML cannot hold as ``_x0000_``: the character again."""
    return _ESCAPE.sub(lambda m: chr(int(m.group(1), 16)), text)


def _cell_text(value: Any) -> str:
    """A cell as text, the way a person reads it in Excel (100.0 → "100")."""
    if value is None:
        return ""
    if isinstance(value, str):
        return _unescape(value) if "_x" in value else value
    if isinstance(value, bool):
        return "TRUE" if value else "FALSE"
    if isinstance(value, float):
        return str(int(value)) if value.is_integer() else repr(value)
    if isinstance(value, dt.datetime):
        return value.date().isoformat() if value.time() == dt.time() else value.isoformat()
    if isinstance(value, dt.date | dt.time):
        return value.isoformat()
    return str(value)


def _open_workbook(source: AddressSource) -> Any:
    import openpyxl

    where = source.shown
    try:
        with source.path.open("rb") as handle:
            head = handle.read(8)
    except OSError as exc:
        raise DhpcError(f"{where}: cannot read the file: {exc.strerror}") from exc
    if not head:
        raise DhpcError(f"{where}: the file is empty")
    if head.startswith(b"\xd0\xcf\x11\xe0"):
        raise DhpcError(f"{where}: an old Excel .xls workbook: save it as .xlsx or CSV in Excel")
    if not head.startswith(b"PK\x03\x04"):
        raise DhpcError(
            f"{where}: not an Excel .xlsx workbook"
            + for_source(source, ": set format: csv if it is text", "")
        )
    try:
        with warnings.catch_warnings():
            # openpyxl warns about styles and extensions it ignores; they do not matter here.
            warnings.simplefilter("ignore")
            return openpyxl.load_workbook(source.path, read_only=True, data_only=True)
    except (zipfile.BadZipFile, KeyError) as exc:
        raise DhpcError(
            f"{where}: cannot read the workbook ({exc}): save it again in Excel"
        ) from exc
    except Exception as exc:  # openpyxl raises many kinds on a damaged file
        # Only the kind: the text of a parser's error may quote a cell of the file.
        raise DhpcError(
            f"{where}: cannot read the workbook ({type(exc).__name__}): save it again in Excel"
        ) from exc


def _batches(rows: Iterator[tuple[Any, ...]], where: str, sheet: str) -> Iterator[list[Any]]:
    """Rows in batches, read with openpyxl's warnings silenced and its errors explained."""
    done = 0
    while True:
        batch: list[tuple[Any, ...]] = []
        try:
            with warnings.catch_warnings():
                warnings.simplefilter("ignore")
                for row in rows:
                    batch.append(row)
                    if len(batch) == _BATCH:
                        break
        except Exception as exc:  # a damaged sheet can fail anywhere in the XML
            # Only the kind: the text may quote the cell (e.g. a name in a number cell).
            raise DhpcError(
                f"{where}: sheet {sheet!r} is damaged at row {done + len(batch) + 1} "
                f"({type(exc).__name__}): open it in Excel and save it again"
            ) from exc
        if not batch:
            return
        done += len(batch)
        yield batch


def _has_data(sheet: Any, where: str) -> bool:
    for batch in _batches(sheet.iter_rows(values_only=True), where, sheet.title):
        for values in batch:
            if any(_cell_text(v).strip() for v in values):
                return True
    return False


def _choose_sheet(workbook: Any, source: AddressSource) -> Any:
    """The sheet ``sheet:`` names, else the only one with data; never a guess."""
    where = source.shown
    names = list(workbook.sheetnames)
    if not names:
        raise DhpcError(f"{where}: the workbook has no sheets")
    cells = [name for name in names if hasattr(workbook[name], "iter_rows")]  # not charts
    for name in cells:
        # The <dimension> a program wrote may be too small: read every row there is.
        workbook[name].reset_dimensions()
    listed = ", ".join(repr(n) for n in names)
    wanted = source.sheet
    if isinstance(wanted, int):
        if wanted > len(names):
            raise DhpcError(
                f"{where}: no sheet {wanted}: the workbook has {len(names)} "
                f"sheet{'s' if len(names) != 1 else ''} ({listed})"
            )
        wanted = names[wanted - 1]
    elif wanted is not None and wanted not in names:
        raise DhpcError(f"{where}: no sheet {wanted!r}; the sheets are: {listed}")
    if wanted is not None:
        if wanted not in cells:
            raise DhpcError(f"{where}: sheet {wanted!r} is a chart, not a sheet of cells")
        return workbook[wanted]
    with_data = [name for name in cells if _has_data(workbook[name], where)]
    if len(with_data) > 1:
        shown = ", ".join(
            repr(n) + (" (hidden)" if workbook[n].sheet_state != "visible" else "")
            for n in with_data
        )
        raise DhpcError(
            f"{where}: {len(with_data)} sheets have data: {shown}. Name the one to read: "
            + for_source(
                source,
                "sheet: NAME in sources.yaml (or sheet: N, 1 for the first sheet)",
                "delete the others",
            )
        )
    if not cells:
        raise DhpcError(f"{where}: the workbook has no sheet of cells, only charts")
    return workbook[with_data[0] if with_data else cells[0]]


def _row_cells(values: tuple[Any, ...]) -> tuple[list[str], list[int]]:
    """The cells as text, and the indexes of cells Excel holds as dates or times."""
    cells: list[str] = []
    dates: list[int] = []
    for index, value in enumerate(values):
        if value is None:
            cells.append("")
        elif isinstance(value, str):
            cells.append(_unescape(value) if "_x" in value else value)
        else:
            if isinstance(value, _DATES):
                dates.append(index)
            cells.append(_cell_text(value))
    return cells, dates


def _cell_problem(
    number: int, dates: list[int], layout: SheetLayout, columns: ColumnMap, cells: list[str]
) -> str | None:
    mapped = columns.mapped
    for index in dates:
        if index in mapped:
            return (
                f"the cell under {columns.column(index)} is a date in Excel "
                f"({cells[index]}): format the column as text and enter the values again"
            )
    for index in layout.formulas_without_value.get(number, ()):
        if index in mapped:
            return (
                f"the cell under {columns.column(index)} holds a formula whose result is "
                "not saved in the file: open the file in Excel and save it again"
            )
    return None


def xlsx_rows(
    source: AddressSource, info: ReadInfo, progress: Progress | None, require_all: bool
) -> Iterator[RawRow]:
    """Stream the data rows of the sheet (blank rows are counted in ``info``)."""
    where = source.shown
    workbook = _open_workbook(source)
    try:
        sheet = _choose_sheet(workbook, source)
        info.sheet = sheet.title
        layout = scan_layout(source, sheet._worksheet_path)  # openpyxl's path of its XML
        size = source.path.stat().st_size
        per_row = size // layout.rows if layout.rows else 0
        merges = _MergedCells(layout.merged)
        hidden = layout.hidden_rows
        columns: ColumnMap | None = None
        header = 0
        number = 0
        for batch in _batches(sheet.iter_rows(values_only=True), where, sheet.title):
            if progress is not None and per_row:
                progress(per_row * len(batch))
            for values in batch:
                number += 1
                cells, dates = _row_cells(values)
                empty = not any(c.strip() for c in cells)
                active = merges.at(number) if layout.merged else None
                if columns is None:
                    if source.header_row and number != source.header_row:
                        continue
                    if empty:
                        continue
                    columns = ColumnMap(
                        source, cells, where, number=number, require_all=require_all
                    )
                    header = number
                    merges.header(number, columns, where)
                    continue
                if empty:  # cells covered by a merged range above only: nothing of its own
                    info.blank_rows += 1
                    continue
                if hidden and number in hidden:
                    info.hidden_rows += 1
                detail = merges.apply(active, number, cells, columns, header) if active else None
                if detail is not None:
                    yield RawRow(number, {}, detail, "merged-cells")
                    continue
                detail = _cell_problem(number, dates, layout, columns, cells)
                if detail is not None:
                    yield RawRow(number, {}, detail, "bad-cell")
                    continue
                line = "\t".join(cells)  # one test for the row, as for a line of a CSV file
                if (
                    BAD_CONTROL.search(line) is not None
                    or "#" in line
                    or len(line) > MAX_CELL
                    or columns.may_repeat_header(cells)
                ):
                    problem = columns.check(cells, number)
                    if problem is not None:
                        yield RawRow(number, {}, problem[1], problem[0])
                        continue
                mapped, error = columns.map(cells)
                yield RawRow(number, mapped, error)
        if columns is None:
            raise DhpcError(
                f"{where}: no header row found in sheet {sheet.title!r}"
                + (f" at row {source.header_row}" if source.header_row else "")
                + ": the first non-empty row must name the columns"
            )
        info.merged_ranges = merges.filled + merges.rejecting
        if info.hidden_rows:
            logger.warning(
                "%s: %d hidden rows of sheet %r are read like the others",
                where,
                info.hidden_rows,
                sheet.title,
            )
        if info.merged_ranges:
            logger.warning(
                "%s: %d ranges of merged cells in the rows of data: %d give their value to "
                "each row they cover (as Excel shows it), %d reject their rows (see rejects.csv)",
                where,
                info.merged_ranges,
                merges.filled,
                merges.rejecting,
            )
    finally:
        workbook.close()
