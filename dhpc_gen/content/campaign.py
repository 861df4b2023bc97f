"""A DHPC for several countries: one core, one text per language, national facts per country.

A campaign folder::

    content/<id>/
      dhpc.yaml           the core: id, source language, status, products, and
                          countries: {BE: [nl, fr, de], FI: [fi, sv], IE: [en], …}
      en.yaml             the core text, in the source language
      de.yaml, fi.yaml …  one text per language, shared by every country that uses it
      countries/BE.yaml   national facts: date, MAHs with contact points, signatories,
                          authorities, address sources, placeholders, deviations

:func:`load_campaign` reads and validates all of it, reporting every problem at once;
:meth:`Campaign.national` gives the national version of one country as a :class:`Dhpc`,
which is what rendering, checks, merge and send take. A folder of the single-country
format (``dhpc.yaml`` with ``country:``) is a campaign of one, read by
:func:`~dhpc_gen.content.loader.load_dhpc` as before.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    BeforeValidator,
    ConfigDict,
    Field,
    PlainValidator,
    StringConstraints,
)

from dhpc_gen.content.fields import text_fields
from dhpc_gen.content.loader import (
    META_FILE,
    Loc,
    format_loc,
    line_of,
    load_dhpc,
    parse_loc,
    read_yaml,
    texts_alone,
    validate_model,
)
from dhpc_gen.content.model import (
    Audience,
    AuthorityApproval,
    CountryCode,
    Deviation,
    Dhpc,
    DhpcId,
    DhpcMeta,
    Email,
    LanguageCode,
    LanguageText,
    Letterhead,
    LetterheadSpec,
    MarketingAuthorisationHolder,
    Phone,
    Product,
    Signatory,
    Text,
)
from dhpc_gen.errors import ContentError, Problem, UsageError, display_path

COUNTRIES_DIR = "countries"

PLACEHOLDER = re.compile(r"\{([a-z][a-z0-9_]*)\}")
"""``{authority}`` in a shared text: each country's file gives the wording."""

NATIONAL_FIELDS = {
    "contact_points": "mahs[].department",
    "signatory_titles": "signatories[].title",
    "address_sources": "address_sources",
}
"""Fields of a single-country language file that a campaign keeps in the country files."""

OPTIONAL_TEXTS = ("title", "salutation", "background_heading")
"""Fields a deviation may set although the shared text leaves them to the default."""

_LANGUAGE = re.compile(r"^[a-z]{2,3}$")


class _Facts(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


def _worded(value: object) -> str | dict[str, str]:
    """A text, or one text per language: ``Medical Director`` or ``{fi: …, sv: …}``."""
    if isinstance(value, str):
        if not value.strip():
            raise ValueError("must not be empty")
        return value.strip()
    if isinstance(value, dict) and value:
        wording = {}
        for key, text in value.items():
            if not isinstance(key, str) or not _LANGUAGE.match(key):
                raise ValueError(f"{key!r} is not a language code such as 'fi'")
            if not isinstance(text, str) or not text.strip():
                raise ValueError(f"the {key!r} text must be a non-empty text")
            wording[key] = text.strip()
        return wording
    raise ValueError("give a text, or one text per language such as {fi: …, sv: …}")


Worded = Annotated[str | dict[str, str], PlainValidator(_worded)]
"""The same in every language of the country, or written per language."""


def worded_in(value: str | Mapping[str, str], language: str) -> str:
    """The wording of ``value`` in ``language`` (validated to be there)."""
    return value if isinstance(value, str) else value[language]


def _named_source(value: object) -> object:
    return {"name": value} if isinstance(value, str) else value


class CampaignCore(_Facts):
    """``dhpc.yaml`` of a campaign: what every national version shares."""

    id: DhpcId
    source_language: LanguageCode
    status: Literal["draft", "final"]
    products: tuple[Product, ...] = Field(min_length=1)
    audience: Audience | None = None
    pdf_variant: Literal["pdf/a-3u", "pdf/a-3a", "pdf/a-2u", "pdf/ua-1"] = "pdf/a-3u"
    letterhead: LetterheadSpec | None = None
    """Every country's letterhead, unless its own file names one."""
    countries: dict[CountryCode, Annotated[tuple[LanguageCode, ...], Field(min_length=1)]] = Field(
        min_length=1
    )
    """Country → the languages sent there, the first being the one of most recipients."""


class NationalMah(_Facts):
    """The affiliate that sends the letter in one country, with its contact point."""

    name: Text
    email: Email
    phone: Phone
    department: Worded | None = None
    """Printed after the name in the contact line: "Medical Information"."""


class NationalSignatory(_Facts):
    name: Text
    title: Worded
    company: Text


class NationalSource(_Facts):
    """An address source, named as ``sources.yaml`` names it, printed per language if needed."""

    name: Text
    printed: dict[LanguageCode, Text] = Field(default_factory=dict)


class CountryFacts(_Facts):
    """``countries/<CC>.yaml``: the national facts of one country."""

    date: dt.date
    mahs: tuple[NationalMah, ...] = Field(min_length=1)
    authorities: tuple[Text, ...] = Field(min_length=1)
    signatories: tuple[NationalSignatory, ...] = Field(min_length=1)
    address_sources: tuple[Annotated[NationalSource, BeforeValidator(_named_source)], ...] = ()
    audience: Audience | None = None
    """Who the letter is for in this country (default: the core's audience)."""
    default_language: LanguageCode | None = None
    """The language a recipient gets when the address source does not tell."""
    placeholders: dict[Annotated[str, StringConstraints(pattern=r"^[a-z][a-z0-9_]*$")], Worded] = (
        Field(default_factory=dict)
    )
    """The wording of each ``{name}`` the shared texts use, in this country."""
    authority_approval: AuthorityApproval | None = None
    reporting_authority: Text | None = None
    """Which authority the call for reporting names, where the country has several."""
    letterhead: LetterheadSpec | None = None
    """The affiliate's letterhead (default: the core's); a logo is a file of the folder."""
    deviations: tuple[Deviation, ...] = ()


@dataclass(frozen=True)
class Campaign:
    """Every national version of one DHPC, and the shared texts they are made from."""

    directory: Path
    id: str
    source_language: str
    countries: Mapping[str, tuple[str, ...]]
    """Country → its languages, in the order of ``dhpc.yaml``."""
    nationals: Mapping[str, Dhpc]
    shared: Dhpc
    """Every language's text as written (no deviation, placeholders unfilled), for the
    checks that compare languages. Its national facts are the first country's; its
    files are every file of the campaign (its content hash names the whole campaign)."""
    single: bool
    """A folder of the single-country format: outputs stay at ``<out>/<id>/``."""

    @classmethod
    def of_one(cls, dhpc: Dhpc) -> Campaign:
        return cls(
            directory=dhpc.directory,
            id=dhpc.id,
            source_language=dhpc.meta.source_language,
            countries={dhpc.meta.country: dhpc.meta.languages},
            nationals={dhpc.meta.country: dhpc},
            shared=dhpc,
            single=True,
        )

    @property
    def languages(self) -> tuple[str, ...]:
        """Every language of the campaign, the source language first."""
        return self.shared.meta.languages

    def national(self, country: str) -> Dhpc:
        """The national version of ``country``."""
        code = country.upper()
        if code not in self.nationals:
            raise UsageError(
                f"--country {country}: {self.id} is sent in {', '.join(self.countries)}"
            )
        return self.nationals[code]

    def select(self, countries: Sequence[str] = ()) -> list[Dhpc]:
        """The national versions named (all when none is), in ``dhpc.yaml``'s order."""
        if not countries:
            return list(self.nationals.values())
        chosen = [self.national(country).meta.country for country in countries]
        return [self.nationals[code] for code in dict.fromkeys(chosen)]

    def only(self, country: str | None, command: str) -> Dhpc:
        """The one national version a per-country command works on."""
        if country is not None:
            return self.national(country)
        if len(self.nationals) == 1:
            return next(iter(self.nationals.values()))
        raise UsageError(
            f"{self.id} is sent in {', '.join(self.countries)}: {command} works on one "
            "country at a time; choose it with --country"
        )

    def countries_using(self, language: str) -> list[str]:
        return [code for code, languages in self.countries.items() if language in languages]


def load_campaign(
    directory: Path,
    *,
    known_languages: Iterable[str] | None = None,
    known_countries: Iterable[str] | None = None,
    letterheads_dir: Path | None = None,
) -> Campaign:
    """Read and validate a content folder of either format; every problem at once.

    ``letterheads_dir``: where shared letterheads are (default: the project's).
    """
    from dhpc_gen.i18n import available_languages
    from dhpc_gen.regulators import registry
    from dhpc_gen.resources import LETTERHEADS_DIR

    languages_ok = set(available_languages() if known_languages is None else known_languages)
    countries_ok = set(registry.countries() if known_countries is None else known_countries)
    meta_path = directory / META_FILE
    if not directory.is_dir():
        raise ContentError([Problem(display_path(directory), "", "no such content folder")])
    if not meta_path.is_file():
        raise ContentError(
            [Problem(display_path(meta_path), "", "missing: every DHPC folder needs one")]
        )
    data, problems = read_yaml(meta_path, display_path(meta_path))
    if data is None:
        raise ContentError(problems)
    if "countries" not in data:
        return Campaign.of_one(
            load_dhpc(
                directory,
                known_languages=languages_ok,
                known_countries=countries_ok,
                letterheads_dir=letterheads_dir,
            )
        )
    return _Loader(
        directory, data, languages_ok, countries_ok, letterheads_dir or LETTERHEADS_DIR
    ).load()


class _Loader:
    """One reading of a campaign folder, collecting problems as it goes."""

    def __init__(
        self,
        directory: Path,
        data: Any,
        languages_ok: set[str],
        countries_ok: set[str],
        letterheads_dir: Path,
    ) -> None:
        self.directory = directory
        self.letterheads_dir = letterheads_dir
        self._letterheads: dict[tuple[str, int], tuple[Letterhead | None, list[Problem]]] = {}
        self.meta_path = directory / META_FILE
        self.shown_meta = display_path(self.meta_path)
        self.data = data
        self.languages_ok = languages_ok
        self.countries_ok = countries_ok
        self.problems: list[Problem] = []

    def problem(self, shown: str, field: str, message: str, line: int | None) -> None:
        self.problems.append(Problem(shown, field, message, line))

    def at_meta(self, *loc: int | str) -> int | None:
        return line_of(self.data, loc)

    def load(self) -> Campaign:
        core = self._core()
        texts = self._texts(core)
        facts, fact_data = self._country_files(core)
        for country, languages in core.countries.items():
            if country in facts:
                self._country_problems(
                    country, languages, facts[country], fact_data[country], texts
                )
        if self.problems:
            raise ContentError(self.problems)
        nationals = {
            country: self._national(
                core, country, languages, facts[country], fact_data[country], texts
            )
            for country, languages in core.countries.items()
        }
        if self.problems:
            raise ContentError(self.problems)
        first = next(iter(nationals.values()))
        all_languages = tuple(texts)
        shared = Dhpc(
            directory=self.directory,
            meta=first.meta.model_copy(update={"languages": all_languages}),
            texts=texts,
            files=(
                self.meta_path,
                *(self.directory / f"{lang}.yaml" for lang in all_languages),
                *(d.country_file for d in nationals.values() if d.country_file is not None),
            ),
        )
        return Campaign(
            directory=self.directory,
            id=core.id,
            source_language=core.source_language,
            countries=dict(core.countries),
            nationals=nationals,
            shared=shared,
            single=False,
        )

    # --- dhpc.yaml -----------------------------------------------------------------------

    def _core(self) -> CampaignCore:
        from dhpc_gen.regulators import registry

        data = self.data
        if "country" in data:
            self.problem(
                self.shown_meta,
                "country",
                "a campaign lists its countries under countries:; country: is for a folder "
                "of one country",
                self.at_meta("country"),
            )
            data = {key: value for key, value in data.items() if key != "country"}
        core, found = validate_model(CampaignCore, data, self.shown_meta)
        self.problems += found
        if core is None:
            # Each language file is still checked by itself, so one run lists every problem.
            listed: list[object] = [data.get("source_language")]
            countries = data.get("countries")
            for languages in countries.values() if isinstance(countries, Mapping) else ():
                listed += languages if isinstance(languages, list) else []
            self.problems += texts_alone(self.directory, listed, self.languages_ok)
            raise ContentError(self.problems)
        for country, languages in core.countries.items():
            if country not in self.countries_ok:
                reason = registry.missing_reason(country) or (
                    f"unknown country {country!r}: no reporting block in the regulator registry"
                )
                self.problem(
                    self.shown_meta,
                    f"countries.{country}",
                    reason,
                    self.at_meta("countries", country),
                )
                continue
            if len(set(languages)) != len(languages):
                self.problem(
                    self.shown_meta,
                    f"countries.{country}",
                    "a language is listed twice",
                    self.at_meta("countries", country),
                )
            reporting = registry.languages(country) if country in registry.countries() else []
            available = ", ".join(sorted(self.languages_ok))
            for index, language in enumerate(languages):
                where = f"countries.{country}[{index}]"
                # The line only for a message: finding it reads the file again.
                if language not in self.languages_ok:
                    self.problem(
                        self.shown_meta,
                        where,
                        f"unknown language {language!r}: no catalog locales/{language}/"
                        f"LC_MESSAGES/messages.po (available: {available})",
                        self.at_meta("countries", country, index),
                    )
                elif reporting and language not in reporting:
                    self.problem(
                        self.shown_meta,
                        where,
                        f"the regulator registry has no {language!r} reporting block for "
                        f"{country} (it has {', '.join(reporting)}): add one to "
                        f"{display_path(registry.file_for(country))}",
                        self.at_meta("countries", country, index),
                    )
        if core.source_language not in self.languages_ok:
            self.problem(
                self.shown_meta,
                "source_language",
                f"unknown language {core.source_language!r}: no catalog "
                f"locales/{core.source_language}/LC_MESSAGES/messages.po",
                self.at_meta("source_language"),
            )
        return core

    # --- <lang>.yaml ---------------------------------------------------------------------

    def _texts(self, core: CampaignCore) -> dict[str, LanguageText]:
        order = [core.source_language]
        for languages in core.countries.values():
            order += [lang for lang in languages if lang not in order]
        texts: dict[str, LanguageText] = {}
        for language in order:
            if language not in self.languages_ok:
                continue
            path = self.directory / f"{language}.yaml"
            shown = display_path(path)
            if not path.is_file():
                users = [c for c, langs in core.countries.items() if language in langs]
                why = (
                    "the core text, in the source language"
                    if language == core.source_language and not users
                    else f"sent in {', '.join(users)}"
                )
                self.problem(shown, "", f"missing: the text in {language!r} ({why})", None)
                continue
            data, found = read_yaml(path, shown)
            self.problems += found
            if data is None:
                continue
            text, found = validate_model(LanguageText, data, shown)
            self.problems += found
            if text is None:
                continue
            if text.language != language:
                self.problem(
                    shown,
                    "language",
                    f"says {text.language!r} but the file is for {language!r}",
                    line_of(data, ("language",)),
                )
            if len(text.active_substances) != len(core.products):
                self.problem(
                    shown,
                    "active_substances",
                    f"has {len(text.active_substances)} entries but dhpc.yaml has "
                    f"{len(core.products)} products: give one for each",
                    line_of(data, ("active_substances",)),
                )
            for field, where in NATIONAL_FIELDS.items():
                if getattr(text, field):
                    self.problem(
                        shown,
                        field,
                        f"is national in a campaign: give it in countries/<CC>.yaml as {where}",
                        line_of(data, (field,)),
                    )
            texts[language] = text
        for path in sorted(self.directory.glob("*.yaml")):
            if path.stem in self.languages_ok and path.stem not in order:
                self.problem(
                    display_path(path),
                    "",
                    f"no country in dhpc.yaml sends in {path.stem!r}: add it to a country's "
                    f"languages under countries: (line {self.at_meta('countries')}), or "
                    "remove this file",
                    None,
                )
        return texts

    # --- countries/<CC>.yaml -------------------------------------------------------------

    def _country_files(self, core: CampaignCore) -> tuple[dict[str, CountryFacts], dict[str, Any]]:
        folder = self.directory / COUNTRIES_DIR
        facts: dict[str, CountryFacts] = {}
        data_of: dict[str, Any] = {}
        for country in core.countries:
            path = folder / f"{country}.yaml"
            shown = display_path(path)
            if not path.is_file():
                self.problem(
                    shown,
                    "",
                    f"missing: dhpc.yaml lists {country} (line "
                    f"{self.at_meta('countries', country)}); its national facts go here",
                    None,
                )
                continue
            data, found = read_yaml(path, shown)
            self.problems += found
            if data is None:
                continue
            parsed, found = validate_model(CountryFacts, data, shown)
            self.problems += found
            if parsed is not None:
                facts[country] = parsed
                data_of[country] = data
        listed = set(core.countries)
        for path in sorted(folder.glob("*.yaml")) if folder.is_dir() else []:
            if path.stem not in listed:
                self.problem(
                    display_path(path),
                    "",
                    f"{path.stem} is not one of the countries in dhpc.yaml "
                    f"({', '.join(core.countries)}): add it there or remove this file",
                    None,
                )
        return facts, data_of

    def _country_problems(
        self,
        country: str,
        languages: tuple[str, ...],
        facts: CountryFacts,
        data: Any,
        texts: Mapping[str, LanguageText],
    ) -> None:
        shown = display_path(self.directory / COUNTRIES_DIR / f"{country}.yaml")

        def at(*loc: int | str) -> int | None:
            return line_of(data, loc)

        sends = f"{country} sends in {', '.join(languages)}"
        worded: list[tuple[Loc, str | Mapping[str, str] | None]] = []
        worded += [(("mahs", i, "department"), m.department) for i, m in enumerate(facts.mahs)]
        worded += [(("signatories", i, "title"), s.title) for i, s in enumerate(facts.signatories)]
        worded += [(("placeholders", name), value) for name, value in facts.placeholders.items()]
        worded += [
            (("address_sources", i, "printed"), s.printed)
            for i, s in enumerate(facts.address_sources)
            if s.printed
        ]
        for loc, value in worded:
            if not isinstance(value, Mapping):
                continue
            field = format_loc(loc)
            for language in value:
                if language not in languages:
                    self.problem(
                        shown,
                        f"{field}.{language}",
                        f"{country} does not send in {language!r} ({sends})",
                        at(*loc, language),
                    )
            lacking = [lang for lang in languages if lang not in value]
            if lacking and loc[0] != "address_sources":
                self.problem(
                    shown, field, f"no {', '.join(map(repr, lacking))} wording: {sends}", at(*loc)
                )
        if facts.reporting_authority is not None:
            self.problems += reporting_authority_problems(
                country, languages, facts.reporting_authority, shown, at("reporting_authority")
            )
        if facts.default_language is not None and facts.default_language not in languages:
            self.problem(
                shown,
                "default_language",
                f"{facts.default_language!r} is not a language of {country} ({sends})",
                at("default_language"),
            )
        seen: dict[tuple[str, str], int] = {}
        for index, deviation in enumerate(facts.deviations):
            where = f"deviations[{index}]"
            if deviation.language not in languages:
                self.problem(
                    shown,
                    f"{where}.language",
                    f"{country} does not send in {deviation.language!r} ({sends})",
                    at("deviations", index, "language"),
                )
                continue
            text = texts.get(deviation.language)
            if text is None:
                continue
            if deviation.field not in deviable_fields(text):
                self.problem(
                    shown,
                    f"{where}.field",
                    f"{deviation.language}.yaml has no field {deviation.field!r} a deviation can "
                    "replace (use a field path as dhpc check names it, such as summary[1])",
                    at("deviations", index, "field"),
                )
            key = (deviation.language, deviation.field)
            if key in seen:
                self.problem(
                    shown,
                    f"{where}.field",
                    f"{deviation.field} in {deviation.language!r} is already replaced by "
                    f"deviations[{seen[key]}]",
                    at("deviations", index, "field"),
                )
            seen.setdefault(key, index)
        for language in languages:
            text = texts.get(language)
            if text is None:
                continue
            used = placeholders_used(text)
            used.update(
                (name, f"deviations[{i}]")
                for i, d in enumerate(facts.deviations)
                if d.language == language
                for name in PLACEHOLDER.findall(d.text)
                if name not in used
            )
            for name, field in used.items():
                if name not in facts.placeholders:
                    self.problem(
                        shown,
                        "placeholders",
                        f"{language}.yaml uses {{{name}}} ({field}): say how it reads in "
                        f"{country} under placeholders: {name}: …",
                        at("placeholders") or 1,
                    )

    # --- the national version ------------------------------------------------------------

    def _national(
        self,
        core: CampaignCore,
        country: str,
        languages: tuple[str, ...],
        facts: CountryFacts,
        data: Any,
        texts: Mapping[str, LanguageText],
    ) -> Dhpc:
        country_file = self.directory / COUNTRIES_DIR / f"{country}.yaml"
        shown = display_path(country_file)
        letterhead = self._letterhead(core, facts, shown, data)
        meta = DhpcMeta(
            id=core.id,
            country=country,
            languages=languages,
            source_language=core.source_language,
            date=facts.date,
            status=core.status,
            products=core.products,
            mahs=tuple(
                MarketingAuthorisationHolder(name=m.name, email=m.email, phone=m.phone)
                for m in facts.mahs
            ),
            authorities=facts.authorities,
            signatories=tuple(
                Signatory(name=s.name, title=worded_in(s.title, languages[0]), company=s.company)
                for s in facts.signatories
            ),
            address_sources=tuple(s.name for s in facts.address_sources),
            audience=facts.audience or core.audience,
            pdf_variant=core.pdf_variant,
            default_language=facts.default_language,
            authority_approval=facts.authority_approval,
            reporting_authority=facts.reporting_authority,
        )
        national: dict[str, LanguageText] = {}
        for language in (*languages, core.source_language):
            if language in national:
                continue
            if language not in languages:
                national[language] = texts[language]  # the core, to check structure against
                continue
            made = self._national_text(texts[language], facts, language, shown, data)
            if made is not None:
                national[language] = made
        files = [self.meta_path, country_file]
        files += [self.directory / f"{lang}.yaml" for lang in national]
        spec = facts.letterhead or core.letterhead
        if letterhead is not None and spec is not None and spec.shared is None:
            files += [p for p in letterhead.files if p not in files]  # a logo in the folder
        return Dhpc(
            directory=self.directory,
            meta=meta,
            texts=national,
            files=tuple(files),
            letterhead=letterhead,
            country_file=country_file,
            deviations=facts.deviations,
        )

    def _letterhead(
        self, core: CampaignCore, facts: CountryFacts, shown: str, data: Any
    ) -> Letterhead | None:
        """The country's letterhead, or the core's (resolved once, its problems told once)."""
        from dhpc_gen.content.letterhead import resolve_letterhead

        if facts.letterhead is not None:
            spec, where, lines = facts.letterhead, shown, data
            key = (shown, 0)
        elif core.letterhead is not None:
            spec, where, lines = core.letterhead, self.shown_meta, self.data
            key = (self.shown_meta, 0)
        else:
            return None
        if key not in self._letterheads:
            resolved, found = resolve_letterhead(
                spec,
                self.directory,
                where,
                lambda loc: line_of(lines, loc),
                self.letterheads_dir,
            )
            self._letterheads[key] = (resolved, found)
            self.problems += found
        return self._letterheads[key][0]

    def _national_text(
        self, text: LanguageText, facts: CountryFacts, language: str, shown: str, data: Any
    ) -> LanguageText | None:
        values: dict[str, Any] = text.model_dump(mode="json", exclude_defaults=False)
        if any(m.department for m in facts.mahs):
            values["contact_points"] = [
                {"department": worded_in(m.department, language) if m.department else None}
                for m in facts.mahs
            ]
        values["signatory_titles"] = [worded_in(s.title, language) for s in facts.signatories]
        if any(s.printed for s in facts.address_sources):
            values["address_sources"] = [
                s.printed.get(language, s.name) for s in facts.address_sources
            ]
        deviated: dict[str, int] = {}
        for index, deviation in enumerate(facts.deviations):
            if deviation.language == language:
                _set(values, parse_loc(deviation.field), deviation.text)
                deviated[deviation.field] = index
        wording = {name: worded_in(value, language) for name, value in facts.placeholders.items()}
        values = _filled(values, wording)
        national, found = validate_model(LanguageText, values, shown)
        if national is None:
            # Only a deviation (or a placeholder's wording) can make a valid text invalid.
            for problem in found:
                which = deviated.get(problem.path)
                where = f"deviations[{which}].text" if which is not None else "placeholders"
                self.problem(
                    shown,
                    where,
                    f"{language} {problem.path}: {problem.message}",
                    line_of(data, parse_loc(where)),
                )
        return national


def reporting_authority_problems(
    country: str, languages: Sequence[str], authority: str, shown: str, line: int | None
) -> list[Problem]:
    """``reporting_authority`` names an authority of ``country`` in each of its languages."""
    from dhpc_gen.errors import RegistryError
    from dhpc_gen.regulators import registry

    for language in languages:
        try:
            registry.lookup(country, language, authority=authority)
        except RegistryError as exc:
            return [Problem(shown, "reporting_authority", str(exc), line)]
    return []


def deviable_fields(text: LanguageText) -> set[str]:
    """The field paths of ``text`` a national deviation may replace."""
    paths = {
        field.path
        for field in text_fields(text)
        if not field.path.startswith(("boilerplate", *NATIONAL_FIELDS))
    }
    return paths | set(OPTIONAL_TEXTS)


def placeholders_used(text: LanguageText) -> dict[str, str]:
    """``{name}`` → the first field path that uses it."""
    used: dict[str, str] = {}
    for field in text_fields(text):
        for name in PLACEHOLDER.findall(field.text):
            used.setdefault(name, field.path)
    return used


def _set(values: Any, loc: Sequence[int | str], text: str) -> None:
    node = values
    for part in loc[:-1]:
        node = node[part]
    node[loc[-1]] = text


def _filled(value: Any, wording: Mapping[str, str], key: str = "") -> Any:
    """``value`` with every ``{name}`` replaced by its wording (the ``language`` code aside)."""
    if isinstance(value, str):
        if key == "language":
            return value

        def fill(match: re.Match[str]) -> str:
            return wording.get(match.group(1), match.group(0))

        return PLACEHOLDER.sub(fill, value)
    if isinstance(value, dict):
        return {k: _filled(v, wording, k) for k, v in value.items()}
    if isinstance(value, list):
        return [_filled(v, wording) for v in value]
    return value


__all__ = [
    "COUNTRIES_DIR",
    "Campaign",
    "CampaignCore",
    "CountryFacts",
    "load_campaign",
]
