"""XLIFF 1.2 for translation vendors: export one language of a DHPC, import it back.

:func:`export_xliff` writes one ``<trans-unit>`` per text field. Its id is the field path
of :mod:`dhpc_gen.content.fields` (``summary[2]``); it holds the source language's text,
the current translation when the target file has one, and notes that tell the
translator where the text is printed. The header names the SHA-256 of the source file
(and of the target file) the XLIFF was made from.

:func:`import_xliff` writes the vendor's targets back into ``<lang>.yaml``. The file is
edited in place, value by value, at the positions ruamel.yaml's round-trip parser
reports (:mod:`dhpc_gen.content.editor`): comments, key order, blank lines, line endings
and the style of every other scalar stay as they were. An unchanged XLIFF therefore
leaves the file byte-identical, and a changed unit changes only its own value. Fields
the file lacks (a new bullet) are added through ruamel.yaml's round-trip dumper, in the
model's field order.

Vendor files are untrusted: a DOCTYPE, and so any entity declaration, is refused before
the XML is parsed; the file must be for this DHPC, its source language and one of its
target languages; every unit id must be a field of the source.
"""

from __future__ import annotations

import logging
import re
import xml.etree.ElementTree as ET
from collections.abc import Callable, Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

from pydantic import ValidationError
from ruamel.yaml.error import YAMLError

from dhpc_gen import __version__
from dhpc_gen.content.editor import (
    decode_text,
    edit_language_file,
    rt_yaml,
    same_words,
    shown_list,
    validate_or_restore,
)
from dhpc_gen.content.fields import Step, TextField, parse_field_path, text_fields, value_at
from dhpc_gen.content.loader import META_FILE, link_outside_problem, read_yaml
from dhpc_gen.content.markup import plain_text
from dhpc_gen.content.model import LanguageText
from dhpc_gen.errors import ContentError, DhpcError, UsageError, display_path
from dhpc_gen.exchange.folder import ContentFolder, read_folder
from dhpc_gen.exchange.language import reads_as_other, vocabularies
from dhpc_gen.fsutil import atomic_write_bytes, sha256_bytes

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

XLIFF_NS = "urn:oasis:names:tc:xliff:document:1.2"
XLIFF_2_NS = "urn:oasis:names:tc:xliff:document:2.0"
_XML_SPACE = "{http://www.w3.org/XML/1998/namespace}space"
_XML_LANG = "{http://www.w3.org/XML/1998/namespace}lang"
MAX_XLIFF_BYTES = 16 << 20
TOOL_ID = "dhpc_gen"
PROP_GROUP = "dhpc_gen"

_XML_INVALID = re.compile("[^\t\n\r\u0020-\ud7ff\ue000-\ufffd\U00010000-\U0010ffff]")


# ---------------------------------------------------------------------------------------
# The DHPC folder


def _target_language(folder: ContentFolder, wanted: str | None) -> str:
    """The target language asked for, checked against ``dhpc.yaml``."""
    meta = folder.meta
    shown_meta = display_path(folder.directory / META_FILE)
    targets = [lang for lang in meta.languages if lang != meta.source_language]
    if wanted is None:
        if len(targets) == 1:
            return targets[0]
        if not targets:
            raise UsageError(f"{shown_meta}: {meta.id} has no language besides the source")
        raise UsageError(
            f"{meta.id} is translated into {', '.join(targets)}: choose one with --target"
        )
    if wanted == meta.source_language:
        raise UsageError(f"--target {wanted}: {wanted!r} is the source language of {meta.id}")
    if wanted not in targets:
        where = (
            f"to the languages of the country that sends in it under countries: in {shown_meta}"
            if folder.countries
            else f"to languages in {shown_meta}"
        )
        raise UsageError(
            f"--target {wanted}: {meta.id} is sent in {', '.join(meta.languages)}; "
            f"add {wanted!r} {where} first"
        )
    return wanted


# ---------------------------------------------------------------------------------------
# Export


@dataclass(frozen=True)
class ExportResult:
    path: Path
    language: str
    units: int
    translated: int
    """Units whose target came from the current translation (the rest are ``new``)."""
    warnings: tuple[str, ...] = ()


_FIELD_HELP = {
    "active_substances": "the active substance as written in this language; printed in the title",
    "key_message": "the key safety message; the title prints it after 'substance (PRODUCT):'",
    "title": "the whole title of the letter",
    "salutation": "the salutation that opens the letter",
    "opening": "the opening sentence, after the salutation",
    "introduction": "a paragraph of the introduction, before the summary",
    "summary": "a bullet of the summary of key messages",
    "background_heading": "the heading of the background section",
    "background": "a paragraph of the background on the safety concern",
    "sections.heading": "the heading of a further section",
    "sections.paragraphs": "a paragraph of a further section",
    "reporting": "a paragraph after the authority's block in the call for reporting",
    "contact_points.department": "the department in the company contact line",
    "signatory_titles": "the title of a signatory, printed under the name",
    "address_sources": "an address source, printed at the end of the letter",
    "boilerplate": "replaces a standard wording of the letter",
}

_MARKUP_NOTE = (
    "Keep the markup as it is: **bold**, *italic*, [link text](https://…) and '- ' list "
    "items. Translate the link text, never the address."
)


def _field_key(steps: Sequence[Step]) -> str:
    return ".".join(step for step in steps if isinstance(step, str))


def _section_headings(folder: ContentFolder) -> dict[str, str]:
    """The heading each part of the letter is printed under, in the source language."""
    from dhpc_gen.i18n import Boilerplate, translations

    source = folder.source
    gettext: Callable[[str], str]
    try:
        words = Boilerplate(
            folder.meta.source_language,
            translations(folder.meta.source_language),
            overrides=source.boilerplate,
        )
        gettext = words.gettext
    except DhpcError:
        gettext = str
    return {
        "summary": gettext("Summary"),
        "background": source.background_heading or gettext("Background on the safety concern"),
        "reporting": gettext("Call for reporting"),
        "contact_points": gettext("Company contact point"),
        "address_sources": gettext("Address source"),
    }


def _unit_notes(item: TextField, folder: ContentFolder, headings: Mapping[str, str]) -> list[str]:
    steps = parse_field_path(item.path)
    key = _field_key(steps)
    help_text = _FIELD_HELP.get(key, _FIELD_HELP.get(key.split(".")[0], "text of the letter"))
    notes = [f"{item.kind}: {help_text}"]
    meta = folder.meta
    index = steps[1] if len(steps) > 1 and isinstance(steps[1], int) else None
    if key == "active_substances" and index is not None and index < len(meta.products):
        notes.append(f"product: {meta.products[index].name}")
    elif key == "contact_points.department" and index is not None and index < len(meta.mahs):
        notes.append(f"company: {meta.mahs[index].name}")
    elif key == "signatory_titles" and index is not None and index < len(meta.signatories):
        notes.append(f"signatory: {meta.signatories[index].name}")
    elif key == "boilerplate" and isinstance(steps[1], str):
        notes.append(f"standard wording (English): {steps[1]}")
    if key.startswith("sections.") and index is not None:
        notes.append(f"section: {folder.source.sections[index].heading}")
    elif steps[0] in headings:
        notes.append(f"section: {headings[str(steps[0])]}")
    if plain_text(item.text) != item.text:
        notes.append(_MARKUP_NOTE)
    return notes


def _current_translation(
    path: Path, source_fields: Sequence[TextField]
) -> tuple[dict[str, str], list[str]]:
    """Texts of the target file by field path, and warnings; empty when there is no file."""
    if not path.is_file():
        return {}, []
    shown = display_path(path)
    data, problems = read_yaml(path, shown)
    if data is None:
        raise ContentError(problems)
    try:
        text = LanguageText.model_validate(data)
    except ValidationError as exc:
        # A translation in progress: take what is there, field by field.
        found = {}
        for item in source_fields:
            value = value_at(data, parse_field_path(item.path))
            if isinstance(value, str) and value.strip():
                found[item.path] = value.strip()
        count = len(exc.errors())
        return found, [
            f"{shown} is not complete yet ({count} problem{'s' if count != 1 else ''}); "
            "the units it has no text for are marked new"
        ]
    return {item.path: item.text for item in text_fields(text)}, []


def _xml_text(value: str, where: str) -> str:
    bad = _XML_INVALID.search(value)
    if bad:
        raise DhpcError(
            f"{where}: contains the control character U+{ord(bad.group()):04X}, which XML "
            "cannot carry; remove it"
        )
    return value


def export_xliff(directory: Path, out: Path, *, target: str | None = None) -> ExportResult:
    """Write the XLIFF 1.2 file for translating the DHPC in ``directory`` into ``target``."""
    folder = read_folder(directory, campaign=True)
    language = _target_language(folder, target)
    target_path = directory / f"{language}.yaml"
    source_fields = list(text_fields(folder.source))
    current, warnings = _current_translation(target_path, source_fields)
    data = _xliff_document(
        folder,
        language,
        source_fields,
        current,
        target_sha256=sha256_bytes(target_path.read_bytes()) if target_path.is_file() else None,
    )
    atomic_write_bytes(out, data)
    translated = sum(1 for item in source_fields if item.path in current)
    logger.info("%s: %d units, %d translated", out, len(source_fields), translated)
    return ExportResult(out, language, len(source_fields), translated, tuple(warnings))


def _xliff_document(
    folder: ContentFolder,
    language: str,
    source_fields: Sequence[TextField],
    current: Mapping[str, str],
    *,
    target_sha256: str | None,
) -> bytes:
    """The XLIFF 1.2 document as UTF-8 bytes; the same inputs give the same bytes."""
    meta = folder.meta
    source_name = folder.source_path.name
    root = ET.Element("xliff", {"xmlns": XLIFF_NS, "version": "1.2"})
    file_element = ET.SubElement(
        root,
        "file",
        {
            "original": meta.id,
            "source-language": meta.source_language,
            "target-language": language,
            "datatype": "plaintext",
            "tool-id": TOOL_ID,
        },
    )
    header = ET.SubElement(file_element, "header")
    ET.SubElement(
        header,
        "tool",
        {"tool-id": TOOL_ID, "tool-name": "dhpc_gen", "tool-version": __version__},
    )
    props = ET.SubElement(header, "prop-group", {"name": PROP_GROUP})
    properties = {
        "dhpc-id": meta.id,
        "source-file": source_name,
        "source-sha256": sha256_bytes(folder.source_path.read_bytes()),
        "target-file": f"{language}.yaml",
    }
    if target_sha256 is not None:
        properties["target-sha256"] = target_sha256
    for name, value in properties.items():
        ET.SubElement(props, "prop", {"prop-type": name}).text = value
    products = ", ".join(p.name for p in meta.products)
    sent_to = (
        f"for {', '.join(folder.countries)}"
        if folder.countries
        else f"{meta.country}, {meta.date.isoformat()}"
    )
    ET.SubElement(header, "note").text = (
        f"Direct Healthcare Professional Communication {meta.id} ({products}; "
        f"{sent_to}). Translate each unit from "
        f"{meta.source_language} into {language}; keep the unit ids. Made from "
        f"{source_name} with SHA-256 {properties['source-sha256']}."
    )
    body = ET.SubElement(file_element, "body")
    headings = _section_headings(folder)
    for item in source_fields:
        where = f"{display_path(folder.source_path)} {item.path}"
        unit = ET.SubElement(
            body,
            "trans-unit",
            {"id": item.path, "resname": item.path, _XML_SPACE: "preserve"},
        )
        ET.SubElement(unit, "source").text = _xml_text(item.text, where)
        translation = current.get(item.path)
        if translation is None:
            ET.SubElement(unit, "target", {"state": "new"})
        else:
            target_element = ET.SubElement(unit, "target", {"state": "translated"})
            target_element.text = _xml_text(translation, f"{language}.yaml {item.path}")
        for note in _unit_notes(item, folder, headings):
            ET.SubElement(unit, "note", {"from": TOOL_ID}).text = note
    ET.indent(root, space="  ")
    # Plain tag names under an xmlns attribute: ET writes no ns0: prefixes that way.
    xml = ET.tostring(root, encoding="unicode")
    return ('<?xml version="1.0" encoding="UTF-8"?>\n' + xml + "\n").encode("utf-8")


def _q(tag: str) -> str:
    return f"{{{XLIFF_NS}}}{tag}"


# ---------------------------------------------------------------------------------------
# Reading an XLIFF file


@dataclass(frozen=True)
class XliffUnit:
    id: str
    source: str
    target: str | None
    """None when the unit has no ``<target>``; the text with its ends stripped otherwise."""
    state: str | None
    source_language: str | None = None
    """``xml:lang`` of the ``<source>``, when the tool wrote one."""
    target_language: str | None = None
    """``xml:lang`` of the ``<target>``, when the tool wrote one."""


@dataclass(frozen=True)
class XliffFile:
    shown: str
    original: str
    source_language: str
    target_language: str
    properties: Mapping[str, str]
    units: tuple[XliffUnit, ...]
    notes: tuple[str, ...] = ()
    """The header's notes (dhpc_gen's names the languages it was made for)."""


def _refuse_doctype(data: bytes, shown: str) -> None:
    """Parse once with expat, refusing any DOCTYPE before its declarations take effect."""

    class Refused(Exception):
        pass

    parser = expat.ParserCreate()

    def doctype(*_: object) -> None:
        raise Refused

    parser.StartDoctypeDeclHandler = doctype
    parser.EntityDeclHandler = doctype
    try:
        parser.Parse(data, True)
    except Refused:
        raise DhpcError(
            f"{shown}:{parser.CurrentLineNumber}: refusing a file with a DOCTYPE or entity "
            "declaration (XLIFF needs none; such files can be used to read local files or "
            "exhaust memory). Ask the vendor for a plain XLIFF 1.2 file"
        ) from None
    except expat.ExpatError as exc:
        raise DhpcError(
            f"{shown}:{exc.lineno}: not well-formed XML (column {exc.offset + 1}: "
            f"{expat.ErrorString(exc.code)})"
        ) from None


def _local(tag: str) -> tuple[str, str]:
    if tag.startswith("{"):
        namespace, _, name = tag[1:].partition("}")
        return namespace, name
    return "", tag


_INLINE_CONTAINERS = {"g", "mrk"}
_INLINE_NATIVE = {"ph", "bpt", "ept", "it"}


def _inline_text(element: ET.Element, shown: str, unit_id: str) -> str:
    """The text of a ``<source>`` or ``<target>``, through the inline elements that hold text."""
    parts = [element.text or ""]
    for child in element:
        namespace, name = _local(child.tag)
        if namespace == XLIFF_NS and name in _INLINE_CONTAINERS:
            parts.append(_inline_text(child, shown, unit_id))
        elif namespace == XLIFF_NS and name in _INLINE_NATIVE:
            parts.append("".join(child.itertext()))
        else:
            raise DhpcError(
                f"{shown}: unit {unit_id}: <{name}> inside <{_local(element.tag)[1]}> cannot be "
                "turned back into text; ask the vendor to keep the text plain (no placeholders)"
            )
        parts.append(child.tail or "")
    return "".join(parts)


def read_xliff(path: Path) -> XliffFile:
    """Read and check the structure of a vendor's XLIFF 1.2 file."""
    shown = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_XLIFF_BYTES:
            raise DhpcError(
                f"{shown}: larger than {MAX_XLIFF_BYTES >> 20} MB; not an XLIFF of a DHPC"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DhpcError(f"{shown}: cannot read the file: {exc.strerror}") from None
    return parse_xliff(data, shown)


def parse_xliff(data: bytes, shown: str) -> XliffFile:
    """Parse XLIFF 1.2 bytes; ``shown`` names the file in messages."""
    _refuse_doctype(data, shown)
    try:
        root = ET.fromstring(data)
    except ET.ParseError as exc:
        line, column = exc.position
        raise DhpcError(f"{shown}:{line}: not well-formed XML (column {column + 1})") from None
    namespace, name = _local(root.tag)
    if name == "xliff" and namespace == XLIFF_2_NS:
        raise DhpcError(f"{shown}: this is XLIFF 2.0; ask the vendor for XLIFF 1.2")
    if (namespace, name) != (XLIFF_NS, "xliff"):
        raise DhpcError(
            f"{shown}: not an XLIFF 1.2 file (the root element is <{name}>"
            + (f" in {namespace}" if namespace else " without namespace")
            + f'; expected <xliff xmlns="{XLIFF_NS}">)'
        )
    files = root.findall(_q("file"))
    if len(files) != 1:
        raise DhpcError(
            f"{shown}: has {len(files)} <file> elements; an XLIFF of one DHPC language has "
            "exactly one"
        )
    file_element = files[0]
    attributes = {}
    for attribute in ("original", "source-language", "target-language"):
        value = file_element.get(attribute, "").strip()
        if not value:
            raise DhpcError(f"{shown}: <file> has no {attribute} attribute")
        attributes[attribute] = value
    properties = {
        prop.get("prop-type", ""): (prop.text or "").strip()
        for group in file_element.iterfind(f"{_q('header')}/{_q('prop-group')}")
        if group.get("name") == PROP_GROUP
        for prop in group.iterfind(_q("prop"))
    }
    units = []
    for unit in file_element.iterfind(f"{_q('body')}//{_q('trans-unit')}"):
        unit_id = unit.get("id")
        if not unit_id:
            raise DhpcError(f"{shown}: a <trans-unit> has no id")
        if unit.get("translate", "yes") == "no":
            continue
        source = unit.find(_q("source"))
        if source is None:
            raise DhpcError(f"{shown}: unit {unit_id} has no <source>")
        target = unit.find(_q("target"))
        units.append(
            XliffUnit(
                unit_id,
                _inline_text(source, shown, unit_id).strip(),
                None if target is None else _inline_text(target, shown, unit_id).strip(),
                None if target is None else target.get("state"),
                source.get(_XML_LANG),
                None if target is None else target.get(_XML_LANG),
            )
        )
    notes = tuple(
        (note.text or "").strip() for note in file_element.iterfind(f"{_q('header')}/{_q('note')}")
    )
    return XliffFile(
        shown,
        attributes["original"],
        attributes["source-language"],
        attributes["target-language"],
        properties,
        tuple(units),
        notes,
    )


def _primary_language(tag: str) -> str:
    """``fi-FI`` and ``fi_FI`` → ``fi``: vendors' tools often add a region."""
    return tag.replace("_", "-").split("-")[0].strip().lower()


# ---------------------------------------------------------------------------------------
# Import


@dataclass(frozen=True)
class ImportResult:
    path: Path
    """The language file written (or that would be written with ``dry_run``)."""
    language: str
    changed: tuple[str, ...]
    """Field paths whose value was replaced."""
    added: tuple[str, ...]
    """Field paths the file did not have."""
    unchanged: int
    whitespace_only: tuple[str, ...]
    """Units that differ from the file only in spacing; the file's value is kept."""
    not_in_xliff: tuple[str, ...]
    """Fields of the source that have no unit in the XLIFF; left as they are."""
    extra_in_target: tuple[str, ...]
    """Fields the language file has and the source has not (``dhpc check`` flags them)."""
    written: bool
    warnings: tuple[str, ...] = ()


def _check_header(doc: XliffFile, folder: ContentFolder, wanted: str | None) -> str:
    """The target language of ``doc`` after checking it belongs to this DHPC."""
    meta = folder.meta
    shown_meta = display_path(folder.directory / META_FILE)
    if doc.original != meta.id:
        raise DhpcError(
            f"{doc.shown}: this XLIFF is for DHPC {doc.original!r}, not {meta.id!r} "
            f"({shown_meta}); import it into that DHPC's folder"
        )
    if _primary_language(doc.source_language) != meta.source_language:
        raise DhpcError(
            f"{doc.shown}: translated from {doc.source_language!r}, but the source language "
            f"of {meta.id} is {meta.source_language!r} ({shown_meta}); export the file again"
        )
    language = _primary_language(doc.target_language)
    if wanted is not None and language != wanted:
        raise DhpcError(
            f"{doc.shown}: its target language is {doc.target_language!r}, not {wanted!r}"
        )
    if language == meta.source_language:
        raise DhpcError(
            f"{doc.shown}: its target language {doc.target_language!r} is the source language "
            f"of {meta.id}"
        )
    if language not in meta.languages:
        raise DhpcError(
            f"{doc.shown}: its target language is {doc.target_language!r}, but {meta.id} is "
            f"sent in {', '.join(meta.languages)} ({shown_meta}); add it there first, or "
            "import the file meant for this DHPC"
        )
    return language


_NOTE_LANGUAGES = re.compile(r"Translate each unit from (\S+) into (\S+?);")


def _check_identity(doc: XliffFile, folder: ContentFolder, language: str) -> None:
    """Refuse a file whose header names another DHPC, file or language than it says.

    Every identity the header carries is compared: ``<file original>`` with the
    ``dhpc-id`` property, the languages with ``source-file``/``target-file`` and with
    dhpc_gen's note, each unit's ``xml:lang``, and the SHA-256 properties with the
    folder's files (a hash of another language's file gives the file away).
    """
    props = doc.properties
    source_language = _primary_language(doc.source_language)
    problems: list[str] = []
    meant: list[str] = []
    """Target languages the rest of the header names instead."""

    exported_id = props.get("dhpc-id")
    if exported_id and exported_id != doc.original:
        problems.append(f"<file original> says {doc.original!r}, dhpc-id says {exported_id!r}")
    source_file = props.get("source-file")
    if source_file and source_file != f"{source_language}.yaml":
        problems.append(
            f"<file source-language> says {doc.source_language!r}, source-file says {source_file!r}"
        )
    elif source_file and source_file != folder.source_path.name:
        problems.append(
            f"source-file says {source_file!r}, the DHPC's source is {folder.source_path.name}"
        )
    target_file = props.get("target-file")
    if target_file and target_file != f"{language}.yaml":
        problems.append(
            f"<file target-language> says {doc.target_language!r}, target-file says {target_file!r}"
        )
        meant.append(target_file.removesuffix(".yaml"))
    for note in doc.notes:
        said = _NOTE_LANGUAGES.search(note)
        if said is None:
            continue
        if _primary_language(said[1]) != source_language:
            problems.append(f"the header's <note> says it translates from {said[1]!r}")
        if _primary_language(said[2]) != language:
            problems.append(f"the header's <note> says it translates into {said[2]!r}")
            meant.append(_primary_language(said[2]))
    for unit in doc.units:
        for element, tag, wanted in (
            ("<source>", unit.source_language, source_language),
            ("<target>", unit.target_language, language),
        ):
            if tag and _primary_language(tag) != wanted:
                problems.append(f"unit {unit.id}: the xml:lang of its {element} says {tag!r}")
                if element == "<target>":
                    meant.append(_primary_language(tag))
                break
    hashes: dict[str, list[str]] = {}
    for path in sorted(folder.directory.glob("*.yaml")):
        if path.is_file() and not path.is_symlink():
            hashes.setdefault(sha256_bytes(path.read_bytes()), []).append(path.name)
    for prop, expected in (
        ("source-sha256", folder.source_path.name),
        ("target-sha256", f"{language}.yaml"),
    ):
        owners = hashes.get(props.get(prop, ""), [])
        if owners and expected not in owners:
            problems.append(f"{prop} is the SHA-256 of {owners[0]}, not of {expected}")
            if prop == "target-sha256":
                meant.append(owners[0].removesuffix(".yaml"))
    if not problems:
        return
    others = sorted(set(meant) - {language})
    hint = (
        f"it looks like the file exported for {' or '.join(map(repr, others))}; " if others else ""
    )
    raise DhpcError(
        f"{doc.shown}: its header contradicts itself or this folder ("
        + "; ".join(problems)
        + f"): {hint}nothing was imported. Ask the vendor for the file as it was exported, "
        "or export again for the language it is meant for"
    )


def _check_language(doc: XliffFile, units: Sequence[XliffUnit], language: str) -> None:
    """Refuse targets that read as another language than the file's target language."""
    found = reads_as_other([unit.target or "" for unit in units], language)
    if found is None:
        return
    other, scores = found
    theirs = vocabularies().get(language, frozenset())
    examples = [word for word in scores.shared[other] if word not in theirs]
    copied = [unit.id for unit in units if unit.target and same_words(unit.target, unit.source)]
    untranslated = (
        f"; {len(copied)} of its {len(units)} units have the source text as translation"
        if other == _primary_language(doc.source_language) and copied
        else ""
    )
    raise DhpcError(
        f"{doc.shown}: its target-language is {doc.target_language!r}, but its translations "
        f"read as {other!r}: words of the {other!r} catalog such as "
        + ", ".join(repr(word) for word in examples[:6])
        + f" (score {scores.scores[other]:.0f} for {other!r}, {scores.scores[language]:.0f} "
        f"for {language!r}){untranslated}. Nothing was imported; if the text really is "
        f"{language!r}, import it with --skip-language-check"
    )


def _checked_units(
    doc: XliffFile, folder: ContentFolder, source: Mapping[str, str], allow_changed_source: bool
) -> list[XliffUnit]:
    seen: set[str] = set()
    duplicates = []
    for unit in doc.units:
        if unit.id in seen:
            duplicates.append(unit.id)
        seen.add(unit.id)
    if duplicates:
        raise DhpcError(f"{doc.shown}: units appear twice: {shown_list(duplicates)}")
    shown_source = display_path(folder.source_path)
    unknown = [unit.id for unit in doc.units if unit.id not in source]
    if unknown:
        raise DhpcError(
            f"{doc.shown}: {len(unknown)} unit id{'s are' if len(unknown) != 1 else ' is'} not "
            f"a text field of {shown_source}: {shown_list(unknown)}. Export the file again "
            "and have the vendor translate that one"
        )
    stale = [unit.id for unit in doc.units if not same_words(unit.source, source[unit.id])]
    if stale and not allow_changed_source:
        exported = doc.properties.get("source-sha256")
        now = sha256_bytes(folder.source_path.read_bytes())
        since = (
            f" ({shown_source} changed since the export: SHA-256 {exported[:12]}… → {now[:12]}…)"
            if exported and exported != now
            else ""
        )
        raise DhpcError(
            f"{doc.shown}: the source text of {len(stale)} unit{'s' if len(stale) != 1 else ''} "
            f"is not the text of {shown_source}{since}: {shown_list(stale)}. Export again and "
            "send the new file to the vendor, or import anyway with --allow-changed-source"
        )
    empty = [unit.id for unit in doc.units if not unit.target]
    if empty:
        raise DhpcError(
            f"{doc.shown}: {len(empty)} unit{'s have' if len(empty) != 1 else ' has'} no "
            f"translation: {shown_list(empty)}. Nothing was imported; ask the vendor for the "
            "complete file"
        )
    return list(doc.units)


def import_xliff(
    directory: Path,
    xliff_path: Path,
    *,
    target: str | None = None,
    allow_changed_source: bool = False,
    check_language: bool = True,
    dry_run: bool = False,
) -> ImportResult:
    """Write the translations of a vendor's XLIFF into ``<directory>/<lang>.yaml``.

    Checks the file belongs to this DHPC and language (every identity its header
    carries, and, unless ``check_language`` is off, that its translations do not read as
    another language) before anything is written; writes atomically; loads the DHPC
    afterwards and restores the file if the result does not validate.
    """
    folder = read_folder(directory, campaign=True)
    doc = read_xliff(xliff_path)
    language = _check_header(doc, folder, target)
    _check_identity(doc, folder, language)
    source_fields = list(text_fields(folder.source))
    source = {item.path: item.text for item in source_fields}
    units = _checked_units(doc, folder, source, allow_changed_source)
    if check_language:
        _check_language(doc, units, language)
    warnings = []
    exported_source = doc.properties.get("source-sha256")
    if exported_source and exported_source != sha256_bytes(folder.source_path.read_bytes()):
        warnings.append(
            f"{display_path(folder.source_path)} changed since the export; "
            + (
                "the units' source texts are still the same"
                if all(same_words(u.source, source[u.id]) for u in units)
                else "imported anyway (--allow-changed-source)"
            )
        )

    target_path = directory / f"{language}.yaml"
    shown_target = display_path(target_path)
    outside = link_outside_problem(target_path, shown_target)
    if outside is not None:
        raise ContentError([outside])
    original = target_path.read_bytes() if target_path.is_file() else None
    exported_target = doc.properties.get("target-sha256")
    if exported_target and (original is None or sha256_bytes(original) != exported_target):
        warnings.append(
            f"{shown_target} changed since the export: the imported units replace what it "
            "says now (check with a diff)"
        )
    text, bom = decode_text(original, shown_target)
    order = {path: index for index, path in enumerate(source)}
    updates = [(unit.id, unit.target or "") for unit in sorted(units, key=lambda u: order[u.id])]
    outcome = edit_language_file(text, updates, language=language, shown=shown_target)
    warnings += outcome.warnings
    in_xliff = {unit.id for unit in units}
    not_in_xliff = tuple(path for path in source if path not in in_xliff)
    new_bytes = (("\ufeff" if bom else "") + outcome.text).encode("utf-8")

    written = False
    if not dry_run and new_bytes != original:
        private = original is not None and target_path.stat().st_mode & 0o077 == 0
        atomic_write_bytes(target_path, new_bytes, private=private)
        written = True
        logger.info(
            "%s: %d changed, %d added", shown_target, len(outcome.changed), len(outcome.added)
        )
        warnings += validate_or_restore(directory, target_path, original, doc.shown)
    return ImportResult(
        target_path,
        language,
        outcome.changed,
        outcome.added,
        len(updates) - len(outcome.changed) - len(outcome.added) - len(outcome.whitespace_only),
        outcome.whitespace_only,
        not_in_xliff,
        _extra_fields(outcome.text, source),
        written,
        tuple(warnings),
    )


def _extra_fields(text: str, source: Mapping[str, str]) -> tuple[str, ...]:
    """Text fields of a language file that the source has not (a bullet dropped there)."""
    try:
        data = rt_yaml().load(text)
        fields = text_fields(LanguageText.model_validate(data))
        return tuple(item.path for item in fields if item.path not in source)
    except (YAMLError, ValidationError):
        return ()
