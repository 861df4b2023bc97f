"""The termbase: words a translation must use, and words it must leave as they are.

A termbase is a YAML file (``terms.yaml`` in the DHPC folder, or a global one)::

    must_use:                # when the source uses the term, the translation uses its own
      - sv: alemtuzumab
        fi: alemtutsumabi
        note: active substance (INN)
      - {sv: EKG, fi: EKG, en: ECG}
      - sv: [multipel skleros, MS]   # several accepted forms; the first is preferred
        fi: multippeliskleroosi
    must_not_translate: [Lemtrada, RRMS, DMT, HLH, EMA]

Terms match at the start of a word, so inflected forms ("Lemtradan", "HLH:ta") count;
terms in capitals (acronyms) match case-sensitively, others in any case.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping
from dataclasses import dataclass, field
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, StringConstraints, ValidationError

from dhpc_gen.content.loader import format_loc, line_of, read_yaml
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import ContentError, Problem, display_path

TERMS_FILE = "terms.yaml"

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")
_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=200)]


class _TermbaseFile(BaseModel):
    model_config = ConfigDict(extra="forbid")

    must_use: list[dict[str, _Text | list[_Text]]] = []
    must_not_translate: list[_Text] = []


@dataclass(frozen=True)
class Term:
    """One concept and how each language must write it."""

    forms: Mapping[str, tuple[str, ...]]
    """Language → accepted forms, the preferred one first."""
    note: str = ""
    origin: str = ""
    """Where the term comes from: a termbase file, or ``dhpc.yaml``."""

    def preferred(self, language: str) -> str:
        return self.forms[language][0]


@dataclass(frozen=True)
class Termbase:
    must_use: tuple[Term, ...] = ()
    must_not_translate: tuple[str, ...] = ()
    files: tuple[Path, ...] = field(default=())

    def merged(self, other: Termbase) -> Termbase:
        return Termbase(
            must_use=self.must_use + other.must_use,
            must_not_translate=tuple(
                dict.fromkeys(self.must_not_translate + other.must_not_translate)
            ),
            files=self.files + other.files,
        )

    def protected(self, *languages: str) -> list[str]:
        """Every term a check of wording should ignore in these languages."""
        found = list(self.must_not_translate)
        for term in self.must_use:
            for language in languages:
                found += term.forms.get(language, ())
        return sorted(set(found), key=lambda t: (-len(t), t))


def load_termbase(path: Path, *, follow_links: bool = False) -> Termbase:
    """Read one termbase file; raise :class:`ContentError` naming every problem.

    ``follow_links``: the user named this file (``--terms``), so a link is theirs to make.
    """
    shown = display_path(path)
    data, problems = read_yaml(path, shown, follow_links=follow_links)
    if data is None:
        raise ContentError(problems)
    try:
        parsed = _TermbaseFile.model_validate(data)
    except ValidationError as exc:
        raise ContentError(
            [
                Problem(
                    shown,
                    format_loc(tuple(err["loc"])),
                    "unknown field: use must_use and must_not_translate"
                    if err["type"] == "extra_forbidden"
                    else str(err["msg"]),
                    line_of(data, tuple(err["loc"])),
                )
                for err in exc.errors(include_url=False)
            ]
        ) from None
    terms = []
    for index, entry in enumerate(parsed.must_use):
        forms: dict[str, tuple[str, ...]] = {}
        note = ""
        before = len(problems)
        for key, value in entry.items():
            if key == "note":
                note = value if isinstance(value, str) else "; ".join(value)
                continue
            if not _LANGUAGE.match(key):
                problems.append(
                    Problem(
                        shown,
                        f"must_use[{index}].{key}",
                        "expected a language code (sv, fi, …) or note",
                        line_of(data, ("must_use", index, key)),
                    )
                )
                continue
            values = (value,) if isinstance(value, str) else tuple(value)
            if not values:
                problems.append(
                    Problem(
                        shown,
                        f"must_use[{index}].{key}",
                        "give at least one form",
                        line_of(data, ("must_use", index, key)),
                    )
                )
                continue
            forms[key] = values
        if len(forms) < 2 and len(problems) == before:
            problems.append(
                Problem(
                    shown,
                    f"must_use[{index}]",
                    "a term needs its form in at least two languages",
                    line_of(data, ("must_use", index)),
                )
            )
        terms.append(Term(forms, note, shown))
    if problems:
        raise ContentError(problems)
    return Termbase(tuple(terms), tuple(parsed.must_not_translate), (path,))


def load_termbases(paths: Iterable[Path], *, follow_links: bool = False) -> Termbase:
    """Several termbase files merged, in the order given."""
    combined = Termbase()
    for path in paths:
        combined = combined.merged(load_termbase(path, follow_links=follow_links))
    return combined


def dhpc_terms(dhpc: Dhpc) -> Termbase:
    """What ``dhpc.yaml`` and the language files already say: product and substance names.

    Product names are never translated; each product's active substance is written
    the way each language file's ``active_substances`` writes it.
    """
    substances = []
    for index, product in enumerate(dhpc.meta.products):
        forms = {
            language: (text.active_substances[index],)
            for language, text in dhpc.iter_texts()
            if index < len(text.active_substances)
        }
        substances.append(Term(forms, f"active substance of {product.name}", "dhpc"))
    return Termbase(
        must_use=tuple(substances),
        must_not_translate=tuple(p.name for p in dhpc.meta.products),
    )


def termbase_for(dhpc: Dhpc, extra: Iterable[Path] = ()) -> Termbase:
    """The DHPC's own names, the given termbases, and ``terms.yaml`` of its folder if any."""
    paths = list(extra)
    termbase = dhpc_terms(dhpc).merged(load_termbases(paths, follow_links=True))
    own = dhpc.directory / TERMS_FILE
    if (own.is_file() or own.is_symlink()) and all(own.resolve() != p.resolve() for p in paths):
        termbase = termbase.merged(load_termbase(own))
    return termbase
