"""What changed between two versions of a DHPC, per language and field, word by word.

Fields are aligned by their text, not by their position: a bullet inserted before
three others is one addition, not four changes. A field whose text is unchanged is
never reported, whatever its position; one that only moved elsewhere (same text, other
list) is listed as moved, apart from the changes. A changed field whose numbers, ranges,
percentages, dates or doses differ is flagged, with the facts found by the same
extraction the ``numbers`` check uses.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
import json
import re
from collections import Counter
from collections.abc import Callable, Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from difflib import SequenceMatcher
from pathlib import Path
from typing import Any, Literal

from dhpc_gen.approval.words import Segment, marked, normal, similarity, word_diff
from dhpc_gen.build import language_hash
from dhpc_gen.content.fields import TextField, text_fields
from dhpc_gen.content.loader import META_FILE, line_of, parse_loc, read_yaml
from dhpc_gen.content.model import Dhpc
from dhpc_gen.review.extract import facts, quantities

ChangeKind = Literal["changed", "added", "removed", "moved"]

DIFF_FORMAT_VERSION = 1

_PAIRING = 0.35
"""Two texts at least this similar in a changed stretch are one field edited."""

_UNIT = re.compile(
    r"[\s\u00a0\u202f]?(mg/kg|mg/m²|mg/m2|µg|μg|mcg|mg|ml|mL|g|kg|l|IU|IE|KY|U|mmol|µmol|"
    r"mikrog|mikrogramma|tabletit?|tablets?|doser?|dose|annos(?:ta)?)(?![^\W\d_])",
)


@dataclass(frozen=True)
class FactChange:
    """A number, range, percentage, date or dose of a field that is not what it was."""

    kind: str
    """number, range, percent, date, dose …"""
    old: tuple[str, ...]
    new: tuple[str, ...]

    def describe(self) -> str:
        what = "dose" if self.kind == "dose" else self.kind
        old = ", ".join(self.old) or "none"
        new = ", ".join(self.new) or "none"
        if not self.new:
            return f"{what} removed: {old}"
        if not self.old:
            return f"{what} added: {new}"
        return f"{what} changed: {old} → {new}"

    def to_dict(self) -> dict[str, object]:
        return {"kind": self.kind, "old": list(self.old), "new": list(self.new)}


@dataclass(frozen=True)
class FieldChange:
    """One field that differs between the versions."""

    kind: ChangeKind
    path: str
    """The field path in the new version (in the old one when removed)."""
    old_path: str | None
    old: str | None
    new: str | None
    file: str
    """The file shown for it: the new version's, or the old one's when removed."""
    line: int | None
    segments: tuple[Segment, ...] = ()
    facts: tuple[FactChange, ...] = ()

    @property
    def where(self) -> str:
        at = self.file if self.line is None else f"{self.file}:{self.line}"
        return f"{at} {self.path}"

    def to_dict(self) -> dict[str, object]:
        return {
            "kind": self.kind,
            "path": self.path,
            "old_path": self.old_path,
            "old": self.old,
            "new": self.new,
            "file": self.file,
            "line": self.line,
            "segments": [s.to_dict() for s in self.segments],
            "facts": [f.to_dict() for f in self.facts],
        }


@dataclass(frozen=True)
class LanguageDiff:
    """The changes of one language file (or of ``dhpc.yaml``, as ``language`` ``""``)."""

    language: str
    status: Literal["changed", "added", "removed", "unchanged"]
    changes: tuple[FieldChange, ...] = ()
    moved: tuple[FieldChange, ...] = ()
    old_sha256: str | None = None
    new_sha256: str | None = None
    """The language content hashes (``dhpc.yaml`` + the language file) of both versions."""

    @property
    def flagged(self) -> tuple[FieldChange, ...]:
        return tuple(c for c in self.changes if c.facts)

    def to_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "status": self.status,
            "old_sha256": self.old_sha256,
            "new_sha256": self.new_sha256,
            "changes": [c.to_dict() for c in self.changes],
            "moved": [c.to_dict() for c in self.moved],
        }


@dataclass(frozen=True)
class DhpcDiff:
    """Every change between two versions of one DHPC."""

    dhpc_id: str
    old_label: str
    new_label: str
    meta: LanguageDiff
    """The changes of ``dhpc.yaml``: facts of every language's letter."""
    languages: tuple[LanguageDiff, ...] = field(default=())
    letter_date: dt.date = dt.date(2000, 1, 1)
    """The new version's letter date (dates the redline PDF)."""
    countries: tuple[CountryDiff, ...] | None = None
    """A campaign: the changes of each country's file (None: a folder of one country)."""
    sent_in: Mapping[str, tuple[str, ...]] = field(default_factory=dict)
    """A campaign: language → the countries that send in it (the new version's)."""
    deviated: Mapping[str, Mapping[str, tuple[str, ...]]] = field(default_factory=dict)
    """A campaign: language → field → the countries whose deviation replaces it, so a
    change of the shared text there does not reach their letters."""

    @property
    def changed(self) -> bool:
        return (
            bool(self.meta.changes)
            or any(d.changes or d.status in ("added", "removed") for d in self.languages)
            or any(c.changed for c in self.countries or ())
        )

    def change_count(self) -> int:
        return (
            len(self.meta.changes)
            + sum(len(d.changes) for d in self.languages)
            + sum(
                len(c.changes) + sum(len(d.changes) for d in c.deviations)
                for c in self.countries or ()
            )
        )

    def to_dict(self) -> dict[str, object]:
        document: dict[str, object] = {
            "format": DIFF_FORMAT_VERSION,
            "dhpc": self.dhpc_id,
            "old": self.old_label,
            "new": self.new_label,
            "dhpc_yaml": self.meta.to_dict(),
            "languages": [d.to_dict() for d in self.languages],
        }
        if self.countries is not None:
            document["countries"] = [c.to_dict() for c in self.countries]
            document["sent_in"] = {lang: list(c) for lang, c in self.sent_in.items()}
            document["deviated"] = {
                lang: {path: list(c) for path, c in fields.items()}
                for lang, fields in self.deviated.items()
            }
        return document


@dataclass(frozen=True)
class DeviationChange:
    """A national deviation added, removed, reworded or given another reference."""

    language: str
    field: str
    """The field of the language file it replaces: ``summary[1]``."""
    reference: str
    kind: Literal["added", "removed", "changed"]
    changes: tuple[FieldChange, ...]
    """Of its text (``deviations[i].text``) and of its reference."""

    def to_dict(self) -> dict[str, object]:
        return {
            "language": self.language,
            "field": self.field,
            "reference": self.reference,
            "kind": self.kind,
            "changes": [c.to_dict() for c in self.changes],
        }


@dataclass(frozen=True)
class CountryDiff:
    """The changes of one country's file of a campaign: its facts and its deviations."""

    country: str
    status: Literal["changed", "added", "removed", "unchanged"]
    languages: tuple[str, ...]
    """The languages the country sends in."""
    file: str
    """The country's file as shown: ``content/x/countries/BE.yaml``."""
    changes: tuple[FieldChange, ...] = ()
    """Its facts, value by value (date, affiliate, signatories, wordings …)."""
    deviations: tuple[DeviationChange, ...] = ()

    @property
    def changed(self) -> bool:
        return bool(self.changes or self.deviations) or self.status in ("added", "removed")

    def to_dict(self) -> dict[str, object]:
        return {
            "country": self.country,
            "status": self.status,
            "languages": list(self.languages),
            "file": self.file,
            "changes": [c.to_dict() for c in self.changes],
            "deviations": [d.to_dict() for d in self.deviations],
        }


# -- comparing ------------------------------------------------------------------------------


class _Lines:
    """Line numbers of field paths in one YAML file (read once)."""

    def __init__(self, path: Path | None) -> None:
        self.data: Any = None
        if path is not None and path.is_file():
            self.data, _ = read_yaml(path, path.name)

    def __call__(self, field_path: str) -> int | None:
        if self.data is None:
            return None
        return line_of(self.data, parse_loc(field_path))


def _value_facts(text: str, language: str) -> list[tuple[str, str, str]]:
    """(kind, value, as written) of every fact of ``text``; a number with a unit is a dose."""
    found = []
    # The unit as dhpc check reads it, whole: "2 ml/kg/h", not "2 ml".
    read = {q.number.start: q.unit_text for q in quantities(text, language) if q.number}
    for token in facts(text, language):
        kind, value, shown = token.kind, token.value, token.text
        unit = _UNIT.match(text, token.end) if token.kind in ("number", "range") else None
        if unit is not None:
            written = read.get(token.start) or unit.group(1)
            if not written.startswith(unit.group(1)):
                written = unit.group(1)
            kind, value, shown = "dose", f"{value} {written}", f"{shown} {written}"
        found.append((kind, value, shown))
    return found


def fact_changes(old: str, new: str, language: str) -> tuple[FactChange, ...]:
    """Facts (numbers, doses, dates …) the old text has and the new lacks, and the reverse."""
    before = _value_facts(old, language)
    after = _value_facts(new, language)
    lost = Counter((k, v) for k, v, _ in before) - Counter((k, v) for k, v, _ in after)
    gained = Counter((k, v) for k, v, _ in after) - Counter((k, v) for k, v, _ in before)
    if not lost and not gained:
        return ()
    shown_old = _shown(before, lost)
    shown_new = _shown(after, gained)
    kinds = dict.fromkeys([k for k, _ in shown_old] + [k for k, _ in shown_new])
    changes = []
    for kind in kinds:
        changes.append(
            FactChange(
                kind,
                tuple(s for k, s in shown_old if k == kind),
                tuple(s for k, s in shown_new if k == kind),
            )
        )
    return tuple(changes)


def _shown(found: Iterable[tuple[str, str, str]], wanted: Counter[tuple[str, str]]) -> list[Any]:
    left = Counter(wanted)
    out = []
    for kind, value, shown in found:
        if left[(kind, value)] > 0:
            left[(kind, value)] -= 1
            out.append((kind, shown))
    return out


def _pair(
    old: Sequence[TextField], new: Sequence[TextField]
) -> tuple[list[tuple[TextField, TextField]], list[TextField], list[TextField]]:
    """Pair the fields of one changed stretch by similarity, in order; the rest stand alone."""
    if len(old) == len(new) and all(a.kind == b.kind for a, b in zip(old, new, strict=True)):
        pairs = list(zip(old, new, strict=True))
        if all(similarity(a.text, b.text) >= _PAIRING for a, b in pairs) or len(old) == 1:
            return pairs, [], []
    scored = sorted(
        (
            (similarity(a.text, b.text), i, j)
            for i, a in enumerate(old)
            for j, b in enumerate(new)
            if len(old) * len(new) <= 400
        ),
        reverse=True,
    )
    used_old: set[int] = set()
    used_new: set[int] = set()
    chosen: list[tuple[int, int]] = []
    for score, i, j in scored:
        if score < _PAIRING:
            break
        if i in used_old or j in used_new:
            continue
        # Keep the order: a pair may not cross one already chosen.
        if any((i < ci) != (j < cj) for ci, cj in chosen):
            continue
        chosen.append((i, j))
        used_old.add(i)
        used_new.add(j)
    chosen.sort()
    pairs = [(old[i], new[j]) for i, j in chosen]
    removed = [f for i, f in enumerate(old) if i not in used_old]
    added = [f for j, f in enumerate(new) if j not in used_new]
    return pairs, removed, added


def compare_fields(
    old: Sequence[TextField],
    new: Sequence[TextField],
    *,
    language: str,
    old_file: str,
    new_file: str,
    old_lines: _Lines | None = None,
    new_lines: _Lines | None = None,
) -> tuple[tuple[FieldChange, ...], tuple[FieldChange, ...]]:
    """(changes, moves) that turn the fields ``old`` into ``new``, in the new reading order."""
    at_old = old_lines or (lambda _path: None)
    at_new = new_lines or (lambda _path: None)
    a = [normal(f.text) for f in old]
    b = [normal(f.text) for f in new]
    matcher = SequenceMatcher(None, a, b, autojunk=False)
    edited: list[tuple[TextField, TextField]] = []
    removed: list[TextField] = []
    added: list[TextField] = []
    kept: dict[int, int] = {}
    """Old position → new position of every field that is still there."""
    for tag, i1, i2, j1, j2 in matcher.get_opcodes():
        if tag == "equal":
            kept.update(zip(range(i1, i2), range(j1, j2), strict=True))
            continue  # the same text, wherever it now stands: not a change
        pairs, gone, new_ones = _pair(old[i1:i2], new[j1:j2])
        edited += pairs
        removed += gone
        added += new_ones
    moves = []
    for moved in list(added):
        twin = next((r for r in removed if normal(r.text) == normal(moved.text)), None)
        if twin is not None:
            removed.remove(twin)
            added.remove(moved)
            moves.append(
                FieldChange(
                    "moved",
                    moved.path,
                    twin.path,
                    twin.text,
                    moved.text,
                    new_file,
                    at_new(moved.path),
                )
            )
    changes: list[tuple[float, FieldChange]] = []
    order = {f.path: index for index, f in enumerate(new)}
    old_order = {f.path: index for index, f in enumerate(old)}
    kept.update((old_order[a.path], order[b.path]) for a, b in edited)
    for before, after in edited:
        changes.append(
            (
                order[after.path],
                FieldChange(
                    "changed",
                    after.path,
                    before.path,
                    before.text,
                    after.text,
                    new_file,
                    at_new(after.path),
                    word_diff(before.text, after.text),
                    fact_changes(before.text, after.text, language),
                ),
            )
        )
    for item in added:
        changes.append(
            (
                order[item.path],
                FieldChange(
                    "added",
                    item.path,
                    None,
                    None,
                    item.text,
                    new_file,
                    at_new(item.path),
                    (Segment("insert", normal(item.text)),),
                    fact_changes("", item.text, language),
                ),
            )
        )
    for item in removed:
        # A removed field is shown where it stood: after what preceded it and is still there.
        position = old_order[item.path]
        anchor = max((j for i, j in kept.items() if i < position), default=-1) + 0.5
        changes.append(
            (
                anchor,
                FieldChange(
                    "removed",
                    item.path,
                    item.path,
                    item.text,
                    None,
                    old_file,
                    at_old(item.path),
                    (Segment("delete", normal(item.text)),),
                    fact_changes(item.text, "", language),
                ),
            )
        )
    changes.sort(key=lambda pair: pair[0])
    return tuple(c for _, c in changes), tuple(moves)


def value_fields(data: Mapping[str, object]) -> list[TextField]:
    """Facts (a YAML file as read) as one text field per value, by field path."""
    out: list[TextField] = []

    def walk(value: object, path: str) -> None:
        if isinstance(value, Mapping):
            for key, item in value.items():
                walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list | tuple):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")
        elif value is not None:
            text = str(value).lower() if isinstance(value, bool) else str(value)
            out.append(TextField(path, text, "fact"))

    walk(data, "")
    return out


def _meta_fields(dhpc: Dhpc) -> list[TextField]:
    """``dhpc.yaml`` as one text field per value, by field path."""
    return value_fields(dhpc.meta.model_dump(mode="json"))


CORE_FACTS = ("id", "country", "languages", "source_language", "status", "products", "pdf_variant")
"""Facts of a campaign's national version that its ``dhpc.yaml`` gives; the rest are the
country's (``countries/<CC>.yaml``)."""


def _facts_file(dhpc: Dhpc, path: str) -> str:
    """The file a fact of ``dhpc.meta`` comes from: ``dhpc.yaml`` or the country's file."""
    if dhpc.country_file is None or re.split(r"[.\[]", path, maxsplit=1)[0] in CORE_FACTS:
        return META_FILE
    return dhpc.relative(dhpc.country_file)


def compare_meta(old: Dhpc, new: Dhpc, old_label: str, new_label: str) -> LanguageDiff:
    """``dhpc.yaml`` compared value by value (by field path: its lists are facts, not prose).

    The national version of a campaign's country: its facts, each named in the file it
    comes from (``dhpc.yaml`` or ``countries/<CC>.yaml``).
    """
    changes = compare_values(
        {f.path: f.text for f in _meta_fields(old)},
        {f.path: f.text for f in _meta_fields(new)},
        language=new.meta.source_language,
        old_place=_FactPlaces(old, old_label),
        new_place=_FactPlaces(new, new_label),
    )
    return LanguageDiff("", "changed" if changes else "unchanged", changes)


class _FactPlaces:
    """Where a fact of a version is: the file as shown (``label/name``) and its line."""

    def __init__(self, dhpc: Dhpc, label: str) -> None:
        self.dhpc = dhpc
        self.label = label
        self._lines: dict[str, _Lines] = {}

    def __call__(self, path: str) -> tuple[str, int | None]:
        name = _facts_file(self.dhpc, path)
        if name not in self._lines:
            self._lines[name] = _Lines(self.dhpc.directory / name)
        return f"{self.label}/{name}", self._lines[name](path)


Place = Callable[[str], tuple[str, int | None]]
"""A field path → the file it is in (as shown) and its line there."""


def compare_values(
    before: Mapping[str, str],
    after: Mapping[str, str],
    *,
    language: str,
    old_place: Place,
    new_place: Place,
) -> tuple[FieldChange, ...]:
    """Facts compared by field path: what was added, changed and removed."""
    changes = []
    for path, text in after.items():
        if path not in before:
            changes.append(
                FieldChange(
                    "added",
                    path,
                    None,
                    None,
                    text,
                    *new_place(path),
                    (Segment("insert", text),),
                    fact_changes("", text, language),
                )
            )
        elif normal(before[path]) != normal(text):
            changes.append(
                FieldChange(
                    "changed",
                    path,
                    path,
                    before[path],
                    text,
                    *new_place(path),
                    word_diff(before[path], text),
                    fact_changes(before[path], text, language),
                )
            )
    for path, text in before.items():
        if path not in after:
            changes.append(
                FieldChange(
                    "removed",
                    path,
                    path,
                    text,
                    None,
                    *old_place(path),
                    (Segment("delete", text),),
                    fact_changes(text, "", language),
                )
            )
    return tuple(changes)


def compare_language(
    old: Dhpc | None,
    new: Dhpc | None,
    language: str,
    *,
    old_label: str,
    new_label: str,
) -> LanguageDiff:
    """The changes of one language between two versions (either may lack it)."""
    name = f"{language}.yaml"
    old_has = old is not None and language in old.texts
    new_has = new is not None and language in new.texts
    old_hash = language_hash(old, language) if old is not None and old_has else None
    new_hash = language_hash(new, language) if new is not None and new_has else None
    if not old_has and not new_has:
        return LanguageDiff(language, "unchanged")
    if not old_has:
        return LanguageDiff(language, "added", new_sha256=new_hash)
    if not new_has:
        return LanguageDiff(language, "removed", old_sha256=old_hash)
    assert old is not None and new is not None
    changes, moves = compare_fields(
        list(text_fields(old.text(language))),
        list(text_fields(new.text(language))),
        language=language,
        old_file=f"{old_label}/{name}",
        new_file=f"{new_label}/{name}",
        old_lines=_Lines(old.directory / name),
        new_lines=_Lines(new.directory / name),
    )
    if old.country_file is not None or new.country_file is not None:
        old_at = _national_places(old, language, old_label)
        new_at = _national_places(new, language, new_label)
        changes = tuple(_placed(c, old_at if c.kind == "removed" else new_at) for c in changes)
        moves = tuple(_placed(c, new_at) for c in moves)
    status: Literal["changed", "unchanged"] = "changed" if changes else "unchanged"
    return LanguageDiff(language, status, changes, moves, old_hash, new_hash)


_NATIONAL_TEXTS = {
    "contact_points": ("mahs", "department"),
    "signatory_titles": ("signatories", "title"),
    "address_sources": ("address_sources", None),
}
"""Fields of a national text that the country's file gives: field → (list, key)."""


def _national_places(dhpc: Dhpc, language: str, label: str) -> dict[str, tuple[str, int | None]]:
    """Field paths of a national text that its country's file gives, and where there.

    A deviation replaces the shared text of its field; the contact point, the signatory
    titles and the address sources are national facts.
    """
    if dhpc.country_file is None:
        return {}
    shown = f"{label}/{dhpc.relative(dhpc.country_file)}"
    lines = _Lines(dhpc.country_file)
    places: dict[str, tuple[str, int | None]] = {}
    for item in text_fields(dhpc.text(language)):
        steps = parse_loc(item.path)
        if steps[0] in _NATIONAL_TEXTS and len(steps) > 1:
            listed, key = _NATIONAL_TEXTS[str(steps[0])]
            path = f"{listed}[{steps[1]}]" + (f".{key}" if key else "")
            places[item.path] = (shown, lines(path))
    for index, deviation in enumerate(dhpc.deviations):
        if deviation.language == language:
            places[deviation.field] = (shown, lines(f"deviations[{index}].text"))
    return places


def _placed(change: FieldChange, places: Mapping[str, tuple[str, int | None]]) -> FieldChange:
    if change.path not in places:
        return change
    file, line = places[change.path]
    return dataclasses.replace(change, file=file, line=line)


def compare(
    old: Dhpc,
    new: Dhpc,
    *,
    old_label: str,
    new_label: str,
    languages: Sequence[str] | None = None,
) -> DhpcDiff:
    """Every change from ``old`` to ``new``; ``languages`` limits which languages are compared.

    The labels name each version's folder in the output (``HEAD~1:content/x``, a path).
    """
    every = list(dict.fromkeys([*new.meta.languages, *old.meta.languages]))
    chosen = every if languages is None else [x for x in every if x in languages]
    return DhpcDiff(
        new.id,
        old_label,
        new_label,
        compare_meta(old, new, old_label, new_label),
        tuple(
            compare_language(old, new, language, old_label=old_label, new_label=new_label)
            for language in chosen
        ),
        new.meta.date,
    )


# -- output ---------------------------------------------------------------------------------


def change_lines(change: FieldChange, *, context: int | None = 12) -> list[str]:
    """One change for a terminal: where, what kind, the words marked, the flagged facts."""
    if change.kind == "moved":
        return [f"{change.where}: moved, same text (was {change.old_path})"]
    head = f"{change.where}: {change.kind}"
    if change.kind == "changed" and change.old_path and change.old_path != change.path:
        head += f" (was {change.old_path})"
    lines = [head, f"    {marked(change.segments, context=context)}"]
    lines += [f"    ! {fact.describe()}" for fact in change.facts]
    return lines


def diff_text(diff: DhpcDiff) -> str:
    """The whole comparison for a terminal or a log."""
    lines = [f"{diff.dhpc_id}: {diff.old_label} → {diff.new_label}"]
    sections = [("dhpc.yaml", diff.meta), *((_language_label(diff, d), d) for d in diff.languages)]
    for name, part in sections:
        if part.status == "added":
            lines.append(f"{name}: language added")
            continue
        if part.status == "removed":
            lines.append(f"{name}: language removed")
            continue
        if not part.changes and not part.moved:
            continue
        flagged = len(part.flagged)
        count = len(part.changes)
        summary = f"{name}: {count} field{'s' if count != 1 else ''} changed"
        if flagged:
            summary += f", {flagged} with changed numbers or doses"
        lines.append(summary)
        for change in (*part.changes, *part.moved):
            lines += [f"  {line}" for line in change_lines(change)]
            kept = diff.deviated.get(part.language, {}).get(change.path, ())
            if kept and change.kind != "moved":
                lines.append(
                    f"    not in the letters of {', '.join(kept)}: a deviation replaces this field"
                )
    for country in diff.countries or ():
        lines += _country_lines(country)
    if not diff.changed:
        lines.append("no text changed")
    return "\n".join(lines) + "\n"


def _language_label(diff: DhpcDiff, part: LanguageDiff) -> str:
    """``fi``, or in a campaign ``de (AT, BE, DE)``: the countries whose letters it changes."""
    users = diff.sent_in.get(part.language)
    if diff.countries is None:
        return part.language
    return f"{part.language} ({', '.join(users) if users else 'the core text'})"


def _country_lines(country: CountryDiff) -> list[str]:
    name = f"{country.country} ({country.file})"
    if country.status in ("added", "removed"):
        return [f"{name}: country {country.status}"]
    if not country.changed:
        return []
    parts = []
    if country.changes:
        count = len(country.changes)
        parts.append(f"{count} fact{'s' if count != 1 else ''} changed")
    if country.deviations:
        count = len(country.deviations)
        parts.append(f"{count} deviation{'s' if count != 1 else ''} changed")
    lines = [f"{name}: {', '.join(parts)}"]
    for change in country.changes:
        lines += [f"  {line}" for line in change_lines(change)]
    for deviation in country.deviations:
        lines.append(
            f"  deviation of {deviation.language} {deviation.field} {deviation.kind} "
            f"({deviation.reference}):"
        )
        for change in deviation.changes:
            lines += [f"    {line}" for line in change_lines(change)]
    return lines


def diff_json(diff: DhpcDiff) -> str:
    """Stable JSON for CI: no clock, no machine paths beyond the labels given."""
    return json.dumps(diff.to_dict(), ensure_ascii=False, indent=2, sort_keys=True) + "\n"
