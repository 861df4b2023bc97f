"""Realistic, messy register exports made with Faker, with the ground truth beside them.

Three sources, each in the format of one Finnish register named in the Lemtrada letter:

- Lääketietokeskus Oy: cp1252, ``;``-separated, one "Nimi" column ("Sukunimi Etunimet"),
  Finnish headers and values, some postal codes without their leading zeros;
- Suomen Lääkäriliitto: UTF-8 with BOM, ``,``-separated, separate name columns, every
  postal code saved by Excel as a number (leading zeros lost);
- Suomen MS-hoitajat ry: an XLSX workbook with numeric postal codes and the calling
  name only.

The same person appears in several sources with the variants registers really have
(case, accents lost, a typo, name order, "10 A 5" / "10 a 5", e-mail present or not),
always at the same postal address or with the same e-mail (what the dedupe can see).
Rows built to be rejected, formula-injection strings, Åland and Swedish addresses are
mixed in. Names and addresses are Faker's inventions; e-mail domains end in
``.example``. Used by the tests, the benchmark, and to make the bundled example
(``python tests/mailing_helpers.py content/lemtrada-2019``).
"""

from __future__ import annotations

import csv
import datetime as dt
import io
import itertools
import random
import re
import sys
import unicodedata
import zipfile
from collections import defaultdict
from collections.abc import Iterable
from dataclasses import dataclass, field
from itertools import combinations
from pathlib import Path

from faker import Faker

LTK = "Lääketietokeskus Oy"
LIITTO = "Suomen Lääkäriliitto"
MS = "Suomen MS-hoitajat ry"
SOURCE_NAMES = (LTK, LIITTO, MS)
FILES = {
    LTK: "laaketietokeskus.csv",
    LIITTO: "laakariliitto.csv",
    MS: "ms-hoitajat.xlsx",
}
SUPPRESSION_FILE = "suppression.csv"

LTK_HEADERS = (
    "Tunnus", "Nimi", "Arvo", "Ammatti", "Erikoisala", "Toimipaikka", "Lähiosoite",
    "Postinumero", "Postitoimipaikka", "Maa", "Kieli", "Sähköposti",
)  # fmt: skip
LIITTO_HEADERS = (
    "Jäsennumero", "Etunimet", "Sukunimi", "Oppiarvo", "Erikoisala", "Työpaikka",
    "Katuosoite", "Postinumero", "Postitoimipaikka", "Maa", "Kieli", "Sähköposti",
)  # fmt: skip
MS_HEADERS = (
    "Jäsennro", "Sukunimi", "Etunimi", "Työpaikka", "Osoite", "Postinro", "Toimipaikka",
    "Sähköposti", "Äidinkieli",
)  # fmt: skip

SPECIALTIES_FI = {
    "neurology": "Neurologia",
    "general practice": "Yleislääketiede",
    "internal medicine": "Sisätaudit",
    "surgery": "Kirurgia",
    "psychiatry": "Psykiatria",
    "": "",
}

SOURCES_YAML = """\
# Address sources of the Lemtrada DHPC: the three registers the letter names.
# The files under sources/ are invented by Faker (tests/mailing_helpers.py, seed 2019);
# no real person is in them. Each source: its name as printed in the letter (spelled as
# in dhpc.yaml's address_sources), its file (relative to this folder), and how its
# headers and values map onto the canonical fields.
sources:
  - name: Lääketietokeskus Oy
    path: sources/laaketietokeskus.csv   # cp1252, ';' (both detected)
    name_order: last_first               # "Nimi" is "Sukunimi Etunimet"
    columns:
      Tunnus: id
      Nimi: name
      Arvo: title
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
      profession: {lääkäri: physician, sairaanhoitaja: nurse}
      specialty: &specialties
        neurologia: neurology
        yleislääketiede: general practice
        sisätaudit: internal medicine
        kirurgia: surgery
        psykiatria: psychiatry
      language: {suomi: fi, ruotsi: sv}
  - name: Suomen Lääkäriliitto
    path: sources/laakariliitto.csv      # UTF-8 with BOM, ','
    columns:
      Jäsennumero: id
      Etunimet: first_name
      Sukunimi: last_name
      Oppiarvo: title
      Erikoisala: specialty
      Työpaikka: organisation
      Katuosoite: street
      Postinumero: postal_code
      Postitoimipaikka: city
      Maa: country
      Kieli: language
      Sähköposti: email
    values:
      specialty: *specialties
    defaults:
      profession: physician              # the union's members are all physicians
  - name: Suomen MS-hoitajat ry
    path: sources/ms-hoitajat.xlsx
    sheet: Jäsenet
    columns:
      Jäsennro: id
      Sukunimi: last_name
      Etunimi: first_name
      Työpaikka: organisation
      Osoite: street
      Postinro: postal_code
      Toimipaikka: city
      Sähköposti: email
      Äidinkieli: language
    defaults:
      profession: nurse                  # MS nurses: the letter's audience as a whole
      specialty: neurology
suppression: sources/suppression.csv     # people who asked not to receive mail
"""


@dataclass
class Person:
    """One invented health-care professional (the ground truth behind the rows)."""

    pid: int
    first_names: tuple[str, ...]
    last_name: str
    title: str
    profession: str
    specialty: str
    organisation: str
    street: str
    postal_code: str
    city: str
    country: str
    language: str
    email: str


@dataclass
class Generated:
    """The files written and what each row really is."""

    folder: Path
    files: dict[str, Path]
    people: dict[int, Person]
    truth: dict[tuple[str, int], int] = field(default_factory=dict)
    """(source name, row) → pid of every row that should be usable."""
    rejects: dict[tuple[str, int], str] = field(default_factory=dict)
    """(source name, row) → the reject reason of every row built to be rejected."""
    formula_rows: set[tuple[str, int]] = field(default_factory=set)
    emailed: set[int] = field(default_factory=set)
    """Pids with their e-mail in at least one row."""
    cleared_emails: int = 0
    suppressed_pids: set[int] = field(default_factory=set)

    @property
    def rows(self) -> int:
        return len(self.truth) + len(self.rejects)

    def true_pairs(self) -> set[frozenset[tuple[str, int]]]:
        """Every pair of usable rows that are one person."""
        by_person: dict[int, list[tuple[str, int]]] = defaultdict(list)
        for key, pid in self.truth.items():
            by_person[pid].append(key)
        return {frozenset(pair) for keys in by_person.values() for pair in combinations(keys, 2)}

    def in_audience(self, pid: int) -> bool:
        person = self.people[pid]
        return person.profession in {"physician", "nurse"} and person.specialty == "neurology"


def predicted_pairs(
    provenance: Iterable[tuple[str, str, int]],
) -> set[frozenset[tuple[str, int]]]:
    """Pairs of rows the pipeline joined, from (recipient_id, source, row) triples."""
    by_recipient: dict[str, list[tuple[str, int]]] = defaultdict(list)
    for recipient_id, source, row in provenance:
        by_recipient[recipient_id].append((source, row))
    return {frozenset(pair) for keys in by_recipient.values() for pair in combinations(keys, 2)}


def precision_recall(
    predicted: set[frozenset[tuple[str, int]]], true: set[frozenset[tuple[str, int]]]
) -> tuple[float, float]:
    hits = len(predicted & true)
    precision = hits / len(predicted) if predicted else 1.0
    recall = hits / len(true) if true else 1.0
    return precision, recall


# --- People ----------------------------------------------------------------------------


class _Pools:
    """Names and places drawn once from Faker, then combined with a seeded random."""

    def __init__(self, seed: int) -> None:
        fi = Faker("fi_FI")
        fi.seed_instance(seed)
        sv = Faker("sv_SE")
        sv.seed_instance(seed)
        fi_first = fi.provider("faker.providers.person")
        sv_first = sv.provider("faker.providers.person")
        self.fi_first = sorted(set(fi_first.first_names_male) | set(fi_first.first_names_female))
        self.fi_last = sorted(set(fi_first.last_names))
        self.sv_first = sorted(set(sv_first.first_names_male) | set(sv_first.first_names_female))
        self.sv_last = sorted(set(sv_first.last_names))
        self.fi_streets = sorted({fi.street_name() for _ in range(600)})
        self.fi_cities = sorted(set(fi.provider("faker.providers.address").cities))
        self.se_streets = sorted({sv.street_name() for _ in range(200)})
        self.se_cities = sorted({sv.city() for _ in range(100)})
        for pool in (self.fi_first, self.fi_last, self.sv_first, self.sv_last):
            pool[:] = [n for n in pool if _cp1252(n)]


def _cp1252(text: str) -> bool:
    try:
        text.encode("cp1252")
    except UnicodeEncodeError:
        return False
    return True


def _ascii(text: str) -> str:
    decomposed = unicodedata.normalize("NFKD", text)
    return "".join(c for c in decomposed if not unicodedata.combining(c))


def _hospitals(rng: random.Random, pools: _Pools, count: int) -> list[tuple[str, str, str, str]]:
    kinds = ("keskussairaala", "terveyskeskus", "neurologian poliklinikka", "lääkärikeskus")
    out = []
    for index in range(count):
        city = rng.choice(pools.fi_cities)
        street = f"{rng.choice(pools.fi_streets)} {rng.randint(1, 80)}"
        # Helsinki-area codes start with 0: the ones Excel damages.
        postal = (
            f"{rng.randint(0, 2):02d}{rng.randint(100, 990):03d}"
            if index % 3 == 0
            else (f"{rng.randint(10000, 99999)}")
        )
        if postal.startswith("22"):
            postal = "33" + postal[2:]
        out.append((f"{city}n {rng.choice(kinds)}", street, postal, city))
    return out


# The most common Finnish and Finland-Swedish surnames and first names, most common
# first: a national register holds dozens of people with the commonest pairs.
COMMON_LAST_FI = (
    "Korhonen", "Virtanen", "Mäkinen", "Nieminen", "Mäkelä", "Hämäläinen", "Laine",
    "Heikkinen", "Koskinen", "Järvinen", "Lehtonen", "Lehtinen", "Saarinen", "Salminen",
    "Heinonen", "Niemi", "Heikkilä", "Kinnunen", "Salonen", "Turunen",
)  # fmt: skip
COMMON_FIRST_FI = (
    "Juha", "Maria", "Timo", "Mikko", "Anna", "Matti", "Kari", "Tiina", "Jari", "Antti",
    "Sari", "Jukka", "Päivi", "Mika", "Anne", "Markku", "Riitta", "Pekka", "Leena", "Hannu",
)  # fmt: skip
COMMON_LAST_SV = (
    "Johansson", "Lindholm", "Nyman", "Lindqvist", "Karlsson", "Andersson", "Lindström",
    "Holmberg", "Eriksson", "Björklund",
)  # fmt: skip
COMMON_FIRST_SV = (
    "Anders", "Maria", "Johan", "Anna", "Mikael", "Eva", "Peter", "Kristina", "Erik", "Karin",
)  # fmt: skip
COMMON_SHARE = 0.05
"""Share of people with one of the common pairs (the commonest then has ~60 people in
70,000, the 25th ~15)."""
POSTAL_CODES = 2500
"""Postal codes people live and work in when names collide (Finland has about 3,000)."""


class _Collisions:
    """Common names and a realistic spread of postal codes: several people of one name
    in one postal code, on different streets."""

    def __init__(self, seed: int) -> None:
        self.rng = random.Random(seed + 7)
        codes: set[str] = set()
        while len(codes) < POSTAL_CODES:
            code = f"{self.rng.randint(0, 99999):05d}"
            if not code.startswith("22"):  # Åland's codes go to the Åland people
                codes.add(code)
        self.codes = sorted(codes)
        self.rng.shuffle(self.codes)
        # Big towns have many more people per postal code than villages.
        self.code_weights = list(
            itertools.accumulate(1 / r**0.7 for r in range(1, POSTAL_CODES + 1))
        )

    def postal_code(self) -> str:
        return self.rng.choices(self.codes, cum_weights=self.code_weights)[0]

    def name(self, swedish: bool) -> tuple[str, str] | None:
        if self.rng.random() >= COMMON_SHARE:
            return None
        firsts, lasts = (
            (COMMON_FIRST_SV, COMMON_LAST_SV) if swedish else (COMMON_FIRST_FI, COMMON_LAST_FI)
        )
        first = self.rng.choices(firsts, [1 / r**0.5 for r in range(1, len(firsts) + 1)])[0]
        last = self.rng.choices(lasts, [1 / r**0.5 for r in range(1, len(lasts) + 1)])[0]
        return first, last


def make_people(count: int, seed: int, *, common_names: bool = False) -> list[Person]:
    """``count`` invented professionals; rare features are spread by pid so a small set has them.

    ``common_names``: a share of them have the commonest names, and postal codes are
    drawn from a realistic few thousand, so that people of one name share postal codes.
    """
    rng = random.Random(seed)
    pools = _Pools(seed)
    hospitals = _hospitals(rng, pools, max(3, count // 150))
    collisions = _Collisions(seed) if common_names else None
    if collisions is not None:
        hospitals = [(name, street, collisions.postal_code(), city)
                     for name, street, _, city in hospitals]  # fmt: skip
    people = []
    emails: set[str] = set()
    for pid in range(count):
        swedish = pid % 7 == 3 or rng.random() < 0.05
        abroad = pid % 31 == 7
        aland = not abroad and pid % 29 == 3
        if aland or abroad:
            swedish = True
        first_pool, last_pool = (
            (pools.sv_first, pools.sv_last) if swedish else (pools.fi_first, pools.fi_last)
        )
        names = [rng.choice(first_pool)]
        if rng.random() < 0.4:
            second = rng.choice(first_pool)
            if second != names[0]:
                names.append(second)
        last = rng.choice(last_pool)
        common = collisions.name(swedish) if collisions is not None else None
        if common is not None:
            names[0], last = common
            if len(names) > 1 and names[1] == names[0]:
                del names[1]
        physician = rng.random() < 0.6
        if physician:
            specialty = rng.choices(
                ["neurology", "general practice", "internal medicine", "surgery", "psychiatry"],
                [35, 25, 15, 15, 10],
            )[0]
            title = rng.choice(["LL", "LT", "dosentti", ""])
        else:
            specialty = "neurology" if rng.random() < 0.5 else ""
            title = ""
        at_work = rng.random() < 0.6
        if abroad:
            street = f"{rng.choice(pools.se_streets)} {rng.randint(1, 60)}"
            postal = f"{rng.randint(100, 989)} {rng.randint(10, 99)}"
            city, country, organisation = rng.choice(pools.se_cities), "SE", ""
        elif aland:
            street = f"{rng.choice(['Torggatan', 'Storagatan', 'Norra Esplanadgatan'])} "
            street += str(rng.randint(1, 30))
            postal, city, country = rng.choice(["22100", "22150", "22410"]), "Mariehamn", "FI"
            organisation = "Ålands centralsjukhus"
        elif at_work:
            organisation, street, postal, city = rng.choice(hospitals)
            country = "FI"
        else:
            street = f"{rng.choice(pools.fi_streets)} {rng.randint(1, 99)}"
            if rng.random() < 0.6:
                street += f" {rng.choice('ABCDEF')} {rng.randint(1, 40)}"
            postal = f"{rng.randint(0, 99999):05d}"
            if postal.startswith("22"):
                postal = "44" + postal[2:]
            if collisions is not None:
                postal = collisions.postal_code()
            city, country = rng.choice(pools.fi_cities), "FI"
            organisation = rng.choice(hospitals)[0]
        if pid % 23 == 11:
            organisation = '=HYPERLINK("http://example.invalid","Klikkaa")'
        elif pid % 41 == 13:
            organisation = "+358 40 1234567"
        elif pid % 43 == 17:
            organisation = "@Neurologian poliklinikka"
        local = _ascii(f"{names[0]}.{last}").lower().replace(" ", "")
        domain = rng.choice(["hus.example", "tyks.example", "laakarit.example", "posti.example"])
        email = f"{local}@{domain}"
        suffix = 2
        while email in emails:
            email = f"{local}{suffix}@{domain}"
            suffix += 1
        emails.add(email)
        people.append(
            Person(
                pid=pid,
                first_names=tuple(names),
                last_name=last,
                title=title,
                profession="physician" if physician else "nurse",
                specialty=specialty,
                organisation=organisation,
                street=street,
                postal_code=postal,
                city=city,
                country=country,
                language="sv" if swedish else "fi",
                email=email,
            )
        )
    return people


# --- Variants --------------------------------------------------------------------------


def _typo(rng: random.Random, word: str) -> str:
    if len(word) < 6:
        return word
    at = rng.randint(2, len(word) - 3)
    return word[:at] + word[at + 1] + word[at] + word[at + 2 :]  # swap two letters


def _strip_accents(text: str) -> str:
    return text.translate(str.maketrans("äöåÄÖÅéÉ", "aoaAOAeE"))


def _name_variant(rng: random.Random, person: Person, calling_only: bool) -> tuple[str, str]:
    first = person.first_names[0] if calling_only else " ".join(person.first_names)
    last = person.last_name
    roll = rng.random()
    if roll < 0.03:
        first, last = _strip_accents(first), _strip_accents(last)
    elif roll < 0.05:
        last = _typo(rng, last)
    elif roll < 0.15:
        last = last.upper()
    return first, last


def _street_variant(rng: random.Random, street: str) -> str:
    roll = rng.random()
    if roll < 0.1:
        return street.upper()
    if roll < 0.3:
        return street.lower() if rng.random() < 0.5 else street.replace(" A ", " a ")
    return street


def _postal_cell(rng: random.Random, person: Person, excel: bool) -> str:
    code = person.postal_code
    if person.country == "SE":
        return code.replace(" ", "") if rng.random() < 0.5 else code
    if excel:
        return code.lstrip("0") or "0"
    return code


def _email_cell(rng: random.Random, person: Person, chance: float) -> str:
    if rng.random() >= chance:
        return ""
    return person.email.upper() if rng.random() < 0.1 else person.email


# --- Sources ---------------------------------------------------------------------------


def _membership(rng: random.Random, person: Person) -> list[str]:
    """Which registers list the person (at least one)."""
    sources = []
    if person.profession == "physician":
        if rng.random() < 0.75:
            sources.append(LTK)
        if rng.random() < 0.8 or not sources:
            sources.append(LIITTO)
    else:
        ms_nurse = person.specialty == "neurology" and person.country == "FI"
        if rng.random() < 0.6 or not ms_nurse:
            sources.append(LTK)
        if ms_nurse and rng.random() < 0.9:
            sources.append(MS)
    return sources


_JUNK = ("no-name", "no-address-or-email", "invalid-postal-code", "incomplete-address",
         "invalid-email")  # fmt: skip


def _ltk_row(rng: random.Random, p: Person, row_id: str) -> list[str]:
    first, last = _name_variant(rng, p, calling_only=False)
    name = f"{last} {first}" if rng.random() >= 0.02 else f"{first} {last}"  # order mistake
    country = {"FI": rng.choice(["", "FI", "Suomi"]), "SE": rng.choice(["SE", "Sverige"])}
    language = {"fi": "suomi", "sv": "ruotsi"}[p.language] if rng.random() < 0.9 else ""
    return [
        row_id, name, p.title,
        {"physician": "Lääkäri", "nurse": "Sairaanhoitaja"}[p.profession],
        SPECIALTIES_FI[p.specialty], p.organisation, _street_variant(rng, p.street),
        _postal_cell(rng, p, excel=rng.random() < 0.3), p.city, country[p.country], language,
        _email_cell(rng, p, 0.5),
    ]  # fmt: skip


def _liitto_row(rng: random.Random, p: Person, row_id: str) -> list[str]:
    first, last = _name_variant(rng, p, calling_only=False)
    country = {"FI": "Suomi", "SE": "Ruotsi"}[p.country]
    return [
        row_id, first, last, p.title, SPECIALTIES_FI[p.specialty], p.organisation,
        _street_variant(rng, p.street), _postal_cell(rng, p, excel=True), p.city, country,
        p.language.upper(), _email_cell(rng, p, 0.8),
    ]  # fmt: skip


def _ms_row(rng: random.Random, p: Person, row_id: int) -> list[object]:
    first, last = _name_variant(rng, p, calling_only=True)
    postal: object = int(p.postal_code) if rng.random() < 0.8 else p.postal_code
    language = {"fi": "suomi", "sv": "svenska"}[p.language] if rng.random() < 0.7 else ""
    return [
        row_id, last, first, p.organisation, _street_variant(rng, p.street), postal, p.city,
        _email_cell(rng, p, 0.9), language,
    ]  # fmt: skip


def _junk_row(source: str, kind: str, rng: random.Random, row_id: str) -> list[object]:
    cells: dict[str, object] = {
        "name": "Testinen Teppo",
        "first": "Teppo",
        "last": "Testinen",
        "street": "Testikuja 1",
        "postal": "00100",
        "city": "Helsinki",
        "email": "",
    }
    if kind == "no-name":
        cells.update(name="", first="", last="")
    elif kind == "no-address-or-email":
        cells.update(street="", postal="", city="")
    elif kind == "invalid-postal-code":
        cells.update(postal="ABC12")
    elif kind == "incomplete-address":
        cells.update(postal="")
    elif kind == "invalid-email":
        cells.update(street="", postal="", city="", email="teppo.testinen(at)example")
    if source == LTK:
        return [row_id, cells["name"], "", "Lääkäri", "Neurologia", "", cells["street"],
                cells["postal"], cells["city"], "", "suomi", cells["email"]]  # fmt: skip
    if source == LIITTO:
        return [row_id, cells["first"], cells["last"], "", "Neurologia", "", cells["street"],
                cells["postal"], cells["city"], "", "FI", cells["email"]]  # fmt: skip
    return [int(row_id), cells["last"], cells["first"], "", cells["street"], cells["postal"],
            cells["city"], cells["email"], ""]  # fmt: skip


def generate_sources(
    folder: Path,
    *,
    people: int,
    seed: int = 2019,
    junk: int = 1,
    suppress: int = 2,
    common_names: bool = False,
) -> Generated:
    """Write the three sources (and a suppression list) for ``people`` invented persons.

    ``junk``: how many rows of each reject kind to add to each source. ``suppress``:
    how many persons the suppression list names (alternately by e-mail and by name +
    postal code). ``common_names``: see :func:`make_people`.
    """
    rng = random.Random(seed + 1)
    persons = make_people(people, seed, common_names=common_names)
    folder.mkdir(parents=True, exist_ok=True)
    generated = Generated(
        folder, {s: folder / FILES[s] for s in SOURCE_NAMES}, {p.pid: p for p in persons}
    )
    rows: dict[str, list[tuple[list[object], int | None, str | None]]] = {
        s: [] for s in SOURCE_NAMES
    }
    for person in persons:
        for source in _membership(rng, person):
            row_id = f"{SOURCE_NAMES.index(source) + 1}{person.pid:06d}"
            if source == LTK:
                cells: list[object] = list(_ltk_row(rng, person, row_id))
            elif source == LIITTO:
                cells = list(_liitto_row(rng, person, row_id))
            else:
                cells = _ms_row(rng, person, int(row_id))
            rows[source].append((cells, person.pid, None))
    for source in SOURCE_NAMES:
        for index, kind in enumerate(_JUNK * junk):
            junk_id = f"9{SOURCE_NAMES.index(source)}{index:05d}"
            position = rng.randint(0, len(rows[source]))
            rows[source].insert(position, (_junk_row(source, kind, rng, junk_id), None, kind))

    for source, entries in rows.items():
        for offset, (cells, pid, kind) in enumerate(entries):
            number = offset + 2  # the header is row 1
            key = (source, number)
            if pid is not None:
                generated.truth[key] = pid
                if any(str(c).casefold() == generated.people[pid].email for c in cells):
                    generated.emailed.add(pid)
                if any(str(c).startswith(("=", "+", "-", "@")) for c in cells):
                    generated.formula_rows.add(key)
            else:
                assert kind is not None
                generated.rejects[key] = kind

    _write_csv(generated.files[LTK], LTK_HEADERS, [c for c, _, _ in rows[LTK]], "cp1252", ";")
    _write_csv(
        generated.files[LIITTO], LIITTO_HEADERS, [c for c, _, _ in rows[LIITTO]], "utf-8-sig", ","
    )
    _write_xlsx(generated.files[MS], MS_HEADERS, [c for c, _, _ in rows[MS]])

    listed = [p for p in persons if generated.in_audience(p.pid) and p.pid in generated.emailed]
    lines = [["email", "name", "postal_code"]]
    for index, person in enumerate(listed[:suppress]):
        if index % 2 == 0:
            lines.append([person.email, "", ""])
        else:
            lines.append(["", f"{person.first_names[0]} {person.last_name}", person.postal_code])
        generated.suppressed_pids.add(person.pid)
    _write_csv(folder / SUPPRESSION_FILE, lines[0], lines[1:], "utf-8", ",")
    return generated


def _write_csv(
    path: Path, headers: Iterable[str], rows: Iterable[list[object]], encoding: str, sep: str
) -> None:
    buffer = io.StringIO()
    writer = csv.writer(buffer, delimiter=sep, lineterminator="\r\n")
    writer.writerow(list(headers))
    writer.writerows(rows)
    path.write_bytes(buffer.getvalue().encode(encoding))


def _write_xlsx(path: Path, headers: Iterable[str], rows: Iterable[list[object]]) -> None:
    from openpyxl import Workbook

    workbook = Workbook()
    workbook.properties.creator = "tests/mailing_helpers.py"
    stamp = dt.datetime(2019, 4, 24)
    workbook.properties.created = stamp
    workbook.properties.modified = stamp
    sheet = workbook.active
    sheet.title = "Jäsenet"
    sheet.append(list(headers))
    for number, row in enumerate(rows, start=2):
        sheet.append(row)
        for column, value in enumerate(row, start=1):
            if isinstance(value, str) and value.startswith("="):
                # A register holds "=HYPERLINK(…)" as text, as Excel keeps a cell typed
                # with a leading "'": openpyxl would write a formula without its result.
                sheet.cell(row=number, column=column).data_type = "s"
    workbook.save(path)
    _share_strings(path)


_INLINE = re.compile(
    r'<c r="([A-Z]+[0-9]+)" t="inlineStr"><is><t( xml:space="preserve")?>(.*?)</t></is></c>'
)


def _share_strings(path: Path) -> None:
    """Store text as Excel does, in a shared-string table (openpyxl writes it inline)."""
    with zipfile.ZipFile(path) as archive:
        parts = {name: archive.read(name) for name in archive.namelist()}
    strings: dict[str, int] = {}

    def shared(match: re.Match[str]) -> str:
        text = match.group(3)
        index = strings.setdefault(text, len(strings))
        return f'<c r="{match.group(1)}" t="s"><v>{index}</v></c>'

    sheet = "xl/worksheets/sheet1.xml"
    parts[sheet] = _INLINE.sub(shared, parts[sheet].decode("utf-8")).encode("utf-8")
    items = "".join(f'<si><t xml:space="preserve">{text}</t></si>' for text in strings)
    parts["xl/sharedStrings.xml"] = (
        '<?xml version="1.0" encoding="UTF-8" standalone="yes"?>\n'
        '<sst xmlns="http://schemas.openxmlformats.org/spreadsheetml/2006/main" '
        f'count="{len(strings)}" uniqueCount="{len(strings)}">{items}</sst>'
    ).encode()
    types = parts["[Content_Types].xml"].decode("utf-8")
    parts["[Content_Types].xml"] = types.replace(
        "</Types>",
        '<Override PartName="/xl/sharedStrings.xml" ContentType="application/'
        'vnd.openxmlformats-officedocument.spreadsheetml.sharedStrings+xml"/></Types>',
    ).encode("utf-8")
    rels = parts["xl/_rels/workbook.xml.rels"].decode("utf-8")
    parts["xl/_rels/workbook.xml.rels"] = rels.replace(
        "</Relationships>",
        '<Relationship Id="rIdShared" Type="http://schemas.openxmlformats.org/'
        'officeDocument/2006/relationships/sharedStrings" Target="sharedStrings.xml"/>'
        "</Relationships>",
    ).encode("utf-8")
    stamp = (2019, 4, 24, 0, 0, 0)
    with zipfile.ZipFile(path, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(zipfile.ZipInfo(name, stamp), data, zipfile.ZIP_DEFLATED)


def write_example(content_dir: Path) -> Generated:
    """The bundled example: small sources under ``content_dir/sources`` and sources.yaml."""
    generated = generate_sources(content_dir / "sources", people=60, seed=2019, junk=1)
    (content_dir / "sources.yaml").write_text(SOURCES_YAML, encoding="utf-8")
    return generated


if __name__ == "__main__":
    target = Path(sys.argv[1] if len(sys.argv) > 1 else "content/lemtrada-2019")
    result = write_example(target)
    print(f"{result.rows} rows for {len(result.people)} invented people in {target}/sources")
