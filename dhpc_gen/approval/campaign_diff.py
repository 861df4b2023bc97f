"""What changed between two versions of a campaign: its core, each language, each country.

A campaign keeps what every country shares once (``dhpc.yaml``, one text per language)
and what is national apart (``countries/<CC>.yaml``). Its comparison follows that: the
core value by value, each shared language file field by field and word by word (as
for a folder of one country), and each country's file: its facts value by value and its
deviations by the field they replace, word by word with their numbers and doses
flagged in their language. A change of a shared text in a field some country replaces
by a deviation does not reach that country's letter: the comparison says so.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Literal, TypeVar

from pydantic import BaseModel

from dhpc_gen.approval.diff import (
    CountryDiff,
    DeviationChange,
    DhpcDiff,
    FieldChange,
    LanguageDiff,
    compare,
    compare_language,
    compare_values,
    fact_changes,
    value_fields,
)
from dhpc_gen.approval.words import Segment, normal, word_diff
from dhpc_gen.content.campaign import Campaign, CampaignCore, CountryFacts
from dhpc_gen.content.loader import META_FILE, line_of, parse_loc, read_yaml, validate_model
from dhpc_gen.content.model import Deviation, Dhpc
from dhpc_gen.errors import ContentError, DhpcError, UsageError

M = TypeVar("M", bound=BaseModel)


@dataclass(frozen=True)
class _File:
    """One YAML file of a version: its name as shown and its data (for line numbers)."""

    shown: str
    data: Any

    def place(self, path: str) -> tuple[str, int | None]:
        return self.shown, line_of(self.data, parse_loc(path)) if self.data is not None else None


def _read(path: Path, shown: str, model: type[M]) -> tuple[M, _File]:
    """A file the campaign was loaded from (valid, since it loaded), as ``model``."""
    data, problems = read_yaml(path, shown)
    valid, found = validate_model(model, data, shown) if data is not None else (None, [])
    if valid is None:
        raise ContentError(problems + found)
    return valid, _File(shown, data)


def compare_versions(
    old: Campaign,
    new: Campaign,
    *,
    old_label: str,
    new_label: str,
    languages: Sequence[str] | None = None,
    countries: Sequence[str] = (),
) -> DhpcDiff:
    """Every change from ``old`` to ``new``: two folders of one country
    (:func:`~dhpc_gen.approval.diff.compare`, as always) or two campaigns
    (:func:`compare_campaigns`)."""
    if old.single and new.single:
        code = new.shared.meta.country
        unknown = [c for c in countries if c.upper() not in (code, old.shared.meta.country)]
        if unknown:
            raise UsageError(f"--country {', '.join(unknown)}: {new.id} is for {code} only")
        return compare(
            old.shared, new.shared, old_label=old_label, new_label=new_label, languages=languages
        )
    if old.single or new.single:
        kinds = ("a folder of one country", "a campaign")
        raise DhpcError(
            f"{old_label} is {kinds[not old.single]} and {new_label} {kinds[not new.single]}: "
            "dhpc diff compares two versions of the same kind of folder"
        )
    return compare_campaigns(
        old,
        new,
        old_label=old_label,
        new_label=new_label,
        languages=languages,
        countries=countries,
    )


def compare_campaigns(
    old: Campaign,
    new: Campaign,
    *,
    old_label: str,
    new_label: str,
    languages: Sequence[str] | None = None,
    countries: Sequence[str] = (),
) -> DhpcDiff:
    """The core, the shared language files and the country files of two campaign versions.

    ``countries`` limits the countries compared, and (without ``languages``) the
    languages to theirs; ``languages`` limits the languages and the deviations.
    """
    every_country = list(dict.fromkeys([*new.countries, *old.countries]))
    wanted = [c.upper() for c in countries]
    unknown = [c for c in wanted if c not in every_country]
    if unknown:
        raise UsageError(
            f"--country {', '.join(unknown)}: {new.id} is sent in {', '.join(every_country)}"
        )
    chosen_countries = [c for c in every_country if not wanted or c in wanted]
    every = list(dict.fromkeys([*new.languages, *old.languages]))
    if languages is not None:
        chosen = [x for x in every if x in languages]
    elif wanted:
        sent = {
            lang for c in chosen_countries for v in (old, new) for lang in v.countries.get(c, ())
        }
        chosen = [x for x in every if x in sent]
    else:
        chosen = every

    core_old, file_old = _read(old.directory / META_FILE, f"{old_label}/{META_FILE}", CampaignCore)
    core_new, file_new = _read(new.directory / META_FILE, f"{new_label}/{META_FILE}", CampaignCore)
    meta_changes = compare_values(
        _values(core_old),
        _values(core_new),
        language=new.source_language,
        old_place=file_old.place,
        new_place=file_new.place,
    )
    shared = tuple(
        compare_language(old.shared, new.shared, language, old_label=old_label, new_label=new_label)
        for language in chosen
    )
    country_diffs = tuple(
        _compare_country(
            code,
            old.nationals.get(code),
            new.nationals.get(code),
            old_label=old_label,
            new_label=new_label,
            languages=chosen,
        )
        for code in chosen_countries
    )
    deviated: dict[str, dict[str, tuple[str, ...]]] = {}
    for code, national in new.nationals.items():
        for deviation in national.deviations:
            if deviation.language in chosen:
                by_field = deviated.setdefault(deviation.language, {})
                by_field[deviation.field] = (*by_field.get(deviation.field, ()), code)
    return DhpcDiff(
        new.id,
        old_label,
        new_label,
        LanguageDiff("", "changed" if meta_changes else "unchanged", meta_changes),
        shared,
        max(national.meta.date for national in new.nationals.values()),
        countries=country_diffs,
        sent_in={language: tuple(new.countries_using(language)) for language in chosen},
        deviated=deviated,
    )


def _values(model: BaseModel, exclude: set[str] | None = None) -> dict[str, str]:
    return {f.path: f.text for f in value_fields(model.model_dump(mode="json", exclude=exclude))}


def _compare_country(
    code: str,
    old: Dhpc | None,
    new: Dhpc | None,
    *,
    old_label: str,
    new_label: str,
    languages: Sequence[str],
) -> CountryDiff:
    present = new if new is not None else old
    assert present is not None and present.country_file is not None
    name = present.relative(present.country_file)
    status: Literal["added", "removed"]
    if old is None or new is None:
        status = "added" if old is None else "removed"
        label = new_label if old is None else old_label
        return CountryDiff(code, status, present.meta.languages, f"{label}/{name}")
    assert old.country_file is not None and new.country_file is not None
    facts_old, file_old = _read(old.country_file, f"{old_label}/{name}", CountryFacts)
    facts_new, file_new = _read(new.country_file, f"{new_label}/{name}", CountryFacts)
    changes = compare_values(
        _values(facts_old, {"deviations"}),
        _values(facts_new, {"deviations"}),
        language=new.meta.languages[0],
        old_place=file_old.place,
        new_place=file_new.place,
    )
    deviations = _compare_deviations(
        facts_old.deviations, facts_new.deviations, file_old, file_new, languages
    )
    changed: Literal["changed", "unchanged"] = "changed" if changes or deviations else "unchanged"
    return CountryDiff(code, changed, new.meta.languages, file_new.shown, changes, deviations)


def _compare_deviations(
    old: Sequence[Deviation],
    new: Sequence[Deviation],
    file_old: _File,
    file_new: _File,
    languages: Sequence[str],
) -> tuple[DeviationChange, ...]:
    """Deviations matched by the field they replace: added, removed, reworded, re-referenced."""
    before = {(d.language, d.field): (i, d) for i, d in enumerate(old) if d.language in languages}
    after = {(d.language, d.field): (i, d) for i, d in enumerate(new) if d.language in languages}
    found = []
    for key, (index, deviation) in after.items():
        language = deviation.language
        path = f"deviations[{index}].text"
        if key not in before:
            added = FieldChange(
                "added",
                path,
                None,
                None,
                deviation.text,
                *file_new.place(path),
                (Segment("insert", normal(deviation.text)),),
                fact_changes("", deviation.text, language),
            )
            found.append(
                DeviationChange(language, deviation.field, deviation.reference, "added", (added,))
            )
            continue
        old_index, was = before[key]
        changes = []
        if normal(was.text) != normal(deviation.text):
            changes.append(
                FieldChange(
                    "changed",
                    path,
                    f"deviations[{old_index}].text",
                    was.text,
                    deviation.text,
                    *file_new.place(path),
                    word_diff(was.text, deviation.text),
                    fact_changes(was.text, deviation.text, language),
                )
            )
        if normal(was.reference) != normal(deviation.reference):
            where = f"deviations[{index}].reference"
            changes.append(
                FieldChange(
                    "changed",
                    where,
                    f"deviations[{old_index}].reference",
                    was.reference,
                    deviation.reference,
                    *file_new.place(where),
                    word_diff(was.reference, deviation.reference),
                )
            )
        if changes:
            found.append(
                DeviationChange(
                    language, deviation.field, deviation.reference, "changed", tuple(changes)
                )
            )
    for key, (index, deviation) in before.items():
        if key in after:
            continue
        path = f"deviations[{index}].text"
        removed = FieldChange(
            "removed",
            path,
            path,
            deviation.text,
            None,
            *file_old.place(path),
            (Segment("delete", normal(deviation.text)),),
            fact_changes(deviation.text, "", deviation.language),
        )
        found.append(
            DeviationChange(
                deviation.language, deviation.field, deviation.reference, "removed", (removed,)
            )
        )
    return tuple(found)
