"""Typed, immutable model of a DHPC, after the sections of the EMA DHPC template.

``dhpc.yaml`` holds what does not depend on language (:class:`DhpcMeta`); one
``<lang>.yaml`` per language holds the text (:class:`LanguageText`). Lists are used
wherever a real letter can have several: class-wide DHPCs concern several products
and are signed for several marketing-authorisation holders.

A :class:`Dhpc` is one national version: one country, its languages and facts, its
texts with the country's deviations applied. A campaign of several countries
(:mod:`.campaign`) makes one per country.
"""

from __future__ import annotations

import datetime as dt
import re
from collections.abc import Iterator, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Literal

from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    Strict,
    StringConstraints,
    model_validator,
)

from dhpc_gen.email_address import EmailAddressError, parse_email

_PHONE = re.compile(r"^\+?[0-9][0-9 ()/-]{3,24}$")

PDF_VARIANTS = ("pdf/a-3u", "pdf/a-3a", "pdf/a-2u", "pdf/ua-1")

# Characters no letter prints: C0 and C1 controls (line breaks and tabs are fine), and
# the Unicode noncharacters. A NUL or an escape sequence in a text is a slip or an
# attack on the terminal that shows it; either way the author is told where it is.
_CONTROL = re.compile("[\x00-\x08\x0b-\x1f\x7f-\x9f\ufdd0-\ufdef\ufffe\uffff]")


def control_character(value: str) -> str | None:
    """Why ``value`` cannot be printed (its first control character), or None."""
    match = _CONTROL.search(value)
    if match is None:
        return None
    return (
        f"contains U+{ord(match.group()):04X} at character {match.start() + 1}, a control "
        "character that cannot be printed: remove it"
    )


def _printable(value: str) -> str:
    problem = control_character(value)
    if problem is not None:
        raise ValueError(problem)
    return value


MAX_TEXT_CHARS = 5_000
"""The longest text field, in characters: about a page (the example's longest is 700)."""
Text = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=MAX_TEXT_CHARS),
    AfterValidator(_printable),
]
"""A text field: non-empty, printable, may use the small safe markup of :mod:`.markup`."""

PhraseId = Annotated[
    str, Strict(), StringConstraints(min_length=1, max_length=1_000), AfterValidator(_printable)
]
"""The English msgid a ``boilerplate`` override replaces."""

LanguageCode = Annotated[str, StringConstraints(pattern=r"^[a-z]{2,3}$")]
CountryCode = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]


def _email(value: str) -> str:
    """The tool's one rule for addresses (:mod:`dhpc_gen.email_address`)."""
    try:
        parse_email(value)
    except EmailAddressError as exc:
        raise ValueError(str(exc)) from None
    return value


def _phone(value: str) -> str:
    if not _PHONE.match(value):
        raise ValueError(f"not a telephone number: {value!r}")
    return value


def _dhpc_id(value: str) -> str:
    if ".." in value:
        raise ValueError(f"{value!r} contains '..': the id names the output folder and files")
    return value


DhpcId = Annotated[
    str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$"), AfterValidator(_dhpc_id)
]
"""Names the output folder and files."""

Email = Annotated[str, Strict(), AfterValidator(_email)]
Phone = Annotated[str, Strict(), AfterValidator(_phone)]


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class Product(_Model):
    """A medicine the letter concerns, by invented name."""

    name: Text
    additional_monitoring: bool = False
    """Black triangle ▼: the medicine is under additional monitoring."""


class MarketingAuthorisationHolder(_Model):
    """A company that sends the letter, with its contact point."""

    name: Text
    email: Email
    phone: Phone


class Signatory(_Model):
    """A person who signs the letter."""

    name: Text
    title: Text
    company: Text


class Audience(_Model):
    """Who the letter is for, as the communication plan states it."""

    description: Text | None = None
    professions: tuple[Text, ...] = ()
    specialties: tuple[Text, ...] = ()


LetterheadLine = Annotated[
    str,
    Strict(),
    StringConstraints(strip_whitespace=True, min_length=1, max_length=90),
    AfterValidator(_printable),
]
"""A line of the letterhead or its footer: never wrapped, so of a length that fits."""


LetterheadName = Annotated[str, StringConstraints(pattern=r"^[a-z0-9][a-z0-9._-]{0,63}$")]
"""A shared letterhead: ``letterheads/<name>/letterhead.yaml`` in the project."""


class LetterheadSpec(_Model):
    """The sender's letterhead: a logo and address lines at the top, a footer below.

    In ``dhpc.yaml`` either these fields or, as a plain name, a shared letterhead.
    """

    shared: LetterheadName | None = None
    logo: Text | None = None
    """An SVG or PNG file in the content folder (in the letterhead's own folder for a
    shared letterhead)."""
    lines: tuple[LetterheadLine, ...] = Field(default=(), max_length=5)
    """Address lines beside the logo."""
    footer: tuple[LetterheadLine, ...] = Field(default=(), max_length=3)
    """Lines at the foot of every page (registration details)."""

    @model_validator(mode="before")
    @classmethod
    def _shared_by_name(cls, value: object) -> object:
        return {"shared": value} if isinstance(value, str) else value

    @model_validator(mode="after")
    def _shared_alone(self) -> LetterheadSpec:
        if self.shared is not None and (self.logo or self.lines or self.footer):
            raise ValueError("name a shared letterhead or give logo, lines and footer, not both")
        return self


class AuthorityApproval(_Model):
    """The national authority approved the final letter: which decision, when."""

    reference: Text
    date: dt.date


class DhpcMeta(_Model):
    """The language-independent facts of one DHPC (``dhpc.yaml``)."""

    id: DhpcId
    country: CountryCode
    languages: tuple[LanguageCode, ...] = Field(min_length=1)
    source_language: LanguageCode
    date: dt.date
    status: Literal["draft", "final"]
    products: tuple[Product, ...] = Field(min_length=1)
    mahs: tuple[MarketingAuthorisationHolder, ...] = Field(min_length=1)
    authorities: tuple[Text, ...] = Field(min_length=1)
    signatories: tuple[Signatory, ...] = Field(min_length=1)
    address_sources: tuple[Text, ...] = ()
    audience: Audience | None = None
    pdf_variant: Literal["pdf/a-3u", "pdf/a-3a", "pdf/a-2u", "pdf/ua-1"] = "pdf/a-3u"
    letterhead: LetterheadSpec | None = None
    default_language: LanguageCode | None = None
    """The language a recipient gets when nothing else tells (default: the registry's)."""
    authority_approval: AuthorityApproval | None = None
    """The authority's approval of the final letter, where the country requires one."""
    reporting_authority: Text | None = None
    """Which of the country's authorities the call for reporting names, where it has
    several (Germany: ``PEI`` or ``BfArM``; ``dhpc regulators DE``)."""


class Section(_Model):
    """A further section with its own heading (e.g. one adverse reaction)."""

    heading: Text
    paragraphs: tuple[Text, ...] = Field(min_length=1)


class ContactPoint(_Model):
    """How the company contact line reads in this language."""

    department: Text | None = None
    """E.g. "Produktinformation"; printed after the MAH's name."""


class LanguageText(_Model):
    """The text of the letter in one language (``<lang>.yaml``)."""

    language: LanguageCode
    active_substances: tuple[Text, ...] = Field(min_length=1)
    """One per product, as written in this language."""
    key_message: Text
    """The key safety message of the title, after "substance (PRODUCT):"."""
    title: Text | None = None
    """The whole title, when the composed one does not fit (class-wide letters)."""
    salutation: Text | None = None
    opening: Text
    introduction: tuple[Text, ...] = ()
    summary: tuple[Text, ...] = Field(min_length=1)
    background: tuple[Text, ...] = Field(min_length=1)
    background_heading: Text | None = None
    sections: tuple[Section, ...] = ()
    reporting: tuple[Text, ...] = ()
    """Paragraphs added to the call for reporting, after the authority's contact block."""
    contact_points: tuple[ContactPoint, ...] = ()
    """One per MAH, in the order of ``dhpc.yaml``; may be left out."""
    signatory_titles: tuple[Text, ...] = ()
    """One per signatory, when the title is written differently in this language."""
    address_sources: tuple[Text, ...] = ()
    """The address sources as printed in this language, when they differ."""
    boilerplate: Mapping[PhraseId, Text] = Field(default_factory=dict)
    """Overrides of catalog wording for this letter: English msgid → text."""


class Deviation(_Model):
    """A national authority's wording of one field in one language, replacing the shared text."""

    language: LanguageCode
    field: Text
    """A field path of the language file, as ``dhpc check`` names it: ``summary[1]``."""
    text: Text
    reference: Text
    """Where the authority asked for it: ``AFMPS letter 2026-10-12``."""


@dataclass(frozen=True)
class Logo:
    """A letterhead's picture, read and checked when the content is loaded."""

    path: Path
    media_type: str
    """``image/svg+xml`` or ``image/png``."""
    data: bytes


@dataclass(frozen=True)
class Letterhead:
    """The letterhead as printed, with every file it was read from."""

    logo: Logo | None
    lines: tuple[str, ...]
    footer: tuple[str, ...]
    files: tuple[Path, ...]


@dataclass(frozen=True)
class Dhpc:
    """One national version of a DHPC: its facts, its text per language, where it was read from."""

    directory: Path
    meta: DhpcMeta
    texts: Mapping[str, LanguageText]
    files: tuple[Path, ...]
    """Every file of the content folder read, in a stable order (for the manifest and
    content hashes)."""
    letterhead: Letterhead | None = None
    country_file: Path | None = None
    """``countries/<CC>.yaml`` of a campaign: the national facts and deviations."""
    deviations: tuple[Deviation, ...] = ()
    """Applied to ``texts`` already; kept to show them (``dhpc check``, ``dhpc review``)."""

    @property
    def id(self) -> str:
        return self.meta.id

    @property
    def in_campaign(self) -> bool:
        """One country of a campaign folder: outputs go to ``<out>/<id>/<CC>/``."""
        return self.country_file is not None

    @property
    def file_stem(self) -> str:
        """What output file names start with: ``<id>`` or, in a campaign, ``<id>_<CC>``."""
        return f"{self.id}_{self.meta.country}" if self.in_campaign else self.id

    def output_dir(self, out_root: Path) -> Path:
        """``<out>/<id>`` or, in a campaign, ``<out>/<id>/<CC>``; never outside ``out_root``."""
        from dhpc_gen.fsutil import inside, safe_name

        parts = [safe_name(self.id, "DHPC id")]
        if self.in_campaign:
            parts.append(safe_name(self.meta.country, "country"))
        return inside(out_root, *parts)

    def language_file(self, language: str) -> Path:
        """The file the text of ``language`` is read from (shared by a campaign's countries)."""
        return self.directory / f"{language}.yaml"

    def inputs_of(self, language: str) -> tuple[Path, ...]:
        """The content files one language's letter is made from (for its identifier)."""
        national = () if self.country_file is None else (self.country_file,)
        return (self.files[0], *national, self.language_file(language))

    def relative(self, path: Path) -> str:
        """A content file's name inside the folder: ``fi.yaml``, ``countries/BE.yaml``."""
        try:
            return path.relative_to(self.directory).as_posix()
        except ValueError:
            return path.name

    def text(self, language: str) -> LanguageText:
        return self.texts[language]

    def iter_texts(self) -> Iterator[tuple[str, LanguageText]]:
        for language in self.meta.languages:
            yield language, self.texts[language]
