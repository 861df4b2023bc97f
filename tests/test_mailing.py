"""``dhpc mailing-list``: three registers in, one list out, every row accounted for.

A small hand-written set of the three register formats has an exact expected outcome;
a Faker-made messy set checks the dedupe against its ground truth; the bundled example
is checked against the generator that made it.
"""

from __future__ import annotations

import csv
import io
import itertools
import json
import shutil
import stat
from collections.abc import Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner
from mailing_helpers import (
    LIITTO,
    LTK,
    MS,
    SOURCES_YAML,
    Generated,
    generate_sources,
    precision_recall,
    predicted_pairs,
    write_example,
)
from openpyxl import Workbook, load_workbook

from dhpc_gen.addresses import (
    Audience,
    MailingList,
    load_sources,
    load_suppression,
    make_mailing_list,
    sources_used,
    write_mailing_list,
)
from dhpc_gen.addresses.recipients import COLUMNS as COLUMNS_OF_RECIPIENTS
from dhpc_gen.addresses.recipients import read_recipients
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.errors import DhpcError

PROJECT = Path(__file__).resolve().parents[1]
EXAMPLE = PROJECT / "content" / "lemtrada-2019"

FIXED_YAML = """\
sources:
  - name: Lääketietokeskus Oy
    path: registers/ltk.csv
    name_order: last_first
    columns:
      Tunnus: id
      Nimi: name
      Ammatti: profession
      Erikoisala: specialty
      Toimipaikka: organisation
      Lähiosoite: street
      Postinumero: postal_code
      Postitoimipaikka: city
      Maa: country
      Kieli: language
      Sähköposti: email
    values:
      profession: {Lääkäri: physician}
      specialty: {Neurologia: neurology, Yleislääketiede: general practice}
      language: {suomi: fi}
  - name: Suomen Lääkäriliitto
    path: registers/liitto.csv
    columns:
      Etunimet: first_name
      Sukunimi: last_name
      Erikoisala: specialty
      Katuosoite: street
      Postinumero: postal_code
      Postitoimipaikka: city
      Kieli: language
      Sähköposti: email
    values:
      specialty: {neurologia: neurology}
    defaults: {profession: physician}
  - name: Suomen MS-hoitajat ry
    path: registers/ms.xlsx
    columns:
      Jäsennro: id
      Sukunimi: last_name
      Etunimi: first_name
      Osoite: street
      Postinro: postal_code
      Toimipaikka: city
      Sähköposti: email
      Äidinkieli: language
    defaults: {profession: nurse, specialty: neurology}
suppression: registers/suppression.csv
"""

LTK_ROWS = [
    ["Tunnus", "Nimi", "Ammatti", "Erikoisala", "Toimipaikka", "Lähiosoite", "Postinumero",
     "Postitoimipaikka", "Maa", "Kieli", "Sähköposti"],
    ["A1", "Virtanen Matti", "Lääkäri", "Neurologia", "HUS", "Mannerheimintie 10 A 5", "100",
     "Helsinki", "", "suomi", "matti.virtanen@hus.example"],
    ["A2", "Korhonen Anna", "Lääkäri", "Neurologia", "HUS", "Haartmaninkatu 4", "290",
     "Helsinki", "", "suomi", ""],
    ["A3", "Virtanen Anne", "Lääkäri", "Neurologia", "HUS", "Haartmaninkatu 4", "00290",
     "Helsinki", "", "", ""],
    ["A4", "Lindqvist Karin", "Lääkäri", "Neurologia", "ÅCS", "Torggatan 2", "22100",
     "Mariehamn", "", "", ""],
    ["A5", "Mäkelä Juha", "Lääkäri", "Yleislääketiede", "TK", "Kauppakatu 1", "40100",
     "Jyväskylä", "", "suomi", ""],
    ["A6", "", "Lääkäri", "Neurologia", "HUS", "Katu 1", "00100", "Helsinki", "", "", ""],
    ["A7", "Nieminen Pekka", "Lääkäri", "Neurologia", "", "", "", "", "", "", ""],
    ["A8", "Salo Liisa", "Lääkäri", "Neurologia", "", "Katu 2", "ABC", "Espoo", "", "", ""],
    ["A9", "Heikkinen Timo", "Lääkäri", "Neurologia", '=HYPERLINK("http://x.invalid")',
     "Katu 3", "2100", "Espoo", "", "suomi", "timo(at)hus"],
    ["A10", "Ström Eva", "Lääkäri", "Neurologia", "", "Storgatan 1", "75103", "Uppsala",
     "Ruotsi", "", ""],
    ["A11", "Laine Sanna", "Lääkäri", "Neurologia", "", "Katu 9", "00100", "Helsinki", "", "",
     "sanna.laine@koti.example"],
]  # fmt: skip
LIITTO_ROWS = [
    ["Etunimet", "Sukunimi", "Erikoisala", "Katuosoite", "Postinumero", "Postitoimipaikka",
     "Kieli", "Sähköposti"],
    ["Matti Juhani", "VIRTANEN", "Neurologia", "Mannerheimintie 10 a 5", "100", "Helsinki", "FI",
     ""],
    ["Sanna", "Korhonen", "Neurologia", "Haartmaninkatu 4", "290", "Helsinki", "FI", ""],
    ["@SUM(1+1)", "Evil", "Neurologia", "Katu 5", "00100", "Helsinki", "", ""],
    ["Pekka", "Laaksonen", "Neurologia", "Katu 6", "", "", "", "pekka@example.fi"],
    ["Sanna", "Laine", "Neurologia", "Katu 9", "100", "Helsinki", "FI", ""],
]  # fmt: skip
MS_ROWS: list[list[object]] = [
    ["Jäsennro", "Sukunimi", "Etunimi", "Osoite", "Postinro", "Toimipaikka", "Sähköposti",
     "Äidinkieli"],
    [1, "Nurmi", "Tiina", "Sairaalakatu 1", 33520, "Tampere", "tiina.nurmi@tays.example", None],
    [2, "Koskinen", "Maria", "Haartmaninkatu 4", 290, "Helsinki", None, None],
    [None] * 8,
    [4, "Virtanen", "Matti", "Mannerheimintie 10 A 5", 100, "Helsinki",
     "MATTI.VIRTANEN@HUS.EXAMPLE", None],
]  # fmt: skip
SUPPRESSION = "email,name,postal_code\nsanna.laine@koti.example,,\n,Tiina Nurmi,33520\n"


def _csv_bytes(rows: Sequence[Sequence[str]], delimiter: str, encoding: str) -> bytes:
    buffer = io.StringIO()
    csv.writer(buffer, delimiter=delimiter, lineterminator="\r\n").writerows(rows)
    return buffer.getvalue().encode(encoding)


def make_content(root: Path) -> Path:
    """A copy of the Lemtrada content with the hand-written registers."""
    content = root / "content"
    content.mkdir(parents=True)
    for name in ("dhpc.yaml", "sv.yaml", "fi.yaml"):
        shutil.copy(EXAMPLE / name, content / name)
    registers = content / "registers"
    registers.mkdir()
    (registers / "ltk.csv").write_bytes(_csv_bytes(LTK_ROWS, ";", "cp1252"))
    (registers / "liitto.csv").write_bytes(_csv_bytes(LIITTO_ROWS, ",", "utf-8-sig"))
    workbook = Workbook()
    sheet = workbook.active
    assert sheet is not None
    for row in MS_ROWS:
        sheet.append(row)
    workbook.save(registers / "ms.xlsx")
    (registers / "suppression.csv").write_text(SUPPRESSION, encoding="utf-8")
    (content / "sources.yaml").write_text(FIXED_YAML, encoding="utf-8")
    return content


def run(content: Path, *, audience: str = "dhpc", threshold: float = 90) -> MailingList:
    dhpc = load_dhpc(content)
    sources = load_sources(content / "sources.yaml", address_sources=dhpc.meta.address_sources)
    chosen = Audience.from_meta(dhpc.meta.audience) if audience == "dhpc" else None
    return make_mailing_list(
        dhpc,
        sources,
        audience=chosen,
        suppression=load_suppression(sources.suppression, "FI") if sources.suppression else None,
        threshold=threshold,
    )


@pytest.fixture(scope="module")
def fixed(tmp_path_factory: pytest.TempPathFactory) -> tuple[MailingList, Path]:
    content = make_content(tmp_path_factory.mktemp("fixed"))
    mailing = run(content)
    folder = write_mailing_list(mailing, content.parent / "output")
    return mailing, folder


def _read_csv(path: Path) -> list[dict[str, str]]:
    with path.open(encoding="utf-8", newline="") as handle:
        return list(csv.DictReader(handle))


# --- The fixed set ---------------------------------------------------------------------


def test_every_row_is_accounted_for(fixed: tuple[MailingList, Path]) -> None:
    report = fixed[0].report
    assert [(s["name"], s["rows_read"], s["rejected"]) for s in report["sources"]] == [
        (LTK, 11, 3),
        (LIITTO, 5, 0),
        (MS, 3, 0),
    ]
    assert report["sources"][2]["blank_rows"] == 1
    outcome = {key: report[key] for key in
               ("rows_read", "rejected", "filtered", "suppressed", "duplicates_merged",
                "recipients")}  # fmt: skip
    assert outcome == {
        "rows_read": 19,
        "rejected": 3,
        "filtered": 1,
        "suppressed": 3,
        "duplicates_merged": 2,
        "recipients": 10,
    }
    assert report["rows_read"] == sum(v for k, v in outcome.items() if k != "rows_read")
    assert report["suppressed_people"] == 2
    assert report["recipients_per_language"] == {"sv": 2, "fi": 8}
    assert report["language_from"] == {"country": 1, "default": 4, "rule": 1, "source": 4}
    assert report["invalid_emails_cleared"] == 1
    assert report["recipients_email_only"] == 1
    assert report["filtered_values"] == {"profession=physician; specialty=general practice": 1}


def test_similar_names_at_one_hospital_stay_two_people(fixed: tuple[MailingList, Path]) -> None:
    at_hospital = [r for r in fixed[0].recipients if r.street == "Haartmaninkatu 4"]
    assert sorted(r.full_name for r in at_hospital) == [
        "Anna Korhonen",
        "Anne Virtanen",
        "Maria Koskinen",
        "Sanna Korhonen",
    ]


def test_the_recipients_are_the_people_expected(fixed: tuple[MailingList, Path]) -> None:
    people = {
        (r.first_name, r.last_name): (r.language, r.postal_code, r.country, r.sources)
        for r in fixed[0].recipients
    }
    both = f"{LTK}; {LIITTO}; {MS}"
    assert people == {
        ("Matti", "Virtanen"): ("fi", "00100", "FI", both),
        ("Anna", "Korhonen"): ("fi", "00290", "FI", LTK),
        ("Anne", "Virtanen"): ("fi", "00290", "FI", LTK),
        ("Karin", "Lindqvist"): ("sv", "22100", "FI", LTK),
        ("Timo", "Heikkinen"): ("fi", "02100", "FI", LTK),
        ("Eva", "Ström"): ("sv", "751 03", "SE", LTK),
        ("Sanna", "Korhonen"): ("fi", "00290", "FI", LIITTO),
        ("@SUM(1+1)", "Evil"): ("fi", "00100", "FI", LIITTO),
        ("Pekka", "Laaksonen"): ("fi", "", "FI", LIITTO),
        ("Maria", "Koskinen"): ("fi", "00290", "FI", MS),
    }
    matti = next(
        r for r in fixed[0].recipients if r.last_name == "Virtanen" and r.first_name == "Matti"
    )
    assert (matti.street, matti.email) == ("Mannerheimintie 10 A 5", "matti.virtanen@hus.example")
    assert fixed[0].provenance[matti.recipient_id] == ((LTK, 2), (LIITTO, 2), (MS, 5))


def test_rejects_name_file_row_and_reason(fixed: tuple[MailingList, Path]) -> None:
    rows = _read_csv(fixed[1] / "rejects.csv")
    assert [(r["source"], r["file"], r["row"], r["reason"]) for r in rows] == [
        (LTK, "registers/ltk.csv", "7", "no-name"),
        (LTK, "registers/ltk.csv", "8", "no-address-or-email"),
        (LTK, "registers/ltk.csv", "9", "invalid-postal-code"),
    ]
    assert rows[2]["detail"] == "invalid postal code 'ABC' for FI"


def test_duplicates_list_each_join_with_its_score(fixed: tuple[MailingList, Path]) -> None:
    rows = _read_csv(fixed[1] / "duplicates.csv")
    joins = [
        (r["outcome"], r["score"], r["kept_source"], r["kept_row"], r["other_source"],
         r["other_row"])
        for r in rows
    ]  # fmt: skip
    assert {r["match"] for r in rows} == {"merged"}
    assert all(r["other_recipient_id"] == r["recipient_id"] for r in rows)
    assert sorted(joins) == [
        ("recipient", "100.0", LTK, "2", LIITTO, "2"),
        ("recipient", "100.0", LTK, "2", MS, "5"),
        ("suppressed", "100.0", LTK, "12", LIITTO, "6"),
    ]
    assert rows[0]["kept_address"] == "Mannerheimintie 10 A 5, 00100 Helsinki"


def test_cells_a_spreadsheet_would_run_are_neutralised(fixed: tuple[MailingList, Path]) -> None:
    text = (fixed[1] / "recipients.csv").read_text(encoding="utf-8")
    assert "'@SUM(1+1)" in text
    assert "'=HYPERLINK" in text
    for name in ("recipients.csv", "rejects.csv", "duplicates.csv", "provenance.csv"):
        for row in csv.reader(io.StringIO((fixed[1] / name).read_text(encoding="utf-8"))):
            assert not any(cell.startswith(("=", "+", "-", "@")) for cell in row), (name, row)
    # Read back through the contract, the values are as given.
    names = {r.first_name for r in read_recipients(fixed[1])}
    assert "@SUM(1+1)" in names


def test_files_are_private_and_recipients_follow_the_contract(
    fixed: tuple[MailingList, Path],
) -> None:
    folder = fixed[1]
    assert stat.S_IMODE(folder.stat().st_mode) == 0o700
    for path in folder.iterdir():
        assert stat.S_IMODE(path.stat().st_mode) == 0o600, path
    assert not [p for p in folder.iterdir() if p.name.startswith(".")]  # no temporary left
    read = list(read_recipients(folder))
    assert read == list(fixed[0].recipients)
    for recipient in read:
        assert recipient.recipient_id.startswith("r-") and len(recipient.recipient_id) == 14
    keys = [(r.language, r.postal_code) for r in read]
    assert keys == sorted(keys)


def test_two_runs_give_identical_files(fixed: tuple[MailingList, Path], tmp_path: Path) -> None:
    content = make_content(tmp_path)
    again = write_mailing_list(run(content), tmp_path / "output")
    for path in fixed[1].iterdir():
        if path.name == "report.json":
            first = json.loads(path.read_text(encoding="utf-8"))
            second = json.loads((again / path.name).read_text(encoding="utf-8"))
            assert {**first, "sources_file": ""} == {**second, "sources_file": ""}
        else:
            assert path.read_bytes() == (again / path.name).read_bytes(), path.name


def test_sources_used_names_the_sources_that_gave_recipients(
    fixed: tuple[MailingList, Path], tmp_path: Path
) -> None:
    assert sources_used(fixed[1]) == [LTK, LIITTO, MS]
    content = make_content(tmp_path)
    # Only the physician of general practice is left in the union's file: nobody in the list.
    (content / "registers" / "liitto.csv").write_bytes(
        _csv_bytes(
            [
                LIITTO_ROWS[0],
                ["Juha", "Mäkelä", "Yleislääketiede", "Katu 1", "40100", "Jyväskylä", "", ""],
            ],
            ",",
            "utf-8",
        )
    )
    folder = write_mailing_list(run(content), tmp_path / "output")
    assert sources_used(folder) == [LTK, MS]


def test_sources_used_without_a_report_says_what_to_do(tmp_path: Path) -> None:
    with pytest.raises(DhpcError, match="no mailing list report here: run dhpc mailing-list"):
        sources_used(tmp_path)
    (tmp_path / "report.json").write_text("{not json", encoding="utf-8")
    with pytest.raises(DhpcError, match="not a mailing list report"):
        sources_used(tmp_path)
    (tmp_path / "report.json").write_text('{"sources_used": "all"}', encoding="utf-8")
    with pytest.raises(DhpcError, match="sources_used is missing or not a list"):
        sources_used(tmp_path)


def test_a_typo_joins_only_below_its_score(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    rows = [*LIITTO_ROWS[:1], ["Matti", "Virtasen", "Neurologia", "Mannerheimintie 10 A 5",
                                 "00100", "Helsinki", "", ""]]  # fmt: skip
    (content / "registers" / "liitto.csv").write_bytes(_csv_bytes(rows, ",", "utf-8"))
    merged = run(content, audience="none", threshold=90)
    split = run(content, audience="none", threshold=99)
    assert merged.report["duplicates_merged"] == split.report["duplicates_merged"] + 1
    score = next(d.score for d in merged.duplicates if d.other.last_name == "Virtasen")
    assert 90 <= score < 99


# --- The CLI ---------------------------------------------------------------------------


def _invoke(args: list[str]) -> tuple[int, str, str]:
    result = CliRunner().invoke(main, args)
    assert result.exception is None or isinstance(result.exception, SystemExit), result.exception
    return result.exit_code, result.stdout, result.stderr


def test_the_command_shows_counts_and_no_personal_data(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    code, out, err = _invoke(["mailing-list", str(content), "--out", str(tmp_path / "out")])
    assert code == 0, err
    assert "19 rows read from 3 sources" in out
    assert "rejected 3, outside the audience 1, suppressed 3, duplicates merged 2" in out
    assert "recipients 10 (sv 2, fi 8)" in out
    for recipient in read_recipients(tmp_path / "out" / "lemtrada-2019" / "mailing"):
        for value in (recipient.last_name, recipient.street, recipient.email):
            assert not value or value not in out + err


def test_the_command_options(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    out_dir = str(tmp_path / "out")
    code, out, _ = _invoke(["mailing-list", str(content), "--audience", "profession=nurse",
                            "--out", out_dir])  # fmt: skip
    # Maria, and Matti (the nurses' register lists him too); Tiina is suppressed.
    assert code == 0 and "recipients 2 (sv 0, fi 2)" in out
    code, out, _ = _invoke(["mailing-list", str(content), "--everyone", "--out", out_dir])
    assert code == 0 and "recipients 11 (" in out
    alternative = tmp_path / "other.yaml"
    alternative.write_text(FIXED_YAML.replace("registers/", "content/registers/"), "utf-8")
    code, out, _ = _invoke(["mailing-list", str(content), "--sources", str(alternative),
                            "--suppress", str(content / "registers" / "suppression.csv"),
                            "--out", out_dir])  # fmt: skip
    assert code == 0 and "recipients 10 (" in out


def test_the_command_refuses_bad_usage_and_bad_input_without_a_traceback(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    code, _, err = _invoke(["mailing-list", str(content), "--everyone", "--audience", "x"])
    assert code == 2 and "--everyone and --audience exclude each other" in err
    code, _, err = _invoke(["mailing-list", str(content), "--threshold", "0"])
    assert code == 2
    (content / "sources.yaml").write_text(
        FIXED_YAML.replace("registers/ltk.csv", "../../etc/passwd"), encoding="utf-8"
    )
    code, _, err = _invoke(["mailing-list", str(content), "--out", str(tmp_path / "out")])
    assert code == 1
    assert "sources[0].path: '../../etc/passwd' is outside the folder" in err
    assert "Traceback" not in err
    (content / "sources.yaml").write_text(FIXED_YAML, encoding="utf-8")
    (content / "registers" / "ltk.csv").write_bytes(b"\x00\x01\x02" * 100)
    code, _, err = _invoke(["mailing-list", str(content), "--out", str(tmp_path / "out")])
    assert code == 1 and "registers/ltk.csv: not a text file" in err


# --- Generated sets --------------------------------------------------------------------


def _outcome(mailing: MailingList, generated: Generated) -> None:
    """Rejects exactly the rows built to be rejected, and the accounting holds."""
    assert {(r.source, r.row): r.reason for r in mailing.rejects} == generated.rejects
    report = mailing.report
    assert report["rows_read"] == generated.rows
    assert report["rows_read"] == (
        report["rejected"] + report["filtered"] + report["suppressed"]
        + report["duplicates_merged"] + report["recipients"]
    )  # fmt: skip


def test_a_messy_generated_set_is_deduplicated_against_its_ground_truth(tmp_path: Path) -> None:
    content = tmp_path / "content"
    shutil.copytree(EXAMPLE, content, ignore=shutil.ignore_patterns("sources*"))
    generated = generate_sources(content / "sources", people=500, seed=7, junk=2)
    (content / "sources.yaml").write_text(SOURCES_YAML, encoding="utf-8")
    mailing = run(content, audience="none")
    _outcome(mailing, generated)
    triples = [(rid, s, r) for rid, rows in mailing.provenance.items() for s, r in rows]
    suppressed = {k for k, pid in generated.truth.items() if pid in generated.suppressed_pids}
    true = {pair for pair in generated.true_pairs() if not pair & suppressed}
    precision, recall = precision_recall(predicted_pairs(triples), true)
    assert precision >= 0.98 and recall >= 0.98, (precision, recall)
    assert mailing.report["suppressed_people"] == len(generated.suppressed_pids)
    formula = {
        r.organisation for r in mailing.recipients if r.organisation.startswith(("=", "+", "@"))
    }
    assert formula == {'=HYPERLINK("http://example.invalid","Klikkaa")', "+358 40 1234567",
                       "@Neurologian poliklinikka"}  # fmt: skip


def test_the_bundled_example_is_what_the_generator_makes(tmp_path: Path) -> None:
    generated = write_example(tmp_path)
    assert (tmp_path / "sources.yaml").read_text("utf-8") == (EXAMPLE / "sources.yaml").read_text(
        "utf-8"
    )
    for name in ("laaketietokeskus.csv", "laakariliitto.csv", "suppression.csv"):
        assert (tmp_path / "sources" / name).read_bytes() == (
            EXAMPLE / "sources" / name
        ).read_bytes()
    fresh = load_workbook(tmp_path / "sources" / "ms-hoitajat.xlsx", read_only=True)
    bundled = load_workbook(EXAMPLE / "sources" / "ms-hoitajat.xlsx", read_only=True)
    assert [list(r) for r in fresh.active.iter_rows(values_only=True)] == [  # type: ignore[union-attr]
        list(r)
        for r in bundled.active.iter_rows(values_only=True)  # type: ignore[union-attr]
    ]
    fresh.close()
    bundled.close()

    mailing = run(EXAMPLE)
    _outcome(mailing, generated)
    listed = {
        pid
        for key, pid in generated.truth.items()
        if generated.in_audience(pid) and pid not in generated.suppressed_pids
    }
    recipients_pids = {
        generated.truth[(source, row)]
        for rows in mailing.provenance.values()
        for source, row in rows
    }
    assert recipients_pids == listed
    assert len(mailing.recipients) == len(listed)
    triples = [(rid, s, r) for rid, rows in mailing.provenance.items() for s, r in rows]
    wanted = {p for p in generated.true_pairs() if all(generated.truth[k] in listed for k in p)}
    assert predicted_pairs(triples) == wanted
    assert mailing.report["sources_used"] == [LTK, LIITTO, MS]


def test_progress_is_reported_per_stage_up_to_the_total(tmp_path: Path) -> None:
    content = make_content(tmp_path)
    dhpc = load_dhpc(content)
    calls: list[tuple[str, int, int]] = []
    make_mailing_list(
        dhpc,
        load_sources(content / "sources.yaml"),
        audience=None,
        progress=lambda stage, done, total: calls.append((stage, done, total)),
    )
    stages = [stage for stage, _, _ in calls]
    assert stages == sorted(stages, key=["read", "match"].index)
    for stage in ("read", "match"):
        mine = [(done, total) for s, done, total in calls if s == stage]
        assert mine[-1][0] == mine[-1][1] > 0
        assert all(a[0] <= b[0] for a, b in itertools.pairwise(mine))
    total_bytes = sum(p.stat().st_size for p in (content / "registers").glob("[lm]*.*"))
    assert calls[0][2] == total_bytes


def test_a_mailing_list_saved_again_by_a_spreadsheet_reads_or_gives_a_message(
    tmp_path: Path,
) -> None:
    """Excel saves UTF-8 with a BOM, or cp1252: the first reads, the second is a message."""
    text = (
        ",".join(COLUMNS_OF_RECIPIENTS)
        + "\nr-1,fi,,Åsa,Öhman,,,,Katu 1,00100,Helsinki,FI,,Rekisteri\n"
    )
    (tmp_path / "bom.csv").write_bytes(text.encode("utf-8-sig"))
    assert [r.last_name for r in read_recipients(tmp_path / "bom.csv")] == ["Öhman"]
    (tmp_path / "ansi.csv").write_bytes(text.encode("cp1252"))
    with pytest.raises(DhpcError, match=r"ansi\.csv: not UTF-8 at byte \d+: .*save it as UTF-8"):
        list(read_recipients(tmp_path / "ansi.csv"))
    (tmp_path / "huge.csv").write_text(text + 'r-2,fi,"' + "x" * 200_000 + '"\n')
    with pytest.raises(DhpcError, match=r"huge\.csv: not a readable CSV file"):
        list(read_recipients(tmp_path / "huge.csv"))
    with pytest.raises(DhpcError, match=r"no such file; make it with dhpc mailing-list DIR"):
        list(read_recipients(tmp_path / "missing"))


@pytest.mark.parametrize("command", ["send", "report"])
def test_send_and_report_on_a_cp1252_mailing_list_give_a_message(
    tmp_path: Path, command: str
) -> None:
    text = (
        ",".join(COLUMNS_OF_RECIPIENTS)
        + "\nr-1,fi,,Åsa,Öhman,,,,Katu 1,00100,Helsinki,FI,a@example.fi,Rekisteri\n"
    )
    (tmp_path / "recipients.csv").write_bytes(text.encode("cp1252"))
    out = tmp_path / "out"
    (out / "lemtrada-2019").mkdir(parents=True)
    (out / "lemtrada-2019" / "print").mkdir()
    (out / "lemtrada-2019" / "print" / "print-manifest.csv").write_text(
        "recipient_id,language,print_file,first_page,last_page,letter_file,letter_sha256\n"
    )
    args = [command, str(EXAMPLE), "--out", str(out), "--mailing", str(tmp_path)]
    result = CliRunner().invoke(main, args)
    assert result.exit_code == 1, result.output
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "not UTF-8 at byte" in result.output
