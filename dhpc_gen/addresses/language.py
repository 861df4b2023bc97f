"""The language each recipient gets the letter in.

First the source's own language column (after its value map); otherwise a small rule
per country keyed by country code (Finland: Åland's postal codes 22xxx are Swedish);
otherwise the default language of the DHPC's country. Only languages the DHPC has are
ever assigned.
"""

from __future__ import annotations

from collections.abc import Callable, Sequence
from dataclasses import dataclass, field

from dhpc_gen.addresses.normalise import fold
from dhpc_gen.errors import DhpcError

LanguageRule = Callable[[str], str | None]
"""Printed postal code → the language of that area, or None when the rule cannot tell."""


def _finland(postal_code: str) -> str | None:
    # Åland (Ahvenanmaa) is Swedish-speaking only; its postal codes are 22000–22999.
    return "sv" if postal_code.startswith("22") else None


def _belgium(postal_code: str) -> str | None:
    if not postal_code.isdigit():
        return None
    code = int(postal_code)
    if 1000 <= code <= 1299:
        return None  # Brussels is bilingual: the rule cannot tell
    if 4700 <= code <= 4799:
        return "de"  # the German-speaking Community (Eupen, Sankt Vith, …)
    if 1300 <= code <= 1499 or 4000 <= code <= 7999:
        return "fr"
    return "nl"


COUNTRY_RULES: dict[str, LanguageRule] = {
    "FI": _finland,
    "AX": lambda _postal_code: "sv",
    "BE": _belgium,
}

_LANGUAGE_NAMES = {
    "fi": ("finnish", "suomi", "finska", "finsk", "suomeksi"),
    "sv": ("swedish", "svenska", "ruotsi", "ruotsiksi", "svensk", "pa svenska"),
    "en": ("english", "englanti", "engelska"),
    "nl": ("dutch", "nederlands", "vlaams"),
    "fr": ("french", "francais"),
    "de": ("german", "deutsch", "saksa", "tyska"),
    # Norwegian letters are written in Bokmål, the catalog's and the registry's "nb".
    "nb": ("norwegian", "norsk", "bokmal", "no", "nn"),
    "da": ("danish", "dansk"),
    "et": ("estonian", "eesti", "viro"),
}
_BY_NAME = {name: code for code, names in _LANGUAGE_NAMES.items() for name in names}


def language_code(value: str) -> str:
    """A language cell as an ISO 639-1 code when recognised ("Svenska" → "sv")."""
    folded = fold(value)
    return _BY_NAME.get(folded, folded)


@dataclass
class LanguagePolicy:
    """The languages the DHPC has, the one to fall back on, and other countries' languages."""

    languages: tuple[str, ...]
    country: str
    default: str
    languages_of: Callable[[str], Sequence[str]]
    """Country code → its official languages, first the main one (the regulator registry)."""
    _abroad: dict[str, str | None] = field(default_factory=dict)

    @classmethod
    def for_dhpc(
        cls,
        country: str,
        languages: Sequence[str],
        languages_of: Callable[[str], Sequence[str]],
        default: str | None = None,
    ) -> LanguagePolicy:
        """Default: ``default`` (the DHPC's or the country's convention), else the first
        language of the DHPC's country that the DHPC has."""
        if default is None or default not in languages:
            default = next(
                (lang for lang in languages_of(country) if lang in languages), languages[0]
            )
        return cls(tuple(languages), country, default, languages_of)

    def _of_country(self, country: str) -> str | None:
        if country not in self._abroad:
            try:
                spoken = self.languages_of(country)
            except DhpcError:
                spoken = ()
            self._abroad[country] = next((lang for lang in spoken if lang in self.languages), None)
        return self._abroad[country]

    def assign(self, given: str, country: str, postal_code: str) -> tuple[str, str]:
        """(language, how it was chosen: ``source``, ``rule``, ``country`` or ``default``)."""
        if given:
            code = language_code(given)
            if code in self.languages:
                return code, "source"
        rule = COUNTRY_RULES.get(country)
        if rule is not None and postal_code:
            by_rule = rule(postal_code)
            if by_rule is not None and by_rule in self.languages:
                return by_rule, "rule"
        if country != self.country:
            spoken = self._of_country(country)
            if spoken is not None:
                return spoken, "country"
        return self.default, "default"
