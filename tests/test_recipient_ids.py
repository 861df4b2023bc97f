"""A recipient keeps their id when a register corrects them; send knows them again if not.

The ids come from real ``dhpc mailing-list`` runs on register files written here; the send
side from real sends to an SMTP server on 127.0.0.1.
"""

from __future__ import annotations

import csv
from collections.abc import Iterator, Sequence
from pathlib import Path

import pytest
from click.testing import CliRunner, Result
from send_helpers import (
    DHPC_ID,
    FaultyHandler,
    built_letters,
    content_copy,
    make_recipients,
    output_with_mailing,
    smtp_environment,
    smtp_server,
)

from dhpc_gen.addresses import load_sources, make_mailing_list
from dhpc_gen.addresses.recipients import Recipient, person_key, write_recipients
from dhpc_gen.cli import main
from dhpc_gen.content import load_dhpc
from dhpc_gen.distribution.journal import JOURNAL_FILE, read_journal

Row = list[str]
HEADER = ["Tunnus", "Etunimi", "Sukunimi", "Osoite", "Postinumero", "Kaupunki", "Sähköposti"]
SOURCES = """\
sources:
  - name: Lääketietokeskus Oy
    path: register.csv
    columns:
{columns}
    defaults: {{profession: physician, specialty: neurology}}
"""
ROWS = [
    ["F-101", "Aino", "Mäkinen", "Mannerheimintie 10", "00100", "Helsinki", "aino@x.example"],
    ["F-102", "Mikko", "Korhonen", "Hämeenkatu 5", "33100", "Tampere", "mikko1@x.example"],
    ["F-103", "Mikko", "Korhonen", "Satakunnankatu 9", "33100", "Tampere", "mikko2@x.example"],
    ["F-104", "Els", "Virta", "Kauppakatu 1", "40100", "Jyväskylä", "els.v@x.example"],
]


def ids(
    folder: Path, rows: Sequence[Sequence[str]], *, with_id: bool = True
) -> dict[tuple[str, str], str]:
    """(last name, street) → recipient id, from a real mailing-list run on ``rows``."""
    folder.mkdir(parents=True, exist_ok=True)
    columns = [c for c in HEADER if with_id or c != "Tunnus"]
    mapping = dict(zip(HEADER, ["id", "first_name", "last_name", "street", "postal_code",
                                "city", "email"], strict=True))  # fmt: skip
    (folder / "sources.yaml").write_text(
        SOURCES.format(columns="\n".join(f"      {c}: {mapping[c]}" for c in columns)),
        encoding="utf-8",
    )
    with (folder / "register.csv").open("w", encoding="utf-8", newline="") as handle:
        writer = csv.writer(handle)
        writer.writerow(columns)
        for row in rows:
            writer.writerow([v for c, v in zip(HEADER, row, strict=True) if c in columns])
    dhpc = load_dhpc(Path(__file__).resolve().parents[1] / "content" / DHPC_ID)
    mailing = make_mailing_list(dhpc, load_sources(folder / "sources.yaml"), audience=None)
    return {(r.last_name, r.street): r.recipient_id for r in mailing.recipients}


def corrected(
    rows: Sequence[Sequence[str]], index: int, column: int, value: str
) -> list[list[str]]:
    changed = [list(row) for row in rows]
    changed[index][column] = value
    return changed


@pytest.mark.parametrize("with_id", [True, False], ids=["register id", "no register id"])
def test_a_corrected_email_keeps_the_recipient_id(tmp_path: Path, with_id: bool) -> None:
    before = ids(tmp_path / "a", ROWS, with_id=with_id)
    after = ids(
        tmp_path / "b", corrected(ROWS, 3, 6, "els.virta@hospital.example"), with_id=with_id
    )
    assert after == before
    assert len(set(before.values())) == 4  # the two Mikko Korhonens of Tampere are two people


def test_with_a_register_id_a_corrected_street_or_name_keeps_it_too(tmp_path: Path) -> None:
    before = ids(tmp_path / "a", ROWS)
    moved = ids(tmp_path / "b", corrected(ROWS, 0, 3, "Aleksanterinkatu 2"))
    assert moved[("Mäkinen", "Aleksanterinkatu 2")] == before[("Mäkinen", "Mannerheimintie 10")]
    renamed = ids(tmp_path / "c", corrected(ROWS, 3, 2, "Virta-Laine"))
    assert renamed[("Virta-Laine", "Kauppakatu 1")] == before[("Virta", "Kauppakatu 1")]


def test_people_of_one_name_keep_their_ids_when_the_export_is_reordered(tmp_path: Path) -> None:
    before = ids(tmp_path / "a", ROWS, with_id=False)
    after = ids(tmp_path / "b", [ROWS[2], ROWS[3], ROWS[0], ROWS[1]], with_id=False)
    assert after == before


# -- send ------------------------------------------------------------------------------------


@pytest.fixture
def server() -> Iterator[tuple[FaultyHandler, dict[str, str]]]:
    handler = FaultyHandler()
    with smtp_server(handler) as controller:
        yield handler, smtp_environment(controller.port)


def send(out_root: Path, env: dict[str, str], *args: str) -> Result:
    command = ["send", str(content_copy(out_root)), "--out", str(out_root), "--no-dry-run"]
    return CliRunner().invoke(main, [*command, "--no-limit", *args], env=env)


def renamed(person: Recipient, **changes: str) -> Recipient:
    return Recipient(**{**person.__dict__, **changes})


def test_send_knows_a_recipient_again_under_a_new_id(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    server: tuple[FaultyHandler, dict[str, str]],
) -> None:
    """An id that changed (an older list, a register id added) is not a new person."""
    handler, env = server
    people = make_recipients(4, seed=15)
    out_root = output_with_mailing(tmp_path / "out", built_letters(tmp_path_factory), people)
    assert send(out_root, env).exit_code == 0 and len(handler.received) == 4

    # The list is made again: everyone has a new id, and person 1 a corrected e-mail too.
    again = [renamed(p, recipient_id=f"n-{i}") for i, p in enumerate(people)]
    again[1] = renamed(again[1], email="corrected@hospital.example")
    write_recipients(out_root / DHPC_ID / "mailing" / "recipients.csv", again)
    for dry in (True, False):
        result = send(out_root, env, *(["--dry-run"] if dry else []))
        assert result.exit_code == 0, result.output
        assert "4 recipient(s) recognised as sent under an earlier recipient id" in result.output
        assert "3 recipient(s) already sent earlier" in result.output
        assert "1 recipient(s) sent earlier at an address that has since changed" in result.output
        assert people[1].email not in result.output and people[1].last_name not in result.output
    assert len(handler.received) == 4
    rows = read_journal(out_root / DHPC_ID / JOURNAL_FILE, DHPC_ID)
    assert {r.key.recipient_id: r.former_ids for r in rows} == {
        f"n-{i}": (p.recipient_id,) for i, p in enumerate(people)
    }
    assert all(r.person_key == person_key(p) for r, p in zip(rows, people, strict=True))

    result = send(out_root, env, "--resend-changed")
    assert result.exit_code == 0, result.output
    assert "sent 1," in result.output
    assert handler.per_recipient()["corrected@hospital.example"] == 1
    assert len(handler.received) == 5
    report = CliRunner().invoke(
        main, ["report", str(content_copy(out_root)), "--out", str(out_root)]
    )
    assert report.exit_code == 0, report.output
    assert "not reached 0" in report.output


def test_two_people_of_one_name_under_new_ids_are_held(
    tmp_path: Path,
    tmp_path_factory: pytest.TempPathFactory,
    server: tuple[FaultyHandler, dict[str, str]],
) -> None:
    """Two sent under earlier ids, and three of that name and postal code listed now."""
    handler, env = server
    base = make_recipients(1, seed=16)[0]
    twins = [
        renamed(base, recipient_id=f"r-{i}", email=f"twin{i}@x.example", street=f"Katu {i}")
        for i in range(2)
    ]
    out_root = output_with_mailing(tmp_path / "out", built_letters(tmp_path_factory), twins)
    assert send(out_root, env).exit_code == 0 and len(handler.received) == 2
    now = [
        renamed(twins[0], recipient_id="n-0", email="twin0@x.example"),  # the same address
        renamed(twins[1], recipient_id="n-1", email="other1@x.example"),
        renamed(twins[1], recipient_id="n-2", email="other2@x.example", street="Katu 9"),
    ]
    write_recipients(out_root / DHPC_ID / "mailing" / "recipients.csv", now)
    result = send(out_root, env)
    assert result.exit_code == 0, result.output
    assert "1 recipient(s) recognised" in result.output
    assert "2 recipient(s) who share their name and postal code" in result.output
    assert len(handler.received) == 2
    result = send(out_root, env, "--resend-changed")
    assert result.exit_code == 0 and "sent 2," in result.output


GREEK_SOURCES = """\
sources:
  - name: Ιατρικός Σύλλογος Αθηνών
    path: gr.csv
    columns: {Όνομα: first_name, Επώνυμο: last_name, Διεύθυνση: street, ΤΚ: postal_code,
              Πόλη: city, Χώρα: country}
    defaults: {profession: physician, specialty: dermatology}
"""
GREEK_ROWS = [
    "Μαρία,Κωνσταντίνου,Πανεπιστημίου 5,106 74,Αθήνα,GR",
    "Νίκος,Γεωργίου,Ακαδημίας 20,106 74,Αθήνα,Ελλάδα",
]


def test_greek_names_give_each_person_an_id_of_their_own(
    campaign_dir: Path, tmp_path: Path
) -> None:
    """Names in Greek letters identify a person as Latin ones do: a new row moves no id."""
    sources = campaign_dir / "sources"
    sources.mkdir()
    (sources / "GR.yaml").write_text(GREEK_SOURCES, encoding="utf-8")
    header = "Όνομα,Επώνυμο,Διεύθυνση,ΤΚ,Πόλη,Χώρα"

    def listed(rows: Sequence[str]) -> dict[str, str]:
        (sources / "gr.csv").write_text("\n".join([header, *rows]) + "\n", encoding="utf-8")
        out = tmp_path / "out"
        result = CliRunner().invoke(
            main, ["mailing-list", str(campaign_dir), "--country", "GR", "--out", str(out)]
        )
        assert result.exit_code == 0, result.output
        path = out / "fictumab-2026" / "GR" / "mailing" / "recipients.csv"
        with path.open(encoding="utf-8", newline="") as handle:
            return {row["last_name"]: row["recipient_id"] for row in csv.DictReader(handle)}

    before = listed(GREEK_ROWS)
    assert len(set(before.values())) == 2  # "Ελλάδα" is Greece: no row rejected
    after = listed(["Γεώργιος,Παπαδόπουλος,Βασιλίσσης Σοφίας 10,106 74,Αθήνα,GR", *GREEK_ROWS])
    assert {name: after[name] for name in before} == before
