"""The regulator registry: one YAML file per country under ``regulators/data/``.

Each file holds, per language the country uses, the authority's name, the sentence
that calls for reporting, and the contact block as QRD Appendix V prints it; and the
country's conventions for a DHPC (``conventions:``): a heading of its own (Germany's
"Rote-Hand-Brief" with the red hand), a text the envelope must carry (Denmark), whether
the authority must approve the final letter before it is sent, the languages it
requires and the one a recipient gets by default. Adding a country is adding a file;
no code changes.

A country's file is read when the country is first asked for (a letter to Finland reads
``FI.yaml`` alone), and again when the file changes (a long-running ``dhpc serve``).
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path
from typing import Annotated, Literal

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dhpc_gen.content.plain_yaml import plain_load
from dhpc_gen.errors import RegistryError, display_path
from dhpc_gen.resources import ASSETS_DIR, REGULATORS_DIR

_Text = Annotated[str, StringConstraints(min_length=1)]
_Language = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]

MARKS_DIR = ASSETS_DIR / "marks"
"""Marks a national heading may print beside its words: ``assets/marks/<name>.svg``."""


_Code = Annotated[str, StringConstraints(pattern=r"^[A-Za-z][A-Za-z0-9-]*$")]


class _Authority(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    authority: _Text
    short_name: _Text
    call_for_reporting: _Text
    contact_block: _Text
    source: str | None = None
    """Where the block comes from, when it is not the registry's source (Appendix V)."""


class _LanguageEntry(_Authority):
    code: _Code | None = None
    """How a DHPC names this authority (``reporting_authority: PEI``) where there are others."""
    others: dict[_Code, _Authority] = Field(default_factory=dict)
    """Other authorities of the country, each competent for some medicines (Germany: the
    BfArM, beside the PEI): a DHPC chooses one with ``reporting_authority``."""


class _Heading(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: dict[_Language, _Text] = Field(min_length=1)
    mark: Annotated[str, StringConstraints(pattern=r"^[a-z0-9-]+$")] | None = None


class _Envelope(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    text: dict[_Language, _Text] = Field(min_length=1)
    colours: Literal["black-on-yellow", "black-on-white"] = "black-on-white"


class _Conventions(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    heading: _Heading | None = None
    envelope: _Envelope | None = None
    approval_before_sending: bool = False
    required_languages: tuple[_Language, ...] = ()
    default_language: _Language | None = None
    note: str | None = None


class _CountryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    name: _Text
    languages: dict[_Language, _LanguageEntry] = Field(min_length=1)
    note: str | None = None
    conventions: _Conventions = Field(default_factory=_Conventions)


@dataclass(frozen=True)
class Regulator:
    """The national competent authority as a letter in one language names it."""

    country: str
    country_name: str
    language: str
    authority: str
    short_name: str
    call_for_reporting: str
    contact_lines: tuple[str, ...]
    code: str | None = None
    """The name a DHPC chooses it by, where the country has several authorities."""


@dataclass(frozen=True)
class Conventions:
    """How a country wants a DHPC: heading, envelope, approval, languages."""

    country: str
    heading: Mapping[str, str] = field(default_factory=dict)
    """Language → the letter's heading (``Rote-Hand-Brief``); none in other languages."""
    mark: Path | None = None
    """The picture printed beside the heading (``assets/marks/red-hand.svg``)."""
    envelope: Mapping[str, str] = field(default_factory=dict)
    """Language → the text the envelope must carry."""
    envelope_colours: str = "black-on-white"
    approval_before_sending: bool = False
    """The authority approves the final letter; ``dhpc send`` wants the approval recorded."""
    required_languages: tuple[str, ...] = ()
    default_language: str | None = None
    note: str | None = None

    def heading_in(self, language: str) -> str | None:
        return self.heading.get(language)

    def envelope_in(self, language: str) -> str | None:
        return self.envelope.get(language)

    def describe(self, language: str | None = None) -> list[str]:
        """The conventions in words, one line each (those of ``language`` only, if given)."""
        lines = []
        for lang, text in self.heading.items():
            if language in (None, lang):
                mark = f" with the mark {self.mark.stem}" if self.mark is not None else ""
                lines.append(f"heading ({lang}): {text}{mark}")
        for lang, text in self.envelope.items():
            if language in (None, lang):
                lines.append(f"envelope ({lang}, {self.envelope_colours}): {text}")
        lines.append(
            "the authority approves the final letter before it is sent"
            if self.approval_before_sending
            else "the final letter need not be approved before it is sent (as far as this "
            "registry knows)"
        )
        if self.required_languages:
            lines.append(f"languages required: {', '.join(self.required_languages)}")
        if self.default_language:
            lines.append(f"default language of a recipient: {self.default_language}")
        if self.note:
            lines.append(f"note: {self.note}")
        return lines

    def as_json(self, language: str | None = None) -> dict[str, object]:
        return {
            "heading": self.heading_in(language) if language else dict(self.heading),
            "heading_mark": self.mark.stem if self.mark is not None else None,
            "envelope": self.envelope_in(language) if language else dict(self.envelope),
            "envelope_colours": self.envelope_colours,
            "approval_before_sending": self.approval_before_sending,
            "required_languages": list(self.required_languages),
            "default_language": self.default_language,
        }


NOT_YET = {
    "LI": (
        "Liechtenstein (LI) is in the EEA, but the registry has no reporting block for it: QRD "
        "Appendix V as used here has none, and no other source for it is known yet. Add "
        "dhpc_gen/regulators/data/LI.yaml once its block is known; until then LI is refused"
    ),
}
"""EEA countries the registry cannot serve yet, and why."""


def missing_reason(country: str) -> str | None:
    """Why an EEA country has no registry file, if it is one of those known to lack one."""
    return NOT_YET.get(country.upper())


def _read(path: Path) -> _CountryFile:
    try:
        text = path.read_text(encoding="utf-8")
        data = plain_load(text, dates_as_text=False)
        if data is None:  # not plain YAML: ruamel's own safe reader says what it holds
            data = YAML(typ="safe", pure=True).load(text)
        entry = _CountryFile.model_validate(data)
    except (OSError, YAMLError, ValidationError) as exc:
        raise RegistryError(f"{path}: invalid regulator file: {exc}") from exc
    if entry.country != path.stem:
        raise RegistryError(f"{path}: says country {entry.country!r}, file name says {path.stem!r}")
    rules = entry.conventions
    named: list[tuple[str, str]] = []
    if rules.heading is not None:
        named += [("conventions.heading.text", lang) for lang in rules.heading.text]
    if rules.envelope is not None:
        named += [("conventions.envelope.text", lang) for lang in rules.envelope.text]
    named += [("conventions.required_languages", lang) for lang in rules.required_languages]
    if rules.default_language is not None:
        named.append(("conventions.default_language", rules.default_language))
    for where, language in named:
        if language not in entry.languages:
            raise RegistryError(
                f"{path}: {where}: {language!r} is not one of its languages "
                f"({', '.join(entry.languages)})"
            )
    if rules.heading is not None and rules.heading.mark is not None:
        mark = MARKS_DIR / f"{rules.heading.mark}.svg"
        if not mark.is_file():
            raise RegistryError(
                f"{path}: conventions.heading.mark: {display_path(mark)} is missing"
            )
    return entry


@lru_cache(maxsize=256)
def _read_version(path: Path, mtime_ns: int, size: int) -> _CountryFile:
    """One version of a country's file (a changed file is another version)."""
    return _read(path)


def _read_file(path: Path) -> _CountryFile | None:
    try:
        stat = path.stat()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise RegistryError(f"{path}: invalid regulator file: {exc}") from exc
    return _read_version(path, stat.st_mtime_ns, stat.st_size)


_CODE = re.compile(r"[A-Z]{2}")


def _entry(country: str, directory: Path) -> _CountryFile | None:
    """The file of ``country``, read (or None: the registry has no such country)."""
    code = country.upper()
    if not _CODE.fullmatch(code):
        return None
    return _read_file(directory / f"{code}.yaml")


def countries(directory: Path = REGULATORS_DIR) -> list[str]:
    """ISO 3166-1 codes of every country in the registry (by file name: none is read)."""
    return sorted(path.stem for path in directory.glob("*.yaml"))


def languages(country: str, directory: Path = REGULATORS_DIR) -> list[str]:
    """The languages a country's reporting block exists in."""
    entry = _entry(country, directory)
    if entry is None:
        raise RegistryError(
            missing_reason(country)
            or f"unknown country {country!r}: known are {', '.join(countries(directory))}"
        )
    return list(entry.languages)


def conventions(country: str, directory: Path = REGULATORS_DIR) -> Conventions:
    """The conventions of ``country`` (none set: no heading, no envelope text, …)."""
    entry = _entry(country, directory)
    if entry is None:
        raise RegistryError(
            missing_reason(country)
            or f"unknown country {country!r}: known are {', '.join(countries(directory))}"
        )
    rules = entry.conventions
    return Conventions(
        country=entry.country,
        heading=dict(rules.heading.text) if rules.heading else {},
        mark=MARKS_DIR / f"{rules.heading.mark}.svg"
        if rules.heading is not None and rules.heading.mark is not None
        else None,
        envelope=dict(rules.envelope.text) if rules.envelope else {},
        envelope_colours=rules.envelope.colours if rules.envelope else "black-on-white",
        approval_before_sending=rules.approval_before_sending,
        required_languages=rules.required_languages,
        default_language=rules.default_language,
        note=rules.note,
    )


def file_for(country: str, directory: Path = REGULATORS_DIR) -> Path:
    """The registry file of one country (for manifests)."""
    return directory / f"{country.upper()}.yaml"


def authority_codes(country: str, language: str, directory: Path = REGULATORS_DIR) -> list[str]:
    """The authorities a DHPC may choose from (``reporting_authority``), the default first;
    none where the country has one authority."""
    entry = _entry(country, directory)
    text = entry.languages.get(language) if entry is not None else None
    if text is None or not text.others:
        return []
    return [text.code or text.short_name, *text.others]


def lookup(
    country: str,
    language: str,
    directory: Path = REGULATORS_DIR,
    *,
    authority: str | None = None,
) -> Regulator:
    """The reporting contact of ``country`` as written in ``language``.

    ``authority``: which of the country's authorities (``PEI``, ``BfArM``), where it has
    several; by default the first of its file.
    """
    entry = _entry(country, directory)
    if entry is None:
        raise RegistryError(
            f"unknown country {country!r}: known are {', '.join(countries(directory))}"
        )
    text = entry.languages.get(language)
    if text is None:
        raise RegistryError(
            f"the regulator registry has no {language!r} reporting block for {entry.country} "
            f"({entry.name}); it has: {', '.join(entry.languages)}. "
            f"Add one to {display_path(file_for(entry.country, directory))}"
        )
    chosen: _Authority = text
    code = text.code
    if authority is not None:
        by_code = {key.casefold(): key for key in text.others}
        if authority.casefold() == (text.code or text.short_name).casefold():
            pass
        elif authority.casefold() in by_code:
            code = by_code[authority.casefold()]
            chosen = text.others[code]
        else:
            known = authority_codes(entry.country, language, directory)
            raise RegistryError(
                f"reporting_authority {authority!r}: {entry.country} has "
                + (
                    f"the authorities {', '.join(known)} in {language!r}"
                    if known
                    else f"one reporting authority in {language!r}; leave reporting_authority out"
                )
            )
    return Regulator(
        country=entry.country,
        country_name=entry.name,
        language=language,
        authority=chosen.authority.strip(),
        short_name=chosen.short_name.strip(),
        call_for_reporting=chosen.call_for_reporting.strip(),
        contact_lines=tuple(
            line.rstrip() for line in chosen.contact_block.strip("\n").splitlines()
        ),
        code=code,
    )


def alternatives(country: str, language: str, directory: Path = REGULATORS_DIR) -> list[Regulator]:
    """The other authorities a DHPC may choose in ``country`` and ``language``."""
    return [
        lookup(country, language, directory, authority=code)
        for code in authority_codes(country, language, directory)[1:]
    ]


def all_regulators(directory: Path = REGULATORS_DIR) -> list[Regulator]:
    """Every (country, language) entry, by country then language."""
    found = []
    for path in sorted(directory.glob("*.yaml")):
        entry = _read_file(path)
        if entry is not None:
            found += [lookup(entry.country, language, directory) for language in entry.languages]
    return found
