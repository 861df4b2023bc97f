"""What a Word document says: its paragraphs, tracked changes and comments.

python-docx opens the package (after :mod:`.docx_package` has checked it) and gives its
parts, styles and relationships; the body is walked here because python-docx has no API
for what an authority sends back: tracked insertions and deletions (``w:ins``,
``w:del``, ``w:moveFrom``/``w:moveTo``), formatting changes (``w:rPrChange``), deleted
paragraph marks and table rows, and comments (``word/comments.xml`` anchored by
``w:commentRangeStart``/``End`` and ``w:commentReference``).

Every paragraph (``w:p``, in table cells too) is numbered from 1 in document order, as
Word counts them; messages name that number. The text read is the text as it reads with
every change accepted; each change is kept as a :class:`Revision` with its paragraph.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Iterator, Mapping, Sequence
from dataclasses import dataclass, field, replace
from typing import Any

from docx.opc.constants import RELATIONSHIP_TYPE as RT

from dhpc_gen.exchange.docx_markup import LINK_SCHEMES, Span
from dhpc_gen.exchange.docx_package import DocxPackage, parse_xml

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
MC_NS = "http://schemas.openxmlformats.org/markup-compatibility/2006"
W15_NS = "http://schemas.microsoft.com/office/word/2012/wordml"
W14_NS = "http://schemas.microsoft.com/office/word/2010/wordml"
_CUSTOM_NS = "http://schemas.openxmlformats.org/officeDocument/2006/custom-properties"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


_FALSE = ("0", "false", "off", "none")


@dataclass(frozen=True)
class Revision:
    """One tracked change."""

    paragraph: int
    kind: str
    """``inserted``, ``deleted``, ``formatted``, ``paragraph inserted``, ``paragraph deleted``,
    ``row inserted`` or ``row deleted``."""
    text: str
    author: str
    date: str


@dataclass(frozen=True)
class DocParagraph:
    """One paragraph as it reads with every tracked change accepted."""

    number: int
    numbers: tuple[int, ...]
    """This paragraph's number and those of paragraphs merged into it (deleted marks)."""
    style: str
    level: int | None
    """0 for a title style, 1… for heading styles, None for body text."""
    list_item: bool
    in_table: bool
    bold: bool
    """Every letter is bold (by the run, its character style or the paragraph style)."""
    spans: tuple[Span, ...]
    """Text and formatting; ``\\n`` where the paragraph has a line break."""
    images: tuple[str, ...] = ()

    @property
    def text(self) -> str:
        return "".join(span.text for span in self.spans)


@dataclass(frozen=True)
class DocComment:
    id: str
    author: str
    date: str
    text: str
    anchor: str
    """The text the comment is attached to (empty for a comment at one point)."""
    paragraphs: tuple[int, ...]
    reply_to: str | None = None


@dataclass(frozen=True)
class Note:
    """Something read but not imported, at a paragraph (0: the document as a whole)."""

    paragraph: int
    message: str


@dataclass(frozen=True)
class WordDocument:
    shown: str
    paragraphs: tuple[DocParagraph, ...]
    """Non-empty paragraphs, changes accepted, in reading order."""
    revisions: tuple[Revision, ...]
    comments: tuple[DocComment, ...]
    properties: Mapping[str, str]
    notes: tuple[Note, ...]
    original: tuple[DocParagraph, ...] = ()
    """The same paragraphs with every change rejected: the text before the changes."""


# --- styles and numbering ----------------------------------------------------------------


@dataclass(frozen=True)
class _Style:
    name: str
    based_on: str | None
    level: int | None
    numbered: bool | None
    bold: bool | None
    italic: bool | None


def _toggle(properties: Any, tag: str) -> bool | None:
    if properties is None:
        return None
    element = properties.find(w(tag))
    if element is None:
        return None
    return element.get(w("val"), "true").lower() not in _FALSE


class _Styles:
    def __init__(self, root: Any) -> None:
        self.styles: dict[str, _Style] = {}
        self.default_paragraph = "Normal"
        for element in root.iter(w("style")) if root is not None else ():
            style_id = element.get(w("styleId"), "")
            name_element = element.find(w("name"))
            name = name_element.get(w("val"), style_id) if name_element is not None else style_id
            based = element.find(w("basedOn"))
            ppr = element.find(w("pPr"))
            outline = ppr.find(w("outlineLvl")) if ppr is not None else None
            num = ppr.find(w("numPr")) if ppr is not None else None
            num_id = num.find(w("numId")) if num is not None else None
            rpr = element.find(w("rPr"))
            self.styles[style_id] = _Style(
                name,
                based.get(w("val")) if based is not None else None,
                int(outline.get(w("val"), "9")) if outline is not None else None,
                (num_id.get(w("val"), "0") != "0") if num_id is not None else None,
                _toggle(rpr, "b"),
                _toggle(rpr, "i"),
            )
            if element.get(w("type")) == "paragraph" and element.get(w("default")) in ("1", "true"):
                self.default_paragraph = style_id

    def chain(self, style_id: str | None) -> Iterator[_Style]:
        seen = set()
        current = style_id
        while current and current in self.styles and current not in seen:
            seen.add(current)
            style = self.styles[current]
            yield style
            current = style.based_on

    def first(self, style_id: str | None, attribute: str) -> Any:
        for style in self.chain(style_id):
            value = getattr(style, attribute)
            if value is not None:
                return value
        return None

    def name(self, style_id: str | None) -> str:
        style = self.styles.get(style_id or "")
        return style.name if style else (style_id or "")

    def level(self, style_id: str | None) -> int | None:
        for style in self.chain(style_id):
            lowered = style.name.lower()
            if lowered == "title":
                return 0
            match = re.fullmatch(r"heading\s*(\d)", lowered)
            if match:
                return int(match.group(1))
            if style.level is not None and style.level < 9:
                return style.level + 1
        return None


# --- walking the body --------------------------------------------------------------------


@dataclass(frozen=True)
class _Raw:
    """One paragraph in both readings: every change accepted, and every change rejected."""

    accepted: DocParagraph
    original: DocParagraph
    mark_deleted: bool = False
    mark_inserted: bool = False


@dataclass
class _Piece:
    text: str
    bold: bool
    """Bold by the run itself or its character style: markup."""
    italic: bool
    link: str | None
    state: str  # kept | inserted | deleted
    shown_bold: bool = False
    """Bold as shown, the paragraph style's bold included (a heading typed in bold)."""


@dataclass
class _Field:
    instruction: str = ""
    in_result: bool = False


@dataclass
class _ParagraphState:
    number: int
    pieces: list[_Piece] = field(default_factory=list)
    images: list[str] = field(default_factory=list)
    revisions: list[Revision] = field(default_factory=list)
    fields: list[_Field] = field(default_factory=list)


class _Reader:
    def __init__(self, package: DocxPackage) -> None:
        self.package = package
        document = package.document
        part = document.part
        self.links: dict[str, tuple[str, bool]] = {
            rid: (rel.target_ref, rel.is_external) for rid, rel in part.rels.items()
        }
        self.styles = _Styles(document.styles.element)
        self.number = 0
        self.raw: list[_Raw] = []
        self.revisions: list[Revision] = []
        self.notes: list[Note] = []
        self.open_comments: dict[str, list[str]] = {}
        self.comment_paragraphs: dict[str, list[int]] = {}
        self.comment_anchor: dict[str, list[str]] = {}

    # blocks

    def blocks(self, parent: Any, in_table: bool) -> None:
        for child in parent:
            tag = child.tag
            if tag == w("p"):
                self.paragraph(child, in_table)
            elif tag == w("tbl"):
                self.table(child)
            elif tag in (w("sdt"),):
                content = child.find(w("sdtContent"))
                if content is not None:
                    self.blocks(content, in_table)
            elif tag in (w("customXml"), w("ins"), w("moveTo"), w("del"), w("moveFrom")):
                self.blocks(child, in_table)
            elif tag == w("altChunk"):
                self.notes.append(
                    Note(
                        self.number + 1,
                        "an embedded document (altChunk) cannot be read; paste its text in",
                    )
                )
            elif tag in (w("commentRangeStart"), w("commentRangeEnd")):
                self.comment_mark(child, self.number + 1)

    def table(self, table: Any) -> None:
        for row in table.iter(w("tr")):
            if row.getparent() is not table and not self._own_row(table, row):
                continue
            trpr = row.find(w("trPr"))
            row_state = "kept"
            if trpr is not None:
                if trpr.find(w("del")) is not None:
                    row_state = "deleted"
                elif trpr.find(w("ins")) is not None:
                    row_state = "inserted"
            cells = [cell for cell in row if cell.tag in (w("tc"), w("sdt"))]
            start = len(self.raw)
            for cell in cells:
                if cell.tag == w("sdt"):
                    content = cell.find(w("sdtContent"))
                    cell = content.find(w("tc")) if content is not None else None
                    if cell is None:
                        continue
                self.blocks(cell, in_table=True)
            added = self.raw[start:]
            if row_state != "kept":
                change = trpr.find(w("del" if row_state == "deleted" else "ins"))
                view = "original" if row_state == "deleted" else "accepted"
                text = " ".join(getattr(r, view).text for r in added).strip()
                self.revisions.append(
                    Revision(
                        added[0].accepted.number if added else self.number,
                        f"row {row_state}",
                        text,
                        change.get(w("author"), ""),
                        change.get(w("date"), ""),
                    )
                )
                # The row's paragraphs are gone in one of the readings.
                self.raw[start:] = [
                    replace(r, accepted=replace(r.accepted, spans=()), mark_deleted=True)
                    if row_state == "deleted"
                    else replace(r, original=replace(r.original, spans=()), mark_inserted=True)
                    for r in added
                ]
                added = self.raw[start:]
            # A row of one-paragraph cells reads as one line: "Website: | www.hpra.ie".
            if len(cells) > 1 and len(added) == len(cells) and row_state == "kept":
                merged = _Raw(
                    _join_cells([r.accepted for r in added]),
                    _join_cells([r.original for r in added]),
                )
                if (
                    merged.accepted.text.strip()
                    and sum(1 for r in added if r.accepted.text.strip()) > 1
                ):
                    self.raw[start:] = [merged]

    @staticmethod
    def _own_row(table: Any, row: Any) -> bool:
        parent = row.getparent()
        while parent is not None and parent.tag != w("tbl"):
            parent = parent.getparent()
        return parent is table

    # comments

    def comment_mark(self, element: Any, paragraph: int) -> None:
        """A comment's range starts (in ``paragraph``) or ends."""
        comment_id = element.get(w("id"), "")
        if element.tag == w("commentRangeStart"):
            self.open_comments[comment_id] = []
            self.comment_paragraphs.setdefault(comment_id, []).append(paragraph)
        else:
            anchor = self.open_comments.pop(comment_id, None)
            if anchor is not None:
                self.comment_anchor[comment_id] = anchor

    # paragraphs

    def paragraph(self, element: Any, in_table: bool) -> None:
        self.number += 1
        state = _ParagraphState(self.number)
        for comment_id in self.open_comments:
            self.comment_paragraphs.setdefault(comment_id, []).append(self.number)
        ppr = element.find(w("pPr"))
        style_id = self.styles.default_paragraph
        mark_deleted = mark_inserted = False
        direct_numbered: bool | None = None
        direct_level: int | None = None
        if ppr is not None:
            pstyle = ppr.find(w("pStyle"))
            if pstyle is not None:
                style_id = pstyle.get(w("val"), style_id)
            num = ppr.find(w("numPr"))
            if num is not None:
                num_id = num.find(w("numId"))
                direct_numbered = num_id is None or num_id.get(w("val"), "0") != "0"
            outline = ppr.find(w("outlineLvl"))
            if outline is not None and outline.get(w("val"), "9") != "9":
                direct_level = int(outline.get(w("val"), "9")) + 1
            mark = ppr.find(w("rPr"))
            if mark is not None:
                deleted = mark.find(w("del"))
                inserted = mark.find(w("ins"))
                if deleted is not None:
                    mark_deleted = True
                    state.revisions.append(self._revision(state, "paragraph deleted", "", deleted))
                if inserted is not None:
                    mark_inserted = True
                    state.revisions.append(
                        self._revision(state, "paragraph inserted", "", inserted)
                    )
            change = ppr.find(w("pPrChange"))
            if change is not None:
                state.revisions.append(self._revision(state, "formatted", "", change))
        paragraph_bold = bool(self.styles.first(style_id, "bold"))
        self.inline(element, state, "kept", None, paragraph_bold, None)
        numbered = direct_numbered
        if numbered is None:
            numbered = bool(self.styles.first(style_id, "numbered"))
        name = self.styles.name(style_id)
        level = direct_level if direct_level is not None else self.styles.level(style_id)

        def reading(dropped: str) -> DocParagraph:
            kept = [p for p in state.pieces if p.state != dropped]
            letters = [p for p in kept if p.text.strip()]
            return DocParagraph(
                number=self.number,
                numbers=(self.number,),
                style=name,
                level=level,
                list_item=bool(numbered)
                or bool(re.search(r"\blist (bullet|number)", name.lower())),
                in_table=in_table,
                bold=bool(letters) and all(p.shown_bold for p in letters),
                spans=tuple(Span(p.text, p.bold, p.italic, p.link) for p in kept),
                images=tuple(state.images),
            )

        self.revisions.extend(self._merged_revisions(state))
        self.raw.append(_Raw(reading("deleted"), reading("inserted"), mark_deleted, mark_inserted))

    def _revision(self, state: _ParagraphState, kind: str, text: str, element: Any) -> Revision:
        return Revision(
            state.number, kind, text, element.get(w("author"), ""), element.get(w("date"), "")
        )

    def _merged_revisions(self, state: _ParagraphState) -> list[Revision]:
        """Adjacent insertions (or deletions) by one author as one revision; a paragraph
        deleted or inserted whole as one revision with its text."""
        merged: list[Revision] = []
        for revision in state.revisions:
            last = merged[-1] if merged else None
            if (
                last is not None
                and last.kind == revision.kind
                and last.kind in ("inserted", "deleted")
                and last.author == revision.author
            ):
                merged[-1] = replace(last, text=last.text + revision.text)
            else:
                merged.append(revision)
        for whole, part, state_name in (
            ("paragraph deleted", "deleted", "inserted"),
            ("paragraph inserted", "inserted", "deleted"),
        ):
            marks = [r for r in merged if r.kind == whole]
            pieces = [r for r in merged if r.kind == part]
            others = [
                p for p in state.pieces if p.state not in (part, state_name) and p.text.strip()
            ]
            if marks and len(pieces) == 1 and not others:
                merged = [r for r in merged if r is not pieces[0]]
                merged[merged.index(marks[0])] = replace(marks[0], text=pieces[0].text)
        return [
            r
            for r in merged
            if r.text.strip() or r.kind not in ("inserted", "deleted", "formatted")
        ]

    def inline(
        self,
        parent: Any,
        state: _ParagraphState,
        change: str,
        link: str | None,
        paragraph_bold: bool,
        change_element: Any,
    ) -> None:
        for child in parent:
            tag = child.tag
            if tag == w("r"):
                self.run(child, state, change, link, paragraph_bold, change_element)
            elif tag in (w("ins"), w("moveTo")):
                self.inline(child, state, "inserted", link, paragraph_bold, child)
            elif tag in (w("del"), w("moveFrom")):
                self.inline(child, state, "deleted", link, paragraph_bold, child)
            elif tag == w("hyperlink"):
                target = self._hyperlink(child, state)
                self.inline(child, state, change, target, paragraph_bold, change_element)
            elif tag == w("fldSimple"):
                target = self._field_link(child.get(w("instr"), ""), state)
                self.inline(child, state, change, target or link, paragraph_bold, change_element)
            elif tag in (w("smartTag"), w("customXml"), w("dir"), w("bdo")):
                self.inline(child, state, change, link, paragraph_bold, change_element)
            elif tag == w("sdt"):
                content = child.find(w("sdtContent"))
                if content is not None:
                    self.inline(content, state, change, link, paragraph_bold, change_element)
            elif tag in (w("commentRangeStart"), w("commentRangeEnd")):
                self.comment_mark(child, state.number)
            elif tag == f"{{{MC_NS}}}AlternateContent":
                self._alternate(child, state)
            elif tag.startswith("{http://schemas.openxmlformats.org/officeDocument/2006/math}"):
                text = "".join(child.itertext())
                self._add(state, _Piece(text, False, False, link, change), change_element)
                self.notes.append(Note(state.number, "an equation was read as plain text"))

    def _alternate(self, element: Any, state: _ParagraphState) -> None:
        # Drawings, text boxes and shapes: read as an image, never as text.
        boxes = list(element.iter(w("txbxContent")))
        state.images.append("a text box" if boxes else "a drawing")

    def _hyperlink(self, element: Any, state: _ParagraphState) -> str | None:
        rid = element.get(f"{{{R_NS}}}id")
        if rid is None:
            anchor = element.get(w("anchor"))
            if anchor:
                self.notes.append(
                    Note(state.number, f"a link to the bookmark {anchor!r} is kept as its text")
                )
            return None
        target, external = self.links.get(rid, ("", False))
        return self._checked_link(target if external else "", state)

    def _checked_link(self, target: str, state: _ParagraphState) -> str | None:
        if target.lower().startswith(LINK_SCHEMES):
            return target
        if target:
            shown = target if len(target) <= 60 else target[:59] + "…"
            self.notes.append(
                Note(
                    state.number,
                    f"the link to {shown!r} is kept as its text only (links may be http, "
                    "https or mailto)",
                )
            )
        return None

    def _field_link(self, instruction: str, state: _ParagraphState) -> str | None:
        match = re.match(r'\s*HYPERLINK\s+"([^"]*)"(.*)', instruction)
        if match is None:
            match = re.match(r"\s*HYPERLINK\s+(\S+)(.*)", instruction)
        if match is None:
            return None
        if "\\l" in match.group(2):
            return None
        return self._checked_link(match.group(1), state)

    def run(
        self,
        run: Any,
        state: _ParagraphState,
        change: str,
        link: str | None,
        paragraph_bold: bool,
        change_element: Any,
    ) -> None:
        rpr = run.find(w("rPr"))
        bold = italic = False
        if rpr is not None:
            rstyle = rpr.find(w("rStyle"))
            style_id = rstyle.get(w("val")) if rstyle is not None else None
            direct_bold = _toggle(rpr, "b")
            direct_italic = _toggle(rpr, "i")
            bold = bool(
                direct_bold if direct_bold is not None else self.styles.first(style_id, "bold")
            )
            italic = bool(
                direct_italic
                if direct_italic is not None
                else self.styles.first(style_id, "italic")
            )
            if _toggle(rpr, "vanish") or _toggle(rpr, "specVanish"):
                hidden = "".join(run.itertext())
                if hidden.strip():
                    self.notes.append(Note(state.number, f"hidden text {hidden!r} was left out"))
                return
            formatted = rpr.find(w("rPrChange"))
            if formatted is not None:
                changed = "".join(t.text or "" for t in run.iter(w("t")))
                state.revisions.append(self._revision(state, "formatted", changed, formatted))
        shown_bold = bold or (paragraph_bold and (rpr is None or _toggle(rpr, "b") is not False))
        current = state.fields[-1] if state.fields else None
        for child in run:
            tag = child.tag
            text: str | None = None
            if tag == w("fldChar"):
                kind = child.get(w("fldCharType"))
                if kind == "begin":
                    state.fields.append(_Field())
                elif kind == "separate" and state.fields:
                    state.fields[-1].in_result = True
                elif kind == "end" and state.fields:
                    state.fields.pop()
                current = state.fields[-1] if state.fields else None
                continue
            if tag == w("instrText"):
                if current is not None and not current.in_result:
                    current.instruction += child.text or ""
                continue
            if current is not None and not current.in_result:
                continue  # the field's code, not its text
            if tag in (w("t"), w("delText")):
                text = child.text or ""
            elif tag in (w("tab"), w("ptab")):
                text = "\t"
            elif tag == w("br"):
                text = "\n" if child.get(w("type"), "textWrapping") == "textWrapping" else " "
            elif tag == w("cr"):
                text = "\n"
            elif tag == w("noBreakHyphen"):
                text = "-"
            elif tag == w("sym"):
                self.notes.append(
                    Note(state.number, "a symbol-font character was left out; type it instead")
                )
            elif tag in (w("drawing"), w("pict"), w("object")):
                boxes = list(child.iter(w("txbxContent")))
                linked = any(
                    element.get(f"{{{R_NS}}}link")
                    for element in child.iter()
                    if element is not None
                )
                kind = (
                    "a text box"
                    if boxes
                    else "a linked image (not fetched)"
                    if linked
                    else "an image"
                )
                state.images.append(kind)
            elif tag == f"{{{MC_NS}}}AlternateContent":
                self._alternate(child, state)
            elif tag in (w("footnoteReference"), w("endnoteReference")):
                which = "footnote" if tag == w("footnoteReference") else "endnote"
                self.notes.append(
                    Note(
                        state.number,
                        f"a {which} was left out: the letter has none; put its text in a paragraph",
                    )
                )
            elif tag == w("commentReference"):
                comment_id = child.get(w("id"), "")
                paragraphs = self.comment_paragraphs.setdefault(comment_id, [])
                if not paragraphs or paragraphs[-1] != state.number:
                    paragraphs.append(state.number)
            if text is None:
                continue
            field_link = None
            for open_field in state.fields:
                found = self._field_link(open_field.instruction, state)
                field_link = found or field_link
            piece = _Piece(text, bold, italic, field_link or link, change, shown_bold)
            self._add(state, piece, change_element)

    def _add(self, state: _ParagraphState, piece: _Piece, change_element: Any) -> None:
        if piece.state != "deleted":
            for anchor in self.open_comments.values():
                anchor.append(piece.text)
        if piece.state in ("inserted", "deleted") and change_element is not None:
            state.revisions.append(self._revision(state, piece.state, piece.text, change_element))
        state.pieces.append(piece)


def read_document(package: DocxPackage) -> WordDocument:
    """Walk the document of ``package``: paragraphs with changes accepted, changes, comments."""
    reader = _Reader(package)
    body = package.document.element.body
    reader.blocks(body, in_table=False)
    comments = _comments(package, reader)
    return WordDocument(
        package.shown,
        tuple(_reading(reader.raw, accepted=True)),
        tuple(reader.revisions),
        tuple(comments),
        _properties(package),
        tuple(reader.notes),
        tuple(_reading(reader.raw, accepted=False)),
    )


def _join_cells(paragraphs: Sequence[DocParagraph]) -> DocParagraph:
    filled = [p for p in paragraphs if p.text.strip()] or list(paragraphs[:1])
    spans: list[Span] = []
    for index, paragraph in enumerate(filled):
        if index:
            spans.append(Span(" "))
        spans.extend(paragraph.spans)
    return replace(
        paragraphs[0],
        numbers=tuple(n for p in paragraphs for n in p.numbers),
        spans=tuple(spans),
        images=tuple(i for p in paragraphs for i in p.images),
        bold=all(p.bold for p in filled),
    )


def _reading(raw: Sequence[_Raw], *, accepted: bool) -> list[DocParagraph]:
    """The paragraphs with every change accepted (or rejected): a paragraph whose mark is
    deleted (or inserted) joins the next one; empty paragraphs are dropped."""
    out: list[DocParagraph] = []
    carry: DocParagraph | None = None
    for entry in raw:
        paragraph = entry.accepted if accepted else entry.original
        joins = entry.mark_deleted if accepted else entry.mark_inserted
        if carry is not None:
            paragraph = replace(
                paragraph,
                number=carry.number if carry.text.strip() else paragraph.number,
                numbers=carry.numbers + paragraph.numbers,
                spans=carry.spans + paragraph.spans,
                images=carry.images + paragraph.images,
            )
            carry = None
        if joins:
            carry = paragraph
            continue
        out.append(paragraph)
    if carry is not None:
        out.append(carry)
    return [p for p in out if p.text.strip() or p.images]


def _comments_part(package: DocxPackage) -> str | None:
    rels_name = posixpath.join(
        posixpath.dirname(package.main_part),
        "_rels",
        posixpath.basename(package.main_part) + ".rels",
    )
    data = package.parts.get(rels_name)
    if data is None:
        return None
    root = parse_xml(data, f"{package.shown}, part {rels_name}")
    for rel in root:
        if rel.get("Type") == RT.COMMENTS and rel.get("TargetMode") != "External":
            target = str(rel.get("Target", ""))
            if target.startswith("/"):
                return target.lstrip("/")
            return posixpath.normpath(posixpath.join(posixpath.dirname(package.main_part), target))
    return None


def _comments(package: DocxPackage, reader: _Reader) -> list[DocComment]:
    name = _comments_part(package)
    if name is None or name not in package.parts:
        return []
    root = parse_xml(package.parts[name], f"{package.shown}, part {name}")
    replies = _replies(package)
    comments = []
    for element in root.iter(w("comment")):
        comment_id = element.get(w("id"), "")
        texts = []
        para_ids = []
        for paragraph in element.iter(w("p")):
            para_ids.append(paragraph.get(f"{{{W14_NS}}}paraId"))
            pieces = []
            for text in paragraph.iter(w("t"), w("tab"), w("br")):
                pieces.append(text.text or "" if text.tag == w("t") else " ")
            texts.append("".join(pieces))
        anchor = "".join(reader.comment_anchor.get(comment_id, []))
        reply_to = next((replies[p] for p in para_ids if p in replies), None)
        comments.append(
            DocComment(
                comment_id,
                element.get(w("author"), ""),
                element.get(w("date"), ""),
                "\n".join(t for t in texts).strip(),
                " ".join(anchor.split()),
                tuple(dict.fromkeys(reader.comment_paragraphs.get(comment_id, []))),
                reply_to,
            )
        )
    # Replies name their parent by paragraph id; show the parent's comment id instead.
    by_para = {}
    for element in root.iter(w("comment")):
        for paragraph in element.iter(w("p")):
            para_id = paragraph.get(f"{{{W14_NS}}}paraId")
            if para_id:
                by_para[para_id] = element.get(w("id"), "")
    return [
        replace(c, reply_to=by_para.get(c.reply_to, c.reply_to)) if c.reply_to else c
        for c in comments
    ]


def _replies(package: DocxPackage) -> dict[str, str]:
    """Paragraph id of a reply → paragraph id of the comment it answers (commentsExtended)."""
    for name, data in package.parts.items():
        if name.endswith("commentsExtended.xml"):
            root = parse_xml(data, f"{package.shown}, part {name}")
            return {
                element.get(f"{{{W15_NS}}}paraId", ""): element.get(f"{{{W15_NS}}}paraIdParent", "")
                for element in root.iter(f"{{{W15_NS}}}commentEx")
                if element.get(f"{{{W15_NS}}}paraIdParent")
            }
    return {}


def _properties(package: DocxPackage) -> dict[str, str]:
    """Core properties (title, language, identifier) and custom ones, by name."""
    core = package.document.core_properties
    found = {
        "title": core.title or "",
        "language": core.language or "",
        "identifier": core.identifier or "",
        "content_status": core.content_status or "",
    }
    data = package.parts.get("docProps/custom.xml")
    if data is not None:
        root = parse_xml(data, f"{package.shown}, part docProps/custom.xml")
        for prop in root.iter(f"{{{_CUSTOM_NS}}}property"):
            name = prop.get("name")
            if name:
                found[name] = "".join(prop.itertext()).strip()
    return found
