"""``dhpc mailing-list`` on hostile and clumsy register files.

- The same input gets the same treatment wherever it stands in the file: a NUL byte, a
  header row repeated, an over-long cell, a quoted line break, the first non-ASCII
  byte at row 2 or at row 5,000.
- An XLSX workbook is read as Excel shows it (the sheet named or the only one with
  data, merged cells, hidden rows, formulas, dates), never by a silent guess.
- No message or log shows a value of a person: only files, rows, columns and counts.
- Two people with one name in one postal code but on different streets stay two
  people; the pair is listed as a possible duplicate for a human.
- Every hint names a setting that exists where it is given.

Each refusal leaves the output folder exactly as it was.
"""

from __future__ import annotations

import codecs
import csv
import io
import json
import logging
import re
import shutil
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailing_helpers import LTK, MS
from openpyxl import Workbook

from dhpc_gen.addresses import load_sources
from dhpc_gen.addresses.readers import RawRow, ReadInfo, read_rows
from dhpc_gen.addresses.sources import _SourceEntry
from dhpc_gen.cli import main

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "content" / "lemtrada-2019"

HEADERS = ["Etunimi", "Sukunimi", "Katuosoite", "Postinumero", "Postitoimipaikka", "Sähköposti"]
COLUMNS = """\
    columns:
      Etunimi: first_name
      Sukunimi: last_name
      Katuosoite: street
      Postinumero: postal_code
      Postitoimipaikka: city
      Sähköposti: email
"""

# A person no message may show: each of these values is distinctive.
SECRET_FIRST = "Zebulon"
SECRET_LAST = "Quuxington"
SECRET_STREET = "Salakuja 13"
SECRET_EMAIL = "zebulon.quuxington@leak.example"
SECRET = [SECRET_FIRST, SECRET_LAST, SECRET_STREET, SECRET_EMAIL]
SECRET_ROW = [SECRET_FIRST, SECRET_LAST, SECRET_STREET, "00130", "Helsinki", SECRET_EMAIL]


def person(n: int) -> list[str]:
    """A usable row of a person of their own (no two share a name word)."""
    return [f"Etu{n}", f"Virtanen{n}", f"Katu {n}", f"{n % 900 + 100:05d}", "Helsinki", ""]


def csv_bytes(
    rows: Sequence[Sequence[object]], delimiter: str = ";", encoding: str = "utf-8"
) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def workbook(
    path: Path,
    sheets: dict[str, list[list[object]]],
    *,
    hidden_sheets: Sequence[str] = (),
    merged: Sequence[str] = (),
    hidden_rows: Sequence[int] = (),
) -> None:
    """An XLSX workbook; merged ranges and hidden rows on the first sheet."""
    book = Workbook()
    first = book.active
    assert first is not None
    for index, (title, rows) in enumerate(sheets.items()):
        sheet = first if index == 0 else book.create_sheet()
        sheet.title = title
        for row in rows:
            sheet.append(row)
        if title in hidden_sheets:
            sheet.sheet_state = "hidden"
    for ref in merged:
        first.merge_cells(ref)
    for number in hidden_rows:
        first.row_dimensions[number].hidden = True
    book.save(path)


def edit_sheet(
    path: Path, change: Callable[[str], str], member: str = "xl/worksheets/sheet1.xml"
) -> None:
    """Change the XML of a sheet, as another program than openpyxl would write it."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    parts[member] = change(parts[member].decode("utf-8")).encode("utf-8")
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)


class Case:
    """A DHPC folder with one register, its output folder, and the command to run."""

    def __init__(self, root: Path, name: str = "rekisteri.csv", source: str = LTK) -> None:
        self.content = root / "content"
        self.content.mkdir(parents=True)
        for part in ("dhpc.yaml", "sv.yaml", "fi.yaml"):
            shutil.copy(EXAMPLE / part, self.content / part)
        (self.content / "registers").mkdir()
        self.register = self.content / "registers" / name
        self.out = root / "out"
        self.source = source
        self.extra = ""
        self.suppression: str | None = None

    @property
    def mailing(self) -> Path:
        return self.out / "lemtrada-2019" / "mailing"

    def write(self, data: bytes | None = None, *, extra: str | None = None) -> None:
        if data is not None:
            self.register.write_bytes(data)
        if extra is not None:
            self.extra = extra
        tail = f"suppression: {self.suppression}\n" if self.suppression else ""
        (self.content / "sources.yaml").write_text(
            f"sources:\n  - name: {self.source}\n    path: registers/{self.register.name}\n"
            f"{self.extra}{COLUMNS}{tail}",
            encoding="utf-8",
        )

    def run(self, *options: str) -> tuple[int, str, str]:
        args = ["-v", "mailing-list", str(self.content), "--everyone", "--out", str(self.out)]
        result = CliRunner().invoke(main, [*args, *options])
        assert result.exception is None or isinstance(result.exception, SystemExit), (
            result.exception
        )
        assert "Traceback" not in result.stderr
        return result.exit_code, result.stdout, result.stderr

    def report(self) -> dict[str, object]:
        data = json.loads((self.mailing / "report.json").read_text(encoding="utf-8"))
        assert isinstance(data, dict)
        return data

    def rejects(self) -> list[dict[str, str]]:
        with (self.mailing / "rejects.csv").open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def duplicates(self) -> list[dict[str, str]]:
        with (self.mailing / "duplicates.csv").open(encoding="utf-8", newline="") as handle:
            return list(csv.DictReader(handle))

    def snapshot(self) -> dict[str, tuple[bytes, int]]:
        """Every file of the output folder: its bytes and its mode."""
        return {
            str(path.relative_to(self.out)): (path.read_bytes(), path.stat().st_mode)
            for path in sorted(self.out.rglob("*"))
            if path.is_file()
        }

    def refused(self, data: bytes, *, extra: str = "") -> str:
        """After a good run, write the hostile input: exit 1, the output folder as it was."""
        self.write(csv_bytes([HEADERS, person(1)]), extra="")
        code, _, err = self.run()
        assert code == 0, err
        before = self.snapshot()
        self.write(data, extra=extra)
        code, out, err = self.run()
        assert code == 1, (out, err)
        assert self.snapshot() == before
        return err


def reject_of(case: Case, row: int) -> dict[str, str]:
    found = [r for r in case.rejects() if r["row"] == str(row)]
    assert len(found) == 1, case.rejects()
    return found[0]


# --- The same input, the same treatment, wherever it stands ----------------------------


@pytest.mark.parametrize("at", [2, 1500, 5000])
def test_a_nul_byte_rejects_its_row_wherever_it_stands(tmp_path: Path, at: int) -> None:
    rows: list[list[object]] = [HEADERS, *(person(n) for n in range(2, 5002))]
    rows[at - 1][1] = f"Virta\x00nen{at}"
    case = Case(tmp_path)
    case.write(csv_bytes(rows))
    code, _, err = case.run()
    assert code == 0, err
    reject = reject_of(case, at)
    assert reject["reason"] == "unreadable"
    assert reject["detail"] == (
        "the row has a control character (U+0000) under 'Sukunimi': the file is damaged there"
    )
    assert case.report()["rejected"] == 1
    assert case.report()["recipients"] == 4999


def test_a_nul_byte_in_the_header_row_refuses_the_file(tmp_path: Path) -> None:
    case = Case(tmp_path)
    err = case.refused(csv_bytes([["Etunimi", "Suku\x00nimi", *HEADERS[2:]], SECRET_ROW]))
    assert (
        "registers/rekisteri.csv: row 1 (the header row) has a control character (U+0000) "
        "in column 2: the file is damaged; export it again"
    ) in err


def test_a_binary_file_is_refused_but_a_text_file_with_a_damaged_row_is_not(tmp_path: Path) -> None:
    text = csv_bytes([HEADERS, *(person(n) for n in range(2, 200))])
    case = Case(tmp_path)
    case.write(text + b"\x00\x01\x02\x03" * 8)  # a few damaged bytes: one bad row
    code, _, err = case.run()
    assert code == 0, err
    assert [r["reason"] for r in case.rejects()] == ["unreadable"]
    err = case.refused(text + bytes(range(256)) * 40)  # a binary tail: not a text file
    assert "registers/rekisteri.csv: not a text file (it contains binary data)" in err


@pytest.mark.parametrize("at", [2, 5000])
@pytest.mark.parametrize(("encoding", "detected"), [("utf-8", "utf-8"), ("cp1252", "cp1252")])
def test_the_encoding_is_found_wherever_the_first_non_ascii_byte_stands(
    tmp_path: Path, at: int, encoding: str, detected: str
) -> None:
    rows: list[list[object]] = [
        [h.replace("ä", "a").replace("ö", "o") for h in HEADERS],
        *(person(n) for n in range(2, 5002)),
    ]
    rows[at - 1][1] = "Öhman"
    case = Case(tmp_path)
    case.write(csv_bytes(rows, encoding=encoding))
    (case.content / "sources.yaml").write_text(
        (case.content / "sources.yaml").read_text("utf-8").replace("Sähköposti", "Sahkoposti"),
        encoding="utf-8",
    )
    code, _, err = case.run()
    assert code == 0, err
    assert case.report()["sources"][0]["encoding"] == detected  # type: ignore[index]
    with (case.mailing / "recipients.csv").open(encoding="utf-8") as handle:
        assert "Öhman" in handle.read()


@pytest.mark.parametrize("at", [2, 5000])
def test_the_header_row_again_is_rejected_wherever_it_stands(tmp_path: Path, at: int) -> None:
    rows: list[list[object]] = [HEADERS, *(person(n) for n in range(2, 5002))]
    rows[at - 1] = list(HEADERS)
    case = Case(tmp_path)
    case.write(csv_bytes(rows))
    code, _, err = case.run()
    assert code == 0, err
    reject = reject_of(case, at)
    assert (reject["reason"], reject["detail"]) == (
        "repeated-header",
        "the header row again (were two exports joined?)",
    )


def test_the_header_row_again_in_another_order_refuses_the_file(tmp_path: Path) -> None:
    rows = [HEADERS, *(person(n) for n in range(2, 40)), HEADERS[::-1], SECRET_ROW[::-1]]
    err = Case(tmp_path).refused(csv_bytes(rows))
    assert ("registers/rekisteri.csv: row 40 repeats the headers of row 1 in another order") in err


@pytest.mark.parametrize("at", [2, 5000])
def test_an_over_long_cell_or_an_excel_error_rejects_its_row(tmp_path: Path, at: int) -> None:
    rows: list[list[object]] = [HEADERS, *(person(n) for n in range(2, 5002))]
    rows[at - 1][2] = "Katu " + "x" * 1500
    rows[at][3] = "#N/A"
    case = Case(tmp_path)
    case.write(csv_bytes(rows))
    code, _, err = case.run()
    assert code == 0, err
    assert reject_of(case, at)["detail"] == (
        "the cell under 'Katuosoite' has 1505 characters (at most 1000)"
    )
    assert reject_of(case, at + 1)["detail"] == (
        "the cell under 'Postinumero' shows an Excel error (#N/A)"
    )
    assert {r["reason"] for r in case.rejects()} == {"bad-cell"}


@pytest.mark.parametrize("at", [2, 5000])
def test_quotes_are_read_the_same_wherever_they_stand(tmp_path: Path, at: int) -> None:
    rows: list[list[object]] = [HEADERS, *(person(n) for n in range(2, 5002))]
    text = csv_bytes(rows).decode()
    lines = text.split("\r\n")
    # A quoted line break, and a quote inside a value (not at its start: no quoting).
    lines[at - 1] = f'Etu{at};"Virtanen{at}";"Katu\r\n{at} A 1";{at % 900 + 100:05d};Helsinki;'
    lines[at] = f'Etu{at + 1};O"Brien;Katu {at + 1};{(at + 1) % 900 + 100:05d};Helsinki;'
    case = Case(tmp_path)
    case.write("\r\n".join(lines).encode())
    code, _, err = case.run()
    assert code == 0, err
    assert case.rejects() == []
    with (case.mailing / "recipients.csv").open(encoding="utf-8", newline="") as handle:
        recipients = {r["first_name"]: r for r in csv.DictReader(handle)}
    assert recipients[f"Etu{at}"]["street"] == f"Katu {at} A 1"
    assert recipients[f"Etu{at + 1}"]["last_name"] == 'O"Brien'
    assert case.report()["rows_read"] == 5000


def test_trailing_empty_columns_and_short_rows_are_read(tmp_path: Path) -> None:
    rows: list[list[object]] = [
        [*HEADERS, "", "", ""],
        [*person(2), "", "", "", "", ""],
        ["Etu3", "Virtanen3", "", "", "", "etu3@example.fi"],
        ["Etu4", "Virtanen4", "Katu 4"],  # the rest of the row is missing
        [*person(5), "", "", "", "extra"],
    ]
    case = Case(tmp_path)
    case.write(csv_bytes(rows))
    code, _, err = case.run()
    assert code == 0, err
    assert [(r["row"], r["reason"]) for r in case.rejects()] == [
        ("4", "incomplete-address"),
        ("5", "unreadable"),
    ]
    assert case.rejects()[1]["detail"] == (
        "the row has 10 cells but the header has 9 (a delimiter inside an unquoted value?)"
    )
    assert case.report()["recipients"] == 2


# --- XLSX: the sheet -------------------------------------------------------------------


def test_two_sheets_with_data_and_none_named_is_refused(tmp_path: Path) -> None:
    case = Case(tmp_path, "jasenet.xlsx", MS)
    workbook(case.register, {"Jäsenet": [HEADERS, person(2)]})
    case.write()
    code, _, err = case.run()
    assert code == 0, err
    before = case.snapshot()
    workbook(
        case.register,
        {"Jäsenet": [HEADERS, person(2)], "Tyhjä": [], "Vanhat": [HEADERS, SECRET_ROW]},
        hidden_sheets=["Vanhat"],
    )
    code, _, err = case.run()
    assert code == 1
    assert (
        "registers/jasenet.xlsx: 2 sheets have data: 'Jäsenet', 'Vanhat' (hidden). Name the "
        "one to read: sheet: NAME in sources.yaml (or sheet: N, 1 for the first sheet)"
    ) in err
    assert case.snapshot() == before

    for sheet, name in (("3", "Vanhat"), ("Jäsenet", "Jäsenet"), ("1", "Jäsenet")):
        case.write(extra=f"    sheet: {sheet}\n")
        code, _, err = case.run()
        assert code == 0, err
        assert case.report()["sources"][0]["sheet"] == name  # type: ignore[index]
    case.write(extra="    sheet: 4\n")
    code, _, err = case.run()
    assert code == 1
    assert "no sheet 4: the workbook has 3 sheets ('Jäsenet', 'Tyhjä', 'Vanhat')" in err


def test_the_only_sheet_with_data_is_read_and_named_in_the_report(tmp_path: Path) -> None:
    case = Case(tmp_path, "jasenet.xlsx", MS)
    workbook(case.register, {"Ohje": [], "Jäsenet": [HEADERS, person(2)]})
    case.write()
    code, _, err = case.run()
    assert code == 0, err
    assert case.report()["sources"][0]["sheet"] == "Jäsenet"  # type: ignore[index]
    assert case.report()["recipients"] == 1


def test_sheet_is_for_workbooks_and_is_a_name_or_a_number(tmp_path: Path) -> None:
    case = Case(tmp_path)
    case.write(csv_bytes([HEADERS, person(2)]), extra="    sheet: Jäsenet\n")
    code, _, err = case.run()
    assert code == 1 and "sources[0].sheet: sheet applies to XLSX workbooks only" in err
    case = Case(tmp_path / "b", "jasenet.xlsx", MS)
    workbook(case.register, {"Jäsenet": [HEADERS, person(2)]})
    for wrong in ("0", "true", "1.5"):
        case.write(extra=f"    sheet: {wrong}\n")
        code, _, err = case.run()
        assert code == 1
        assert "sources.yaml:4 sources[0].sheet: give the sheet's name, or its number" in err
        assert "Tuple should have" not in err


# --- XLSX: what read-only mode does not show ------------------------------------------


@pytest.mark.parametrize("at", [3, 300])
def test_merged_cells_read_as_excel_shows_them(
    tmp_path: Path, at: int, caplog: pytest.LogCaptureFixture
) -> None:
    rows: list[list[object]] = [HEADERS, *(person(n) for n in range(2, 400))]
    # One city beside three people (only the first cell of a merged range has a value).
    for n in (at + 1, at + 2):
        rows[n - 1][4] = None
    # A section title across the whole row, and two rows that are one taller row.
    rows[at + 3 - 1] = ["Espoon toimipiste", None, None, None, None, None]
    rows[at + 5 - 1] = [None] * 6
    case = Case(tmp_path, "jasenet.xlsx", MS)
    workbook(
        case.register,
        {"Jäsenet": rows},
        merged=[f"E{at}:E{at + 2}", f"A{at + 3}:F{at + 3}", f"B{at + 4}:B{at + 5}"],
    )
    case.write()
    code, _, err = case.run()
    assert code == 0, err
    assert [(r["row"], r["reason"], r["detail"]) for r in case.rejects()] == [
        (
            str(at + 3),
            "merged-cells",
            f"the cells A{at + 3}:F{at + 3} are merged across the columns 'Etunimi' and "
            "'Sukunimi' and 'Katuosoite' and 'Postinumero' and 'Postitoimipaikka' and "
            "'Sähköposti': unmerge them in Excel",
        )
    ]
    source = case.report()["sources"][0]  # type: ignore[index]
    assert (source["rows_read"], source["blank_rows"], source["merged_ranges"]) == (397, 1, 3)
    assert case.report()["recipients"] == 396
    assert "3 ranges of merged cells in the rows of data: 2 give their value" in caplog.text


def test_hidden_rows_are_read_and_counted(tmp_path: Path, caplog: pytest.LogCaptureFixture) -> None:
    case = Case(tmp_path, "jasenet.xlsx", MS)
    workbook(
        case.register,
        {"Jäsenet": [HEADERS, *(person(n) for n in range(2, 12))]},
        hidden_rows=[4, 7],
    )
    case.write()
    code, _, err = case.run()
    assert code == 0, err
    assert case.report()["sources"][0]["hidden_rows"] == 2  # type: ignore[index]
    assert case.report()["recipients"] == 10
    assert "2 hidden rows of sheet 'Jäsenet' are read like the others" in caplog.text


def test_formulas_dates_errors_and_escapes_in_a_workbook(tmp_path: Path) -> None:
    import datetime as dt

    rows: list[list[object]] = [HEADERS, *(person(n) for n in range(2, 9))]
    rows[1][4] = '=UPPER("Espoo")'  # row 2: a formula with its result saved (below)
    rows[2][4] = '=UPPER("Vantaa")'  # row 3: a formula whose result was never saved
    rows[3][3] = dt.datetime(1900, 4, 9)  # row 4: the postal code 00100 typed as a date
    rows[4][1] = "Virta_x0000_nen5"  # row 5: a NUL as Excel writes it in XML
    rows[5][4] = "#REF!"  # row 6: an Excel error
    case = Case(tmp_path, "jasenet.xlsx", MS)
    workbook(case.register, {"Jäsenet": rows})
    edit_sheet(
        case.register,
        lambda xml: re.sub(
            r'<c r="E2"><f>UPPER\("Espoo"\)</f><v ?/>|<c r="E2"><f>UPPER\("Espoo"\)</f><v></v>',
            '<c r="E2" t="str"><f>UPPER("Espoo")</f><v>ESPOO</v>',
            xml,
        ),
    )
    case.write()
    code, _, err = case.run()
    assert code == 0, err
    assert [(r["row"], r["reason"], r["detail"]) for r in case.rejects()] == [
        ("3", "bad-cell", "the cell under 'Postitoimipaikka' holds a formula whose result is "
         "not saved in the file: open the file in Excel and save it again"),
        ("4", "bad-cell", "the cell under 'Postinumero' is a date in Excel (1900-04-09): "
         "format the column as text and enter the values again"),
        ("5", "unreadable", "the row has a control character (U+0000) under 'Sukunimi': the "
         "file is damaged there"),
        ("6", "bad-cell", "the cell under 'Postitoimipaikka' shows an Excel error (#REF!)"),
    ]  # fmt: skip
    with (case.mailing / "recipients.csv").open(encoding="utf-8", newline="") as handle:
        cities = {r["first_name"]: r["city"] for r in csv.DictReader(handle)}
    assert cities["Etu2"] == "ESPOO"


def test_a_dimension_too_small_does_not_cut_the_sheet(tmp_path: Path) -> None:
    case = Case(tmp_path, "jasenet.xlsx", MS)
    workbook(case.register, {"Jäsenet": [HEADERS, *(person(n) for n in range(2, 30))]})
    edit_sheet(
        case.register, lambda xml: re.sub(r'<dimension ref="[^"]*"', '<dimension ref="A1:F3"', xml)
    )
    case.write()
    code, _, err = case.run()
    assert code == 0, err
    assert case.report()["rows_read"] == 28


# --- No personal data on the terminal ---------------------------------------------------


def _no_header(case: Case) -> None:
    case.write(csv_bytes([SECRET_ROW, person(2)]))


def _no_header_xlsx(case: Case) -> None:
    workbook(case.register, {"Jäsenet": [SECRET_ROW, person(2)]})
    case.write()


def _header_row_at_a_person(case: Case) -> None:
    case.write(csv_bytes([HEADERS, SECRET_ROW, person(2)]), extra="    header_row: 2\n")


def _header_with_a_typo(case: Case) -> None:
    case.write(csv_bytes([["Etunimi", "Sukunimi", "Katu", *HEADERS[3:]], SECRET_ROW]))


def _headers_in_another_order(case: Case) -> None:
    case.write(csv_bytes([HEADERS, SECRET_ROW, HEADERS[::-1], SECRET_ROW[::-1]]))


def _damaged_number_cell(case: Case) -> None:
    workbook(case.register, {"Jäsenet": [HEADERS, [*SECRET_ROW[:3], 130, *SECRET_ROW[4:]]]})
    edit_sheet(case.register, lambda xml: xml.replace("<v>130</v>", f"<v>{SECRET_LAST}</v>"))
    case.write()


def _wrong_encoding_given(case: Case) -> None:
    secret = [*SECRET_ROW[:2], "Salakatu 13 ä", *SECRET_ROW[3:]]
    case.write(
        csv_bytes([HEADERS]) + csv_bytes([secret], encoding="cp1252"),
        extra="    encoding: utf-8\n",
    )


def _two_sheets(case: Case) -> None:
    workbook(case.register, {"Jäsenet": [HEADERS, SECRET_ROW], "Vanhat": [HEADERS, SECRET_ROW]})
    case.write()


def _suppression(rows: bytes) -> Callable[[Case], None]:
    def setup(case: Case) -> None:
        (case.content / "registers" / "kiellot.csv").write_bytes(rows)
        case.suppression = "registers/kiellot.csv"
        case.write(csv_bytes([HEADERS, SECRET_ROW, person(2)]))

    return setup


ERROR_PATHS: dict[str, tuple[str, Callable[[Case], None], str]] = {
    "no header row": ("rekisteri.csv", _no_header, "row 1, taken as the header row, has no"),
    "no header row (xlsx)": ("jasenet.xlsx", _no_header_xlsx, "looks like data"),
    "header_row at a person": ("rekisteri.csv", _header_row_at_a_person, "row 2, taken as"),
    "header with a typo": ("rekisteri.csv", _header_with_a_typo, "has no column 'Katuosoite'"),
    "headers in another order": ("rekisteri.csv", _headers_in_another_order, "row 3 repeats"),
    "text in a number cell": ("jasenet.xlsx", _damaged_number_cell, "is damaged at row 2"),
    "wrong encoding given": (
        "rekisteri.csv", _wrong_encoding_given, "not valid utf-8 text at line 2"
    ),
    "two sheets": ("jasenet.xlsx", _two_sheets, "2 sheets have data"),
    "suppression list without a header": (
        "rekisteri.csv",
        _suppression(f"{SECRET_EMAIL},{SECRET_FIRST} {SECRET_LAST},00130\n".encode()),
        "kiellot.csv: row 1, taken as the header row, names none of the columns",
    ),
    "suppression list with unusable rows": (
        "rekisteri.csv",
        _suppression(f"name,postal_code\n{SECRET_FIRST} {SECRET_LAST},\n".encode()),
        "kiellot.csv: rows 2: each row needs",
    ),
    "suppression list in UTF-16 without a BOM": (
        "rekisteri.csv", _suppression(f"email\n{SECRET_EMAIL}\n".encode("utf-16-le")),
        "kiellot.csv: looks like UTF-16 without a byte-order mark",
    ),
}  # fmt: skip


@pytest.mark.parametrize("path", list(ERROR_PATHS))
def test_no_message_or_log_shows_a_value_of_a_person(
    tmp_path: Path, path: str, caplog: pytest.LogCaptureFixture
) -> None:
    caplog.set_level(logging.DEBUG)
    name, setup, expected = ERROR_PATHS[path]
    case = Case(tmp_path, name, MS if name.endswith(".xlsx") else LTK)
    setup(case)
    code, out, err = case.run()
    assert code == 1, (out, err)
    assert expected in err
    shown = (out + err + caplog.text).casefold()
    for value in SECRET:
        assert value.casefold() not in shown, (value, err)


def test_rejected_rows_show_counts_only_on_the_terminal(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    """Every reject reason, with the person's values: they go to rejects.csv only."""
    rows: list[list[object]] = [
        HEADERS,
        ["", "", SECRET_STREET, "00130", "Helsinki", SECRET_EMAIL],  # no-name
        [SECRET_FIRST, SECRET_LAST, "", "", "", ""],  # no-address-or-email
        [SECRET_FIRST, SECRET_LAST, SECRET_STREET, "ABC13", "Helsinki", ""],  # postal code
        [SECRET_FIRST, SECRET_LAST, SECRET_STREET, "", "Helsinki", ""],  # incomplete address
        [SECRET_FIRST, SECRET_LAST, "", "", "", "zebulon(at)leak"],  # invalid e-mail
        [SECRET_FIRST, SECRET_LAST, SECRET_STREET, "00130", "Helsinki", SECRET_EMAIL, "x"],
        [f"{SECRET_FIRST}\x00", SECRET_LAST, SECRET_STREET, "00130", "Helsinki", ""],
        [SECRET_FIRST, SECRET_LAST, SECRET_STREET * 100, "00130", "Helsinki", ""],
        list(HEADERS),
    ]
    case = Case(tmp_path)
    case.write(csv_bytes(rows))
    caplog.set_level(logging.DEBUG)
    code, out, err = case.run()
    assert code == 0, err
    assert len(case.rejects()) == 9
    assert "No recipients" in err
    for value in SECRET:
        assert value.casefold() not in (out + err + caplog.text).casefold(), value
    assert SECRET_LAST in (case.mailing / "rejects.csv").read_text(encoding="utf-8")


# --- The dedupe does not merge strangers ------------------------------------------------

KORHONEN = ["Mikko", "Korhonen", "Kotikatu 3", "00100", "Helsinki", ""]


def _registers(case: Case, *rows: list[object], ids: Sequence[str] = ()) -> None:
    headers = [*HEADERS, "Tunnus"] if ids else HEADERS
    body = [[*row, ids[i]] if ids else row for i, row in enumerate(rows)]
    case.write(csv_bytes([headers, *body]), extra="")
    if ids:
        (case.content / "sources.yaml").write_text(
            (case.content / "sources.yaml")
            .read_text("utf-8")
            .replace("    columns:\n", "    columns:\n      Tunnus: id\n"),
            encoding="utf-8",
        )


def test_one_name_in_one_postal_code_on_two_streets_is_two_people(tmp_path: Path) -> None:
    case = Case(tmp_path)
    other = ["Mikko", "KORHONEN", "Rantatie 8 B 4", "00100", "Helsinki", "mk@koti.example"]
    _registers(case, KORHONEN, other)
    code, out, err = case.run()
    assert code == 0, err
    assert "recipients 2 (" in out
    assert "possible duplicates 1: kept apart, check them in duplicates.csv" in out
    assert case.report()["possible_duplicates"] == 1
    assert case.report()["duplicates_merged"] == 0
    [pair] = case.duplicates()
    assert (pair["match"], pair["outcome"], pair["other_outcome"]) == (
        "possible", "recipient", "recipient"
    )  # fmt: skip
    assert pair["recipient_id"] != pair["other_recipient_id"]
    assert (pair["kept_row"], pair["other_row"]) == ("2", "3")
    assert (pair["kept_address"], pair["other_address"]) == (
        "Kotikatu 3, 00100 Helsinki", "Rantatie 8 B 4, 00100 Helsinki"
    )  # fmt: skip
    with (case.mailing / "recipients.csv").open(encoding="utf-8", newline="") as handle:
        ids = {r["recipient_id"] for r in csv.DictReader(handle)}
    assert ids == {pair["recipient_id"], pair["other_recipient_id"]}


@pytest.mark.parametrize(
    ("street", "email", "ids", "match"),
    [
        ("Kotikatu 17", "", (), "possible"),  # another house on the street
        ("KOTIKATU 3 A 5", "", (), "merged"),  # the same house, the flat given
        ("Rantatie 8", "mikko@hus.example", (), "merged"),  # a shared e-mail
        ("Rantatie 8", "", ("17", "17"), "merged"),  # one register's id twice
        ("Rantatie 8", "", ("17", "18"), "possible"),
    ],
)
def test_a_shared_email_or_id_or_house_says_one_person(
    tmp_path: Path, street: str, email: str, ids: tuple[str, ...], match: str
) -> None:
    case = Case(tmp_path)
    first = [*KORHONEN[:5], email]
    second = ["Mikko", "Korhonen", street, "00100", "Helsinki", email]
    _registers(case, first, second, ids=ids)
    code, _, err = case.run()
    assert code == 0, err
    assert [d["match"] for d in case.duplicates()] == [match]
    assert case.report()["recipients"] == (1 if match == "merged" else 2)


def test_a_third_row_does_not_join_two_strangers(tmp_path: Path) -> None:
    """An e-mail-only row like both Mikkos joins one of them, never both into one person."""
    case = Case(tmp_path)
    both = ["Mikko", "Korhonen", "", "00100", "", "mikko.korhonen@example.fi"]
    _registers(case, KORHONEN, ["Mikko", "Korhonen", "Rantatie 8", "00100", "Helsinki", ""], both)
    code, _, err = case.run()
    assert code == 0, err
    assert case.report()["recipients"] == 2
    matches = sorted((d["match"], d["kept_row"], d["other_row"]) for d in case.duplicates())
    assert matches == [("merged", "2", "4"), ("possible", "2", "3"), ("possible", "3", "4")]


# --- Hints name settings that exist -----------------------------------------------------


def test_every_hint_names_a_setting_of_sources_yaml() -> None:
    settings = set(_SourceEntry.model_fields)
    hinted = set()
    for module in (PROJECT / "dhpc_gen" / "addresses").glob("*.py"):
        hinted |= set(re.findall(r"\b(?:set|add) (\w+):", module.read_text("utf-8")))
    assert hinted, "no hints found: the pattern is out of date"
    assert hinted <= settings, hinted - settings


@pytest.mark.parametrize(
    ("data", "expected"),
    [
        ("email\nmatti@hus.example\n".encode("utf-16-le"), "save it as UTF-8 CSV"),
        (b"PK\x03\x04" + b"\x00" * 64, "this is an Excel workbook (XLSX), not CSV: save it as CSV"),
        (bytes(range(256)) * 8, "not a text file (it contains binary data): save it as CSV"),
        ("email\nmatti@hüs_example\n".encode("cp1252"), None),
    ],
    ids=["utf-16 without a bom", "xlsx", "binary", "cp1252"],
)
def test_a_suppression_list_gets_hints_it_can_follow(
    tmp_path: Path, data: bytes, expected: str | None
) -> None:
    case = Case(tmp_path)
    case.write(csv_bytes([HEADERS, person(2)]))
    code, _, err = case.run()
    assert code == 0, err
    before = case.snapshot()
    (case.content / "registers" / "kiellot.csv").write_bytes(data)
    code, _, err = case.run("--suppress", str(case.content / "registers" / "kiellot.csv"))
    if expected is None:  # cp1252 is read (and the address is not valid: the row says so)
        assert code == 1 and "kiellot.csv: rows 2: each row needs a valid e-mail" in err
    else:
        assert code == 1 and expected in err
    assert "sources.yaml" not in err and "encoding:" not in err and "format:" not in err
    assert case.snapshot() == before


def test_a_given_encoding_that_does_not_fit_names_the_line(tmp_path: Path) -> None:
    rows: list[list[object]] = [HEADERS, *(person(n) for n in range(2, 3000))]
    rows[2500][1] = "Öhman"
    data = csv_bytes(rows[:2500]) + csv_bytes(rows[2500:], encoding="cp1252")
    err = Case(tmp_path).refused(data, extra="    encoding: utf-8\n")
    assert (
        "registers/rekisteri.csv: not valid utf-8 text at line 2501: set encoding in "
        "sources.yaml (e.g. utf-8, cp1252, utf-16-le)"
    ) in err


def test_reading_rows_directly_gives_the_reason(tmp_path: Path) -> None:
    """The library's reader gives the same reject reasons the command counts."""
    (tmp_path / "r.csv").write_bytes(csv_bytes([HEADERS, list(HEADERS), person(3)]))
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  - name: R\n    path: r.csv\n{COLUMNS}", encoding="utf-8"
    )
    info = ReadInfo()
    rows = list(read_rows(load_sources(tmp_path / "sources.yaml").sources[0], info))
    assert rows[0] == RawRow(
        2, {}, "the header row again (were two exports joined?)", "repeated-header"
    )
    assert rows[1].cells["last_name"] == "Virtanen3"
    assert codecs.lookup(info.encoding or "").name == "utf-8"
