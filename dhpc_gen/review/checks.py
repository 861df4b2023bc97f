"""The translation checks of ``dhpc check``: one small function per check id.

Each check compares a translation with the source language named in ``dhpc.yaml``
(or looks at the catalogs and the regulator registry) and returns
:class:`~dhpc_gen.review.findings.Finding` objects; :func:`run_checks` runs them all.
"""

from __future__ import annotations

import ast
import logging
import re
import statistics
from collections.abc import Callable, Collection, Iterable, Sequence
from dataclasses import dataclass
from functools import cached_property
from pathlib import Path
from typing import Any

from babel.messages.catalog import Catalog, Message
from babel.messages.pofile import PoFileError, read_po

from dhpc_gen.content.loader import line_of, read_yaml, structure_counts
from dhpc_gen.content.markup import plain_text
from dhpc_gen.content.model import Dhpc, LanguageText, control_character
from dhpc_gen.errors import RegistryError, UsageError, display_path
from dhpc_gen.i18n import SOURCE_LANGUAGE, UNREVIEWED_FLAG, catalog_path
from dhpc_gen.regulators import registry
from dhpc_gen.resources import LOCALES_DIR, REGULATORS_DIR
from dhpc_gen.review.align import FieldPair, pair_fields
from dhpc_gen.review.extract import (
    Token,
    contacts,
    quantities,
    sentences,
    term_spans,
    words,
)
from dhpc_gen.review.findings import CHECK_IDS, Finding, Severity, excerpt, shorten, sort_findings
from dhpc_gen.review.termbase import Term, Termbase, dhpc_terms
from dhpc_gen.review.units import TIME_UNITS, unit_name

logger = logging.getLogger(__name__)

LENGTH_WARNING = 1.8
"""A text this many times longer or shorter than the usual ratio is worth a look."""
LENGTH_ERROR = 3.0
"""This many times: a part is almost surely missing or added."""
LENGTH_MIN_DIFFERENCE = 40
"""Characters: short texts vary too much in length to judge."""
UNTRANSLATED_MIN_WORDS = 3
"""A copied text of fewer words may be a name or a word both languages share."""
COPIED_SENTENCE_WORDS = 6

_OPTIONAL = re.compile(
    r"^(title|salutation|background_heading|contact_points\[\d+\]\.department|"
    r"signatory_titles\[\d+\]|address_sources\[\d+\]|boilerplate\[.*\])$"
)
_LIST_ITEM = re.compile(r"^\s*[-*+]\s+", re.MULTILINE)
_PATH_PART = re.compile(r"([A-Za-z_]\w*)|\[(\d+)\]|\[((?:'[^']*'|\"[^\"]*\"))\]")


# --- where a finding goes -----------------------------------------------------------------


class LineFinder:
    """The line of a field path in one YAML file, read once when first asked."""

    def __init__(self, path: Path) -> None:
        self.path = path
        self.shown = display_path(path)

    @cached_property
    def _data(self) -> Any:
        data, _problems = read_yaml(self.path, self.shown)
        return data

    def line(self, field_path: str) -> int | None:
        if self._data is None or not field_path:
            return None
        return line_of(self._data, parse_path(field_path))


def parse_path(field_path: str) -> tuple[int | str, ...]:
    """``sections[1].paragraphs[0]`` → ``('sections', 1, 'paragraphs', 0)``."""
    parts: list[int | str] = []
    for name, index, key in _PATH_PART.findall(field_path):
        if name:
            parts.append(name)
        elif index:
            parts.append(int(index))
        else:
            parts.append(str(ast.literal_eval(key)))
    return tuple(parts)


@dataclass
class LanguagePair:
    """One translation and its source, with the texts paired field by field."""

    source_language: str
    target_language: str
    source: LanguageText
    target: LanguageText
    pairs: list[FieldPair]
    termbase: Termbase
    lines: LineFinder

    def finding(
        self,
        check: str,
        severity: Severity,
        field_path: str,
        message: str,
        *,
        target_path: str | None = None,
        source: str = "",
        target: str = "",
        source_mark: str = "",
        target_mark: str = "",
        source_span: tuple[int, int] | None = None,
        target_span: tuple[int, int] | None = None,
    ) -> Finding:
        return Finding(
            check=check,
            severity=severity,
            language=self.target_language,
            field=field_path,
            message=message,
            source=source,
            target=target,
            source_mark=source_mark,
            target_mark=target_mark,
            file=self.lines.shown,
            line=self.lines.line(target_path or field_path),
            source_span=source_span,
            target_span=target_span,
        )

    def complete_pairs(self) -> Iterable[tuple[FieldPair, str, str]]:
        """Pairs with both texts, as plain text (source, target)."""
        for pair in self.pairs:
            if pair.source is not None and pair.target is not None:
                yield pair, plain_text(pair.source.text), plain_text(pair.target.text)


def _target_path(pair: FieldPair) -> str | None:
    return pair.target.path if pair.target is not None else None


def _around(text: str, token: Token) -> str:
    return excerpt(text, token.start, token.end)


def _span(token: Token | None) -> tuple[int, int] | None:
    return (token.start, token.end) if token is not None else None


def _extra_in_target(
    lp: LanguagePair,
    check: tuple[str, Severity],
    pair: FieldPair,
    message: str,
    token: Token,
    texts: tuple[str, str],
) -> Finding:
    """A finding for something the translation has and the source has not."""
    source_text, target_text = texts
    return lp.finding(
        check[0],
        check[1],
        pair.path,
        message,
        target_path=_target_path(pair),
        source=shorten(source_text),
        target=_around(target_text, token),
        target_mark=token.text,
        target_span=_span(token),
    )


# --- structure ----------------------------------------------------------------------------


def check_structure(lp: LanguagePair) -> list[Finding]:
    """Same number of summary bullets, sections, paragraphs and list items as the source."""
    found = []
    same_sections = len(lp.source.sections) == len(lp.target.sections)
    for list_path, have, want in structure_counts(lp.source, lp.target):
        if have == want or (list_path.startswith("sections[") and not same_sections):
            continue
        unpaired = [
            p.source
            for p in lp.pairs
            if p.target is None and p.source is not None and _inside(p.source.path, list_path)
        ]
        extra = [
            p.target
            for p in lp.pairs
            if p.source is None and p.target is not None and _inside(p.target.path, list_path)
        ]
        hint = ""
        # The alignment goes by length and numbers: a good guess, not a certainty.
        if unpaired:
            hint = "; most likely missing: " + ", ".join(f.path for f in unpaired)
        elif extra:
            hint = f"; most likely added in {lp.target_language}: " + ", ".join(
                f.path for f in extra
            )
        found.append(
            lp.finding(
                "structure",
                "error",
                list_path,
                f"{lp.target_language} has {have} entries in {list_path}, the source "
                f"({lp.source_language}) has {want}{hint}",
                source=shorten(unpaired[0].text) if unpaired else "",
                target=shorten(extra[0].text) if extra else "",
            )
        )
    for pair in lp.pairs:
        if pair.complete or not _OPTIONAL.match(pair.path):
            continue
        if pair.source is not None:
            message = (
                f"the source sets {pair.path}, {lp.target_language} does not "
                "(its letter uses the default wording there)"
            )
            found.append(
                lp.finding(
                    "structure", "warning", pair.path, message, source=shorten(pair.source.text)
                )
            )
        elif pair.target is not None:
            message = (
                f"{lp.target_language} sets {pair.path}, the source does not "
                "(the source letter uses the default wording there)"
            )
            found.append(
                lp.finding(
                    "structure", "warning", pair.path, message, target=shorten(pair.target.text)
                )
            )
    for pair, _plain_source, _plain_target in lp.complete_pairs():
        assert pair.source is not None and pair.target is not None
        have = len(_LIST_ITEM.findall(pair.target.text))
        want = len(_LIST_ITEM.findall(pair.source.text))
        if have != want:
            found.append(
                lp.finding(
                    "structure",
                    "error",
                    pair.path,
                    f"{lp.target_language} has {have} list items here, the source has {want}",
                    target_path=_target_path(pair),
                    source=shorten(pair.source.text),
                    target=shorten(pair.target.text),
                )
            )
    return found


def _inside(path: str, list_path: str) -> bool:
    return path.startswith(list_path + "[") or (
        list_path == "sections" and path.startswith("sections[")
    )


# --- numbers ------------------------------------------------------------------------------


@dataclass(frozen=True)
class FactDifference:
    """A number, range, percentage or date of one text that the other has otherwise."""

    severity: Severity
    message: str
    source: Token | None
    """The source's fact (``None``: only the translation has it)."""
    target: Token | None
    """The translation's fact (``None``: it lacks the source's)."""


def compare_facts(
    source_text: str, source_language: str, target_text: str, target_language: str
) -> list[FactDifference]:
    """What the ``numbers`` check finds between two texts, each read in its language.

    A fact is a value with its comparison sign and unit (:func:`quantities`): "< 0,5 ×
    10⁹/l" = "< 0.5 × 10^9/L"; "14 Tage" = "14 päivää" = "14 days". The same value with
    another sign or unit is an error naming both; with a sign or unit on one side only, a
    warning. A range written in words ("2 à 4") matches the same two numbers.
    """
    mine = quantities(source_text, source_language)
    theirs = quantities(target_text, target_language)
    missing = _first_of_each(t for t in mine if t.fact not in {x.fact for x in theirs})
    extra = _first_of_each(t for t in theirs if t.fact not in {x.fact for x in mine})
    missing = _as_two_numbers(missing, extra, theirs)
    extra = _as_two_numbers(extra, missing, mine)
    found: list[FactDifference] = []
    lang = target_language
    for was in list(missing):
        now = next((t for t in extra if t.value == was.value), None)
        if now is None:
            continue
        missing.remove(was)
        extra.remove(now)
        changes, changed = _qualifier_changes(was, now)
        if not changes:
            continue
        found.append(
            FactDifference(
                "error" if changed else "warning",
                f"{_kind(was)} {was.text!r} of the source is {now.text!r} in {lang}: "
                + "; ".join(changes),
                was,
                now,
            )
        )
    if missing and len(missing) == len(extra):
        for was, now in zip(missing, extra, strict=True):
            if was.sign == now.sign and was.unit == now.unit and was.number and now.number:
                was, now = was.number, now.number  # the numbers are what changed
            found.append(
                FactDifference(
                    "error",
                    f"{_kind(was)} {was.text!r} of the source is {now.text!r} in {lang}",
                    was,
                    now,
                )
            )
        return found
    found += [
        FactDifference(
            "error", f"{_kind(t)} {t.text!r} of the source is missing in {lang}", t, None
        )
        for t in missing
    ]
    found += [
        FactDifference(
            "warning", f"{lang} has {_kind(t)} {t.text!r}, which the source does not", None, t
        )
        for t in extra
    ]
    return found


def _as_two_numbers(
    unmatched: list[Token], others: list[Token], other_side: Sequence[Token]
) -> list[Token]:
    """``unmatched`` without the ranges in words whose two numbers the other text has as
    numbers ("from 2 to 4 mg" and "von 2 mg auf 4 mg"); ``others`` loses those numbers."""
    values = {t.value for t in other_side}
    kept = []
    for token in unmatched:
        if token.parts and all(part in values for part in token.parts):
            others[:] = [t for t in others if t.value not in token.parts]
            continue
        kept.append(token)
    return kept


_SAME_WAY = {"<": "<≤", "≤": "<≤", ">": ">≥", "≥": ">≥"}


def _qualifier_changes(was: Token, now: Token) -> tuple[list[str], bool]:
    """How the sign and unit of the same value differ; whether one was changed (not
    only left out or added). Nothing when the difference is only that one text names a
    unit of time the other leaves to the context ("12 weeks", "12 ensimmäisen"), or a
    sign the other writes with a word that is most often that sign ("< 30", "unter 30")."""
    changes: list[str] = []
    changed = False
    if was.sign != now.sign:
        if was.sign and now.sign:
            changed = True
            changes.append(
                f"sign {_shown('sign', was.sign, was.sign_text)} is "
                f"{_shown('sign', now.sign, now.sign_text)}"
            )
        else:
            present, other = (was, now) if was.sign else (now, was)
            likely = other.likely_sign
            if not likely or likely not in _SAME_WAY[present.sign]:
                changes.append(_one_sided_sign(present, other, present is was))
    if was.unit != now.unit:
        if was.unit and now.unit:
            changed = True
            changes.append(
                f"unit {_shown('unit', was.unit, was.unit_text)} is "
                f"{_shown('unit', now.unit, now.unit_text)}"
            )
        elif (was.unit or now.unit) not in TIME_UNITS:
            if was.unit:
                changes.append(f"no unit ({unit_name(was.unit)})")
            else:
                shown = _shown("unit", now.unit, now.unit_text)
                changes.append(f"unit {shown}, which the source has not")
    return changes, changed


def _any_sign(token: Token) -> str:
    if token.sign:
        return _shown("sign", token.sign, token.sign_text)
    return _shown("sign", token.likely_sign, token.likely_sign_text)


def _one_sided_sign(present: Token, other: Token, in_source: bool) -> str:
    if other.likely_sign:
        mine, theirs = (present, other) if in_source else (other, present)
        return f"sign {_any_sign(mine)} may be {_any_sign(theirs)}"
    if in_source:
        return f"no sign ({present.sign})"
    return f"sign {_shown('sign', present.sign, present.sign_text)}, which the source has not"


def _name(what: str, canonical: str) -> str:
    return canonical if what == "sign" else unit_name(canonical)


def _shown(what: str, canonical: str, written: str) -> str:
    """ "'<'", "'weniger als' (<)", "'Tage' (days)", "'mg/kg'"."""
    name = _name(what, canonical)
    if written.casefold() == name.casefold():
        return repr(written)
    return f"{written!r} ({name})"


def check_numbers(lp: LanguagePair) -> list[Finding]:
    """Every number, percentage, range and date of the source, with its unit and sign, is
    in the translation."""
    found = []
    for pair, source_text, target_text in lp.complete_pairs():
        differences = compare_facts(
            source_text, lp.source_language, target_text, lp.target_language
        )
        for difference in differences:
            was, now = difference.source, difference.target
            found.append(
                lp.finding(
                    "numbers",
                    difference.severity,
                    pair.path,
                    difference.message,
                    target_path=_target_path(pair),
                    source=_around(source_text, was) if was else shorten(source_text),
                    target=_around(target_text, now) if now else shorten(target_text),
                    source_mark=was.text if was else "",
                    target_mark=now.text if now else "",
                    source_span=_span(was),
                    target_span=_span(now),
                )
            )
    return found


def _first_of_each(tokens: Iterable[Token]) -> list[Token]:
    seen: dict[tuple[str, str, str], Token] = {}
    for token in tokens:
        seen.setdefault(token.fact, token)
    return list(seen.values())


def _kind(token: Token) -> str:
    return {"day": "date", "month": "date"}.get(token.kind, token.kind)


# --- terms --------------------------------------------------------------------------------


def check_terms(lp: LanguagePair) -> list[Finding]:
    """Product names, substances, acronyms and termbase terms are used as agreed."""
    found = []
    terms = [t for t in lp.termbase.must_use if lp.source_language in t.forms]
    lacking = [t for t in terms if lp.target_language not in t.forms]
    terms = [t for t in terms if lp.target_language in t.forms]
    kept = [
        Term({lp.source_language: (name,), lp.target_language: (name,)})
        for name in lp.termbase.must_not_translate
    ]
    for pair, source_text, target_text in lp.complete_pairs():
        if pair.path.startswith("active_substances["):
            continue  # compared with the termbase below
        for term in [*kept, *terms]:
            mine = _spans(source_text, term.forms[lp.source_language])
            if not mine:
                continue
            theirs = _spans(target_text, term.forms[lp.target_language])
            wanted = term.preferred(lp.target_language)
            shown = term.preferred(lp.source_language)
            if not theirs:
                how = "must stay" if term in kept else "must be"
                found.append(
                    lp.finding(
                        "terms",
                        "error",
                        pair.path,
                        f"the source has {shown!r}; {lp.target_language} {how} {wanted!r} "
                        "here but is not",
                        target_path=_target_path(pair),
                        source=excerpt(source_text, *mine[0]),
                        target=shorten(target_text),
                        source_mark=source_text[mine[0][0] : mine[0][1]],
                        source_span=mine[0],
                    )
                )
            elif len(theirs) < len(mine):
                found.append(
                    lp.finding(
                        "terms",
                        "warning",
                        pair.path,
                        f"the source has {shown!r} {len(mine)} times, {lp.target_language} "
                        f"has {wanted!r} {len(theirs)} times",
                        target_path=_target_path(pair),
                        source=excerpt(source_text, *mine[len(theirs)]),
                        target=shorten(target_text),
                        source_mark=source_text[mine[len(theirs)][0] : mine[len(theirs)][1]],
                        source_span=mine[len(theirs)],
                    )
                )
    found += _substance_names(lp)
    for term in lacking:
        shown = term.preferred(lp.source_language)
        if any(_spans(s, term.forms[lp.source_language]) for _p, s, _t in lp.complete_pairs()):
            found.append(
                Finding(
                    "terms",
                    "warning",
                    lp.target_language,
                    "must_use",
                    f"the termbase has no {lp.target_language} form of {shown!r}, which the "
                    "source uses: add one",
                    file=term.origin,
                )
            )
    return found


def _spans(text: str, forms: Sequence[str]) -> list[tuple[int, int]]:
    spans: set[tuple[int, int]] = set()
    for form in sorted(forms, key=len, reverse=True):
        for span in term_spans(text, form):
            if not any(s[0] <= span[0] < s[1] for s in spans):
                spans.add(span)
    return sorted(spans)


def _substance_names(lp: LanguagePair) -> list[Finding]:
    """``active_substances`` agree with the termbase's forms of the same substance."""
    found = []
    for index, (mine, theirs) in enumerate(
        zip(lp.source.active_substances, lp.target.active_substances, strict=False)
    ):
        for term in lp.termbase.must_use:
            if term.origin == "dhpc":
                continue
            forms = term.forms.get(lp.source_language, ())
            wanted = term.forms.get(lp.target_language, ())
            if not wanted or mine.casefold() not in (f.casefold() for f in forms):
                continue
            if theirs.casefold() not in (f.casefold() for f in wanted):
                path = f"active_substances[{index}]"
                found.append(
                    lp.finding(
                        "terms",
                        "error",
                        path,
                        f"the termbase writes {mine!r} as {wanted[0]!r} in "
                        f"{lp.target_language}, the language file has {theirs!r}",
                        source=mine,
                        target=theirs,
                        target_mark=theirs,
                    )
                )
    return found


# --- contacts -----------------------------------------------------------------------------


def check_contacts(lp: LanguagePair) -> list[Finding]:
    """URLs, e-mail addresses and telephone numbers are the same as in the source."""
    found = []
    for pair, source_text, target_text in lp.complete_pairs():
        mine = _first_of_each(contacts(source_text))
        theirs = _first_of_each(contacts(target_text))
        missing = [t for t in mine if t.value not in {x.value for x in theirs}]
        extra = [t for t in theirs if t.value not in {x.value for x in mine}]
        for was in missing:
            now = next((t for t in extra if t.kind == was.kind), None)
            if now is not None:
                extra.remove(now)
                message = (
                    f"{_CONTACT[was.kind]} {was.text!r} is {now.text!r} in {lp.target_language}"
                )
            else:
                message = f"{_CONTACT[was.kind]} {was.text!r} is missing in {lp.target_language}"
            found.append(
                lp.finding(
                    "contacts",
                    "error",
                    pair.path,
                    message,
                    target_path=_target_path(pair),
                    source=_around(source_text, was),
                    target=_around(target_text, now) if now else shorten(target_text),
                    source_mark=was.text,
                    target_mark=now.text if now else "",
                    source_span=_span(was),
                    target_span=_span(now),
                )
            )
        found += [
            _extra_in_target(
                lp,
                ("contacts", "error"),
                pair,
                f"{lp.target_language} has {_CONTACT[now.kind]} {now.text!r}, the source does not",
                now,
                (source_text, target_text),
            )
            for now in extra
        ]
    return found


_CONTACT = {"url": "web address", "email": "e-mail address", "phone": "telephone number"}


def _stripped_span(text: str) -> tuple[int, int]:
    lead = len(text) - len(text.lstrip())
    return lead, lead + len(text.strip())


# --- untranslated -------------------------------------------------------------------------


def check_untranslated(lp: LanguagePair) -> list[Finding]:
    """A translation that is empty, or the source's words copied (names and numbers aside)."""
    found = []
    protected = lp.termbase.protected(lp.source_language, lp.target_language)
    for pair, source_text, target_text in lp.complete_pairs():
        if pair.kind == "name":
            continue  # names of people, companies and registers stay as they are
        if not target_text.strip() and source_text.strip():
            found.append(
                lp.finding(
                    "untranslated",
                    "error",
                    pair.path,
                    f"{lp.target_language} is empty here",
                    target_path=_target_path(pair),
                    source=shorten(source_text),
                )
            )
            continue
        mine = words(source_text, lp.source_language, protected)
        theirs = words(target_text, lp.target_language, protected)
        if mine and mine == theirs:
            severity: Severity = "error" if len(mine) >= UNTRANSLATED_MIN_WORDS else "warning"
            found.append(
                lp.finding(
                    "untranslated",
                    severity,
                    pair.path,
                    f"{lp.target_language} is the same as the source ({lp.source_language}): "
                    "not translated?",
                    target_path=_target_path(pair),
                    source=shorten(source_text),
                    target=shorten(target_text),
                    target_mark=target_text.strip(),
                    target_span=_stripped_span(target_text),
                )
            )
            continue
        joined = " " + " ".join(theirs) + " "
        for start, end in sentences(source_text):
            sentence = source_text[start:end]
            these = words(sentence, lp.source_language, protected)
            if len(these) >= COPIED_SENTENCE_WORDS and f" {' '.join(these)} " in joined:
                at = target_text.find(sentence)
                mark = sentence if at != -1 else ""
                found.append(
                    lp.finding(
                        "untranslated",
                        "warning",
                        pair.path,
                        f"a sentence of the source ({lp.source_language}) is left "
                        f"untranslated in {lp.target_language}",
                        target_path=_target_path(pair),
                        source=shorten(sentence),
                        target=shorten(target_text),
                        source_mark=sentence,
                        target_mark=mark,
                        source_span=(start, end),
                        target_span=(at, at + len(sentence)) if mark else None,
                    )
                )
    return found


# --- length -------------------------------------------------------------------------------


def usual_ratio(lp: LanguagePair) -> float:
    """The median length ratio of the longer texts: how this pair of languages runs here."""
    ratios = [
        len(target) / len(source)
        for pair, source, target in lp.complete_pairs()
        if pair.kind != "name" and len(source) >= 60 and target
    ]
    return statistics.median(ratios) if len(ratios) >= 3 else 1.0


def check_length(lp: LanguagePair) -> list[Finding]:
    """A translation far shorter or longer than the usual ratio of this language pair."""
    found = []
    ratio = usual_ratio(lp)
    for pair, source_text, target_text in lp.complete_pairs():
        if pair.kind == "name" or not target_text.strip():
            continue
        expected = len(source_text) * ratio
        have = len(target_text)
        if abs(have - expected) < LENGTH_MIN_DIFFERENCE or expected == 0:
            continue
        factor = max(have / expected, expected / have)
        if factor < LENGTH_WARNING:
            continue
        severity: Severity = "error" if factor >= LENGTH_ERROR else "warning"
        how = "shorter" if have < expected else "longer"
        found.append(
            lp.finding(
                "length",
                severity,
                pair.path,
                f"{lp.target_language} has {have} characters, {factor:.1f} times {how} than "
                f"expected from the source's {len(source_text)} (usual ratio "
                f"{lp.source_language}→{lp.target_language} in this letter: {ratio:.2f})",
                target_path=_target_path(pair),
                source=shorten(source_text),
                target=shorten(target_text),
            )
        )
    return found


# --- catalog ------------------------------------------------------------------------------

_PLACEHOLDER = re.compile(r"%\((\w+)\)[-#0 +]*\d*(?:\.\d+)?[diouxXeEfFgGcrsa]|%[sd]|\{(\w*)\}")


def placeholders(text: str) -> list[str]:
    """``%(name)s``, ``%s`` and ``{name}`` placeholders, as written, sorted."""
    return sorted(m.group(0) for m in _PLACEHOLDER.finditer(text.replace("%%", "")))


def _forms(value: object) -> list[str]:
    if isinstance(value, str):
        return [value] if value else []
    if isinstance(value, (list, tuple)):
        return [str(v) for v in value if v]
    return []


def _message_id(message: Message) -> str:
    return _forms(message.id)[0] if _forms(message.id) else ""


def check_catalog(
    dhpc: Dhpc, locales_dir: Path = LOCALES_DIR, languages: Sequence[str] | None = None
) -> list[Finding]:
    """Untranslated, fuzzy, obsolete, missing or unreviewed catalog entries; placeholders."""
    found: list[Finding] = []
    template = _read_catalog(locales_dir / "messages.pot")
    for language in languages or dhpc.meta.languages:
        path = catalog_path(language, locales_dir)
        shown = display_path(path)
        overrides = set(dhpc.text(language).boilerplate) if language in dhpc.texts else set()
        if not path.is_file():
            found.append(
                Finding(
                    "catalog",
                    "error",
                    language,
                    "",
                    f"no catalog for {language}: create {shown} (make i18n)",
                    file=shown,
                    code="no-catalog",
                )
            )
            continue
        try:
            catalog = _read_catalog(path)
        except (OSError, PoFileError, ValueError) as exc:
            found.append(
                Finding(
                    "catalog",
                    "error",
                    language,
                    "",
                    f"cannot read: {exc}",
                    file=shown,
                    code="unreadable",
                )
            )
            continue
        assert catalog is not None
        found += _catalog_findings(catalog, language, shown, overrides)
        if template is not None:
            for message in template:
                msgid = _message_id(message)
                if msgid and msgid not in catalog and msgid not in overrides:
                    found.append(
                        Finding(
                            "catalog",
                            "error",
                            language,
                            f"msgid {msgid!r}",
                            "the templates use this text but the catalog lacks it: run "
                            "make i18n and translate it",
                            source=shorten(msgid),
                            file=shown,
                            code="missing",
                        )
                    )
        found += _override_findings(dhpc, language, template)
    return found


def _read_catalog(path: Path) -> Catalog | None:
    if not path.is_file():
        return None
    with path.open("rb") as handle:
        catalog: Catalog = read_po(handle, abort_invalid=True)
    return catalog


def _entry_finding(
    message: Message, language: str, shown: str, severity: Severity, code: str, text: str
) -> Finding:
    return Finding(
        "catalog",
        severity,
        language,
        f"msgid {_message_id(message)!r}",
        text,
        source=shorten(_message_id(message)),
        target=shorten(" | ".join(_forms(message.string))),
        file=shown,
        line=message.lineno,
        code=code,
    )


def _catalog_findings(
    catalog: Catalog, language: str, shown: str, overrides: Collection[str]
) -> list[Finding]:
    found = []
    printed: list[Message] = []  # translated, not fuzzy, not replaced by the letter's own words
    for message in catalog:
        msgid = _message_id(message)
        if not msgid:
            continue  # the header
        translations = _forms(message.string)

        def add(severity: Severity, code: str, text: str, message: Message = message) -> None:
            found.append(_entry_finding(message, language, shown, severity, code, text))

        if not translations:
            if language != SOURCE_LANGUAGE and msgid not in overrides:
                add("error", "untranslated", "not translated: the letter would print English here")
            continue
        if message.fuzzy:
            add("error", "fuzzy", "marked fuzzy: check the translation and remove the fuzzy flag")
        elif msgid not in overrides:
            printed.append(message)
        unprintable = next(filter(None, (control_character(form) for form in translations)), None)
        if unprintable is not None:
            add("error", "unprintable", unprintable)
        wanted = sorted(set().union(*(placeholders(i) for i in _forms(message.id))))
        for form in translations:
            have = sorted(set(placeholders(form)))
            if have != wanted:
                add(
                    "error",
                    "placeholders",
                    f"placeholders differ: the msgid has {', '.join(wanted) or 'none'}, "
                    f"the translation has {', '.join(have) or 'none'}",
                )
                break
    found += _unreviewed_findings(printed, language, shown)
    for obsolete_id, obsolete in sorted(catalog.obsolete.items(), key=lambda kv: str(kv[0])):
        text = _forms(obsolete_id)[0] if _forms(obsolete_id) else ""
        found.append(
            Finding(
                "catalog",
                "warning",
                language,
                f"msgid {text!r}",
                "obsolete entry (#~): the templates no longer use it; remove it",
                source=shorten(text),
                file=shown,
                line=obsolete.lineno,
                code="obsolete",
            )
        )
    return found


def _unreviewed_findings(printed: Sequence[Message], language: str, shown: str) -> list[Finding]:
    """Notes on the entries no native speaker has reviewed (flagged ``unreviewed``).

    A catalog nobody has reviewed is one note, not one per entry; once a reviewer has
    cleared some entries, each one left is named.
    """
    unreviewed = [m for m in printed if UNREVIEWED_FLAG in m.flags]
    if not unreviewed:
        return []
    if len(unreviewed) == len(printed):
        count = "the only entry is" if len(printed) == 1 else f"all {len(printed)} entries are"
        return [
            Finding(
                "catalog",
                "note",
                language,
                "",
                f"not yet reviewed by a native speaker: {count} flagged '{UNREVIEWED_FLAG}'",
                file=shown,
                code="unreviewed",
            )
        ]
    return [
        _entry_finding(
            message,
            language,
            shown,
            "note",
            "unreviewed",
            f"not yet reviewed by a native speaker (flagged '{UNREVIEWED_FLAG}')",
        )
        for message in unreviewed
    ]


def _override_findings(dhpc: Dhpc, language: str, template: Catalog | None) -> list[Finding]:
    """The letter's own ``boilerplate`` overrides keep placeholders and name real msgids."""
    if language not in dhpc.texts:
        return []
    lines = LineFinder(dhpc.directory / f"{language}.yaml")
    found = []
    for msgid, text in sorted(dhpc.text(language).boilerplate.items()):
        field_path = f"boilerplate[{msgid!r}]"
        if placeholders(msgid) != placeholders(text):
            found.append(
                Finding(
                    "catalog",
                    "error",
                    language,
                    field_path,
                    f"placeholders differ: the msgid has {', '.join(placeholders(msgid)) or 'none'}"
                    f", the override has {', '.join(placeholders(text)) or 'none'}",
                    source=shorten(msgid),
                    target=shorten(text),
                    file=lines.shown,
                    line=lines.line(field_path),
                    code="override-placeholders",
                )
            )
        if template is not None and msgid not in template:
            found.append(
                Finding(
                    "catalog",
                    "warning",
                    language,
                    field_path,
                    "the templates have no such text (see locales/messages.pot): the override "
                    "is never used",
                    source=shorten(msgid),
                    target=shorten(text),
                    file=lines.shown,
                    line=lines.line(field_path),
                    code="override-unused",
                )
            )
    return found


# --- regulator ----------------------------------------------------------------------------


def check_regulator(dhpc: Dhpc, registry_dir: Path = REGULATORS_DIR) -> list[Finding]:
    """The reporting block of the country exists in each language; none it requires is missing."""
    country = dhpc.meta.country
    shown = display_path(registry.file_for(country, registry_dir))
    found = []
    for language in dhpc.meta.languages:
        try:
            regulator = registry.lookup(
                country, language, registry_dir, authority=dhpc.meta.reporting_authority
            )
        except RegistryError as exc:
            found.append(
                Finding(
                    "regulator",
                    "error",
                    language,
                    f"languages.{language}",
                    str(exc),
                    file=shown,
                )
            )
            continue
        codes = registry.authority_codes(country, language, registry_dir)
        if codes and dhpc.meta.reporting_authority is None:
            facts = dhpc.country_file or dhpc.files[0]
            found.append(
                Finding(
                    "regulator",
                    "note",
                    language,
                    "reporting_authority",
                    f"reporting goes to the {codes[0]}, the first of the country's authorities "
                    f"({', '.join(codes)}): say which is competent for this medicine with "
                    f"reporting_authority: in {display_path(facts)}",
                    file=display_path(facts),
                    code="authority-default",
                )
            )
        if not regulator.contact_lines or not any(line.strip() for line in regulator.contact_lines):
            found.append(
                Finding(
                    "regulator",
                    "error",
                    language,
                    f"languages.{language}.contact_block",
                    f"the reporting block of {country} in {language} has no contact lines",
                    file=shown,
                )
            )
    try:
        required = registry.conventions(country, registry_dir).required_languages
    except RegistryError:
        required = ()
    missing = [language for language in required if language not in dhpc.meta.languages]
    if missing:
        # The place to fix is where the DHPC lists its languages: dhpc.yaml.
        lines = LineFinder(dhpc.files[0])
        where = f"countries.{country}" if dhpc.in_campaign else "languages"
        found += [
            Finding(
                "regulator",
                "error",
                language,
                where,
                f"{country} requires letters in {', '.join(required)} (its conventions in "
                f"{shown}); {language!r} is missing",
                file=lines.shown,
                line=lines.line(where),
            )
            for language in missing
        ]
    return found


# --- all of them --------------------------------------------------------------------------

PAIR_CHECKS: dict[str, Callable[[LanguagePair], list[Finding]]] = {
    "structure": check_structure,
    "numbers": check_numbers,
    "terms": check_terms,
    "contacts": check_contacts,
    "untranslated": check_untranslated,
    "length": check_length,
}
"""Checks that compare one translation with the source."""


def language_pairs(dhpc: Dhpc, termbase: Termbase | None = None) -> list[LanguagePair]:
    """Each translation of ``dhpc`` paired with its source language."""
    source_language = dhpc.meta.source_language
    source = dhpc.text(source_language)
    terms = termbase if termbase is not None else dhpc_terms(dhpc)
    result = []
    for language, text in dhpc.iter_texts():
        if language == source_language:
            continue
        result.append(
            LanguagePair(
                source_language,
                language,
                source,
                text,
                pair_fields(source, text, source_language, language),
                terms,
                LineFinder(dhpc.directory / f"{language}.yaml"),
            )
        )
    return result


def run_checks(
    dhpc: Dhpc,
    *,
    termbase: Termbase | None = None,
    locales_dir: Path = LOCALES_DIR,
    registry_dir: Path = REGULATORS_DIR,
    checks: Collection[str] = CHECK_IDS,
) -> list[Finding]:
    """Run ``checks`` on every language of ``dhpc``; findings in a stable order.

    ``termbase`` defaults to the names in ``dhpc.yaml`` and the language files; pass
    :func:`~dhpc_gen.review.termbase.termbase_for` to add ``terms.yaml``.
    """
    unknown = sorted(set(checks) - set(CHECK_IDS))
    if unknown:
        raise UsageError(f"unknown check {', '.join(unknown)}: known are {', '.join(CHECK_IDS)}")
    found: list[Finding] = []
    for lp in language_pairs(dhpc, termbase):
        for check_id, check in PAIR_CHECKS.items():
            if check_id in checks:
                found += check(lp)
    if "catalog" in checks:
        found += check_catalog(dhpc, locales_dir)
    if "regulator" in checks:
        found += check_regulator(dhpc, registry_dir)
    logger.info("%s: %d findings", dhpc.id, len(found))
    return sort_findings(found)


__all__ = [
    "PAIR_CHECKS",
    "LanguagePair",
    "check_catalog",
    "check_contacts",
    "check_length",
    "check_numbers",
    "check_regulator",
    "check_structure",
    "check_terms",
    "check_untranslated",
    "language_pairs",
    "run_checks",
]
