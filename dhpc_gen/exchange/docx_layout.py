"""Where the parts of the EMA template are in a Word document, in any catalog language.

The headings and fixed phrases of the letter come from the gettext catalogs
(``locales/<lang>/LC_MESSAGES/messages.po``): every language that has a catalog when the
tool runs is recognised, with the EMA template's own English wording besides. A heading
is recognised whatever its form (a Word heading style, a bold paragraph, a table cell)
after case, punctuation, numbering (``1.``, ``A)``) and a trailing colon are set aside.
The language of a document is the one whose headings it uses (:func:`detect_language`).

:func:`layout` then splits the paragraphs into the parts of the letter: date, title,
salutation, opening, introduction, summary, background, further sections, call for
reporting, company contact point, closing and signatories, address source. A document
without a summary, with two, or with an image where text belongs is refused, naming the
paragraph; anything else it cannot place is listed, never silently dropped.
"""

from __future__ import annotations

import re
import unicodedata
from collections.abc import Iterable, Mapping, Sequence
from dataclasses import dataclass, field
from functools import lru_cache

from dhpc_gen.errors import DhpcError
from dhpc_gen.exchange.docx_read import DocParagraph

# The letter's wording, by role: the msgids of the catalogs.
SUMMARY = "Summary"
BACKGROUND = "Background on the safety concern"
REPORTING = "Call for reporting"
CONTACT = "Company contact point"
CLOSING = "Yours sincerely,"
SALUTATION = "To healthcare professionals"
ADDRESS = "Address source"
MONITORING = (
    "This medicinal product is subject to additional monitoring. This will allow quick "
    "identification of new safety information."
)
KIND = "Direct healthcare professional communication"
PHONE = "tel:"

HEADING_ROLES = (SUMMARY, BACKGROUND, REPORTING, CONTACT)
ROLES = (*HEADING_ROLES, CLOSING, SALUTATION, ADDRESS, MONITORING, KIND)
ANNEX = "Annex"

TEMPLATE_ENGLISH: Mapping[str, tuple[str, ...]] = {
    SUMMARY: ("Summary", "Summary of key messages"),
    BACKGROUND: ("Background on the safety concern", "Background", "Background information"),
    REPORTING: ("Call for reporting", "Reporting of suspected adverse reactions"),
    CONTACT: ("Company contact point", "Company contact points", "Company contact details"),
    CLOSING: ("Yours sincerely", "Yours faithfully", "Kind regards", "Sincerely"),
    SALUTATION: (
        "Dear Healthcare professional",
        "Dear Healthcare professionals",
        "Dear Doctor",
        "Dear Doctor, Pharmacist",
    ),
    ADDRESS: ("Address source",),
    ANNEX: ("Annex", "Annexes", "Annexes (if applicable)", "Annex(es)"),
}
"""The EMA DHPC template's own English wording, besides the English catalog's."""


def normalise(text: str) -> str:
    """Text as headings are compared: case, numbering, bullets and end punctuation aside."""
    text = unicodedata.normalize("NFKC", text).replace("▼", " ").casefold()
    text = re.sub(r"\s+", " ", text).strip()
    text = re.sub(r"^[•·\-–—*]+\s*", "", text)
    text = re.sub(r"^(?:\d+(?:\.\d+)*\.?|[a-z][.)]|[ivxlc]+[.)])\s+", "", text)
    text = re.sub(r"[\s:;,.!]+$", "", text)
    return text


@dataclass(frozen=True)
class Lexicon:
    """The wording of each role, per language."""

    words: Mapping[str, Mapping[str, tuple[str, ...]]]
    """language → role → normalised wordings."""
    phrases: Mapping[str, Mapping[str, str]]
    """language → role → the catalog's wording as written (for new files)."""

    def roles(self, text: str, language: str | None = None) -> set[str]:
        key = normalise(text)
        found = set()
        for lang, roles in self.words.items():
            if language is not None and lang != language:
                continue
            for role, wordings in roles.items():
                if key in wordings:
                    found.add(role)
        return found

    def role(self, text: str, language: str) -> str | None:
        found = self.roles(text, language)
        for role in (*ROLES, ANNEX):
            if role in found:
                return role
        return None

    def languages_of(self, text: str) -> set[str]:
        key = normalise(text)
        return {
            lang
            for lang, roles in self.words.items()
            if any(key in wordings for role, wordings in roles.items() if role != KIND)
        }

    def phrase(self, language: str, role: str) -> str:
        return self.phrases.get(language, {}).get(role, role)

    def address_label(self, text: str, language: str) -> str | None:
        """The sources after an "Address source:" label, or None."""
        head, colon, rest = text.partition(":")
        if colon and normalise(head) in self.words.get(language, {}).get(ADDRESS, ()):
            return rest.strip()
        return None


def lexicon(
    catalogs: Mapping[str, Mapping[str, str]], overrides: Mapping[str, str] | None = None
) -> Lexicon:
    """The lexicon of every language in ``catalogs`` (language → msgid → translation).

    ``overrides`` is a letter's own ``boilerplate`` for the language it is imported in.
    """
    words: dict[str, dict[str, tuple[str, ...]]] = {}
    phrases: dict[str, dict[str, str]] = {}
    for language, catalog in catalogs.items():
        roles: dict[str, tuple[str, ...]] = {}
        written: dict[str, str] = {}
        for role in ROLES:
            wordings = []
            if role in catalog:
                wordings.append(catalog[role])
                written[role] = catalog[role]
            if overrides and role in overrides:
                wordings.append(overrides[role])
            if language == "en":
                wordings += [role, *TEMPLATE_ENGLISH.get(role, ())]
            roles[role] = tuple(dict.fromkeys(normalise(w) for w in wordings if w.strip()))
        if PHONE in catalog:
            written[PHONE] = catalog[PHONE]
        if language == "en":
            roles[ANNEX] = tuple(normalise(w) for w in TEMPLATE_ENGLISH[ANNEX])
        words[language] = roles
        phrases[language] = written
    return Lexicon(words, phrases)


@lru_cache(maxsize=1)
def _catalog_words() -> dict[str, dict[str, str]]:
    from dhpc_gen.i18n import SOURCE_LANGUAGE, available_languages, translations

    found: dict[str, dict[str, str]] = {}
    for language in available_languages():
        catalog = translations(language)
        found[language] = {
            msgid: str(catalog.translations.gettext(msgid))
            for msgid in (*ROLES, PHONE)
            if msgid in catalog.translated or language == SOURCE_LANGUAGE
        }
    return found


def catalog_lexicon(
    overrides: Mapping[str, str] | None = None, language: str | None = None
) -> Lexicon:
    """The lexicon of every catalog that exists now, plus a letter's own overrides."""
    catalogs = _catalog_words()
    if overrides and language is not None:
        merged = {lang: dict(words) for lang, words in catalogs.items()}
        result = lexicon(merged, None)
        with_overrides = lexicon({language: merged.get(language, {})}, overrides)
        words = dict(result.words)
        words[language] = with_overrides.words[language]
        return Lexicon(words, result.phrases)
    return lexicon(catalogs)


def detect_language(
    paragraphs: Sequence[DocParagraph], words: Lexicon
) -> tuple[str | None, dict[str, int]]:
    """The language whose headings and phrases the document uses most, and the counts."""
    counts: dict[str, int] = {}
    for paragraph in paragraphs:
        if len(paragraph.text) > 300:
            continue
        for language in words.languages_of(paragraph.text):
            counts[language] = counts.get(language, 0) + 1
        label = paragraph.text.partition(":")[0]
        if label != paragraph.text:
            for language in words.languages_of(label):
                if ADDRESS in words.roles(label, language):
                    counts[language] = counts.get(language, 0) + 1
    if not counts:
        return None, counts
    best = max(counts.values())
    leaders = sorted(lang for lang, count in counts.items() if count == best)
    return (leaders[0] if len(leaders) == 1 else None), counts


# --- the parts of the letter -------------------------------------------------------------


@dataclass
class Layout:
    """The paragraphs of each part of the letter, in document order."""

    before_title: list[DocParagraph] = field(default_factory=list)
    title: DocParagraph | None = None
    salutation: DocParagraph | None = None
    opening: DocParagraph | None = None
    introduction: list[DocParagraph] = field(default_factory=list)
    summary_heading: DocParagraph | None = None
    summary: list[DocParagraph] = field(default_factory=list)
    background_heading: DocParagraph | None = None
    background_is_standard: bool = True
    background: list[DocParagraph] = field(default_factory=list)
    sections: list[tuple[DocParagraph, list[DocParagraph]]] = field(default_factory=list)
    reporting_heading: DocParagraph | None = None
    reporting: list[DocParagraph] = field(default_factory=list)
    contact_heading: DocParagraph | None = None
    contact: list[DocParagraph] = field(default_factory=list)
    closing: DocParagraph | None = None
    signatures: list[DocParagraph] = field(default_factory=list)
    address: DocParagraph | None = None
    monitoring: list[DocParagraph] = field(default_factory=list)
    recognised: list[DocParagraph] = field(default_factory=list)
    """Fixed wording that is not a field (e.g. "Direct healthcare professional communication")."""
    unplaced: list[tuple[DocParagraph, str]] = field(default_factory=list)


def excerpt(text: str, limit: int = 60) -> str:
    text = " ".join(text.split())
    return repr(text if len(text) <= limit else text[: limit - 1] + "…")


def where(paragraph: DocParagraph) -> str:
    return f"paragraph {paragraph.number} ({excerpt(paragraph.text, 40)})"


_TITLE = re.compile(r"\([^()]+\)\s*:\s*\S")


def is_heading(paragraph: DocParagraph) -> bool:
    """A heading by its form: a heading style, or a short paragraph in bold."""
    if paragraph.list_item:
        return False
    if paragraph.level is not None:
        return True
    return paragraph.bold and len(paragraph.text) <= 200 and "\n" not in paragraph.text.strip()


def layout(paragraphs: Sequence[DocParagraph], words: Lexicon, language: str) -> Layout:
    """Split ``paragraphs`` into the parts of the letter; refuse what cannot be a DHPC."""
    parts = Layout()

    def role(paragraph: DocParagraph) -> str | None:
        if len(paragraph.text) > 400:
            return None
        found = words.role(paragraph.text, language)
        if found is None and words.address_label(paragraph.text, language) is not None:
            return ADDRESS
        return found

    roles = [role(p) for p in paragraphs]
    _refuse_twice(paragraphs, roles, words, language)
    summary_at = [i for i, r in enumerate(roles) if r == SUMMARY]
    if not summary_at:
        raise DhpcError(
            f"no summary heading ({words.phrase(language, SUMMARY)!r}) in the document: it does "
            "not follow the EMA DHPC template (Summary, Background on the safety concern, Call "
            "for reporting, Company contact point), or is not in the language "
            f"{language!r}"
        )
    start = summary_at[0]
    title_at = _title_index(paragraphs[:start], roles)
    for index, paragraph in enumerate(paragraphs):
        # A scanned signature after the closing is fine; anywhere else text is missing.
        image_only = paragraph.images and not paragraph.text.strip()
        if image_only and index > title_at and not _in_closing(roles, index):
            raise DhpcError(
                f"paragraph {paragraph.number} holds {paragraph.images[0]} where the letter "
                "has text (a heading or a paragraph); type the text instead, or remove it"
            )
    parts.before_title = list(paragraphs[:title_at])
    parts.title = paragraphs[title_at]
    _front(parts, paragraphs[title_at + 1 : start], roles[title_at + 1 : start])
    parts.summary_heading = paragraphs[start]
    _body(parts, paragraphs[start + 1 :], roles[start + 1 :])
    return parts


def _refuse_twice(
    paragraphs: Sequence[DocParagraph], roles: Sequence[str | None], words: Lexicon, language: str
) -> None:
    for wanted in (*HEADING_ROLES, CLOSING, ADDRESS):
        found = [p for p, r in zip(paragraphs, roles, strict=True) if r == wanted]
        if len(found) > 1:
            name = words.phrase(language, wanted)
            raise DhpcError(
                f"the document has {len(found)} {name!r} parts (paragraphs "
                f"{', '.join(str(p.number) for p in found)}); a DHPC has one. Remove the others "
                "(or accept or reject the tracked changes that copied it)"
            )


def _in_closing(roles: Sequence[str | None], index: int) -> bool:
    return CLOSING in roles[:index] or ADDRESS in roles[:index]


def _title_index(front: Sequence[DocParagraph], roles: Sequence[str | None]) -> int:
    candidates = [
        (i, p) for i, p in enumerate(front) if roles[i] is None and p.text.strip() and not p.images
    ]
    for test in (
        lambda p: p.level == 0,
        lambda p: bool(_TITLE.search(p.text)) and len(p.text) <= 400,
        is_heading,
    ):
        for index, paragraph in candidates:
            if test(paragraph):
                return index
    raise DhpcError(
        "no title found before the summary: the EMA template's title reads "
        "'<active substance> (<PRODUCT>): <key safety message>'"
    )


def _front(parts: Layout, front: Sequence[DocParagraph], roles: Sequence[str | None]) -> None:
    """Salutation, opening and introduction: what stands between the title and the summary."""
    assert parts.title is not None
    rest: list[DocParagraph] = []
    for paragraph, found in zip(front, roles, strict=True):
        if found == SALUTATION and parts.salutation is None and not rest:
            parts.salutation = paragraph
        elif found == MONITORING:
            parts.monitoring.append(paragraph)
        elif found == KIND:
            parts.recognised.append(paragraph)
        elif found is not None:
            parts.unplaced.append((paragraph, "is out of place before the summary"))
        else:
            rest.append(paragraph)
    if parts.salutation is None and len(rest) >= 2 and _looks_like_salutation(rest[0]):
        parts.salutation = rest.pop(0)
    if not rest:
        raise DhpcError(
            f"no opening paragraph between the title ({where(parts.title)}) and "
            "the summary: the EMA template opens '<Company> in agreement with the European "
            "Medicines Agency and <authority> would like to inform you of the following'"
        )
    parts.opening = rest[0]
    parts.introduction = rest[1:]


def _looks_like_salutation(paragraph: DocParagraph) -> bool:
    text = paragraph.text.strip()
    return len(text) <= 100 and not paragraph.list_item and not text.endswith((".", ":"))


def _body(parts: Layout, body: Sequence[DocParagraph], roles: Sequence[str | None]) -> None:
    index = 0
    # The summary: list items (or, without list formatting, paragraphs) up to a heading.
    while index < len(body):
        paragraph, found = body[index], roles[index]
        if found is not None or is_heading(paragraph):
            break
        if parts.summary and parts.summary[0].list_item and not _is_item(paragraph):
            break
        parts.summary.append(paragraph)
        index += 1
    if not parts.summary:
        raise DhpcError(
            f"the summary ({where(parts.summary_heading)}) has no bullets"
            if parts.summary_heading
            else "the summary has no bullets"
        )
    part = "background"
    if index < len(body) and roles[index] == BACKGROUND:
        parts.background_heading = body[index]
        index += 1
    elif index < len(body) and roles[index] is None and is_heading(body[index]):
        parts.background_heading = body[index]
        parts.background_is_standard = False
        index += 1
    section: list[DocParagraph] | None = None
    for paragraph, found in zip(body[index:], roles[index:], strict=True):
        if found == MONITORING:
            parts.monitoring.append(paragraph)
            continue
        if found == KIND:
            parts.recognised.append(paragraph)
            continue
        if found == REPORTING:
            parts.reporting_heading, part = paragraph, "reporting"
            continue
        if found == CONTACT:
            parts.contact_heading, part = paragraph, "contact"
            continue
        if found == CLOSING:
            parts.closing, part = paragraph, "signatures"
            continue
        if found == ADDRESS:
            parts.address, part = paragraph, "after"
            continue
        if found == ANNEX:
            part = "annex"
            parts.unplaced.append((paragraph, "annexes are not part of the letter's text"))
            continue
        if found in (BACKGROUND, SUMMARY, SALUTATION):
            parts.unplaced.append((paragraph, "is out of place"))
            continue
        if part == "background":
            if is_heading(paragraph) and not paragraph.in_table:
                section = []
                parts.sections.append((paragraph, section))
            elif section is not None:
                section.append(paragraph)
            else:
                parts.background.append(paragraph)
        elif part == "reporting":
            parts.reporting.append(paragraph)
        elif part == "contact":
            parts.contact.append(paragraph)
        elif part == "signatures":
            parts.signatures.append(paragraph)
        elif part == "annex":
            parts.unplaced.append((paragraph, "annexes are not part of the letter's text"))
        else:
            parts.unplaced.append((paragraph, "comes after the address source"))
    if not parts.background:
        where_ = where(parts.background_heading) if parts.background_heading else "the summary"
        raise DhpcError(f"no background paragraphs after {where_}")
    for heading, paragraphs in parts.sections:
        if not paragraphs:
            raise DhpcError(f"the section {where(heading)} has no paragraphs")


_TYPED_ITEM = re.compile(r"^\s*(?:[-•·–*▪◦]|\d{1,2}[.)]|[a-z][.)])\s+")


def _is_item(paragraph: DocParagraph) -> bool:
    return paragraph.list_item or bool(_TYPED_ITEM.match(paragraph.text))


def strip_item_marker(text: str) -> tuple[str, bool]:
    """``- x``, ``• x``, ``1. x`` typed by hand → (``x``, True)."""
    match = _TYPED_ITEM.match(text)
    if match is None:
        return text, False
    return text[match.end() :], True


def all_paragraphs(parts: Layout) -> Iterable[DocParagraph]:
    """Every paragraph the layout placed (for findings about what was not)."""
    singles = [
        parts.title,
        parts.salutation,
        parts.opening,
        parts.summary_heading,
        parts.background_heading,
        parts.reporting_heading,
        parts.contact_heading,
        parts.closing,
        parts.address,
    ]
    yield from (p for p in singles if p is not None)
    yield from parts.introduction
    yield from parts.summary
    yield from parts.background
    for heading, paragraphs in parts.sections:
        yield heading
        yield from paragraphs
    yield from parts.reporting
    yield from parts.contact
    yield from parts.signatures
    yield from parts.monitoring
