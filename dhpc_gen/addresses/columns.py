"""What CSV and XLSX readers share: the header → field map and the checks of one row.

A row is judged by what it holds, never by where it stands: a control character, an
Excel error, an over-long cell or the header row repeated get the same treatment at
row 2 and at row 100,000. Messages name the file, the row and the column, never a
value of the row (values go to ``rejects.csv`` only, which is a private file).
"""

from __future__ import annotations

import re
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from typing import NamedTuple

from dhpc_gen.addresses.normalise import clean
from dhpc_gen.addresses.sources import AddressSource
from dhpc_gen.errors import DhpcError

MAX_LINE = 1 << 16
"""Characters in one row; a longer row is rejected (a register row is a few hundred)."""
MAX_CELL = 1000
"""Characters in one mapped cell; a longer one is rejected (an address line is ~50)."""

# Excel's error values, as a cell shows them and as Excel writes them to CSV.
EXCEL_ERRORS = frozenset(
    {"#NULL!", "#DIV/0!", "#VALUE!", "#REF!", "#NAME?", "#NUM!", "#N/A", "#GETTING_DATA",
     "#SPILL!", "#CALC!", "#FIELD!", "#BLOCKED!", "#CONNECT!", "#BUSY!", "#UNKNOWN!"}
)  # fmt: skip

# Control characters that no register value holds: a damaged or binary part of the file.
# Tab, line feed, carriage return, vertical tab and form feed are white space (FileMaker
# writes a line break inside a cell as a vertical tab).
BAD_CONTROL = re.compile("[\x00-\x08\x0e-\x1f\x7f]")


class RawRow(NamedTuple):
    """One data row: canonical field → text (trimmed, see :func:`clean`), or why not.

    ``number`` is the line in a CSV file where the row starts, or the row number in an
    XLSX sheet. ``reason`` is the reject reason when ``error`` is set.
    """

    number: int
    cells: dict[str, str]
    error: str | None = None
    reason: str = "unreadable"


@dataclass
class ReadInfo:
    """What the reader found out about the file (for the report)."""

    encoding: str | None = None
    delimiter: str | None = None
    sheet: str | None = None
    blank_rows: int = 0
    hidden_rows: int = 0
    merged_ranges: int = 0


def header_key(text: str) -> str:
    """Headers match case-insensitively, ignoring spaces around and inside."""
    return " ".join(text.replace("\ufeff", "").split()).casefold()


def for_source(source: AddressSource, register: str, other: str) -> str:
    """A hint naming a sources.yaml setting for a register, another for other files.

    The suppression list is read with the same readers but has no settings of its own.
    """
    return register if source.kind == "register" else other


def check_header_cells(cells: Sequence[str], where: str, number: int) -> None:
    """A header row with a control character is a damaged file, not a row to skip."""
    for index, cell in enumerate(cells):
        found = BAD_CONTROL.search(cell)
        if found is not None:
            raise DhpcError(
                f"{where}: row {number} (the header row) has a control character "
                f"(U+{ord(found.group()):04X}) in column {index + 1}: the file is damaged; "
                "export it again"
            )


def _looks_like_data(cells: Sequence[str]) -> bool:
    return any("@" in cell or any(c.isdigit() for c in cell) for cell in cells)


class ColumnMap:
    """Which cell of a row goes to which canonical field, from the header row."""

    def __init__(
        self,
        source: AddressSource,
        headers: Sequence[str],
        where: str,
        *,
        number: int = 1,
        require_all: bool = True,
    ) -> None:
        check_header_cells(headers, where, number)
        self.where = where
        self.number = number
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
        self.headers = tuple(" ".join(h.split()) for h in headers)
        pairs: list[tuple[int, str]] = []
        missing = []
        for header, field in source.columns.items():
            key = header_key(header)
            if key in duplicates:
                raise DhpcError(
                    f"{where}: the header {header!r} appears more than once in row {number}; "
                    + for_source(
                        source,
                        f"rename one column in the file or map another header in {source.name!r}",
                        "rename one of the columns",
                    )
                )
            if key in found:
                pairs.append((found[key], field))
            elif require_all:
                missing.append(header)
        if missing:
            raise DhpcError(self._missing_message(source, headers, missing, pairs))
        if not pairs:
            # Nothing to read at all (only a file whose columns are optional gets here).
            fields = ", ".join(sorted(set(source.columns.values())))
            raise DhpcError(
                f"{where}: row {number}, taken as the header row, names none of the columns "
                f"({fields}; Finnish and Swedish headers such as sähköposti, nimi and "
                "postinumero work too): is the header row missing?"
            )
        by_field: dict[str, list[int]] = {}
        for index, field in sorted(pairs):
            by_field.setdefault(field, []).append(index)
        for field, listed in source.joins.items():
            # In the order sources.yaml lists them ("street: [Rue, Numéro]").
            order = {header_key(h): n for n, h in enumerate(listed)}
            if field in by_field:
                by_field[field].sort(key=lambda i: order.get(header_key(self.headers[i]), 0))
        self.single = tuple(
            (ix[0], field)
            for field, ix in by_field.items()
            if len(ix) == 1 and field not in source.joins
        )
        # Headers joined into one field (street and house number): with a space, in order.
        self.joined = tuple(
            (field, tuple(ix))
            for field, ix in by_field.items()
            if len(ix) > 1 or field in source.joins
        )
        self.mapped = tuple(sorted(index for index, _ in pairs))
        self._keys = {header_key(headers[i]): i for i in self.mapped}
        # The header row again mid-file: its cells as they are, for a cheap first test.
        self._texts = frozenset(
            variant
            for header in headers
            if header.strip()
            for variant in (header, header.strip(), header.strip().casefold())
        )

    def _missing_message(
        self,
        source: AddressSource,
        headers: Sequence[str],
        missing: Sequence[str],
        pairs: Sequence[tuple[int, str]],
    ) -> str:
        where, number = self.where, self.number
        head = (
            f"{where}: row {number}, taken as the header row, has no column "
            f"{', '.join(repr(m) for m in missing)}"
            + for_source(source, f" (mapped under columns in sources.yaml for {source.name!r})", "")
        )
        if pairs:
            # Some mapped headers are in the row: it is the header row, its cells are headers.
            shown = ", ".join(repr(h) for h in headers if h.strip())
            return f"{head}. The headers in the file are: {shown}"
        # None is: the row may be a person's (a file without a header row). Print none of it.
        tail = (
            f". None of the mapped headers is in that row ({len(headers)} cells"
            + (
                ", with digits or an e-mail address: it looks like data"
                if _looks_like_data(headers)
                else ""
            )
            + "): is the header row missing?"
        )
        if source.kind == "register" and not source.header_row:
            tail += " If the headers are in a later row, set header_row: N (its row number)"
        return head + tail

    def column(self, index: int) -> str:
        """How a message names a column: its header, or its number."""
        header = self.headers[index] if index < self.width else ""
        return repr(header) if header else f"column {index + 1}"

    def may_repeat_header(self, cells: Sequence[str]) -> bool:
        """A cheap first test that the row may be the header row again."""
        return not self._texts.isdisjoint(cells)

    def check(self, cells: Sequence[str], number: int) -> tuple[str, str] | None:
        """(reject reason, detail) when the row cannot be used as it stands, else None.

        Raises :class:`DhpcError` when the row is the header row with its columns in
        another order: the rows after it would be read under the wrong headers.
        """
        for index, cell in enumerate(cells):
            found = BAD_CONTROL.search(cell)
            if found is not None:
                return "unreadable", (
                    f"the row has a control character (U+{ord(found.group()):04X}) under "
                    f"{self.column(index)}: the file is damaged there"
                )
        count = len(cells)
        if self.mapped and self.may_repeat_header(cells):
            keys: dict[str, int] = {}
            for index, cell in enumerate(cells):
                keys.setdefault(header_key(cell), index)
            if all(keys.get(key) == i for key, i in self._keys.items()):
                return "repeated-header", "the header row again (were two exports joined?)"
            if len(self.mapped) > 1 and 2 * len(keys.keys() & self._keys.keys()) >= len(
                self.mapped
            ):
                raise DhpcError(
                    f"{self.where}: row {number} repeats the headers of row {self.number} "
                    "in another order (were two exports joined?): the rows below it would be "
                    "read under the wrong headers; split the file, or export the register again"
                )
        for index in self.mapped:
            if index >= count:
                break
            cell = cells[index].strip()
            if len(cell) > MAX_CELL:
                return "bad-cell", (
                    f"the cell under {self.column(index)} has {len(cell)} characters "
                    f"(at most {MAX_CELL})"
                )
            if cell in EXCEL_ERRORS:
                return "bad-cell", (
                    f"the cell under {self.column(index)} shows an Excel error ({cell})"
                )
        return None

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
