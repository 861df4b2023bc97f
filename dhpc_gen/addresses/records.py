"""One source row → a normalised :class:`PersonRow`, or a :class:`Reject` saying why not."""

from __future__ import annotations

import functools
from dataclasses import dataclass

from dhpc_gen.addresses import normalise
from dhpc_gen.addresses.language import LanguagePolicy
from dhpc_gen.addresses.readers import RawRow
from dhpc_gen.addresses.sources import AddressSource

REJECT_REASONS = {
    "unreadable": "the row cannot be read",
    "repeated-header": "the header row again",
    "merged-cells": "merged cells across several columns",
    "bad-cell": "a cell that is not usable text",
    "no-name": "no name",
    "no-address-or-email": "no postal address and no e-mail",
    "incomplete-address": "incomplete postal address and no e-mail",
    "invalid-postal-code": "invalid postal code",
    "invalid-email": "invalid e-mail and no postal address",
    "unknown-country": "unknown country",
}


@dataclass(slots=True)
class PersonRow:
    """A usable row: values as printed, plus the keys used to match people."""

    source: int
    """Index of the source in sources.yaml (earlier sources are preferred when merging)."""
    row: int
    title: str
    first_name: str
    last_name: str
    name_split: bool
    """The name came from one name column and was split (less sure than two columns)."""
    profession: str
    specialty: str
    organisation: str
    street: str
    postal_code: str
    city: str
    country: str
    email: str
    language: str
    language_how: str
    language_given: bool
    source_id: str
    first_keys: tuple[str, ...]
    last_keys: tuple[str, ...]
    name_key: str
    """Folded name tokens, sorted: order, case and accents do not matter."""
    email_key: str

    @property
    def has_postal_address(self) -> bool:
        return bool(self.street and self.postal_code and self.city)

    @property
    def display_name(self) -> str:
        return " ".join(p for p in (self.first_name, self.last_name) if p)


@dataclass(frozen=True, slots=True)
class Reject:
    """A row that cannot be used, with where it is and why."""

    source: str
    file: str
    row: int
    reason: str
    """A key of :data:`REJECT_REASONS` (counted in report.json)."""
    detail: str
    """The reason with the offending value (written to rejects.csv only)."""
    name: str = ""
    postal_code: str = ""
    email: str = ""


@functools.lru_cache(maxsize=1 << 12)
def _map_key(value: str) -> str:
    return value.casefold()


class RowNormaliser:
    """Turns the raw rows of one source into person rows or rejects."""

    def __init__(
        self, source: AddressSource, index: int, policy: LanguagePolicy, home_country: str
    ) -> None:
        self.source = source
        self.index = index
        self.policy = policy
        self.country = source.country or home_country
        self.invalid_emails_cleared = 0
        # Few distinct (language cell, country, postal code) triples: work each out once.
        self._assign = functools.lru_cache(maxsize=1 << 14)(policy.assign)

    def _reject(self, raw: RawRow, reason: str, detail: str, values: dict[str, str]) -> Reject:
        name = values.get("name") or " ".join(
            v for v in (values.get("first_name", ""), values.get("last_name", "")) if v
        )
        return Reject(
            source=self.source.name,
            file=self.source.shown,
            row=raw.number,
            reason=reason,
            detail=detail,
            name=name,
            postal_code=values.get("postal_code", ""),
            email=values.get("email", ""),
        )

    def _values(self, raw: RawRow) -> dict[str, str]:
        values = raw.cells  # the reader's own dict, made for this row
        for field, mapping in self.source.values.items():
            value = values.get(field)
            if value:
                values[field] = mapping.get(_map_key(value), value)
        for field, default in self.source.defaults.items():
            values.setdefault(field, default)
        return values

    def __call__(self, raw: RawRow) -> PersonRow | Reject:
        if raw.error is not None:
            return self._reject(raw, raw.reason, raw.error, {})
        values = self._values(raw)
        get = values.get

        if "name" in values:
            first, last = normalise.split_name(values["name"], self.source.name_order)
        else:
            first, last = get("first_name", ""), get("last_name", "")
        if not first and not last:
            return self._reject(raw, "no-name", "no name", values)

        country = self.country
        if "country" in values:
            code = normalise.country_code(values["country"])
            if code is None:
                return self._reject(
                    raw,
                    "unknown-country",
                    f"unknown country {values['country']!r}: map it under values: country: "
                    "in sources.yaml",
                    values,
                )
            country = code

        postal = ""
        if "postal_code" in values:
            printed = normalise.postal_code(country, values["postal_code"])
            if printed is None:
                return self._reject(
                    raw,
                    "invalid-postal-code",
                    f"invalid postal code {values['postal_code']!r} for {country}",
                    values,
                )
            postal = printed

        street, city = get("street", ""), get("city", "")
        has_address = bool(street and postal and city)
        address = ""
        if "email" in values:
            checked = normalise.email(values["email"])
            if checked is None:
                if not has_address:
                    return self._reject(
                        raw,
                        "invalid-email",
                        f"invalid e-mail {values['email']!r} and no complete postal address",
                        values,
                    )
                self.invalid_emails_cleared += 1
            else:
                address = checked
        if not has_address and not address:
            if street or postal or city:
                missing = [
                    n
                    for n, v in (("street", street), ("postal code", postal), ("city", city))
                    if not v
                ]
                return self._reject(
                    raw,
                    "incomplete-address",
                    f"postal address without {' and '.join(missing)}, and no e-mail",
                    values,
                )
            return self._reject(
                raw, "no-address-or-email", "no postal address and no e-mail", values
            )

        given = get("language", "")
        language, how = self._assign(given, country, postal)

        first_keys = normalise.fold_tokens(first)
        last_keys = normalise.fold_tokens(last)
        profession, specialty = get("profession", ""), get("specialty", "")
        return PersonRow(
            source=self.index,
            row=raw.number,
            title=get("title", ""),
            first_name=first,
            last_name=last,
            name_split="name" in values,
            profession=profession,
            specialty=specialty,
            organisation=get("organisation", ""),
            street=street,
            postal_code=postal,
            city=city,
            country=country,
            email=address,
            language=language,
            language_how=how,
            language_given=how == "source",
            source_id=get("id", ""),
            first_keys=first_keys,
            last_keys=last_keys,
            name_key=" ".join(sorted(first_keys + last_keys)),
            email_key=address.casefold(),
        )
