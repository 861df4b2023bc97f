"""Address sources in: sources.yaml checks, CSV/XLSX readers, hostile files.

Each hostile input gives a clear message naming the file (or a reject row with its row
number), never a traceback.
"""

from __future__ import annotations

import codecs
from pathlib import Path

import pytest
from openpyxl import Workbook

from dhpc_gen.addresses import load_sources
from dhpc_gen.addresses.readers import RawRow, ReadInfo, read_rows
from dhpc_gen.addresses.sources import SourceSet
from dhpc_gen.errors import ContentError, DhpcError

HEADER = "Etunimi;Sukunimi;Katuosoite;Postinumero;Postitoimipaikka;Sähköposti"
COLUMNS = """\
    columns:
      Etunimi: first_name
      Sukunimi: last_name
      Katuosoite: street
      Postinumero: postal_code
      Postitoimipaikka: city
      Sähköposti: email
"""


def one_source(
    folder: Path, data: bytes, name: str = "rekisteri.csv", extra: str = ""
) -> SourceSet:
    """A sources.yaml with one source reading ``data`` from ``name``."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / name).write_bytes(data)
    (folder / "sources.yaml").write_text(
        f"sources:\n  - name: Rekisteri\n    path: {name}\n{extra}{COLUMNS}", encoding="utf-8"
    )
    return load_sources(folder / "sources.yaml")


def rows_of(sources: SourceSet) -> tuple[list[RawRow], ReadInfo]:
    info = ReadInfo()
    return list(read_rows(sources.sources[0], info)), info


# --- sources.yaml ----------------------------------------------------------------------


def test_a_path_outside_the_folder_is_refused_with_file_and_line(tmp_path: Path) -> None:
    (tmp_path / "secret.csv").write_text(HEADER + "\n", encoding="utf-8")
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "sources.yaml").write_text(
        "sources:\n  - name: Rekisteri\n    path: ../secret.csv\n" + COLUMNS, encoding="utf-8"
    )
    with pytest.raises(ContentError) as caught:
        load_sources(folder / "sources.yaml")
    message = str(caught.value)
    assert "sources.yaml:3 sources[0].path: '../secret.csv' is outside the folder" in message


def test_an_absolute_path_and_a_symlink_out_are_refused(tmp_path: Path) -> None:
    outside = tmp_path / "outside.csv"
    outside.write_text(HEADER + "\n", encoding="utf-8")
    folder = tmp_path / "content"
    folder.mkdir()
    (folder / "link.csv").symlink_to(outside)
    (folder / "sources.yaml").write_text(
        f"sources:\n  - name: A\n    path: {outside}\n{COLUMNS}"
        f"  - name: B\n    path: link.csv\n{COLUMNS}",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as caught:
        load_sources(folder / "sources.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any("sources[0].path" in p and "outside the folder" in p for p in problems)
    assert any("sources[1].path" in p and "outside the folder" in p for p in problems)


def test_every_problem_is_reported_at_once(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(HEADER + "\n", encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(
        """\
sources:
  - name: A
    path: a.csv
    encoding: klingon
    colums: {}
  - name: A
    path: missing.csv
    columns:
      Nimi: name
      Osoite: street
      Email: emial
""",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as caught:
        load_sources(tmp_path / "sources.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any(
        p.endswith("sources[0].colums: unknown field (check the spelling)") for p in problems
    )
    assert any("sources[0].columns: required field is missing" in p for p in problems)
    assert any(":11 sources[1].columns.Email:" in p and "canonical fields" in p for p in problems)


def test_source_level_problems_name_the_field(tmp_path: Path) -> None:
    (tmp_path / "a.csv").write_text(HEADER + "\n", encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(
        """\
sources:
  - name: A
    path: a.csv
    encoding: klingon
    columns: {Nimi: name, Osoite: street}
  - name: A
    path: missing.csv
    columns: {Sukunimi: last_name, Email: email}
    defaults: {email: x@example.fi}
""",
        encoding="utf-8",
    )
    with pytest.raises(ContentError) as caught:
        load_sources(tmp_path / "sources.yaml")
    problems = [str(p) for p in caught.value.problems]
    assert any(":4 sources[0].encoding: unknown encoding 'klingon'" in p for p in problems)
    assert any("sources[0].name_order: a column maps to name" in p for p in problems)
    assert any("sources[0].columns: no email column and no street" in p for p in problems)
    assert any("sources[1].name: 'A' is already the name of sources[0]" in p for p in problems)
    assert any("sources[1].path: no such file 'missing.csv'" in p for p in problems)
    assert any("sources[1].defaults.email: a default is for fields" in p for p in problems)


def test_a_misspelled_source_name_is_logged(
    tmp_path: Path, caplog: pytest.LogCaptureFixture
) -> None:
    (tmp_path / "a.csv").write_text(HEADER + "\n", encoding="utf-8")
    (tmp_path / "sources.yaml").write_text(
        f"sources:\n  - name: Laaketietokeskus\n    path: a.csv\n{COLUMNS}", encoding="utf-8"
    )
    load_sources(tmp_path / "sources.yaml", address_sources=["Lääketietokeskus Oy"])
    assert "'Laaketietokeskus' is not spelled as any of dhpc.yaml's address_sources" in caplog.text


def test_a_missing_sources_file_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(ContentError, match="no such sources file: create it or pass --sources"):
        load_sources(tmp_path / "sources.yaml")


# --- CSV detection ---------------------------------------------------------------------

ROWS = [
    "Matti;Virtanen;Mannerheimintie 10 A 5;00100;Helsinki;matti@hus.example",
    "Åsa;Öhman;Storgatan 1;22100;Mariehamn;",
]


@pytest.mark.parametrize(
    ("encoding", "prefix", "delimiter", "detected"),
    [
        ("utf-8", b"", ";", "utf-8"),
        ("utf-8", codecs.BOM_UTF8, ",", "utf-8-sig"),
        ("cp1252", b"", "\t", "cp1252"),
        ("utf-16-le", codecs.BOM_UTF16_LE, "\t", "utf-16"),
    ],
)
def test_encoding_and_delimiter_are_detected(
    tmp_path: Path, encoding: str, prefix: bytes, delimiter: str, detected: str
) -> None:
    text = "\r\n".join([HEADER, *ROWS]).replace(";", delimiter) + "\r\n"
    sources = one_source(tmp_path, prefix + text.encode(encoding))
    rows, info = rows_of(sources)
    assert (info.encoding, info.delimiter) == (detected, delimiter)
    assert [r.cells.get("last_name") for r in rows] == ["Virtanen", "Öhman"]
    assert rows[1].cells["first_name"] == "Åsa"
    assert [r.number for r in rows] == [2, 3]


def test_cp1252_detected_even_when_the_first_64_kib_are_ascii(tmp_path: Path) -> None:
    filler = [f"Matti;Virtanen;Katu {n};00100;Helsinki;" for n in range(3000)]
    text = "\n".join([HEADER, *filler, "Åsa;Öhman;Storgatan 1;22100;Mariehamn;"]) + "\n"
    sources = one_source(tmp_path, text.encode("cp1252"))
    rows, info = rows_of(sources)
    assert info.encoding == "cp1252"
    assert rows[-1].cells["last_name"] == "Öhman"


def test_given_encoding_and_delimiter_are_used(tmp_path: Path) -> None:
    text = "\n".join([HEADER.replace(";", "|"), ROWS[1].replace(";", "|")]) + "\n"
    sources = one_source(
        tmp_path, text.encode("latin-1"), extra='    encoding: latin-1\n    delimiter: "|"\n'
    )
    rows, info = rows_of(sources)
    assert (info.encoding, info.delimiter) == ("latin-1", "|")
    assert rows[0].cells["last_name"] == "Öhman"


def test_headers_match_ignoring_case_and_spaces_and_name_the_missing_ones(tmp_path: Path) -> None:
    text = "ETUNIMI ; sukunimi;Katuosoite;Postinumero;Postitoimipaikka;Sähköposti\nA;B;C;00100;D;\n"
    rows, _ = rows_of(one_source(tmp_path, text.encode()))
    assert rows[0].cells["first_name"] == "A"
    typo = "Etunimi;Sukunimi;Katu;Postinumero;Postitoimipaikka;Sähköposti\nA;B;C;00100;D;\n"
    with pytest.raises(DhpcError) as caught:
        rows_of(one_source(tmp_path / "typo", typo.encode()))
    message = str(caught.value)
    assert message.startswith(
        "rekisteri.csv: row 1, taken as the header row, has no column 'Katuosoite'"
    )
    # Some mapped headers are in the row: it is the header row, so its cells are shown.
    assert "The headers in the file are: 'Etunimi', 'Sukunimi', 'Katu', 'Postinumero'" in message
    with pytest.raises(DhpcError) as caught:
        rows_of(one_source(tmp_path / "other", b"Nimi;Osoite\nA;B\n"))
    message = str(caught.value)
    assert message.startswith("rekisteri.csv: row 1, taken as the header row, has no column")
    # None is: the row may be a person's, so none of its cells is shown.
    assert "None of the mapped headers is in that row (2 cells)" in message
    assert "Nimi" not in message and "Osoite" not in message


def joined_source(folder: Path, columns: str, header: str, row: str) -> SourceSet:
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "rekisteri.csv").write_text(f"{header}\n{row}\n", encoding="utf-8")
    (folder / "sources.yaml").write_text(
        f"sources:\n  - name: Rekisteri\n    path: rekisteri.csv\n    columns:\n{columns}",
        encoding="utf-8",
    )
    return load_sources(folder / "sources.yaml")


JOIN_COLUMNS = """\
      Nom: last_name
      Prénom: first_name
      street: [Rue, Numéro]
      CP: postal_code
      Localité: city
"""


def test_street_and_house_number_are_joined_when_asked_in_the_order_given(
    tmp_path: Path,
) -> None:
    """Belgian, German and French registers split the house number from the street."""
    header = "Numéro;Nom;Prénom;Rue;CP;Localité"  # the number before the street in the file
    rows, _ = rows_of(
        joined_source(tmp_path, JOIN_COLUMNS, header, "16;Dubois;Marie;Rue de la Loi;1000;Bxl")
    )
    assert rows[0].cells["street"] == "Rue de la Loi 16"
    rows, _ = rows_of(
        joined_source(tmp_path / "empty", JOIN_COLUMNS, header, ";Dubois;Marie;Place X;1000;Bxl")
    )
    assert rows[0].cells["street"] == "Place X"  # an empty part is left out


@pytest.mark.parametrize(
    ("columns", "message"),
    [
        (
            "      Nom: last_name\n      Rue: street\n      Numéro: street\n",
            "'Rue' and 'Numéro' both map to street: map only one of them, or join them on "
            "purpose: street: [Rue, Numéro]",
        ),
        ("      Nom: last_name\n      rue: [Rue, Numéro]\n", "'rue' is not one"),
        ("      Nom: last_name\n      street: [Rue]\n", "list at least two headers"),
        ("      Nom: last_name\n      street: [Rue, rue]\n", "a header is listed twice"),
        (
            "      Nom: last_name\n      Rue: city\n      street: [Rue, Numéro]\n",
            "'Rue' is mapped on its own too",
        ),
        (
            "      Nom: last_name\n      Adresse: street\n      street: [Rue, Numéro]\n",
            "'Adresse' map(s) to street, which already joins Rue, Numéro",
        ),
    ],
)
def test_two_headers_mapped_to_one_field_by_accident_are_still_refused(
    tmp_path: Path, columns: str, message: str
) -> None:
    with pytest.raises(ContentError) as caught:
        joined_source(tmp_path, columns + "      CP: postal_code\n", "Nom;Rue;Numéro;CP", "")
    assert message in str(caught.value)
    assert "sources.yaml:" in str(caught.value)


def test_a_quoted_cell_may_span_lines(tmp_path: Path) -> None:
    text = (
        HEADER
        + '\nMatti;Virtanen;"Mannerheimintie 10\nA 5";00100;Helsinki;'
        + "\nAnna;Korhonen;K 1;00100;Helsinki;\n"
    )
    rows, _ = rows_of(one_source(tmp_path, text.encode()))
    assert [(r.number, r.cells["street"]) for r in rows] == [
        (2, "Mannerheimintie 10 A 5"),
        (4, "K 1"),
    ]


# --- Hostile files ---------------------------------------------------------------------


def test_a_binary_file_is_refused(tmp_path: Path) -> None:
    sources = one_source(tmp_path, bytes(range(256)) * 10)
    with pytest.raises(DhpcError, match=r"^rekisteri.csv: not a text file \(it contains binary"):
        rows_of(sources)


def test_an_xlsx_file_given_as_csv_says_so(tmp_path: Path) -> None:
    workbook = Workbook()
    workbook.save(tmp_path / "book.xlsx")
    sources = one_source(tmp_path, (tmp_path / "book.xlsx").read_bytes(), extra="    format: csv\n")
    with pytest.raises(DhpcError, match="an Excel workbook \\(XLSX\\), not CSV: set format: xlsx"):
        rows_of(sources)


def test_an_empty_file_is_refused(tmp_path: Path) -> None:
    with pytest.raises(DhpcError, match=r"^rekisteri\.csv: the file is empty"):
        rows_of(one_source(tmp_path, b""))
    with pytest.raises(DhpcError, match=r"^rekisteri\.xlsx: the file is empty"):
        rows_of(one_source(tmp_path / "x", b"", name="rekisteri.xlsx"))


def test_a_header_only_file_has_no_rows(tmp_path: Path) -> None:
    rows, info = rows_of(one_source(tmp_path, (HEADER + "\r\n\r\n").encode()))
    assert rows == []
    assert info.blank_rows == 1


def test_an_unclosed_quote_rejects_its_row_and_the_rows_after_it_are_read(tmp_path: Path) -> None:
    lines = [HEADER, 'Matti;Virtanen;"Mannerheimintie 10;00100;Helsinki;']
    lines += [f"Anna{n};Korhonen;Katu {n};00100;Helsinki;" for n in range(30)]
    rows, _ = rows_of(one_source(tmp_path, "\n".join(lines).encode()))
    assert rows[0] == RawRow(2, {}, 'a quote (") is opened but never closed')
    assert [r.number for r in rows[1:]] == list(range(3, 33))
    assert rows[-1].cells["first_name"] == "Anna29"


def test_an_unclosed_quote_at_the_end_is_rejected(tmp_path: Path) -> None:
    text = HEADER + '\nMatti;Virtanen;"Mannerheimintie 10;00100;Helsinki;\nAnna;K;K;00100;H;\n'
    rows, _ = rows_of(one_source(tmp_path, text.encode()))
    assert [(r.number, r.error is None) for r in rows] == [(2, False), (3, True)]


def test_a_10_mb_line_is_rejected_without_reading_it_whole(tmp_path: Path) -> None:
    huge = "Matti;" + "x" * 10_000_000 + ";Katu;00100;Helsinki;"
    text = "\n".join([HEADER, huge, "Anna;Korhonen;Katu 1;00100;Helsinki;"]) + "\n"
    rows, _ = rows_of(one_source(tmp_path, text.encode()))
    assert rows[0].number == 2
    assert rows[0].error == "the row is longer than 65536 characters"
    assert rows[1].cells["first_name"] == "Anna"


def test_a_row_with_more_cells_than_headers_is_rejected(tmp_path: Path) -> None:
    text = HEADER + "\nMatti;Virtanen;Mannerheimintie 10; A 5;00100;Helsinki;m@x.fi\nA;B;C;0;D;;;\n"
    rows, _ = rows_of(one_source(tmp_path, text.encode()))
    assert rows[0].error is not None and "7 cells but the header has 6" in rows[0].error
    assert rows[1].error is None  # trailing empty cells are harmless


def test_a_damaged_xlsx_gives_a_message(tmp_path: Path) -> None:
    with pytest.raises(DhpcError, match=r"^rekisteri\.xlsx: cannot read the workbook"):
        rows_of(one_source(tmp_path, b"PK\x03\x04" + b"\x00" * 100, name="rekisteri.xlsx"))
    with pytest.raises(DhpcError, match=r"not an Excel \.xlsx workbook"):
        rows_of(one_source(tmp_path / "b", b"Etunimi;Sukunimi\n", name="rekisteri.xlsx"))


# --- XLSX ------------------------------------------------------------------------------


def _xlsx(path: Path, rows: list[list[object]], title: str = "Jäsenet") -> bytes:
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    sheet.title = title
    for row in rows:
        sheet.append(row)
    workbook.save(path)
    return path.read_bytes()


def test_xlsx_rows_stream_with_excel_numbers_as_text(tmp_path: Path) -> None:
    data = _xlsx(
        tmp_path / "tmp.xlsx",
        [
            [None],
            ["Etunimi", "Sukunimi", "Katuosoite", "Postinumero", "Postitoimipaikka", "Sähköposti"],
            ["Matti", "Virtanen", "Mannerheimintie 10 A 5", 100, "Helsinki", None],
            [None, None, None, None, None, None],
            ["Anna", "Korhonen", "Katu 1", 2100.0, "Espoo", "anna@example.fi"],
        ],
    )
    sources = one_source(tmp_path, data, name="rekisteri.xlsx", extra="    sheet: Jäsenet\n")
    rows, info = rows_of(sources)
    assert [(r.number, r.cells.get("postal_code")) for r in rows] == [(3, "100"), (5, "2100")]
    assert info.blank_rows == 1


def test_xlsx_unknown_sheet_lists_the_sheets(tmp_path: Path) -> None:
    data = _xlsx(tmp_path / "tmp.xlsx", [["Etunimi"]], title="Taul1")
    sources = one_source(tmp_path, data, name="rekisteri.xlsx", extra="    sheet: Jäsenet\n")
    with pytest.raises(DhpcError, match="no sheet 'Jäsenet'; the sheets are: 'Taul1'"):
        rows_of(sources)


def test_a_given_utf16_encoding_on_a_file_without_bom_is_a_message(tmp_path: Path) -> None:
    text = "\n".join([HEADER, *ROWS]) + "\n"
    sources = one_source(tmp_path, text.encode("utf-16-le"), extra="    encoding: utf-16\n")
    with pytest.raises(DhpcError, match=r"^rekisteri\.csv: not valid utf-16 text"):
        rows_of(sources)


def test_utf16_without_bom_is_named_as_such(tmp_path: Path) -> None:
    text = "\n".join([HEADER, *ROWS]) + "\n"
    sources = one_source(tmp_path, text.encode("utf-16-le"))
    with pytest.raises(DhpcError, match=r"UTF-16 without a byte-order mark.*encoding: utf-16-le"):
        rows_of(sources)
    # and with the encoding it names, the file reads
    fixed = one_source(
        tmp_path / "fixed", text.encode("utf-16-le"), extra="    encoding: utf-16-le\n"
    )
    assert [r.cells["last_name"] for r in rows_of(fixed)[0]] == ["Virtanen", "Öhman"]


def test_two_headers_mapped_to_one_field_is_a_problem_of_sources_yaml(tmp_path: Path) -> None:
    (tmp_path / "sources.yaml").write_text(
        "sources:\n  - name: Rekisteri\n    path: r.csv\n" + COLUMNS + "      Lähiosoite: street\n",
        encoding="utf-8",
    )
    (tmp_path / "r.csv").write_text(HEADER + ";Lähiosoite\n", encoding="utf-8")
    with pytest.raises(ContentError) as caught:
        load_sources(tmp_path / "sources.yaml")
    message = str(caught.value)
    assert "sources[0].columns" in message
    assert "'Katuosoite' and 'Lähiosoite' both map to street" in message


def test_a_title_row_above_the_headers_points_to_header_row(tmp_path: Path) -> None:
    text = "Jäsenrekisteri 2019;;;;;\n" + HEADER + "\n" + ROWS[0] + "\n"
    with pytest.raises(DhpcError, match=r"header_row: N"):
        rows_of(one_source(tmp_path, text.encode()))
    fixed = one_source(tmp_path / "fixed", text.encode(), extra="    header_row: 2\n")
    assert [r.cells["last_name"] for r in rows_of(fixed)[0]] == ["Virtanen"]
