"""People who asked not to receive mail: matched by e-mail, or by name and postal code."""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from pathlib import Path

from rapidfuzz import fuzz

from dhpc_gen.addresses import normalise
from dhpc_gen.addresses.dedupe import names_agree
from dhpc_gen.addresses.readers import read_rows
from dhpc_gen.addresses.records import PersonRow
from dhpc_gen.addresses.sources import AddressSource
from dhpc_gen.errors import DhpcError, display_path

_HEADERS = {
    "email": "email",
    "e-mail": "email",
    "sähköposti": "email",
    "e-post": "email",
    "name": "name",
    "nimi": "name",
    "namn": "name",
    "first_name": "first_name",
    "first name": "first_name",
    "etunimi": "first_name",
    "förnamn": "first_name",
    "last_name": "last_name",
    "last name": "last_name",
    "sukunimi": "last_name",
    "efternamn": "last_name",
    "postal_code": "postal_code",
    "postal code": "postal_code",
    "postinumero": "postal_code",
    "postnummer": "postal_code",
    "country": "country",
    "maa": "country",
    "land": "country",
}


def _entry(first: str, last: str, postal: str, country: str) -> PersonRow:
    first_keys = tuple(normalise.fold(first).split())
    last_keys = tuple(normalise.fold(last).split())
    return PersonRow(
        source=-1, row=0, title="", first_name=first, last_name=last, name_split=False,
        profession="", specialty="", organisation="", street="", postal_code=postal, city="",
        country=country, email="", language="", language_how="", language_given=False,
        source_id="", first_keys=first_keys, last_keys=last_keys,
        name_key=" ".join(sorted(first_keys + last_keys)), email_key="",
    )  # fmt: skip


@dataclass
class SuppressionList:
    """The entries of a suppression file, ready to match rows against."""

    emails: set[str] = field(default_factory=set)
    people: dict[tuple[str, str], list[PersonRow]] = field(default_factory=dict)
    entries: int = 0

    def matches(self, row: PersonRow, threshold: float) -> bool:
        """Whether ``row`` is a person on the list (the same name test as the dedupe)."""
        if row.email_key and row.email_key in self.emails:
            return True
        for entry in self.people.get((row.country, row.postal_code), ()):
            if fuzz.token_set_ratio(
                entry.name_key, row.name_key, score_cutoff=threshold
            ) and names_agree(entry, row):
                return True
        return False


def load_suppression(path: Path, home_country: str) -> SuppressionList:
    """Read a suppression CSV (headers: email, or name/first_name/last_name + postal_code)."""
    shown = display_path(path)
    source = AddressSource(
        name="suppression list", path=path, shown=shown, format="csv", encoding=None,
        delimiter=None, sheet=None, header_row=None, country=None, name_order="first_last",
        columns=_HEADERS, values={}, defaults={}, kind="suppression",
    )  # fmt: skip
    result = SuppressionList()
    people: dict[tuple[str, str], list[PersonRow]] = defaultdict(list)
    unusable: list[str] = []
    for raw in read_rows(source, require_all=False):
        cells = {k: normalise.clean(v) for k, v in raw.cells.items()}
        result.entries += 1
        if raw.error is not None:
            unusable.append(f"{raw.number} ({raw.error})")
            continue
        matched = False
        if cells.get("email"):
            checked = normalise.email(cells["email"])
            if checked is not None:
                result.emails.add(checked.casefold())
                matched = True
        if "name" in cells:
            first, last = normalise.split_name(cells["name"], "first_last")
        else:
            first, last = cells.get("first_name", ""), cells.get("last_name", "")
        country = normalise.country_code(cells.get("country", "")) or home_country
        postal = normalise.postal_code(country, cells.get("postal_code", "") or "-")
        if (first or last) and postal:
            people[(country, postal)].append(_entry(first, last, postal, country))
            matched = True
        if not matched:
            unusable.append(str(raw.number))
    if unusable:
        listed = ", ".join(unusable[:10]) + (" …" if len(unusable) > 10 else "")
        raise DhpcError(
            f"{shown}: rows {listed}: each row needs a valid e-mail, or a name and a valid "
            "postal code (headers: email, name or first_name and last_name, postal_code)"
        )
    result.people = dict(people)
    return result
