"""``dhpc merge``: print files and personalised letters, read back as PDFs.

One merge of a Faker-generated mailing list is shared by most tests (module fixture);
every letter in it is read back and checked to carry its own recipient's address and
its own language's body, and nobody else's data.
"""

from __future__ import annotations

import csv
import re
import subprocess
from collections.abc import Iterator
from dataclasses import replace
from pathlib import Path

import pypdfium2 as pdfium
import pytest
from click.testing import CliRunner
from faker import Faker
from pypdf import PdfReader

from dhpc_gen.addresses.recipients import COLUMNS, Recipient, write_recipients
from dhpc_gen.build import content_hash
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.content.model import Dhpc
from dhpc_gen.distribution.address_block import (
    AddressProblem,
    address_block,
    clean,
    country_code,
)
from dhpc_gen.distribution.letter_body import merged_html, render_body
from dhpc_gen.distribution.merge import (
    MANIFEST_COLUMNS,
    MergeResult,
    RejectedRecipients,
    merge,
    read_manifest,
    reference_line,
)
from dhpc_gen.distribution.pdf_overlay import load_font
from dhpc_gen.distribution.recipient_sort import SortedRuns
from dhpc_gen.distribution.reference_address import (
    address_view,
    letter_with_address_html,
    render_address_page,
)
from dhpc_gen.distribution.window import POINTS_PER_MM, WINDOWS, window_layout
from dhpc_gen.errors import DhpcError, RenderError, UsageError
from dhpc_gen.fsutil import sha256_file
from dhpc_gen.i18n import long_date
from dhpc_gen.render.letter import compose_title
from dhpc_gen.render.pdf import write_pdf
from tests.conftest import EXAMPLE
from tests.pdf_helpers import pdftotext

WINDOW = WINDOWS["din5008-b"]
TOO_LONG_STREET = "Pitkä katu " + "jonka nimi ei mahdu ikkunaan " * 3


def person(
    recipient_id: str,
    language: str,
    *,
    first: str = "Anna",
    last: str = "Virtanen",
    street: str = "Mannerheimintie 10 A 5",
    code: str = "00100",
    city: str = "Helsinki",
    country: str = "FI",
    organisation: str = "",
    title: str = "",
) -> Recipient:
    return Recipient(
        recipient_id=recipient_id,
        language=language,
        title=title,
        first_name=first,
        last_name=last,
        profession="physician",
        specialty="neurology",
        organisation=organisation,
        street=street,
        postal_code=code,
        city=city,
        country=country,
        email=f"{recipient_id.lower()}@example.org",
        sources="Suomen Lääkäriliitto",
    )


def generated_recipients(count: int, seed: int = 5) -> list[Recipient]:
    """Finnish and Swedish-speaking recipients with unique names and streets."""
    fakers = {"fi": Faker("fi_FI"), "sv": Faker("sv_SE")}
    for index, faker in enumerate(fakers.values()):
        faker.seed_instance(seed + index)
    names: set[str] = set()
    streets: set[str] = set()
    people = []
    while len(people) < count:
        index = len(people)
        language = "sv" if index % 3 == 0 else "fi"
        faker = fakers["fi"] if index % 5 else fakers[language]
        first, last, street = faker.first_name(), faker.last_name(), faker.street_address()
        if f"{first} {last}" in names or street in streets:
            continue
        names.add(f"{first} {last}")
        streets.add(street)
        people.append(
            person(
                f"FI-{index:04d}",
                language,
                first=first,
                last=last,
                street=street,
                code=faker.postcode(),
                city=faker.city(),
                title="LL" if index % 4 == 0 else "",
                organisation="HUS Neurologia" if index % 6 == 0 else "",
            )
        )
    return people


SPECIAL = [
    person(
        "SE-0001",
        "sv",
        first="Åsa",
        last="Öberg",
        street="Storgatan 1",
        code="75103",
        city="Uppsala",
        country="Sverige",
    ),
    person(
        "AX-0001",
        "sv",
        first="Gun",
        last="Mattsson",
        street="Torggatan 5",
        code="22100",
        city="Mariehamn",
        country="AX",
    ),
    replace(person("EM-0001", "fi", first="Eino", last="Sähköposti"), street=""),
    person("LONG-0001", "fi", first="Liisa", last="Pitkänen", street=TOO_LONG_STREET),
]


@pytest.fixture(scope="module")
def dhpc() -> Dhpc:
    return load_dhpc(EXAMPLE)


@pytest.fixture(scope="module")
def people() -> list[Recipient]:
    return [*generated_recipients(30), *SPECIAL]


@pytest.fixture(scope="module")
def merged(
    tmp_path_factory: pytest.TempPathFactory, dhpc: Dhpc, people: list[Recipient]
) -> MergeResult:
    """The mailing list merged once, per recipient too, leaving the one misfit out."""
    root = tmp_path_factory.mktemp("merge")
    write_recipients(root / "mailing" / "recipients.csv", people)
    return merge(
        dhpc,
        root / "mailing",
        root / "output",
        per_recipient=True,
        jobs=2,
        leave_out_rejects=True,
    )


def manifest(result: MergeResult) -> list[dict[str, str]]:
    return list(read_manifest(result.manifest))


def lines_of(text: str) -> list[str]:
    return [line.strip() for line in text.splitlines() if line.strip()]


def expected_lines(dhpc: Dhpc, recipient: Recipient) -> tuple[str, ...]:
    block = address_block(
        recipient, home="FI", language=recipient.language, name_languages=("sv", "fi")
    )
    return block.lines


# ---------------------------------------------------------------- the files and the manifest


def test_print_files_letters_and_manifest(merged: MergeResult, people: list[Recipient]) -> None:
    out = merged.out_dir
    assert sorted(p.name for p in (out / "print").iterdir()) == [
        "lemtrada-2019_fi_print.pdf",
        "lemtrada-2019_sv_print.pdf",
        "print-manifest.csv",
        "rejects.csv",
    ]
    rows = manifest(merged)
    with merged.manifest.open(encoding="utf-8") as handle:
        assert next(csv.reader(handle)) == list(MANIFEST_COLUMNS)
    # Everyone but the misfit has a row; the e-mail-only recipient has no print pages.
    assert {row["recipient_id"] for row in rows} == {p.recipient_id for p in people} - {"LONG-0001"}
    by_id = {row["recipient_id"]: row for row in rows}
    assert by_id["EM-0001"]["print_file"] == by_id["EM-0001"]["first_page"] == ""
    for row in rows:
        letter = out / row["letter_file"]
        assert row["letter_file"] == f"letters/{row['language']}/{row['recipient_id']}.pdf"
        assert sha256_file(letter) == row["letter_sha256"]
        assert letter.stat().st_mode & 0o777 == 0o600
    for path in [*(out / "print").iterdir()]:
        assert path.stat().st_mode & 0o777 == 0o600, path


def test_manifest_names_the_content_version_merged(merged: MergeResult, dhpc: Dhpc) -> None:
    """send and report must tell letters of an older text from those of the current one."""
    assert {row["content_sha256"] for row in manifest(merged)} == {content_hash(dhpc)}


def test_pages_are_contiguous_and_each_letter_even(merged: MergeResult) -> None:
    rows = [row for row in manifest(merged) if row["print_file"]]
    for language in ("fi", "sv"):
        mine = [row for row in rows if row["language"] == language]
        reader = PdfReader(merged.out_dir / mine[0]["print_file"])
        expected_first = 1
        for row in mine:
            first, last = int(row["first_page"]), int(row["last_page"])
            assert first == expected_first
            assert (last - first + 1) % 2 == 0
            expected_first = last + 1
        assert expected_first - 1 == len(reader.pages)
        result = next(r for r in merged.languages if r.language == language)
        assert result.letters == len(mine) and result.pages == len(reader.pages)


def test_letters_are_sorted_by_postal_code_domestic_first(
    merged: MergeResult, people: list[Recipient]
) -> None:
    by_id = {p.recipient_id: p for p in people}
    for language in ("fi", "sv"):
        order = [
            row["recipient_id"]
            for row in manifest(merged)
            if row["language"] == language and row["print_file"]
        ]
        domestic = [by_id[rid].country in ("FI", "AX") for rid in order]
        assert domestic == sorted(domestic, reverse=True)
        codes = [
            re.sub(r"\D", "", by_id[rid].postal_code)
            for rid, d in zip(order, domestic, strict=True)
            if d
        ]
        assert codes == sorted(codes)


# ------------------------------------------------------------------------------ correctness


def letter_texts(merged: MergeResult) -> Iterator[tuple[dict[str, str], list[str], list[str]]]:
    """Per letter: its manifest row, its pages' texts in the print file, its own file's pages.

    Two independent readers: poppler's pdftotext for the print files (once per file,
    pages split at form feeds) and PDFium for the per-recipient files.
    """
    print_pages: dict[str, list[str]] = {}
    for row in manifest(merged):
        own = pdfium_pages(merged.out_dir / row["letter_file"])
        pages: list[str] = []
        if row["print_file"]:
            if row["print_file"] not in print_pages:
                text = pdftotext(merged.out_dir / row["print_file"])
                print_pages[row["print_file"]] = text.split("\f")[:-1]
            first, last = int(row["first_page"]), int(row["last_page"])
            pages = print_pages[row["print_file"]][first - 1 : last]
        yield row, pages, own


def shows(text: str, value: str) -> bool:
    """Whether ``value`` appears in ``text`` as whole words."""
    return re.search(rf"(?<!\w){re.escape(value)}(?!\w)", text) is not None


def line_index(lines: list[str], wanted: str) -> int:
    """Where ``wanted`` is a line of its own (or starts one: a reader may join the date
    line beside it on the same baseline)."""
    for index, line in enumerate(lines):
        if line == wanted or line.startswith(wanted + " "):
            return index
    raise AssertionError(f"{wanted!r} is not a line of the letter")


def pdfium_pages(path: Path) -> list[str]:
    """The text of each page, by PDFium."""
    document = pdfium.PdfDocument(path)
    try:
        texts = []
        for page in document:
            textpage = page.get_textpage()
            texts.append(textpage.get_text_range().replace("\r\n", "\n"))
            textpage.close()
            page.close()
        return texts
    finally:
        document.close()


def test_every_letter_carries_its_own_address_and_language_and_nobody_elses(
    merged: MergeResult, dhpc: Dhpc, people: list[Recipient]
) -> None:
    by_id = {p.recipient_id: p for p in people}
    titles = {lang: compose_title(dhpc, dhpc.text(lang)) for lang in ("sv", "fi")}
    checked = 0
    later_pages: dict[str, list[str]] = {}
    for row, pages, own in letter_texts(merged):
        recipient = by_id[row["recipient_id"]]
        address = expected_lines(dhpc, recipient)
        others = [p for p in people if p.recipient_id != recipient.recipient_id]
        texts = [own[0], *pages[:1]]
        for text in texts:
            lines = lines_of(text)
            flat = " ".join(text.split())
            # Its own address, line by line and in order, and its own reference.
            positions = [line_index(lines, line) for line in address]
            assert positions == sorted(positions), (row, address)
            assert reference_line(dhpc, recipient.recipient_id) in flat
            assert long_date(dhpc.meta.date, recipient.language) in flat
            # Its own language's body, not the other one's.
            other_language = "fi" if recipient.language == "sv" else "sv"
            assert " ".join(titles[recipient.language].split()) in flat
            assert " ".join(titles[other_language].split()) not in flat
            # Nobody else's name, street or reference.
            for other in others:
                for value in (other.full_name, other.street, other.recipient_id):
                    if value:
                        assert not shows(flat, value), (row["recipient_id"], other.recipient_id)
        # Later pages of a print-file letter: the body, and a blank page if it is odd.
        if pages:
            assert all(recipient.full_name not in text for text in pages[1:])
            body_pages = len(own)
            assert len(pages) == body_pages + body_pages % 2
            # The same body pages as every other letter of the language.
            assert pages[1:] == later_pages.setdefault(recipient.language, pages[1:])
            if body_pages % 2:
                assert pages[-1].strip() == ""
        checked += 1
    assert checked == len(people) - 1


def test_foreign_and_aland_addresses(merged: MergeResult, dhpc: Dhpc) -> None:
    rows = {row["recipient_id"]: row for row in manifest(merged)}
    sweden = lines_of(pdftotext(merged.out_dir / rows["SE-0001"]["letter_file"]))
    assert sweden[sweden.index("Åsa Öberg") : sweden.index("Åsa Öberg") + 4] == [
        "Åsa Öberg",
        "Storgatan 1",
        "751 03 UPPSALA",
        "SVERIGE",
    ]
    aland = lines_of(pdftotext(merged.out_dir / rows["AX-0001"]["letter_file"]))
    start = aland.index("Gun Mattsson")
    assert aland[start : start + 3] == ["Gun Mattsson", "Torggatan 5", "22100 MARIEHAMN"]
    assert "ÅLAND" not in aland


def test_address_is_drawn_where_weasyprint_would_lay_it_out(
    merged: MergeResult, dhpc: Dhpc, people: list[Recipient]
) -> None:
    """Fast path against the slow reference: same words, same boxes within 0.3 pt."""
    rows = {row["recipient_id"]: row for row in manifest(merged)}
    for recipient in (people[0], people[1], SPECIAL[0]):
        lines = expected_lines(dhpc, recipient)
        info = (
            long_date(dhpc.meta.date, recipient.language),
            reference_line(dhpc, recipient.recipient_id),
        )
        reference = merged.out_dir.parent / f"reference-{recipient.recipient_id}.pdf"
        reference.write_bytes(
            render_address_page(address_view(WINDOW, lines, info, language=recipient.language))
        )
        fast = word_boxes(merged.out_dir / rows[recipient.recipient_id]["letter_file"])
        slow = word_boxes(reference)
        in_window = [
            w
            for w in fast
            if w[1] < WINDOW.bottom * POINTS_PER_MM and w[1] > WINDOW.top * POINTS_PER_MM
        ]
        assert [w[4] for w in in_window] == [w[4] for w in slow]
        for mine, theirs in zip(in_window, slow, strict=True):
            assert all(abs(a - b) < 0.3 for a, b in zip(mine[:4], theirs[:4], strict=True)), (
                mine,
                theirs,
            )


def test_fast_letter_matches_a_letter_laid_out_whole_by_weasyprint(
    merged: MergeResult, dhpc: Dhpc, people: list[Recipient], tmp_path: Path
) -> None:
    """Page 1 of a merged letter against the naive way (address and body in one layout):
    every word in the same place, the body's included."""
    recipient = people[2]
    lines = expected_lines(dhpc, recipient)
    info = (
        long_date(dhpc.meta.date, recipient.language),
        reference_line(dhpc, recipient.recipient_id),
    )
    sources = ["Suomen Lääkäriliitto"]
    html = letter_with_address_html(
        merged_html(dhpc, recipient.language, WINDOW, sources),
        WINDOW,
        lines,
        info,
        language=recipient.language,
    )
    naive = tmp_path / "naive.pdf"
    naive.write_bytes(write_pdf(html, variant="pdf/a-3u", identifier=b"0" * 32, epoch=0))
    row = next(r for r in manifest(merged) if r["recipient_id"] == recipient.recipient_id)
    fast = word_boxes(merged.out_dir / row["letter_file"])
    slow = word_boxes(naive)
    assert sorted(w[4] for w in fast) == sorted(w[4] for w in slow)
    for word in fast:
        nearest = min(
            abs(word[0] - other[0]) + abs(word[1] - other[1])
            for other in slow
            if other[4] == word[4]
        )
        assert nearest < 0.3, word


def word_boxes(path: Path) -> list[tuple[float, float, float, float, str]]:
    """Words of page 1 with their boxes (xMin, yMin, xMax, yMax), by poppler."""
    html = subprocess.run(
        ["pdftotext", "-bbox", "-f", "1", "-l", "1", str(path), "-"],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    pattern = re.compile(
        r'<word xMin="([\d.]+)" yMin="([\d.]+)" xMax="([\d.]+)" yMax="([\d.]+)">(.*?)</word>'
    )
    return [
        (float(a), float(b), float(c), float(d), word) for a, b, c, d, word in pattern.findall(html)
    ]


def test_print_file_shares_the_body_between_letters(merged: MergeResult) -> None:
    rows = [row for row in manifest(merged) if row["language"] == "fi" and row["print_file"]]
    reader = PdfReader(merged.out_dir / rows[0]["print_file"])
    first, second = int(rows[0]["first_page"]), int(rows[1]["first_page"])
    a, b = reader.pages[first - 1], reader.pages[second - 1]
    # Page 1: the same body streams, each letter its own address stream after them.
    contents_a, contents_b = a.raw_get("/Contents"), b.raw_get("/Contents")
    assert [ref.idnum for ref in contents_a[:-1]] == [ref.idnum for ref in contents_b[:-1]]
    assert contents_a[-1].idnum != contents_b[-1].idnum
    # Page 2: the very same content stream and resources.
    assert reader.pages[first].raw_get("/Contents") == reader.pages[second].raw_get("/Contents")
    assert reader.pages[first].raw_get("/Resources") == reader.pages[second].raw_get("/Resources")
    # One embedded address font for the whole file.
    fonts = subprocess.run(
        ["pdffonts", str(merged.out_dir / rows[0]["print_file"])],
        check=True,
        capture_output=True,
        text=True,
    ).stdout
    liberation = [line for line in fonts.splitlines() if "+LiberationSans" in line]
    assert len(liberation) == 1 and " yes yes yes " in liberation[0]


def test_print_file_grows_by_little_per_letter(
    tmp_path: Path, dhpc: Dhpc, merged: MergeResult
) -> None:
    few = generated_recipients(2, seed=11)
    write_recipients(
        tmp_path / "mailing" / "recipients.csv", [replace(p, language="fi") for p in few]
    )
    small = merge(dhpc, tmp_path / "mailing", tmp_path / "output", jobs=1)
    small_fi = next(r for r in small.languages if r.language == "fi")
    big_fi = next(r for r in merged.languages if r.language == "fi")
    per_letter = (big_fi.print_bytes - small_fi.print_bytes) / (big_fi.letters - small_fi.letters)
    assert 0 < per_letter <= 5 * 1024


# --------------------------------------------------------------------------------- rejects


def test_an_address_that_does_not_fit_stops_the_run(tmp_path: Path, dhpc: Dhpc) -> None:
    people = [*generated_recipients(3, seed=7), SPECIAL[3]]
    arabic = person("AR-0001", "fi", first="\u0645\u062d\u0645\u062f", last="Saarinen")
    crowded = person(
        "ORG-0001",
        "fi",
        organisation="Klinikka",
        title="Prof.",
        country="DE",
        code="10115",
        city="Berlin",
    )
    write_recipients(tmp_path / "mailing" / "recipients.csv", [*people, arabic, crowded])
    with pytest.raises(RejectedRecipients) as caught:
        merge(dhpc, tmp_path / "mailing", tmp_path / "output")
    assert caught.value.count == 2
    out = tmp_path / "output" / "lemtrada-2019"
    assert sorted(p.name for p in (out / "print").iterdir()) == ["rejects.csv"]
    with (out / "print" / "rejects.csv").open(encoding="utf-8") as handle:
        rejects = {row["recipient_id"]: row["reason"] for row in csv.DictReader(handle)}
    assert set(rejects) == {"LONG-0001", "AR-0001"}
    assert "address line 2" in rejects["LONG-0001"] and "mm" in rejects["LONG-0001"]
    assert "U+0645" in rejects["AR-0001"]
    # Five lines with a country line still fit the six-line window.
    assert "ORG-0001" not in rejects
    assert not list(out.glob(".merge-*")), "the working folder is removed"


def test_unknown_language_and_unsafe_ids_are_rejected(tmp_path: Path, dhpc: Dhpc) -> None:
    write_recipients(
        tmp_path / "recipients.csv",
        [person("OK-1", "fi"), person("DE-1", "de"), person("../x", "fi"), person("OK-1", "fi")],
    )
    with pytest.raises(RejectedRecipients) as caught:
        merge(dhpc, tmp_path / "recipients.csv", tmp_path / "output")
    with caught.value.path.open(encoding="utf-8") as handle:
        reasons = {row["recipient_id"]: row["reason"] for row in csv.DictReader(handle)}
    assert "has no text in language 'de'" in reasons["DE-1"]
    assert "letters, digits" in reasons["../x"]
    assert "more than once" in reasons["OK-1"]


def test_rejects_file_is_written_when_rejects_are_left_out(merged: MergeResult) -> None:
    assert merged.rejected == 1
    with merged.rejects.open(encoding="utf-8") as handle:
        assert [row["recipient_id"] for row in csv.DictReader(handle)] == ["LONG-0001"]


def test_body_that_prints_into_the_window_is_refused(dhpc: Dhpc) -> None:
    low = window_layout("20,10,85,45")  # over the letterhead
    with pytest.raises(RenderError, match="prints into the address area"):
        render_body(dhpc, "sv", low)


# ----------------------------------------------------------------------------------- postal


@pytest.mark.parametrize(
    ("country", "code", "city", "language", "expected"),
    [
        ("FI", "00100", "Helsinki", "fi", ["00100 HELSINKI"]),
        ("SE", "75103", "Uppsala", "fi", ["751 03 UPPSALA", "RUOTSI"]),
        ("Sverige", "SE-751 03", "Uppsala", "sv", ["751 03 UPPSALA", "SVERIGE"]),
        ("DE", "10115", "Berlin", "sv", ["10115 Berlin", "TYSKLAND"]),
        ("NL", "1234ab", "Amsterdam", "fi", ["1234 AB  AMSTERDAM", "ALANKOMAAT"]),
        ("GB", "sw1a1aa", "London", "fi", ["LONDON", "SW1A 1AA", "ISO-BRITANNIA"]),
        ("PL", "00950", "Warszawa", "fi", ["00-950 Warszawa", "PUOLA"]),
        ("EL", "10557", "Athens", "fi", ["105 57 ATHENS", "KREIKKA"]),
        ("FI", "1234", "Espoo", "fi", ["1234 ESPOO"]),
    ],
)
def test_postal_lines_per_country(
    country: str, code: str, city: str, language: str, expected: list[str]
) -> None:
    recipient = person("X-1", language, code=code, city=city, country=country)
    block = address_block(recipient, home="FI", language=language, name_languages=("fi", "sv"))
    assert list(block.lines) == ["Anna Virtanen", "Mannerheimintie 10 A 5", *expected]


def test_addresses_are_cleaned_and_unknown_countries_refused() -> None:
    assert clean("  Anna\u00ad\u200b  Virtanen\n") == "Anna Virtanen"
    assert clean("Ma\u0308kela\u0308") == "Mäkelä"
    assert country_code("", "FI", ()) == "FI"
    assert country_code("suomi", "SE", ("fi",)) == "FI"
    with pytest.raises(AddressProblem, match="ISO 3166"):
        country_code("Atlantis", "FI", ("fi",))
    email_only = replace(person("E-1", "fi", organisation="HUS"), street="", city="")
    assert address_block(email_only, home="FI", language="fi").lines == ("Anna Virtanen", "HUS")


def test_text_is_measured_with_the_fonts_widths() -> None:
    font = load_font()
    assert font.width("00100 HELSINKI", 10) > font.width("00100 Helsinki", 10)
    assert font.width("MMMM", 10) == pytest.approx(4 * font.width("M", 10))
    assert WINDOW.line_capacity == 6
    assert WINDOW.misfit(font, ["x" * 10], ["date"]) is None
    assert "7 lines" in (WINDOW.misfit(font, ["x"] * 7, []) or "")


def test_window_option() -> None:
    assert window_layout("din5008-a").top == 27
    custom = window_layout("20, 50, 90, 45")
    assert (custom.left, custom.top, custom.width, custom.height) == (20, 50, 90, 45)
    with pytest.raises(UsageError):
        window_layout("left-ish")


def test_sorted_runs_merge_spilled_runs_in_order(tmp_path: Path) -> None:
    runs = SortedRuns(tmp_path, run_size=3)
    for number in [5, 3, 9, 1, 7, 2, 8, 4, 6, 0]:
        runs.add("fi" if number % 2 else "sv", (f"{number:02d}",), (number,))
    assert len(list(tmp_path.glob("run-*"))) >= 4
    assert [r[0] for r in runs.read("fi")] == [1, 3, 5, 7, 9]
    assert [r[0] for r in runs.read("sv")] == [0, 2, 4, 6, 8]
    assert all(p.stat().st_mode & 0o777 == 0o600 for p in tmp_path.glob("run-*"))


# -------------------------------------------------------------------------------------- CLI


def test_cli_merges_and_is_reproducible(tmp_path: Path, merged: MergeResult) -> None:
    people = generated_recipients(4, seed=3)
    mailing = tmp_path / "out" / "lemtrada-2019" / "mailing" / "recipients.csv"
    write_recipients(mailing, [replace(p, language="sv") for p in people])
    runner = CliRunner()
    first = runner.invoke(main, ["merge", str(EXAMPLE), "--out", str(tmp_path / "out")])
    assert first.exit_code == 0, first.output
    assert "sv: 4 letters, 16 pages" in first.output
    printed = tmp_path / "out" / "lemtrada-2019" / "print" / "lemtrada-2019_sv_print.pdf"
    before = printed.read_bytes()
    again = runner.invoke(
        main, ["merge", str(EXAMPLE), "--out", str(tmp_path / "out"), "--jobs", "1"]
    )
    assert again.exit_code == 0, again.output
    assert printed.read_bytes() == before
    # Personal data stays in the files: the terminal shows counts only.
    for recipient in people:
        assert recipient.last_name not in first.output


def test_cli_reports_rejects_and_bad_options(tmp_path: Path) -> None:
    write_recipients(tmp_path / "recipients.csv", [SPECIAL[3]])
    runner = CliRunner()
    result = runner.invoke(
        main,
        ["merge", str(EXAMPLE), "--mailing", str(tmp_path), "--out", str(tmp_path / "o")],
    )
    assert result.exit_code == 1
    assert "1 recipient cannot be printed (LONG-0001)" in result.output
    assert "Traceback" not in result.output
    bad = runner.invoke(main, ["merge", str(EXAMPLE), "--window", "nowhere"])
    assert bad.exit_code == 2
    out = ["--out", str(tmp_path / "o")]
    missing = runner.invoke(
        main, ["merge", str(EXAMPLE), "--mailing", str(tmp_path / "none.csv"), *out]
    )
    assert missing.exit_code == 1 and "cannot read the mailing list" in missing.output
    assert "make it with dhpc mailing-list DIR, or name it with --mailing" in missing.output
    latin = tmp_path / "latin" / "recipients.csv"
    latin.parent.mkdir()
    latin.write_bytes(
        ",".join(COLUMNS).encode() + b"\nX-1,fi,,J\xe4rvinen,A,,,,Tie 1,00100,Espoo,FI,,\n"
    )
    garbled = runner.invoke(main, ["merge", str(EXAMPLE), "--mailing", str(latin.parent), *out])
    assert garbled.exit_code == 1 and "not UTF-8" in garbled.output, garbled.output


# Real places, as their registers spell them for the post.
LONG_TOWNS = [
    ("BE", "7063", "CHAUSSÉE-NOTRE-DAME-LOUVIGNIES"),
    ("BE", "1150", "SINT-PIETERS-WOLUWE"),
    ("DE", "25764", "Hellschen-Heringsand-Unterschaar"),
]


def test_a_real_long_town_is_set_smaller_never_refused(tmp_path: Path, dhpc: Dhpc) -> None:
    """One size for the whole block, capitals at least 2.3 mm high, 3 mm from the edge."""
    font = load_font()
    people = [
        person(f"T-{n}", "fi", code=code, city=city, country=country)
        for n, (country, code, city) in enumerate(LONG_TOWNS)
    ]
    hospital = "Universitair Ziekenhuis Antwerpen, Reumatologie"  # 77.3 mm in 10 pt
    people.append(person("T-9", "fi", organisation=hospital, code="2650", city="Edegem"))
    write_recipients(tmp_path / "mailing" / "recipients.csv", people)
    result = merge(dhpc, tmp_path / "mailing", tmp_path / "output", jobs=1)
    assert result.rejected == 0 and result.smaller_type == 1
    text = pdftotext(result.out_dir / "print" / "lemtrada-2019_fi_print.pdf")
    for _, code, city in LONG_TOWNS:
        assert f"{code} {city}" in text or f"{code}  {city}" in text
    assert hospital in text
    too_wide = "7063 CHAUSSÉE-NOTRE-DAME-LOUVIGNIES"
    assert font.width(too_wide, WINDOW.font_size) > WINDOW.text_width  # once refused
    assert WINDOW.address_size(font, ["Anna Virtanen", too_wide]) == WINDOW.font_size
    size = WINDOW.address_size(font, ["Anna Virtanen", hospital])
    assert size is not None and size < WINDOW.font_size
    cap_mm = size * font.cap_height / font.units_per_em * 25.4 / 72
    assert cap_mm >= 2.3
    placed = WINDOW.place(font, ["Anna Virtanen", hospital], ["date", "ref"])
    assert {line.size for line in placed[:2]} == {size}  # one size for the whole block
    assert placed[2].size is None  # the date keeps its own
    assert max(font.width(line.text, line.size or 10) for line in placed[:2]) <= WINDOW.widest


def test_a_line_too_long_even_in_the_smallest_type_says_what_to_do() -> None:
    font = load_font()
    welsh = "LL61 5UJ LLANFAIRPWLLGWYNGYLLGOGERYCHWYRNDROBWLLLLANTYSILIOGOGOGOCH"
    reason = WINDOW.misfit(font, ["Anna Virtanen", welsh], ["date"]) or ""
    assert "address line 2" in reason and "the smallest type the post reads" in reason
    assert "postal code list" in reason and "shorten it" not in reason


def test_a_window_that_rejects_everyone_rewrites_rejects_and_says_why(
    tmp_path: Path, dhpc: Dhpc
) -> None:
    out = tmp_path / "output" / "lemtrada-2019"
    write_recipients(
        tmp_path / "mailing" / "recipients.csv", [SPECIAL[3], *generated_recipients(2)]
    )
    with pytest.raises(RejectedRecipients):
        merge(dhpc, tmp_path / "mailing", tmp_path / "output", jobs=1)
    assert (out / "print" / "rejects.csv").read_text().count("\n") == 2  # LONG-0001
    write_recipients(tmp_path / "mailing" / "recipients.csv", generated_recipients(3))
    with pytest.raises(UsageError, match=r"leaves 0 mm beside it for the date"):
        window_layout("100,45,85,45")
    narrow = window_layout("60,45,85,45")  # 38 mm for the reference line: too little
    for leave_out in (False, True):
        with pytest.raises(RejectedRecipients) as caught:
            merge(
                dhpc,
                tmp_path / "mailing",
                tmp_path / "output",
                window=narrow,
                leave_out_rejects=leave_out,
                jobs=1,
            )
        message = str(caught.value)
        assert "The date and reference line do not fit" in message, message
        assert "Correct the address source" not in message
        rows = (out / "print" / "rejects.csv").read_text().splitlines()
        assert len(rows) == 4 and all("date/reference" in row for row in rows[1:])
    # Every address unprintable and left out: this run's rejects, never the earlier run's.
    write_recipients(
        tmp_path / "mailing" / "recipients.csv", [person("AR-1", "fi", first="\u0645")]
    )
    with pytest.raises(DhpcError, match=r"no letter to write .*the reasons of the rejected are in"):
        merge(dhpc, tmp_path / "mailing", tmp_path / "output", leave_out_rejects=True, jobs=1)
    assert "AR-1" in (out / "print" / "rejects.csv").read_text()
