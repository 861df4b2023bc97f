"""The pages' own words: the ``serve`` catalogs, in the language the browser asks for."""

from __future__ import annotations

import re
from collections.abc import Sequence
from functools import lru_cache
from pathlib import Path

import jinja2
from babel import Locale, UnknownLocaleError

from dhpc_gen.i18n import INTERFACE_DOMAIN, SOURCE_LANGUAGE, catalog_path, translations
from dhpc_gen.resources import LOCALES_DIR, TEMPLATES_DIR

PAGES_DIR = TEMPLATES_DIR / "serve"
STATIC_DIR = PAGES_DIR / "static"

_ALIASES = {"no": "nb", "nn": "nb"}
"""Norwegian asked for as a whole, or as Nynorsk, gets the Bokmål catalog."""

_RANGE = re.compile(
    r"^\s*([A-Za-z]{1,8}(?:-[A-Za-z0-9]{1,8})*|\*)\s*(?:;\s*q\s*=\s*([0-9.]+))?\s*$"
)


def interface_languages(locales_dir: Path = LOCALES_DIR) -> tuple[str, ...]:
    """Languages whose ``serve`` catalog exists."""
    return tuple(
        sorted(
            path.parent.parent.name
            for path in locales_dir.glob(f"*/LC_MESSAGES/{INTERFACE_DOMAIN}.po")
        )
    )


def negotiate(accept_language: str | None, available: Sequence[str]) -> str:
    """The first language of ``Accept-Language`` the pages speak; English otherwise."""
    wanted: list[tuple[float, int, str]] = []
    for index, part in enumerate((accept_language or "").split(",")[:32]):
        match = _RANGE.match(part)
        if not match:
            continue
        try:
            quality = float(match.group(2)) if match.group(2) is not None else 1.0
        except ValueError:
            continue
        if quality > 0:
            wanted.append((-quality, index, match.group(1).lower()))
    for _quality, _index, tag in sorted(wanted):
        primary = tag.split("-")[0]
        primary = _ALIASES.get(primary, primary)
        if primary in available:
            return primary
    return SOURCE_LANGUAGE if SOURCE_LANGUAGE in available else (available or ["en"])[0]


def language_name(code: str, in_language: str) -> str:
    """``suomi``, ``Finnish``, ``finska``: a language's name in the pages' language."""
    try:
        name = Locale.parse(code).get_display_name(in_language)
    except (UnknownLocaleError, ValueError):
        return code
    return name or code


def country_name(code: str, in_language: str) -> str:
    """``Belgium``, ``Belgien``, ``Belgique``: a country's name in the pages' language."""
    try:
        name = Locale.parse(in_language).territories.get(code.upper())
    except (UnknownLocaleError, ValueError):
        return code
    return str(name) if name else code


class Pages:
    """The Jinja2 environment of the pages, one per language, made once and kept."""

    def __init__(self, pages_dir: Path = PAGES_DIR, locales_dir: Path = LOCALES_DIR) -> None:
        self.pages_dir = pages_dir
        self.locales_dir = locales_dir
        self.languages = interface_languages(locales_dir)

    @lru_cache(maxsize=64)  # noqa: B019 (one Pages object lives as long as the server)
    def environment(self, language: str, mtime_ns: int) -> jinja2.Environment:
        env = jinja2.Environment(
            loader=jinja2.FileSystemLoader(self.pages_dir),
            autoescape=True,
            undefined=jinja2.StrictUndefined,
            extensions=["jinja2.ext.i18n"],
            trim_blocks=True,
            lstrip_blocks=True,
        )
        catalog = translations(language, self.locales_dir, INTERFACE_DOMAIN).translations
        env.install_gettext_translations(catalog, newstyle=True)  # type: ignore[attr-defined]
        return env

    def render(self, language: str, template: str, /, **context: object) -> str:
        path = catalog_path(language, self.locales_dir, INTERFACE_DOMAIN)
        env = self.environment(language, path.stat().st_mtime_ns)
        return env.get_template(template).render(ui_language=language, **context)
