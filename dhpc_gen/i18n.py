"""Boilerplate wording from gettext catalogs, and locale-aware dates.

Catalogs live in ``locales/<lang>/LC_MESSAGES/messages.po`` and are compiled in memory
when first used, so a fresh clone needs no ``pybabel compile`` step.
"""

from __future__ import annotations

import datetime as dt
import io
from collections.abc import Mapping
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

from babel import Locale, UnknownLocaleError
from babel.dates import format_date
from babel.messages.mofile import write_mo
from babel.messages.pofile import PoFileError, read_po
from babel.support import Translations

from dhpc_gen.errors import DhpcError
from dhpc_gen.resources import LOCALES_DIR

SOURCE_LANGUAGE = "en"
"""The language of the msgids; its catalog may leave msgstr empty."""

UNREVIEWED_FLAG = "unreviewed"
"""The flag (``#, unreviewed``) of a catalog entry no native speaker has reviewed yet.

gettext ignores flags it does not know, so the entry is printed as usual; ``pybabel
update`` keeps it; ``dhpc check`` lists it as a note. A reviewer removes it.
"""


LETTER_DOMAIN = "messages"
"""The catalogs of the letters' boilerplate: inputs of every build, hashed in its manifest."""
INTERFACE_DOMAIN = "serve"
"""The catalogs of ``dhpc serve``'s pages, beside the letters' and apart from them, so
that rewording a page changes no letter's manifest and no ``dhpc check``."""


def catalog_path(
    language: str, locales_dir: Path = LOCALES_DIR, domain: str = LETTER_DOMAIN
) -> Path:
    return locales_dir / language / "LC_MESSAGES" / f"{domain}.po"


def available_languages(locales_dir: Path = LOCALES_DIR) -> list[str]:
    """Languages that have a catalog and that Babel knows."""
    found = []
    for path in sorted(locales_dir.glob("*/LC_MESSAGES/messages.po")):
        language = path.parent.parent.name
        try:
            Locale.parse(language)
        except (UnknownLocaleError, ValueError):
            continue
        found.append(language)
    return found


@dataclass(frozen=True)
class CompiledCatalog:
    """A catalog ready for gettext, and the msgids it really translates."""

    translations: Translations
    translated: frozenset[str]


@lru_cache(maxsize=32)
def _compiled(path: Path, mtime_ns: int) -> CompiledCatalog:
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle, abort_invalid=True)
    except (OSError, PoFileError, ValueError) as exc:
        raise DhpcError(f"{path}: cannot read the catalog: {exc}") from exc
    buffer = io.BytesIO()
    write_mo(buffer, catalog, use_fuzzy=False)
    buffer.seek(0)
    translated = frozenset(
        str(m.id) for m in catalog if m.id and m.string and not m.fuzzy and isinstance(m.id, str)
    )
    return CompiledCatalog(Translations(buffer, domain="messages"), translated)


def translations(
    language: str, locales_dir: Path = LOCALES_DIR, domain: str = LETTER_DOMAIN
) -> CompiledCatalog:
    """The compiled catalog of ``language`` (of the letters, or of ``domain``)."""
    path = catalog_path(language, locales_dir, domain)
    if not path.is_file():
        raise DhpcError(f"no catalog for language {language!r}: {path} is missing")
    return _compiled(path, path.stat().st_mtime_ns)


@dataclass
class Boilerplate:
    """gettext for one letter: the letter's own overrides first, then the catalog.

    Every msgid that has no translation is remembered in ``missing`` so the build can
    refuse to print English words into a Finnish letter.
    """

    language: str
    catalog: CompiledCatalog
    overrides: Mapping[str, str] = field(default_factory=dict)
    missing: set[str] = field(default_factory=set)

    def gettext(self, message: str) -> str:
        if message in self.overrides:
            return self.overrides[message]
        if message not in self.catalog.translated and self.language != SOURCE_LANGUAGE:
            self.missing.add(message)
        translated: str = self.catalog.translations.gettext(message)
        return translated

    def ngettext(self, singular: str, plural: str, n: int) -> str:
        if singular not in self.catalog.translated and self.language != SOURCE_LANGUAGE:
            self.missing.add(singular)
        translated: str = self.catalog.translations.ngettext(singular, plural, n)
        return translated


_DATE_LOCALES = {"en": "en_IE", "pt": "pt_PT"}
"""Babel's ``en`` and ``pt`` are American and Brazilian; a European letter writes
"24 April 2019" and Portugal's Portuguese."""

_NATIONAL_DATE_LOCALES = {("de", "AT"): "de_AT"}
"""Countries that write a language's dates their own way: "1. Jänner 2020" in Austria."""


def date_locales(language: str) -> tuple[str, ...]:
    """Every locale :func:`long_date` may write ``language``'s dates in."""
    national = (loc for (lang, _), loc in _NATIONAL_DATE_LOCALES.items() if lang == language)
    return (_DATE_LOCALES.get(language, language), *national)


def long_date(value: dt.date, language: str, country: str | None = None) -> str:
    """The date as a letter in ``language`` writes it: "24 april 2019", "2019. április 24.".

    ``country`` (ISO 3166-1) picks a national form where one differs ("Jänner" in AT).
    """
    locale = _DATE_LOCALES.get(language, language)
    if country is not None:
        locale = _NATIONAL_DATE_LOCALES.get((language, country.upper()), locale)
    if language == "fr" and value.day == 1:
        # French letters write the first of the month as an ordinal: "1er janvier 2020".
        return str(format_date(value, format="d'er' MMMM y", locale=locale))
    return str(format_date(value, format="long", locale=locale))
