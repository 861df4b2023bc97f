"""The regulator registry: one YAML file per country under ``regulators/data/``.

Each file holds, per language the country uses, the authority's name, the sentence
that calls for reporting, and the contact block as QRD Appendix V prints it. Adding a
country is adding a file; no code changes.
"""

from __future__ import annotations

from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path
from typing import Annotated

from pydantic import BaseModel, ConfigDict, Field, StringConstraints, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.error import YAMLError

from dhpc_gen.errors import RegistryError, display_path
from dhpc_gen.resources import REGULATORS_DIR

_Text = Annotated[str, StringConstraints(min_length=1)]


class _LanguageEntry(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    authority: _Text
    short_name: _Text
    call_for_reporting: _Text
    contact_block: _Text


class _CountryFile(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)

    country: Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]
    name: _Text
    languages: dict[Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")], _LanguageEntry] = (
        Field(min_length=1)
    )
    note: str | None = None


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
        data = YAML(typ="safe").load(path.read_text(encoding="utf-8"))
        entry = _CountryFile.model_validate(data)
    except (OSError, YAMLError, ValidationError) as exc:
        raise RegistryError(f"{path}: invalid regulator file: {exc}") from exc
    if entry.country != path.stem:
        raise RegistryError(f"{path}: says country {entry.country!r}, file name says {path.stem!r}")
    return entry


@lru_cache(maxsize=4)
def _load(directory: Path = REGULATORS_DIR) -> dict[str, _CountryFile]:
    return {path.stem: _read(path) for path in sorted(directory.glob("*.yaml"))}


def countries(directory: Path = REGULATORS_DIR) -> list[str]:
    """ISO 3166-1 codes of every country in the registry."""
    return sorted(_load(directory))


def languages(country: str, directory: Path = REGULATORS_DIR) -> list[str]:
    """The languages a country's reporting block exists in."""
    entry = _load(directory).get(country.upper())
    if entry is None:
        raise RegistryError(
            missing_reason(country)
            or f"unknown country {country!r}: known are {', '.join(countries(directory))}"
        )
    return list(entry.languages)


def file_for(country: str, directory: Path = REGULATORS_DIR) -> Path:
    """The registry file of one country (for manifests)."""
    return directory / f"{country.upper()}.yaml"


def lookup(country: str, language: str, directory: Path = REGULATORS_DIR) -> Regulator:
    """The reporting contact of ``country`` as written in ``language``."""
    entry = _load(directory).get(country.upper())
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
    return Regulator(
        country=entry.country,
        country_name=entry.name,
        language=language,
        authority=text.authority.strip(),
        short_name=text.short_name.strip(),
        call_for_reporting=text.call_for_reporting.strip(),
        contact_lines=tuple(line.rstrip() for line in text.contact_block.strip("\n").splitlines()),
    )


def all_regulators(directory: Path = REGULATORS_DIR) -> list[Regulator]:
    """Every (country, language) entry, by country then language."""
    return [
        lookup(code, language, directory)
        for code, entry in _load(directory).items()
        for language in entry.languages
    ]
