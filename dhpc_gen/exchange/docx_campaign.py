"""Word documents of a campaign: one country's national letter, or a language's shared text.

A campaign keeps one text per language, shared by the countries that send in it, and
each country's facts apart (``countries/<CC>.yaml``: its affiliate, signatory, the
wording of each ``{placeholder}``, the deviations its authority asked for). So:

- ``export-docx --country CC`` writes CC's national letter as ``dhpc build`` prints it
  (placeholders filled, deviations applied); without ``--country`` the shared text as
  written, ``{placeholders}`` and all, framed by the facts of the first country that
  sends in the language. The document's properties say which (``dhpc-country``,
  ``dhpc-text``).
- ``import-docx`` writes only the shared ``<lang>.yaml``, through the content editor as
  for a folder of one country. From a national document, the country's wording of each
  placeholder is put back as ``{name}``; a field the country replaces by a deviation is
  not written into the shared text, and neither are the national fields (contact point,
  signatory titles, address sources): where the document differs from the country's
  file, the difference is reported, never written.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from dhpc_gen.approval.words import marked, word_diff
from dhpc_gen.build import files_digest, language_hash
from dhpc_gen.content.campaign import (
    NATIONAL_FIELDS,
    PLACEHOLDER,
    Campaign,
    CountryFacts,
    load_campaign,
    worded_in,
)
from dhpc_gen.content.fields import parse_field_path, text_fields
from dhpc_gen.content.loader import META_FILE, read_yaml
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import DhpcError, UsageError, display_path
from dhpc_gen.exchange.docx_letter import INLINE_KEYS, Letter
from dhpc_gen.exchange.docx_markup import same_rendering
from dhpc_gen.exchange.folder import validated

PROPERTY_COUNTRY = "dhpc-country"
PROPERTY_TEXT = "dhpc-text"
"""``national`` (one country's letter) or ``shared`` (a language's text as written)."""

NATIONAL = "national"
SHARED = "shared"


def is_campaign(directory: Path) -> bool:
    """Whether ``directory`` holds a campaign (``countries:`` in its ``dhpc.yaml``)."""
    path = directory / META_FILE
    if not path.is_file():
        return False
    data, _ = read_yaml(path, display_path(path))
    return isinstance(data, Mapping) and "countries" in data


# --- export --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignExport:
    """What ``export-docx`` writes for a campaign."""

    dhpc: Dhpc
    """The letter: a country's national version, or the shared text in a country's frame."""
    language: str
    content_sha256: str
    properties: dict[str, str]
    comment: str
    default_path: Path
    described: str
    """Which text it is, for the command's message."""


def campaign_export(directory: Path, language: str | None, country: str | None) -> CampaignExport:
    """The national letter of ``country`` in ``language``, or (no country) the shared text."""
    campaign = load_campaign(directory)
    wanted = language or campaign.source_language
    if wanted not in campaign.languages:
        raise UsageError(
            f"--lang {wanted}: {campaign.id} is sent in {', '.join(campaign.languages)}"
        )
    stem = Path("output") / campaign.id
    if country is not None:
        national = campaign.national(country)
        code = national.meta.country
        if wanted not in national.meta.languages:
            raise UsageError(
                f"--lang {wanted}: {code} is sent in {', '.join(national.meta.languages)}"
            )
        return CampaignExport(
            dhpc=national,
            language=wanted,
            content_sha256=language_hash(national, wanted),
            properties={PROPERTY_COUNTRY: code, PROPERTY_TEXT: NATIONAL},
            comment=(
                f"{campaign.id} ({wanted}) for {code}, as the letter prints it: the text of "
                f"{wanted}.yaml with {code}'s placeholders and deviations."
            ),
            default_path=stem / code / f"{national.file_stem}_{wanted}.docx",
            described=f"{code}'s national letter ({code}'s placeholders and deviations "
            "applied; import-docx writes it back into the shared text)",
        )
    frame = _frame(campaign, wanted)
    national_text = frame.text(wanted)
    shared_text = campaign.shared.text(wanted)
    text = shared_text.model_copy(
        update={field: getattr(national_text, field) for field in NATIONAL_FIELDS}
    )
    code = frame.meta.country
    meta = frame.meta.model_copy(update={"languages": (wanted,)})
    files = (directory / META_FILE, directory / f"{wanted}.yaml")
    letter = Dhpc(directory, meta, {wanted: text}, files, letterhead=frame.letterhead)
    return CampaignExport(
        dhpc=letter,
        language=wanted,
        content_sha256=files_digest((p.name, p.read_bytes()) for p in files),
        properties={PROPERTY_COUNTRY: code, PROPERTY_TEXT: SHARED},
        comment=(
            f"{campaign.id} ({wanted}): the shared text, placeholders as written; the "
            f"company, signatory and reporting block are {code}'s."
        ),
        default_path=stem / f"{campaign.id}_{wanted}.docx",
        described=f"the shared {wanted} text ({{placeholders}} as written, in {code}'s frame: "
        f"its company, signatory and reporting block; --country CC for a country's letter)",
    )


def _frame(campaign: Campaign, language: str) -> Dhpc:
    """The country whose facts frame a language's shared text: the first that sends in it."""
    for code in campaign.countries_using(language):
        return campaign.national(code)
    raise UsageError(
        f"--lang {language}: no country of {campaign.id} sends in {language!r}; export a "
        "national letter of it with --country, or another language"
    )


# --- import --------------------------------------------------------------------------------


@dataclass(frozen=True)
class CampaignImport:
    """The campaign a document goes into, and the country whose letter it is."""

    campaign: Campaign
    national: Dhpc
    kind: str
    """``national`` or ``shared`` (a shared export: placeholders as written)."""
    chosen_by: str
    """How the country was told: ``the document``, ``--country``, ``the reporting block``."""

    @property
    def country_file(self) -> Path:
        assert self.national.country_file is not None
        return self.national.country_file

    @property
    def facts_file(self) -> str:
        """The country's file, as ``dhpc.yaml`` is named in messages: ``countries/BE.yaml``."""
        return self.national.relative(self.country_file)


def campaign_import(
    directory: Path,
    properties: Mapping[str, str],
    language: str,
    detected_country: str | None,
    country: str | None,
) -> CampaignImport:
    """The national version a document is read against.

    The country is the one the document's properties name (an export), else
    ``--country``, else the one whose reporting block the document has.
    """
    campaign = load_campaign(directory)
    exported = properties.get(PROPERTY_COUNTRY, "").upper() or None
    if exported and country and country.upper() != exported:
        raise UsageError(
            f"--country {country}: the document was exported for {exported}; import it as "
            f"{exported}'s, or export {country.upper()}'s letter"
        )
    users = campaign.countries_using(language)
    if exported:
        code, chosen_by = exported, "the document"
    elif country:
        code, chosen_by = country.upper(), "--country"
    elif detected_country in users:
        code, chosen_by = str(detected_country), "the reporting block"
    else:
        raise DhpcError(
            f"cannot tell which country's letter this is: its reporting block is not that of "
            f"a country {campaign.id} sends {language!r} to ({', '.join(users) or 'none'}); "
            "give it with --country"
        )
    national = campaign.national(code)
    if language not in national.meta.languages:
        raise DhpcError(
            f"the document is in {language!r}, but {campaign.id} is sent in "
            f"{', '.join(national.meta.languages)} in {national.meta.country}"
        )
    kind = SHARED if properties.get(PROPERTY_TEXT) == SHARED else NATIONAL
    return CampaignImport(campaign, national, kind, chosen_by)


def content_warning(
    target: CampaignImport, properties: Mapping[str, str], language: str, target_path: Path
) -> list[str]:
    """A warning when the text changed since the document was exported from it."""
    from dhpc_gen.exchange.docx_write import PROPERTY_CONTENT, PROPERTY_LANGUAGE

    exported = properties.get(PROPERTY_CONTENT)
    if not exported or properties.get(PROPERTY_LANGUAGE) != language or not target_path.is_file():
        return []
    if target.kind == NATIONAL:
        now = language_hash(target.national, language)
        what = f"{target.national.meta.country}'s {language} letter"
    else:
        files = (target.national.directory / META_FILE, target_path)
        now = files_digest((p.name, p.read_bytes()) for p in files)
        what = f"{display_path(target_path)} or dhpc.yaml"
    if now == exported:
        return []
    return [
        f"{what} changed since the document was exported: the document's text replaces what "
        f"{display_path(target_path)} says now (check with a diff)"
    ]


def shared_fields(
    wanted: Mapping[str, str],
    current: Mapping[str, Any],
    letter: Letter,
    target: CampaignImport,
) -> dict[str, str]:
    """The fields of the document to write into the shared language file.

    National fields and fields the country replaces by a deviation are compared with the
    country's file and left out (each difference a finding); each placeholder's national
    wording becomes ``{name}`` again, and a field whose placeholders cannot be told is
    left as it is (a finding).
    """
    national = target.national
    language = letter.language
    printed = {f.path: f.text for f in text_fields(national.text(language))}
    shared = {f.path: f.text for f in text_fields(target.campaign.shared.text(language))}
    shown = target.facts_file
    code = national.meta.country
    deviated = (
        {d.field: i for i, d in enumerate(national.deviations) if d.language == language}
        if target.kind == NATIONAL
        else {}
    )
    wording = _wordings(target, language)
    fields: dict[str, str] = {}
    for path, text in wanted.items():
        top = str(parse_field_path(path)[0])
        inline = top in INLINE_KEYS or path.endswith(".heading")
        if top in NATIONAL_FIELDS:
            ours = printed.get(path)
            if ours is None or not same_rendering(ours, text, inline=True):
                letter.note(
                    _paragraph(letter, path),
                    f"{path} reads {text!r}, {shown} has {ours!r} (a national fact: "
                    f"{shown} is not changed)",
                    "meta",
                )
            continue
        if path in deviated:
            ours = printed.get(path, "")
            if not same_rendering(ours, text, inline=inline):
                letter.note(
                    _paragraph(letter, path),
                    f"{path} is {code}'s deviation ({shown} deviations[{deviated[path]}]), "
                    f"which the document words otherwise: "
                    f"{marked(word_diff(ours, text), context=12)} (neither {language}.yaml "
                    f"nor {shown} is changed)",
                    "deviation",
                )
            if path in shared:
                fields[path] = shared[path]  # the shared text stays as it is
            continue
        fields[path] = _unfilled(text, wording)
        need = set(PLACEHOLDER.findall(shared.get(path, "")))
        have = set(PLACEHOLDER.findall(fields[path]))
        if need - have:
            names = ", ".join(f"{{{n}}}" for n in sorted(need - have))
            letter.note(
                _paragraph(letter, path),
                f"{path}: the shared text has {names}, and the document does not read as "
                f"{code}'s wording of it ({shown} placeholders): the field is not written",
            )
            fields[path] = shared[path]
    return fields


def _wordings(target: CampaignImport, language: str) -> list[tuple[str, str]]:
    """(national wording, ``{name}``) of the country's placeholders, longest first."""
    facts = validated(CountryFacts, target.country_file)
    pairs = [(worded_in(v, language), f"{{{name}}}") for name, v in facts.placeholders.items()]
    return sorted(pairs, key=lambda pair: -len(pair[0]))


def _unfilled(text: str, wording: list[tuple[str, str]]) -> str:
    """``text`` with each placeholder's wording (as whole words) put back as ``{name}``."""
    for words, name in wording:
        text = re.sub(rf"(?<!\w){re.escape(words)}(?!\w)", name.replace("\\", "\\\\"), text)
    return text


def _paragraph(letter: Letter, path: str) -> int:
    """The paragraph of a field (``contact_points[0].department``: its contact line)."""
    return next(
        (
            number
            for number, place in letter.places.items()
            if place == path or path.startswith(f"{place}.")
        ),
        0,
    )


__all__ = [
    "NATIONAL",
    "PROPERTY_COUNTRY",
    "PROPERTY_TEXT",
    "SHARED",
    "CampaignExport",
    "CampaignImport",
    "campaign_export",
    "campaign_import",
    "content_warning",
    "is_campaign",
    "shared_fields",
]
