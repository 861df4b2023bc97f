"""The small rules of the mailing list: per-country postal codes, names, languages,
audience, and when two rows count as one person."""

from __future__ import annotations

from dataclasses import replace

import pytest

from dhpc_gen.addresses import normalise
from dhpc_gen.addresses.audience import Audience
from dhpc_gen.addresses.dedupe import (
    cluster,
    find_matches,
    pair_score,
    shared_emails,
    streets_agree,
)
from dhpc_gen.addresses.language import LanguagePolicy
from dhpc_gen.addresses.readers import RawRow
from dhpc_gen.addresses.records import PersonRow, Reject, RowNormaliser
from dhpc_gen.addresses.sources import AddressSource
from dhpc_gen.content.model import Audience as AudienceMeta
from dhpc_gen.errors import UsageError
from dhpc_gen.regulators import registry

FINLAND = LanguagePolicy.for_dhpc("FI", ("sv", "fi"), registry.languages)


@pytest.mark.parametrize(
    ("country", "cell", "printed"),
    [
        ("FI", "100", "00100"),
        ("FI", "00100", "00100"),
        ("FI", "2100.0", "02100"),
        ("FI", "FI-00100", "00100"),
        ("FI", "'00100", "00100"),
        ("FI", "123456", None),
        ("FI", "ABC12", None),
        ("FI", "00 100", "00100"),
        ("AX", "AX-22100", "22100"),
        ("SE", "75103", "751 03"),
        ("SE", "SE-751 03", "751 03"),
        ("SE", "05103", None),
        ("SE", "7510", None),
        ("NO", "150", "0150"),
        ("DE", "1067", "01067"),
        ("DK", "800", None),
        ("BE", "1000", "1000"),
        ("GB", "sw1a 1aa", "SW1A 1AA"),
        ("GB", "=1+1", None),
    ],
)
def test_postal_codes_per_country(country: str, cell: str, printed: str | None) -> None:
    assert normalise.postal_code(country, cell) == printed


@pytest.mark.parametrize(
    ("cell", "order", "first", "last"),
    [
        ("Virtanen Matti Juhani", "last_first", "Matti Juhani", "Virtanen"),
        ("Matti Juhani Virtanen", "first_last", "Matti Juhani", "Virtanen"),
        ("af Forselles Anna", "last_first", "Anna", "af Forselles"),
        ("Georg Henrik von Wright", "first_last", "Georg Henrik", "von Wright"),
        ("Virtanen, Matti", "first_last", "Matti", "Virtanen"),
        ("Virtanen", "last_first", "", "Virtanen"),
    ],
)
def test_name_cells_split(cell: str, order: str, first: str, last: str) -> None:
    assert normalise.split_name(cell, order) == (first, last)


def test_text_is_cleaned_for_printing_and_folded_for_matching() -> None:
    assert normalise.clean("  MÃ¤kinen\u00a0 Ã…sa\t") == "Mäkinen Åsa"
    # A line break inside a cell as FileMaker writes it; invisible marks inside a value.
    assert normalise.clean("Katu 1\x0bA 5") == "Katu 1 A 5"
    assert normalise.clean("\ufeffMat\u200bti") == "Matti"
    assert normalise.fold("Östen-Åke  ÄHTÄRI") == "osten ake ahtari"
    assert normalise.email("  <mailto:Matti.Virtanen@HUS.fi> ") == "Matti.Virtanen@HUS.fi"
    assert normalise.email("matti@hus") is None
    assert normalise.email("=HYPERLINK(x)@hus.fi") is None
    assert normalise.country_code("Ruotsi") == "SE"
    assert normalise.country_code("sverige") == "SE"
    assert normalise.country_code("Atlantis") is None


@pytest.mark.parametrize(
    ("written", "code"),
    [
        ("Luxembourg", "LU"),
        ("Grand-Duché de Luxembourg", "LU"),
        ("Norge", "NO"),
        ("Polska", "PL"),
        ("Česká republika", "CZ"),
        ("Magyarország", "HU"),
        ("Malta", "MT"),
        ("Österreich", "AT"),
        ("Nederland", "NL"),
        ("Portugal", "PT"),
    ],
)
def test_every_eea_country_is_known_by_the_name_its_registers_write(
    written: str, code: str
) -> None:
    assert normalise.country_code(written) == code


@pytest.mark.parametrize(
    ("given", "country", "postal", "language", "how"),
    [
        ("svenska", "FI", "00100", "sv", "source"),
        ("suomi", "FI", "22100", "fi", "source"),
        ("", "FI", "22100", "sv", "rule"),
        ("", "AX", "22100", "sv", "rule"),
        ("", "FI", "00100", "fi", "default"),
        ("english", "FI", "00100", "fi", "default"),
        ("", "SE", "751 03", "sv", "country"),
        ("", "DE", "01067", "fi", "default"),
    ],
)
def test_language_column_then_country_rule_then_default(
    given: str, country: str, postal: str, language: str, how: str
) -> None:
    assert FINLAND.assign(given, country, postal) == (language, how)


def test_belgian_postal_codes_choose_the_language() -> None:
    belgium = LanguagePolicy.for_dhpc("BE", ("nl", "fr", "de"), registry.languages)
    assert belgium.assign("", "BE", "9000") == ("nl", "rule")
    assert belgium.assign("", "BE", "4000") == ("fr", "rule")
    assert belgium.assign("", "BE", "4700") == ("de", "rule")
    assert belgium.assign("", "BE", "1000") == ("nl", "default")  # Brussels: bilingual


def test_norwegian_named_in_a_register_is_the_bokmal_letter() -> None:
    norway = LanguagePolicy.for_dhpc("NO", ("nb",), registry.languages)
    for given in ("Norsk", "norwegian", "no", "nb", "Bokmål"):
        assert norway.assign(given, "NO", "0150") == ("nb", "source"), given


def test_a_rule_gives_only_a_language_the_dhpc_has() -> None:
    finnish_only = LanguagePolicy.for_dhpc("FI", ("fi",), registry.languages)
    assert finnish_only.assign("svenska", "FI", "22100") == ("fi", "default")


def test_audience_from_dhpc_yaml_and_from_the_option() -> None:
    meta = Audience.from_meta(
        AudienceMeta(professions=("physician", "nurse"), specialties=("neurology",))
    )
    assert meta is not None
    assert meta.admits("physician", "neurology")
    assert meta.admits("nurse", "neurology")
    assert not meta.admits("physician", "general practice")
    assert not meta.admits("pharmacist", "neurology")
    assert Audience.from_meta(AudienceMeta(description="everyone")) is None
    either = Audience.parse(["Neurology", "profession=nurse"])
    assert either.admits("nurse", "neurology")
    assert not either.admits("physician", "neurology")
    assert Audience.parse(["neurology"]).admits("physician", "neurology")
    with pytest.raises(UsageError, match="use profession=VALUE"):
        Audience.parse(["job=nurse"])


# --- Who is one person -----------------------------------------------------------------

SOURCE = AddressSource(
    name="Rekisteri", path=__import__("pathlib").Path("r.csv"), shown="r.csv", format="csv",
    encoding=None, delimiter=None, sheet=None, header_row=None, country=None,
    name_order="last_first", columns={}, values={}, defaults={},
)  # fmt: skip


def person(**cells: str) -> PersonRow:
    base = {"street": "Haartmaninkatu 4", "postal_code": "00290", "city": "Helsinki"}
    row = RowNormaliser(SOURCE, 0, FINLAND, "FI")(RawRow(2, base | cells))
    assert not isinstance(row, Reject), row
    return row


def test_name_order_and_case_and_address_variants_are_one_person() -> None:
    a = person(name="Virtanen Matti", street="Mannerheimintie 10 A 5", postal_code="100")
    b = person(first_name="Matti", last_name="VIRTANEN", street="Mannerheimintie 10 a 5")
    b = replace(b, postal_code="00100")
    assert pair_score(a, b) == 100.0


def test_a_missing_middle_name_and_a_typo_are_one_person() -> None:
    a = person(first_name="Sara Veera", last_name="Salomaa")
    b = person(first_name="Sara", last_name="Salmoaa")
    assert 90 <= pair_score(a, b) < 100


def test_different_people_at_one_hospital_are_not_merged() -> None:
    anna = person(first_name="Anna", last_name="Virtanen")
    anne = person(first_name="Anne", last_name="Virtanen")
    matti = person(first_name="Matti", last_name="Korhonen")
    assert pair_score(anna, anne) == 0.0
    assert pair_score(anna, matti) == 0.0
    matches = find_matches([anna, anne, matti], 90)
    assert matches == []


def test_evidence_moves_the_score() -> None:
    a = person(first_name="Liisa", last_name="Korhonen", email="liisa@hus.example")
    same_mail = person(first_name="Lisa", last_name="Korhonen", email="LIISA@hus.example")
    other_mail = person(first_name="Liisa", last_name="Korhonen", email="lk@koti.example")
    elsewhere = person(first_name="Liisa", last_name="Korhonen", street="Ratakatu 1")
    assert pair_score(a, same_mail) > pair_score(replace(a, email_key=""), same_mail)
    assert pair_score(a, other_mail) == 90.0
    assert pair_score(replace(a, email_key=""), elsewhere) == 90.0


def test_the_same_email_joins_rows_across_postal_codes() -> None:
    a = person(first_name="Matti", last_name="Virtanen", email="mv@hus.example")
    b = person(first_name="Matti", last_name="Virtanen", email="mv@hus.example")
    b = replace(b, postal_code="33100", row=3)
    clusters, joins, _ = cluster(2, find_matches([a, b], 90))
    assert clusters == [[0, 1]]
    assert [(j.a, j.b, j.score) for j in joins] == [(0, 1, 100.0)]


def test_a_shared_office_email_does_not_join_different_people() -> None:
    a = person(first_name="Matti", last_name="Virtanen", email="neuro@hus.example")
    b = person(first_name="Sanna", last_name="Laine", email="neuro@hus.example")
    assert find_matches([a, b], 90) == []


def test_one_register_giving_two_ids_lowers_the_score() -> None:
    a = person(first_name="Matti", last_name="Virtanen", id="1")
    b = replace(person(first_name="Matti", last_name="Virtanen", id="2"), row=3)
    assert pair_score(a, b) == 90.0
    assert find_matches([a, b], 95) == []


def test_an_office_email_on_many_rows_says_nothing_about_who_is_who() -> None:
    office = "neurologia@hus.example"
    rows = [
        replace(person(first_name="Anna", last_name=f"Sukunimi{n}", email=office),
                postal_code=f"{n:05d}", row=n)
        for n in range(3000)
    ]  # fmt: skip
    twin = replace(rows[0], last_name="Sukunimi0", row=4000)
    assert shared_emails(rows) == {office}
    # 3000 rows in one e-mail block would be 4.5 million comparisons: the block is skipped,
    # and the office address is no evidence (a same-named colleague still matches by name).
    assert [(m.a, m.b, m.score) for m in find_matches([*rows, twin], 90)] == [(0, 3000, 100.0)]
    lisa = replace(rows[1], first_name="Lisa", first_keys=("lisa",), postal_code="00000")
    liisa = replace(rows[0], first_name="Liisa", first_keys=("liisa",))
    assert pair_score(liisa, lisa, {office}) == 0.0  # no first-name typo allowed on it
    assert pair_score(replace(liisa, last_keys=lisa.last_keys), lisa) > 90


@pytest.mark.parametrize(
    ("x", "y", "agree"),
    [
        ("Kotikatu 10", "KOTIKATU 10 A 5", True),
        ("Kotikatu 10 A 5", "kotikatu 10 a 5", True),
        ("Kotikatu 10A 5", "Kotikatu 10 A 5", True),
        ("Haartmanink. 4", "Haartmaninkatu 4", True),
        ("Mannerheimintie 10", "Mannerheimnitie 10", True),
        ("Kotikatu 3", "Kotikatu 17", False),
        ("Kotikatu 10 A 5", "Kotikatu 10 B 7", False),
        ("Kotikatu 3", "Rantatie 3", False),
    ],
)
def test_streets_agree_on_the_name_and_the_house_number(x: str, y: str, agree: bool) -> None:
    assert streets_agree(x, y) is agree


def test_greek_and_cyrillic_letters_are_matched_not_dropped() -> None:
    assert normalise.fold("Παπαδόπουλος") == "παπαδοπουλοσ"
    assert normalise.fold("ΠΑΠΑΔΟΠΟΥΛΟΣ") == normalise.fold("Παπαδοπούλος")
    assert normalise.fold("Иванов") == "иванов"
    assert normalise.fold("Søren Łódź") == "soren lodz"  # Latin letters as before
    assert [normalise.country_code(n) for n in ("Ελλάδα", "Κύπρος", "България")] == [
        "GR",
        "CY",
        "BG",
    ]
