"""``dhpc import-docx``: a DHPC written (or returned) in Word, into the content folder.

The document is read (:mod:`.docx_read`), laid out after the EMA template
(:mod:`.docx_layout`) and turned into fields and facts (:mod:`.docx_letter`). Then:

- into a new folder, ``dhpc.yaml`` is written from the facts the document gives (country
  from its reporting block, the company, signatories, date …) and ``<lang>.yaml`` from
  its text;
- into an existing folder, only ``<lang>.yaml`` is edited, through the content editor:
  only fields that print differently are rewritten, comments and key order stay, and an
  unchanged export changes nothing. ``dhpc.yaml`` is never overwritten: where the
  document's facts differ from it, the differences are reported.

Tracked changes are accepted (the text as it reads once they are) or, with
``changes="refuse"``, nothing is written while any is left. Each change and each comment
is reported with the field it belongs to.
"""

from __future__ import annotations

import datetime as dt
import logging
import re
import tempfile
from collections.abc import Callable, Mapping, Sequence
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Any, Literal

from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import YAMLError

from dhpc_gen.content.editor import (
    decode_text,
    edit_language_file,
    rt_yaml,
    validate_or_restore,
)
from dhpc_gen.content.fields import parse_field_path
from dhpc_gen.content.loader import META_FILE, link_outside_problem, load_dhpc, validate_model
from dhpc_gen.content.model import DhpcMeta, LanguageText
from dhpc_gen.errors import ContentError, DhpcError, RegistryError, UsageError, display_path
from dhpc_gen.exchange import docx_write
from dhpc_gen.exchange.docx_layout import (
    Layout,
    Lexicon,
    catalog_lexicon,
    detect_language,
    excerpt,
    layout,
)
from dhpc_gen.exchange.docx_letter import (
    INLINE_KEYS,
    Finding,
    Letter,
    country_scores,
    detect_country,
    detect_regulator,
    read_letter,
    respell,
    respell_member,
)
from dhpc_gen.exchange.docx_markup import same_rendering
from dhpc_gen.exchange.docx_package import open_docx
from dhpc_gen.exchange.docx_read import WordDocument, read_document
from dhpc_gen.exchange.folder import validated
from dhpc_gen.fsutil import atomic_write_bytes, sha256_bytes
from dhpc_gen.i18n import available_languages
from dhpc_gen.regulators import registry
from dhpc_gen.regulators.registry import Regulator
from dhpc_gen.render.letter import format_title, title_key

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

Changes = Literal["accept", "refuse"]


@dataclass(frozen=True)
class TrackedChange:
    """A tracked change of the document, placed in the letter."""

    field: str
    kind: str
    text: str
    author: str
    date: str
    paragraph: int


@dataclass(frozen=True)
class CommentNote:
    """A Word comment, placed in the letter."""

    id: str
    author: str
    date: str
    text: str
    anchor: str
    fields: tuple[str, ...]
    paragraph: int
    reply_to: str | None = None


@dataclass(frozen=True)
class DocxImportResult:
    document: str
    language: str
    language_from: str
    """``headings`` (detected) or ``--lang``."""
    country: str
    meta_path: Path
    meta_created: bool
    path: Path
    """The language file written (or that would be)."""
    created: bool
    changed: tuple[str, ...]
    added: tuple[str, ...]
    removed: tuple[str, ...]
    whitespace_only: tuple[str, ...]
    unchanged: int
    changes: tuple[TrackedChange, ...]
    comments: tuple[CommentNote, ...]
    findings: tuple[Finding, ...]
    warnings: tuple[str, ...]
    written: bool
    refused: bool
    """``changes="refuse"`` and the document still has tracked changes: nothing written."""
    dry_run: bool
    text: str = ""
    """A campaign: ``national`` (one country's letter) or ``shared`` (a language's text);
    ``meta_path`` is then the country's file."""
    campaign_text: str = ""
    """A campaign: what was read against what, in words."""

    def as_json(self) -> dict[str, Any]:
        """A stable, JSON-ready view (paths as shown, lists in document order)."""
        extra = {"text": self.text} if self.text else {}
        return {
            **extra,
            "document": self.document,
            "language": self.language,
            "language_from": self.language_from,
            "country": self.country,
            "meta_file": display_path(self.meta_path),
            "meta_created": self.meta_created,
            "language_file": display_path(self.path),
            "language_file_created": self.created,
            "written": self.written,
            "dry_run": self.dry_run,
            "refused": self.refused,
            "fields": {
                "changed": list(self.changed),
                "added": list(self.added),
                "removed": list(self.removed),
                "whitespace_only": list(self.whitespace_only),
                "unchanged": self.unchanged,
            },
            "tracked_changes": [asdict(change) for change in self.changes],
            "comments": [
                {**asdict(comment), "fields": list(comment.fields)} for comment in self.comments
            ],
            "findings": [asdict(finding) for finding in self.findings],
            "warnings": list(self.warnings),
        }


@dataclass
class _Plan:
    updates: list[tuple[str, str]] = field(default_factory=list)
    removals: list[str] = field(default_factory=list)
    unchanged: int = 0


def import_docx(
    document_path: Path,
    directory: Path,
    *,
    language: str | None = None,
    changes: Changes = "accept",
    dry_run: bool = False,
    country: str | None = None,
) -> DocxImportResult:
    """Read the Word document and write its text into the content folder ``directory``.

    A campaign: the shared language file is written, read against ``country``'s letter
    (:mod:`dhpc_gen.exchange.docx_campaign`).
    """
    from dhpc_gen.exchange import docx_campaign

    if directory.exists() and not directory.is_dir():
        raise UsageError(f"{display_path(directory)} is a file, not a content folder")
    package = open_docx(document_path)
    document = read_document(package)
    meta_path = directory / META_FILE
    campaign = docx_campaign.is_campaign(directory)
    if campaign:
        from dhpc_gen.content.campaign import load_campaign

        meta: DhpcMeta | None = load_campaign(directory).shared.meta
    else:
        meta = validated(DhpcMeta, meta_path) if meta_path.is_file() else None
        if country is not None and meta is not None and country.upper() != meta.country:
            raise UsageError(f"--country {country}: {meta.id} is for {meta.country}")

    words = catalog_lexicon()
    chosen, language_from = _language(document, words, language, meta)
    target = directory / f"{chosen}.yaml"
    shown_target = display_path(target)
    outside = link_outside_problem(target, shown_target)
    if outside is not None:
        raise ContentError([outside])
    original = target.read_bytes() if target.is_file() else None
    text, bom = decode_text(original, shown_target)
    current = _current(text, shown_target)
    overrides = current.get("boilerplate")
    if isinstance(overrides, Mapping) and overrides:
        words = catalog_lexicon({str(k): str(v) for k, v in overrides.items()}, chosen)

    parts = layout(document.paragraphs, words, chosen)
    all_text = [p.text for p in document.paragraphs]
    reporting = {p.number for p in parts.reporting}
    elsewhere = [p.text for p in document.paragraphs if p.number not in reporting]
    target_campaign = None
    if campaign:
        detected = country_of(parts, chosen, elsewhere)[0]
        target_campaign = docx_campaign.campaign_import(
            directory, document.properties, chosen, detected, country
        )
        meta = target_campaign.national.meta
    country, regulator, country_findings = _country(parts, meta, chosen, elsewhere)
    known = [product.name for product in meta.products] if meta is not None else []
    spellings = _spellings(current)
    letter = read_letter(parts, words, chosen, regulator, all_text, known, spellings)
    letter.findings += country_findings
    for note in document.notes:
        letter.note(note.paragraph, note.message)
    for link in package.ignored_links:
        letter.note(0, link)

    warnings: list[str] = []
    meta_text: str | None = None
    base: Mapping[str, Any] | DhpcMeta
    if meta is None:
        new_meta = _new_meta(directory, letter, document, country, regulator)
        meta_text = _meta_yaml(new_meta, document.shown)
        base = new_meta
    elif target_campaign is not None:
        base = meta
        _compare_meta(letter, meta, target_campaign.facts_file)
        warnings += _check_properties(document, meta, chosen, meta_path, target, target_campaign)
    else:
        base = meta
        _compare_meta(letter, meta)
        warnings += _check_properties(document, meta, chosen, meta_path, target)
    wanted = _wanted(letter, base, current)
    if target_campaign is not None:
        wanted = docx_campaign.shared_fields(wanted, current, letter, target_campaign)
    plan = _plan(wanted, current)

    before = _places_before(document, words, chosen, regulator, all_text, known, spellings)
    tracked = tuple(_place_changes(document, letter, before))
    comments = tuple(_place_comments(document, letter, before))
    refused = changes == "refuse" and bool(document.revisions)

    header = (
        f"# {chosen}: imported from {Path(document.shown).name} by dhpc import-docx.\n"
        if original is None
        else ""
    )
    outcome = edit_language_file(
        text, plan.updates, language=chosen, shown=shown_target, removals=plan.removals
    )
    warnings += outcome.warnings
    new_text = outcome.text if original is not None else header + _spaced(outcome.text)
    new_bytes = (("\ufeff" if bom else "") + new_text).encode("utf-8")

    written = False
    if not dry_run and not refused:
        if meta_text is not None:
            _write_new_folder(directory, meta_text, target, new_bytes, document.shown)
            written = True
        elif new_bytes != original:
            private = original is not None and target.stat().st_mode & 0o077 == 0
            atomic_write_bytes(target, new_bytes, private=private)
            written = True
            warnings += validate_or_restore(directory, target, original, document.shown)
        if written:
            logger.info(
                "%s: %d changed, %d added, %d removed",
                shown_target,
                len(outcome.changed),
                len(outcome.added),
                len(outcome.removed),
            )
    return DocxImportResult(
        document=document.shown,
        language=chosen,
        language_from=language_from,
        country=country,
        meta_path=target_campaign.country_file if target_campaign is not None else meta_path,
        meta_created=meta_text is not None,
        path=target,
        created=original is None,
        changed=outcome.changed,
        added=outcome.added,
        removed=outcome.removed,
        whitespace_only=outcome.whitespace_only,
        unchanged=plan.unchanged
        + len(plan.updates)
        - len(outcome.changed)
        - len(outcome.added)
        - len(outcome.whitespace_only),
        changes=tracked,
        comments=comments,
        findings=tuple(letter.findings),
        warnings=tuple(warnings),
        written=written,
        refused=refused,
        dry_run=dry_run,
        **(_campaign_result(target_campaign, chosen) if target_campaign is not None else {}),
    )


def _campaign_result(target: Any, language: str) -> dict[str, Any]:
    """The result's fields of a campaign: which text was read against what."""
    code = target.national.meta.country
    said = (
        f"its national text (by {target.chosen_by}): {language}.yaml is written, {code}'s "
        "facts and deviations are compared"
        if target.kind == "national"
        else f"the shared text (framed by {code}'s facts): {language}.yaml is written"
    )
    return {"text": target.kind, "campaign_text": said}


def _spaced(text: str) -> str:
    """A new language file laid out like the bundled ones: a blank line around long fields."""
    chunks: list[list[str]] = []
    for line in text.splitlines(keepends=True):
        if not chunks or (line[:1] not in (" ", "-", "#", "\n") and line.strip()):
            chunks.append([line])
        else:
            chunks[-1].append(line)
    out: list[str] = []
    for index, chunk in enumerate(chunks):
        if index and (len(chunk) > 1 or len(chunks[index - 1]) > 1):
            out.append("\n")
        out.extend(chunk)
    return "".join(out)


# --- language and country ----------------------------------------------------------------


def detect(document: WordDocument, words: Lexicon) -> tuple[str | None, dict[str, int]]:
    """The language of ``document`` by its headings (a small function: --lang overrides it)."""
    return detect_language(document.paragraphs, words)


def _language(
    document: WordDocument, words: Lexicon, wanted: str | None, meta: DhpcMeta | None
) -> tuple[str, str]:
    detected, counts = detect(document, words)
    shown_counts = ", ".join(f"{lang} {count}" for lang, count in sorted(counts.items()))
    if wanted is not None:
        if wanted not in available_languages():
            raise UsageError(
                f"--lang {wanted}: no catalog locales/{wanted}/LC_MESSAGES/messages.po "
                f"(available: {', '.join(available_languages())})"
            )
        if counts and not counts.get(wanted):
            raise DhpcError(
                f"{document.shown}: none of its headings is in {wanted!r} (headings found: "
                f"{shown_counts}); import it with the language it is written in"
            )
        chosen, source = wanted, "--lang"
    elif detected is None:
        raise DhpcError(
            f"{document.shown}: cannot tell the language from its headings"
            + (f" (found: {shown_counts})" if counts else " (none of the EMA template's found)")
            + "; give it with --lang"
        )
    else:
        chosen, source = detected, "headings"
    if meta is not None and chosen not in meta.languages:
        raise DhpcError(
            f"{document.shown} is in {chosen!r}, but {meta.id} is sent in "
            f"{', '.join(meta.languages)}; add {chosen!r} to languages in dhpc.yaml first"
        )
    return chosen, source


def country_of(parts: Layout, language: str, elsewhere: Sequence[str]) -> tuple[str | None, float]:
    """The country whose reporting block the document has (a small function: a future
    ``--country`` replaces it). ``elsewhere``: the text outside the call for reporting."""
    return detect_country(parts.reporting, language, elsewhere)


def _country(
    parts: Layout, meta: DhpcMeta | None, language: str, elsewhere: Sequence[str]
) -> tuple[str, Regulator | None, list[Finding]]:
    findings: list[Finding] = []
    at = parts.reporting_heading.number if parts.reporting_heading else 0
    if meta is not None:
        country = meta.country
        try:
            regulator = registry.lookup(country, language, authority=meta.reporting_authority)
        except RegistryError as exc:
            return country, None, [Finding(at, f"the block cannot be compared: {exc}", "registry")]
        scored = country_scores(parts.reporting, language)
        best, like = max(((s, e.country) for s, e, _ in scored), default=(0.0, country))
        mine, headed = next(((s, h) for s, e, h in scored if e.country == country), (0.0, False))
        if best >= 0.6 and like != country and mine < best - 0.05 and not (headed and mine >= 0.6):
            findings.append(
                Finding(
                    at,
                    f"the reporting block reads like {like}'s, but dhpc.yaml says country "
                    f"{country}; the letter prints {country}'s",
                    "meta",
                )
            )
        return country, regulator, findings
    detected, score = detect_regulator(parts.reporting, language, elsewhere)
    if detected is None:
        raise DhpcError(
            "cannot tell the country: the call for reporting"
            + (f" (paragraph {at})" if at else "")
            + f" has no national reporting block in {language!r} that the registry knows "
            f"(best match {score:.0%}); see dhpc regulators"
        )
    return detected.country, detected, findings


# --- the facts of a new dhpc.yaml --------------------------------------------------------


def folder_id(directory: Path) -> str:
    """The DHPC id a new folder gets: its name, in the letters an id allows."""
    name = re.sub(r"[^a-z0-9._-]+", "-", directory.resolve().name.lower()).strip("-._")
    if not re.fullmatch(r"[a-z0-9][a-z0-9._-]{0,63}", name) or ".." in name:
        raise UsageError(
            f"{display_path(directory)}: the folder's name becomes the DHPC's id; use "
            "lower-case letters, digits, '.', '_' and '-' (at most 64)"
        )
    return name


def _new_meta(
    directory: Path,
    letter: Letter,
    document: WordDocument,
    country: str,
    regulator: Regulator | None,
) -> dict[str, Any]:
    problems: list[str] = []
    if not letter.products:
        problems.append(
            f"paragraph {letter.title_paragraph}: the title must read "
            "'<active substance> (<PRODUCT>): <key message>' for a new DHPC (it names the "
            "products)"
        )
    if not letter.companies:
        problems.append("no company contact point (name, e-mail, telephone) was found")
    for company in letter.companies:
        if not company.email:
            problems.append(
                f"paragraph {company.paragraph}: {company.name!r} has no e-mail address"
            )
        if not company.phone:
            problems.append(f"paragraph {company.paragraph}: {company.name!r} has no telephone")
    if not letter.people:
        problems.append("no signatory after the closing ('Yours sincerely,')")
    for person in letter.people:
        if not person.title:
            problems.append(f"paragraph {person.paragraph}: {person.name!r} has no title")
    if problems:
        raise DhpcError(
            "\n".join(
                [
                    f"{document.shown}: a new dhpc.yaml needs what the document does not give:",
                    *(f"  {p}" for p in problems),
                ]
            )
        )
    status = document.properties.get(docx_write.PROPERTY_STATUS, "")
    if letter.date is None:
        letter.note(0, "dhpc.yaml has today's date: the document gives none; set it", "meta")
    monitoring = letter.monitoring and not any(p.triangle for p in letter.products)
    if monitoring:
        letter.note(
            0,
            "the additional monitoring sentence is there but no product has ▼ in the title; "
            "every product is marked additional_monitoring",
            "meta",
        )
    first_company = letter.companies[0].name
    data: dict[str, Any] = {
        "id": folder_id(directory),
        "country": country,
        "languages": [letter.language],
        "source_language": letter.language,
        "date": letter.date or dt.date.today(),
        "status": status if status in ("draft", "final") else "draft",
        "products": [
            {"name": p.name, "additional_monitoring": p.triangle or monitoring}
            for p in letter.products
        ],
        "mahs": [{"name": c.name, "email": c.email, "phone": c.phone} for c in letter.companies],
        "authorities": ["EMA", regulator.short_name if regulator else country],
        **(
            {"reporting_authority": regulator.code}
            if regulator is not None and registry.authority_codes(country, regulator.language)
            else {}
        ),
        "signatories": [
            {"name": p.name, "title": p.title, "company": p.company or first_company}
            for p in letter.people
        ],
    }
    if letter.address_sources:
        data["address_sources"] = list(letter.address_sources)
    for person in letter.people:
        if not person.company:
            letter.note(
                person.paragraph,
                f"no company under {person.name!r}: dhpc.yaml names {first_company!r}",
                "meta",
            )
    valid, found = validate_model(DhpcMeta, data, META_FILE)
    if valid is None:
        raise DhpcError(
            "\n".join(
                [
                    f"{document.shown}: the facts it gives make no valid dhpc.yaml:",
                    *(f"  {_at_paragraph(p.path, letter)}{p.path}: {p.message}" for p in found),
                ]
            )
        )
    return data


def _at_paragraph(path: str, letter: Letter) -> str:
    steps = parse_field_path(path) if path else ()
    if len(steps) >= 2 and isinstance(steps[1], int):
        items: Sequence[Any] = (
            letter.companies
            if steps[0] == "mahs"
            else letter.people
            if steps[0] == "signatories"
            else []
        )
        if steps[1] < len(items):
            return f"paragraph {items[steps[1]].paragraph}: "
    if path == "date" and letter.date_paragraph:
        return f"paragraph {letter.date_paragraph}: "
    return ""


def _meta_yaml(data: Mapping[str, Any], shown: str) -> str:
    yaml = YAML(typ="rt")
    yaml.indent(mapping=2, sequence=4, offset=2)
    yaml.width = 92
    root = CommentedMap()
    for key, value in data.items():
        if key in ("languages", "authorities"):
            flow = CommentedSeq(value)
            flow.fa.set_flow_style()
            root[key] = flow
        else:
            root[key] = value
    import io

    buffer = io.StringIO()
    yaml.dump(root, buffer)
    return (
        f"# Made by dhpc import-docx from {Path(shown).name}: check every value.\n"
        "# Facts that do not depend on language; the text is in <lang>.yaml.\n" + buffer.getvalue()
    )


def _compare_meta(letter: Letter, meta: DhpcMeta, facts: str = META_FILE) -> None:
    """Facts of the document that differ from ``dhpc.yaml``: reported, never written.

    ``facts``: the file of the national facts (a campaign's ``countries/<CC>.yaml``);
    the products stay ``dhpc.yaml``'s.
    """

    def differs(paragraph: int, message: str, where: str = facts) -> None:
        letter.note(paragraph, message + f" ({where} is not changed)", "meta")

    if letter.date is not None and letter.date != meta.date:
        differs(
            letter.date_paragraph,
            f"the date reads {letter.date.isoformat()}, {facts} has {meta.date.isoformat()}",
        )
    if letter.products:
        _compare_products(letter, meta, lambda at, message: differs(at, message, META_FILE))
    if letter.monitoring != any(p.additional_monitoring for p in meta.products):
        state = "has" if letter.monitoring else "lacks"
        differs(0, f"the document {state} the additional monitoring sentence", META_FILE)
    if letter.companies and len(letter.companies) != len(meta.mahs):
        differs(
            letter.companies[0].paragraph,
            f"{len(letter.companies)} company contact(s), {facts} has {len(meta.mahs)} mahs",
        )
    for company, mah in zip(letter.companies, meta.mahs, strict=False):
        for what, mine, theirs in (
            ("name", company.name, mah.name),
            ("e-mail", company.email, mah.email),
            ("telephone", company.phone, mah.phone),
        ):
            if mine is not None and " ".join(mine.split()) != " ".join(theirs.split()):
                differs(company.paragraph, f"the company {what} reads {mine!r}, {facts} {theirs!r}")
    if letter.people and len(letter.people) != len(meta.signatories):
        differs(
            letter.people[0].paragraph,
            f"{len(letter.people)} signatory(ies), {facts} has {len(meta.signatories)}",
        )
    for person, signatory in zip(letter.people, meta.signatories, strict=False):
        if person.name != signatory.name:
            differs(
                person.paragraph,
                f"the signatory reads {person.name!r}, {facts} {signatory.name!r}",
            )
        if person.company and person.company != signatory.company:
            differs(
                person.paragraph,
                f"{signatory.name}'s company reads {person.company!r}, {facts} "
                f"{signatory.company!r}",
            )
    sources = letter.address_sources
    if sources is not None and meta.address_sources and len(sources) != len(meta.address_sources):
        differs(
            letter.address_paragraph,
            f"the address source line names {len(sources)} source(s), {facts} has "
            f"{len(meta.address_sources)}",
        )


def _compare_products(letter: Letter, meta: DhpcMeta, differs: Callable[[int, str], None]) -> None:
    """The title's products against ``dhpc.yaml``'s, each by its name, whatever the order."""
    at = letter.title_paragraph
    names = [product.name for product in meta.products]
    pairs = pair_products(letter, names)
    if len(letter.products) != len(meta.products):
        differs(
            at,
            f"the title names {len(letter.products)} product(s), dhpc.yaml has "
            f"{len(meta.products)}",
        )
    for known, found in zip(meta.products, pairs, strict=True):
        if found is None:
            differs(
                at,
                f"the title does not name {known.name!r} of dhpc.yaml; its active substance "
                "is not changed",
            )
            continue
        product = letter.products[found]
        if " ".join(product.name.casefold().split()) != " ".join(known.name.casefold().split()):
            differs(at, f"the title names {product.name!r}, dhpc.yaml {known.name!r}")
        if product.triangle != known.additional_monitoring:
            state = "has" if product.triangle else "has not"
            differs(at, f"the title {state} ▼ for {known.name}, unlike dhpc.yaml")
    paired = {found for found in pairs if found is not None}
    for index, product in enumerate(letter.products):
        if index not in paired:
            differs(at, f"the title names {product.name!r}, which dhpc.yaml has not")
    if None in pairs or len(paired) != len(letter.products):
        return
    substances = [letter.substances[found] for found in pairs if found is not None]
    said = [pairs.index(index) for index in letter.title_order]
    groups: dict[str, list[int]] = {}
    for index, substance in enumerate(substances):
        groups.setdefault(title_key(substance), []).append(index)
    printed = [index for members in groups.values() for index in members]
    if said != printed:
        title = format_title(
            [(p.name, p.additional_monitoring) for p in meta.products],
            substances,
            letter.key_message or "…",
        )
        letter.note(
            at,
            "the title lists the products in another order than the letter prints them, "
            f"which is dhpc.yaml's: {excerpt(title, 120)}",
        )


def _check_properties(
    document: WordDocument,
    meta: DhpcMeta,
    language: str,
    meta_path: Path,
    target: Path,
    campaign: Any = None,
) -> list[str]:
    """Refuse another DHPC's document; warn when the content changed since the export.

    ``campaign``: the :class:`~dhpc_gen.exchange.docx_campaign.CampaignImport` of a
    campaign's document, whose content hash is that of its national letter or shared text.
    """
    properties = document.properties
    exported_id = properties.get(docx_write.PROPERTY_ID)
    if exported_id and exported_id != meta.id:
        raise DhpcError(
            f"{document.shown}: this document was exported from DHPC {exported_id!r}, not "
            f"{meta.id!r}; import it into that DHPC's folder (or into a new folder)"
        )
    if campaign is not None:
        from dhpc_gen.exchange.docx_campaign import content_warning

        return content_warning(campaign, properties, language, target)
    exported = properties.get(docx_write.PROPERTY_CONTENT)
    exported_language = properties.get(docx_write.PROPERTY_LANGUAGE)
    if not exported or exported_language != language or not target.is_file():
        return []
    now = sha256_bytes(
        b"".join(p.name.encode() + b"\0" + p.read_bytes() + b"\0" for p in (meta_path, target))
    )
    if now == exported:
        return []
    return [
        f"{display_path(target)} or dhpc.yaml changed since {document.shown} was exported: the "
        "document's text replaces what the file says now (check with a diff)"
    ]


# --- which fields to write ---------------------------------------------------------------


def _current(text: str, shown: str) -> dict[str, Any]:
    if not text.strip():
        return {}
    try:
        data = rt_yaml().load(text)
    except YAMLError as exc:
        raise DhpcError(f"{shown}: not valid YAML, fix it before importing: {exc}") from None
    return dict(data) if isinstance(data, Mapping) else {}


def _existing(current: Mapping[str, Any]) -> dict[str, str]:
    """Every text of a language file by field path (``language`` and lists of lists aside)."""
    found: dict[str, str] = {}

    def walk(value: Any, path: str) -> None:
        if isinstance(value, str):
            found[path] = value.strip()
        elif isinstance(value, Mapping):
            for key, item in value.items():
                if path == "boilerplate":
                    walk(item, f"boilerplate[{str(key)!r}]")
                else:
                    walk(item, f"{path}.{key}" if path else str(key))
        elif isinstance(value, list):
            for index, item in enumerate(value):
                walk(item, f"{path}[{index}]")

    for key, value in current.items():
        if key != "language":
            walk(value, str(key))
    return found


def _wanted(
    letter: Letter, meta: Mapping[str, Any] | DhpcMeta, current: Mapping[str, Any]
) -> dict[str, str]:
    """The fields of the language file the document gives, in the content model's order."""
    fields = dict(letter.fields)
    if "salutation" in fields and letter.salutation_is_standard and "salutation" not in current:
        del fields["salutation"]
    heading = "background_heading"
    if heading in fields and letter.background_heading_is_standard and heading not in current:
        del fields[heading]
    if current.get("title") or not letter.products:
        fields["title"] = letter.title
    else:
        spellings = _spellings(current)
        names = (
            [p.name for p in meta.products]
            if isinstance(meta, DhpcMeta)
            else [p["name"] for p in meta["products"]]
        )
        pairs = pair_products(letter, names)
        substances = (
            letter.substances if letter.products_known else _respelled(letter, pairs, spellings)
        )
        first = letter.substances[letter.title_order[0]]
        for index, found in enumerate(pairs):
            if found is None:
                continue  # a product the title does not name keeps its substance
            substance = substances[found]
            if substance == first and (index >= len(spellings) or spellings[index] is None):
                substance = _lower_first(substance, letter.language)
            fields[f"active_substances[{index}]"] = substance
        if letter.key_message is not None:
            fields["key_message"] = letter.key_message
    for index, company in enumerate(letter.companies):
        if company.department is not None:
            fields[f"contact_points[{index}].department"] = company.department
    signatories = (
        [s.title for s in meta.signatories]
        if isinstance(meta, DhpcMeta)
        else [s["title"] for s in meta["signatories"]]
    )
    titles = [person.title or "" for person in letter.people]
    if current.get("signatory_titles") or (
        len(titles) == len(signatories) and titles != signatories
    ):
        for index, title in enumerate(titles):
            if title:
                fields[f"signatory_titles[{index}]"] = title
    canonical = (
        list(meta.address_sources)
        if isinstance(meta, DhpcMeta)
        else list(meta.get("address_sources", []))
    )
    spelled = letter.address_sources
    if spelled and (
        current.get("address_sources") or (len(spelled) == len(canonical) and spelled != canonical)
    ):
        for index, name in enumerate(spelled):
            fields[f"address_sources[{index}]"] = name
    return dict(sorted(fields.items(), key=lambda item: _order(item[0])))


def _spellings(current: Mapping[str, Any]) -> list[str | None]:
    """The language file's active substances, one per product (None: not a text)."""
    found = current.get("active_substances")
    if not isinstance(found, list):
        return []
    return [item.strip() if isinstance(item, str) else None for item in found]


def _respelled(
    letter: Letter, pairs: Sequence[int | None], spellings: Sequence[str | None]
) -> list[str]:
    """The title's substances (by its products) kept as the language file spells them."""
    hints: dict[int, str | None] = {
        found: spellings[index] if index < len(spellings) else None
        for index, found in enumerate(pairs)
        if found is not None
    }
    out = list(letter.substances)
    printed: dict[str, str] = {}
    for position, index in enumerate(letter.title_order):
        shown = letter.substances[index]
        if shown in printed:
            out[index] = respell_member(printed[shown], hints.get(index))
        else:
            out[index] = printed[shown] = respell(
                shown, hints.get(index), opens_title=position == 0
            )
    return out


def pair_products(letter: Letter, names: Sequence[str]) -> list[int | None]:
    """For each product of ``dhpc.yaml`` (by name), the title's product it is, if any.

    The same name (whatever its case) pairs first; the rest pair in their order when as
    many are left on both sides, so one renamed product still finds its substance.
    """
    if letter.products_known:
        return list(range(len(names)))
    pairs: list[int | None] = [None] * len(names)
    free = list(range(len(letter.products)))

    def key(name: str) -> str:
        return " ".join(name.casefold().split())

    for index, name in enumerate(names):
        for candidate in free:
            if key(letter.products[candidate].name) == key(name):
                pairs[index] = candidate
                free.remove(candidate)
                break
    unpaired = [index for index, found in enumerate(pairs) if found is None]
    if len(unpaired) == len(free):
        for index, candidate in zip(unpaired, free, strict=True):
            pairs[index] = candidate
    return pairs


def _lower_first(word: str, language: str) -> str:
    """``Alemtuzumab`` at the start of a title is ``alemtuzumab`` in running text."""
    if language == "de" or not word[:1].isupper() or not word[1:2].islower():
        return word
    return word[:1].lower() + word[1:]


_TOP = list(LanguageText.model_fields)


def _order(path: str) -> tuple[Any, ...]:
    steps = parse_field_path(path)
    key: list[Any] = []
    for step in steps:
        if isinstance(step, int):
            key.append((1, step))
        elif not key:
            key.append((0, _TOP.index(step) if step in _TOP else len(_TOP)))
        else:
            key.append((0, 0 if step == "heading" else 1))
    return tuple(key)


_REMOVABLE = re.compile(
    r"^(?:introduction|summary|background|reporting)\[\d+\]$|^sections\[\d+\]"
    r"(?:\.paragraphs\[\d+\])?$|^(?:salutation|background_heading)$"
)


def _plan(wanted: Mapping[str, str], current: Mapping[str, Any]) -> _Plan:
    existing = _existing(current)
    plan = _Plan()
    for path, text in wanted.items():
        before = existing.get(path)
        inline = path.split("[")[0].split(".")[0] in INLINE_KEYS or path.endswith(".heading")
        if before is not None and (
            before == text or same_rendering(before, text, inline=inline or "heading" in path)
        ):
            plan.unchanged += 1
            continue
        plan.updates.append((path, text))
    gone = [path for path in existing if path not in wanted]
    removals: list[str] = []
    for path in gone:
        steps = parse_field_path(path)
        section = f"sections[{steps[1]}]" if steps[0] == "sections" and len(steps) > 1 else None
        if section is not None and not any(p.startswith(section + ".") for p in wanted):
            if section not in removals:
                removals.append(section)
            continue
        if _REMOVABLE.match(path):
            removals.append(path)
    for key in ("introduction", "reporting", "sections"):
        items = [p for p in existing if re.match(rf"^{key}\[\d+\]", p)]
        if items and not any(p.startswith(f"{key}[") for p in wanted):
            removals = [p for p in removals if not p.startswith(f"{key}[")] + [key]
    # Later items first: the editor removes each by its index in the file as it is.
    plan.removals = sorted(set(removals), key=_order, reverse=True)
    return plan


# --- placing changes and comments --------------------------------------------------------


def _places_before(
    document: WordDocument,
    words: Lexicon,
    language: str,
    regulator: Regulator | None,
    all_text: Sequence[str],
    known: Sequence[str],
    spellings: Sequence[str | None],
) -> dict[int, str]:
    """Where each paragraph was before the changes (a deleted bullet was summary[4])."""
    if not document.revisions or not document.original:
        return {}
    try:
        parts = layout(document.original, words, language)
        letter = read_letter(parts, words, language, regulator, all_text, known, spellings)
        return letter.places
    except DhpcError:
        return {}


def _place(places: Mapping[int, str], number: int) -> str:
    if number in places:
        return places[number]
    later = [n for n in places if n > number]
    return places[min(later)] if later else "the end of the document"


_DELETIONS = ("deleted", "paragraph deleted", "row deleted")


def _place_changes(
    document: WordDocument, letter: Letter, before: Mapping[int, str]
) -> list[TrackedChange]:
    changes = []
    for revision in document.revisions:
        places = before if revision.kind in _DELETIONS and before else letter.places
        changes.append(
            TrackedChange(
                _place(places, revision.paragraph),
                revision.kind,
                " ".join(revision.text.split()),
                revision.author,
                revision.date,
                revision.paragraph,
            )
        )
    return changes


def _place_comments(
    document: WordDocument, letter: Letter, before: Mapping[int, str]
) -> list[CommentNote]:
    notes = []
    for comment in document.comments:
        places = tuple(
            dict.fromkeys(
                _place(letter.places if n in letter.places or not before else before, n)
                for n in comment.paragraphs
            )
        )
        notes.append(
            CommentNote(
                comment.id,
                comment.author,
                comment.date,
                comment.text,
                comment.anchor,
                places or ("(not anchored in the text)",),
                comment.paragraphs[0] if comment.paragraphs else 0,
                comment.reply_to,
            )
        )
    return notes


# --- writing a new folder ----------------------------------------------------------------


def _write_new_folder(
    directory: Path, meta_text: str, target: Path, language_bytes: bytes, shown: str
) -> None:
    """Check the new folder loads as a DHPC, then write both files (language file first)."""
    with tempfile.TemporaryDirectory(prefix="dhpc-import-") as scratch:
        trial = Path(scratch) / directory.resolve().name
        trial.mkdir()
        (trial / META_FILE).write_text(meta_text, encoding="utf-8")
        (trial / target.name).write_bytes(language_bytes)
        try:
            load_dhpc(trial)
        except ContentError as exc:
            shown_trial = display_path(trial)
            shown_dir = display_path(directory)
            raise DhpcError(
                "\n".join(
                    [
                        f"{shown} was not imported: the new folder would not be valid "
                        "(nothing was written):",
                        *(f"  {str(p).replace(shown_trial, shown_dir)}" for p in exc.problems),
                    ]
                )
            ) from None
    atomic_write_bytes(target, language_bytes)
    try:
        atomic_write_bytes(directory / META_FILE, meta_text.encode("utf-8"))
    except DhpcError:
        target.unlink(missing_ok=True)
        raise
