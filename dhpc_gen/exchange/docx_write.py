"""``dhpc export-docx``: one language of a DHPC as an editable Word document.

The document reads like the letter (the sections of the EMA template in the letter's
order, the summary in a box, the authority's reporting block, the signatories) and is
built from real Word styles: ``Title``, ``Heading 1`` for the template's sections,
``Heading 2`` for further sections, ``List Bullet`` for bullets. An authority or a
reviewer can comment on it and track changes; ``dhpc import-docx`` reads it back. The
document's properties name the DHPC, the language and the SHA-256 of the content it
was made from. The same content always gives the same bytes.
"""

from __future__ import annotations

import datetime as dt
import io
import logging
import zipfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path

import docx
from docx.document import Document
from docx.opc.constants import RELATIONSHIP_TYPE as RT
from docx.opc.packuri import PackURI
from docx.opc.part import Part
from docx.oxml import OxmlElement
from docx.oxml.ns import qn
from docx.shared import Cm, Pt, RGBColor
from docx.table import _Cell
from docx.text.paragraph import Paragraph
from lxml import etree

from dhpc_gen import __version__
from dhpc_gen.build import content_hash
from dhpc_gen.content.loader import META_FILE
from dhpc_gen.content.model import Dhpc, LanguageText
from dhpc_gen.errors import ContentError, Problem, RenderError, UsageError, display_path
from dhpc_gen.exchange.docx_markup import Block, Span, field_blocks, inline_spans
from dhpc_gen.exchange.folder import read_folder, validated
from dhpc_gen.fsutil import atomic_write_bytes
from dhpc_gen.i18n import Boilerplate, translations
from dhpc_gen.render.letter import compose_title, letter_view

logger = logging.getLogger(__name__)
logger.addHandler(logging.NullHandler())

CUSTOM_PROPERTIES_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"
VT_NS = "http://schemas.openxmlformats.org/officeDocument/2006/docPropsVTypes"
_CUSTOM_FMTID = "{D5CDD505-2E9C-101B-9397-08002B2CF9AE}"
PROPERTY_ID = "dhpc-id"
PROPERTY_LANGUAGE = "dhpc-language"
PROPERTY_CONTENT = "dhpc-content-sha256"
PROPERTY_STATUS = "dhpc-status"
PROPERTY_TOOL = "dhpc-tool"

_FONT = "Arial"
_BOX_FILL = "EEF2F7"


@dataclass(frozen=True)
class DocxExportResult:
    path: Path
    language: str
    paragraphs: int
    content_sha256: str
    """SHA-256 of ``dhpc.yaml`` and the language file the document was made from (a
    campaign's national letter: the hash ``dhpc build`` records for it)."""
    text: str = "the letter"
    """Which text the document is, in words: a campaign's ``BE's national letter …`` or
    ``the shared fr text …``."""


def language_dhpc(directory: Path, language: str | None) -> Dhpc:
    """The DHPC with only ``dhpc.yaml`` and one language file read (others may be drafts)."""
    folder = read_folder(directory)
    meta = folder.meta
    shown_meta = display_path(directory / META_FILE)
    wanted = language or meta.source_language
    if wanted not in meta.languages:
        raise UsageError(
            f"--lang {wanted}: {meta.id} is sent in {', '.join(meta.languages)} ({shown_meta})"
        )
    path = directory / f"{wanted}.yaml"
    text = folder.source if wanted == meta.source_language else validated(LanguageText, path)
    if text.language != wanted:
        raise ContentError(
            [Problem(display_path(path), "language", f"says {text.language!r}, not {wanted!r}")]
        )
    return Dhpc(directory, meta, {wanted: text}, (directory / META_FILE, path))


def export_docx(
    directory: Path,
    out: Path | None = None,
    *,
    language: str | None = None,
    country: str | None = None,
) -> DocxExportResult:
    """Write one language of the DHPC in ``directory`` as a Word document.

    A campaign: ``country``'s national letter, or without it the language's shared text
    (:mod:`dhpc_gen.exchange.docx_campaign`).
    """
    from dhpc_gen.exchange.docx_campaign import campaign_export, is_campaign

    if is_campaign(directory):
        made = campaign_export(directory, language, country)
        target = out or made.default_path
        data, paragraphs = docx_bytes(
            made.dhpc,
            made.language,
            content_sha256=made.content_sha256,
            properties=made.properties,
            comment=made.comment,
        )
        atomic_write_bytes(target, data)
        logger.info("%s: %d paragraphs", target, paragraphs)
        return DocxExportResult(
            target, made.language, paragraphs, made.content_sha256, made.described
        )
    dhpc = language_dhpc(directory, language)
    if country is not None and country.upper() != dhpc.meta.country:
        raise UsageError(f"--country {country}: {dhpc.id} is for {dhpc.meta.country}")
    language = next(iter(dhpc.texts))
    target = out or Path("output") / dhpc.id / f"{dhpc.id}_{language}.docx"
    data, paragraphs = docx_bytes(dhpc, language)
    atomic_write_bytes(target, data)
    digest = content_hash(dhpc)
    logger.info("%s: %d paragraphs", target, paragraphs)
    return DocxExportResult(
        target, language, paragraphs, digest, f"the letter for {dhpc.meta.country}"
    )


def docx_bytes(
    dhpc: Dhpc,
    language: str,
    *,
    content_sha256: str | None = None,
    properties: Mapping[str, str] | None = None,
    comment: str | None = None,
) -> tuple[bytes, int]:
    """The Word document of ``language`` and its number of paragraphs.

    ``content_sha256`` (default: :func:`content_hash` of ``dhpc``), further custom
    ``properties`` and the ``comment`` of the core properties are a campaign's.
    """
    text = dhpc.text(language)
    words = Boilerplate(language, translations(language), overrides=dict(text.boilerplate))
    view = letter_view(dhpc, language, words)
    _ = words.gettext
    writer = _Writer(docx.Document(), dhpc, language)

    writer.header([str(getattr(mah, "name", "")) for mah in view.mahs], draft=view.draft)
    writer.plain(view.date)
    writer.paragraph(inline_spans(compose_title(dhpc, text)), style="Title")
    writer.plain(view.salutation)
    writer.paragraph(inline_spans(text.opening))
    for paragraph in text.introduction:
        writer.blocks(field_blocks(paragraph))

    box = writer.box()
    writer.paragraph((Span(_("Summary")),), style="Heading 1", container=box)
    for bullet in text.summary:
        writer.paragraph(inline_spans(bullet), style="List Bullet", container=box)

    writer.paragraph((Span(view.background_heading),), style="Heading 1")
    for paragraph in text.background:
        writer.blocks(field_blocks(paragraph))
    for section in text.sections:
        writer.paragraph(inline_spans(section.heading), style="Heading 2")
        for paragraph in section.paragraphs:
            writer.blocks(field_blocks(paragraph))

    writer.paragraph((Span(_("Call for reporting")),), style="Heading 1")
    writer.plain(view.regulator.call_for_reporting)
    writer.lines(view.regulator.contact_lines, indent=True)
    for paragraph in text.reporting:
        writer.blocks(field_blocks(paragraph))
    if view.additional_monitoring:
        writer.plain(
            "▼ "
            + _(
                "This medicinal product is subject to additional monitoring. This will allow "
                "quick identification of new safety information."
            )
        )

    writer.paragraph((Span(_("Company contact point")),), style="Heading 1")
    for contact in view.contacts:
        writer.plain(contact)
    writer.plain(_("Yours sincerely,"))
    for person in view.signatories:
        writer.lines([person.name, f"{person.title}, {person.company}"])
    if view.address_sources:
        writer.plain(f"{_('Address source')}: {', '.join(view.address_sources)}")
    if words.missing:
        raise RenderError(
            f"locales/{language}/LC_MESSAGES/messages.po has no translation for: "
            + "; ".join(sorted(repr(m) for m in words.missing))
        )
    writer.properties(
        view.title,
        _("Direct healthcare professional communication"),
        content_sha256=content_sha256,
        extra=properties or {},
        comment=comment,
    )
    return writer.save(), writer.count


def _tag(language: str, country: str) -> str:
    return f"{language}-{country}"


class _Writer:
    """Builds the document paragraph by paragraph with python-docx."""

    def __init__(self, document: Document, dhpc: Dhpc, language: str) -> None:
        self.document = document
        self.dhpc = dhpc
        self.language = language
        self.count = 0
        self._styles()
        section = document.sections[0]
        section.page_width, section.page_height = Cm(21), Cm(29.7)
        section.left_margin = section.right_margin = Cm(2.2)
        section.top_margin, section.bottom_margin = Cm(2), Cm(2)

    def _styles(self) -> None:
        styles = self.document.styles
        normal = styles["Normal"]
        normal.font.name = _FONT
        normal.font.size = Pt(10.5)
        normal.paragraph_format.space_after = Pt(6)
        for name, size in (("Title", 14), ("Heading 1", 12), ("Heading 2", 11)):
            style = styles[name]
            style.font.name = _FONT
            style.font.size = Pt(size)
            style.font.bold = True
            style.font.color.rgb = RGBColor(0, 0, 0)
            fonts = style.element.rPr.find(qn("w:rFonts"))
            for theme in ("w:asciiTheme", "w:hAnsiTheme", "w:eastAsiaTheme", "w:cstheme"):
                fonts.attrib.pop(qn(theme), None)
        # The language of the text, for spelling and hyphenation in Word.
        defaults = styles.element.find(qn("w:docDefaults"))
        run_defaults = defaults.find(qn("w:rPrDefault")) if defaults is not None else None
        properties = run_defaults.find(qn("w:rPr")) if run_defaults is not None else None
        if properties is not None:
            lang = properties.find(qn("w:lang"))
            if lang is None:
                lang = OxmlElement("w:lang")
                properties.append(lang)
            lang.set(qn("w:val"), _tag(self.language, self.dhpc.meta.country))

    def header(self, names: Sequence[str], *, draft: bool) -> None:
        header = self.document.sections[0].header
        first = header.paragraphs[0]
        first.add_run(", ".join(names)).bold = True
        if draft:
            words = Boilerplate(self.language, translations(self.language))
            first.add_run(f"\t{words.gettext('DRAFT')}")

    def plain(self, text: str) -> None:
        self.paragraph((Span(text),))

    def lines(self, lines: Sequence[str], *, indent: bool = False) -> None:
        """One paragraph whose lines are separated by line breaks (an address block)."""
        paragraph = self._new("Normal", None)
        for index, line in enumerate(lines):
            run = paragraph.add_run(line)
            if index < len(lines) - 1:
                run.add_break()
        if indent:
            paragraph.paragraph_format.left_indent = Cm(1)

    def blocks(self, blocks: Sequence[Block]) -> None:
        for block in blocks:
            self.paragraph(block.spans, style="List Bullet" if block.item else "Normal")

    def box(self) -> _Cell:
        """A one-cell table with a border and a light fill: the letter's summary box."""
        table = self.document.add_table(rows=1, cols=1)
        cell: _Cell = table.cell(0, 0)
        borders = OxmlElement("w:tblBorders")
        for edge in ("top", "left", "bottom", "right"):
            element = OxmlElement(f"w:{edge}")
            element.set(qn("w:val"), "single")
            element.set(qn("w:sz"), "8")
            element.set(qn("w:space"), "0")
            element.set(qn("w:color"), "000000")
            borders.append(element)
        table._tbl.tblPr.append(borders)
        shading = OxmlElement("w:shd")
        shading.set(qn("w:val"), "clear")
        shading.set(qn("w:color"), "auto")
        shading.set(qn("w:fill"), _BOX_FILL)
        cell._tc.get_or_add_tcPr().append(shading)
        return cell

    def _new(self, style: str, container: _Cell | None) -> Paragraph:
        self.count += 1
        if container is not None:
            paragraph: Paragraph = container.paragraphs[0]
            if len(container.paragraphs) == 1 and not paragraph.runs:
                paragraph.style = self.document.styles[style]
                return paragraph
            paragraph = container.add_paragraph(style=style)
            return paragraph
        paragraph = self.document.add_paragraph(style=style)
        return paragraph

    def paragraph(
        self, spans: Sequence[Span], *, style: str = "Normal", container: _Cell | None = None
    ) -> None:
        paragraph = self._new(style, container)
        for span in spans:
            if span.link is not None:
                self._hyperlink(paragraph, span)
                continue
            run = paragraph.add_run(span.text)
            run.bold = span.bold or None
            run.italic = span.italic or None

    def _hyperlink(self, paragraph: Paragraph, span: Span) -> None:
        assert span.link is not None
        rid = self.document.part.relate_to(span.link, RT.HYPERLINK, is_external=True)
        link = OxmlElement("w:hyperlink")
        link.set(qn("r:id"), rid)
        run = OxmlElement("w:r")
        properties = OxmlElement("w:rPr")
        if span.bold:
            properties.append(OxmlElement("w:b"))
        if span.italic:
            properties.append(OxmlElement("w:i"))
        color = OxmlElement("w:color")
        color.set(qn("w:val"), "0563C1")
        properties.append(color)
        underline = OxmlElement("w:u")
        underline.set(qn("w:val"), "single")
        properties.append(underline)
        run.append(properties)
        text = OxmlElement("w:t")
        text.text = span.text
        text.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
        run.append(text)
        link.append(run)
        paragraph._p.append(link)

    def properties(
        self,
        title: str,
        subject: str,
        *,
        content_sha256: str | None = None,
        extra: Mapping[str, str],
        comment: str | None = None,
    ) -> None:
        meta = self.dhpc.meta
        moment = dt.datetime(meta.date.year, meta.date.month, meta.date.day, tzinfo=dt.UTC)
        core = self.document.core_properties
        core.title = title
        core.subject = subject
        core.author = ", ".join(mah.name for mah in meta.mahs)
        core.keywords = ", ".join(["DHPC", *(p.name for p in meta.products)])
        core.language = _tag(self.language, meta.country)
        core.identifier = meta.id
        core.category = "DHPC"
        core.content_status = meta.status
        core.comments = (
            f"{meta.id} ({self.language}) made by dhpc_gen {__version__}. Edit the text, keep "
            "the headings; dhpc import-docx reads it back."
            if comment is None
            else f"{comment} Made by dhpc_gen {__version__}. Edit the text, keep the headings; "
            "dhpc import-docx reads it back."
        )
        core.last_modified_by = "dhpc_gen"
        core.revision = 1
        core.created = core.modified = moment
        package = self.document.part.package
        for rid, rel in list(package.rels.items()):
            if rel.reltype == RT.THUMBNAIL:
                del package.rels[rid]
        values = {
            PROPERTY_ID: meta.id,
            PROPERTY_LANGUAGE: self.language,
            PROPERTY_STATUS: meta.status,
            PROPERTY_CONTENT: content_sha256 or content_hash(self.dhpc),
            PROPERTY_TOOL: f"dhpc_gen {__version__}",
            **extra,
        }
        part = Part(
            PackURI("/docProps/custom.xml"),
            "application/vnd.openxmlformats-officedocument.custom-properties+xml",
            _custom_properties(values),
            package,
        )
        package.relate_to(part, RT.CUSTOM_PROPERTIES)

    def save(self) -> bytes:
        buffer = io.BytesIO()
        self.document.save(buffer)
        return _reproducible(buffer.getvalue(), self.dhpc.meta.date)


def _custom_properties(values: dict[str, str]) -> bytes:
    root = etree.Element(
        f"{{{CUSTOM_PROPERTIES_NS}}}Properties", nsmap={None: CUSTOM_PROPERTIES_NS, "vt": VT_NS}
    )
    for pid, (name, value) in enumerate(values.items(), start=2):
        prop = etree.SubElement(
            root,
            f"{{{CUSTOM_PROPERTIES_NS}}}property",
            fmtid=_CUSTOM_FMTID,
            pid=str(pid),
            name=name,
        )
        etree.SubElement(prop, f"{{{VT_NS}}}lpwstr").text = value
    data: bytes = etree.tostring(root, xml_declaration=True, encoding="UTF-8", standalone=True)
    return data


def _reproducible(data: bytes, date: dt.date) -> bytes:
    """The same package with every member dated ``date``: same content, same bytes."""
    out = io.BytesIO()
    stamp = (date.year, date.month, date.day, 0, 0, 0)
    with zipfile.ZipFile(io.BytesIO(data)) as source, zipfile.ZipFile(out, "w") as target:
        for info in source.infolist():
            if info.filename == "docProps/thumbnail.jpeg":
                continue
            member = zipfile.ZipInfo(info.filename, date_time=stamp)
            member.compress_type = zipfile.ZIP_DEFLATED
            member.external_attr = 0o644 << 16
            target.writestr(member, source.read(info))
    return out.getvalue()
