"""Opening a Word document that came from outside: every check before python-docx reads it.

A ``.docx`` is a ZIP package of XML parts, and a returned document is untrusted. Before
python-docx sees any of it the package is refused, with a message naming the file and
the part, when it

- is not a ZIP package at all (a renamed PDF, RTF or old ``.doc``), or an encrypted
  (password-protected) document, which Word stores as an OLE compound file;
- would unpack to more than :data:`MAX_UNPACKED_BYTES`, has a part that compresses
  more than :data:`MAX_RATIO` times (a ZIP bomb), too many parts, or a part twice;
- carries macros (``vbaProject.bin``, a macro-enabled content type: a ``.docm``) or
  ActiveX controls;
- has a ``DOCTYPE`` or entity declaration in any XML part (Office never writes one;
  such parts can read local files or exhaust memory).

External relationships (linked images, a remote template, linked objects) are never
fetched: python-docx does not follow them and neither does anything here. Those other
than hyperlinks are listed so that the user knows they were ignored.
"""

from __future__ import annotations

import io
import posixpath
import zipfile
import zlib
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path
from xml.parsers import expat

import docx
from docx.document import Document
from lxml import etree

from dhpc_gen.errors import DhpcError, display_path

MAX_DOCX_BYTES = 64 << 20
MAX_UNPACKED_BYTES = 256 << 20
MAX_PART_BYTES = 64 << 20
MAX_RATIO = 200
"""Compression ratio above which a part is taken for a ZIP bomb (Office XML is ~10–30)."""
MAX_PARTS = 2_000

_OLE_MAGIC = b"\xd0\xcf\x11\xe0\xa1\xb1\x1a\xe1"
_PACKAGE_RELS = "_rels/.rels"
_OFFICE_DOCUMENT = (
    "http://schemas.openxmlformats.org/officeDocument/2006/relationships/officeDocument"
)
_HYPERLINK = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/hyperlink"
_RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
_CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
DOCUMENT_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.document.main+xml"
_TEMPLATE_TYPE = "application/vnd.openxmlformats-officedocument.wordprocessingml.template.main+xml"

SAFE_PARSER = etree.XMLParser(
    resolve_entities=False, no_network=True, load_dtd=False, huge_tree=False
)
"""lxml parser for parts already checked to have no DOCTYPE: no entities, no network."""


@dataclass(frozen=True)
class DocxPackage:
    """A checked package: its parts by name, and python-docx's view of it."""

    shown: str
    parts: Mapping[str, bytes]
    document: Document
    main_part: str
    """The name of the main document part, normally ``word/document.xml``."""
    ignored_links: tuple[str, ...]
    """External relationships other than hyperlinks, which were not followed."""


class DocxRefused(DhpcError):
    """The file is not a Word document that may be read."""


def open_docx(path: Path) -> DocxPackage:
    """Read ``path`` after every check of this module; raise :class:`DocxRefused` if one fails."""
    shown = display_path(path)
    try:
        size = path.stat().st_size
        if size > MAX_DOCX_BYTES:
            raise DocxRefused(
                f"{shown}: larger than {MAX_DOCX_BYTES >> 20} MB; not the Word document of a DHPC"
            )
        data = path.read_bytes()
    except OSError as exc:
        raise DhpcError(f"{shown}: cannot read the file: {exc.strerror}") from None
    return read_package(data, shown)


def read_package(data: bytes, shown: str) -> DocxPackage:
    """Check and open the bytes of a ``.docx``; ``shown`` names the file in messages."""
    _refuse_other_formats(data, shown)
    parts = _unpack(data, shown)
    for name, blob in parts.items():
        if _is_xml(name):
            refuse_doctype(blob, f"{shown}, part {name}")
    content_types = _content_types(parts, shown)
    _refuse_macros(parts, content_types, shown)
    main_part = _main_part(parts, content_types, shown)
    ignored = _external_links(parts, shown)
    try:
        document = docx.Document(io.BytesIO(data))
    except Exception as exc:  # python-docx raises many kinds on a broken package
        raise DocxRefused(f"{shown}: cannot be read as a Word document ({exc})") from None
    return DocxPackage(shown, parts, document, main_part, ignored)


def _refuse_other_formats(data: bytes, shown: str) -> None:
    if data.startswith(_OLE_MAGIC):
        encrypted = any(
            name.encode("utf-16-le") in data for name in ("EncryptionInfo", "EncryptedPackage")
        )
        if encrypted:
            raise DocxRefused(
                f"{shown}: is an encrypted (password-protected) document; it cannot be read. "
                "Remove the password in Word (File › Info › Protect Document) and save again"
            )
        raise DocxRefused(
            f"{shown}: is an old Word 97–2003 document (.doc) or another OLE file, not a .docx; "
            "open it in Word and save it as Word Document (.docx)"
        )
    if data.startswith(b"%PDF-"):
        raise DocxRefused(f"{shown}: is a PDF, not a Word document (.docx)")
    if data.lstrip()[:5] == b"{\\rtf":
        raise DocxRefused(f"{shown}: is an RTF file; save it as Word Document (.docx)")
    if not data.startswith(b"PK"):
        raise DocxRefused(f"{shown}: is not a Word document (.docx): it is not a ZIP package")


def _unpack(data: bytes, shown: str) -> dict[str, bytes]:
    try:
        archive = zipfile.ZipFile(io.BytesIO(data))
    except zipfile.BadZipFile:
        raise DocxRefused(
            f"{shown}: is not a Word document (.docx): the ZIP package is damaged"
        ) from None
    with archive:
        members = archive.infolist()
        if len(members) > MAX_PARTS:
            raise DocxRefused(f"{shown}: has {len(members)} parts; a Word document has far fewer")
        names: set[str] = set()
        total = 0
        for member in members:
            if member.filename in names:
                raise DocxRefused(f"{shown}: the part {member.filename} appears twice")
            names.add(member.filename)
            if member.flag_bits & 0x1:
                raise DocxRefused(
                    f"{shown}: the part {member.filename} is encrypted; remove the password "
                    "and save again"
                )
            total += member.file_size
            ratio = member.file_size / max(member.compress_size, 1)
            if member.file_size > MAX_PART_BYTES or (
                member.file_size > 1 << 20 and ratio > MAX_RATIO
            ):
                raise DocxRefused(
                    f"{shown}: the part {member.filename} would unpack to "
                    f"{member.file_size:,} bytes from {member.compress_size:,} (a ZIP bomb?); "
                    "refused"
                )
            if total > MAX_UNPACKED_BYTES:
                raise DocxRefused(
                    f"{shown}: would unpack to more than {MAX_UNPACKED_BYTES >> 20} MB "
                    "(a ZIP bomb?); refused"
                )
        parts: dict[str, bytes] = {}
        for member in members:
            if member.is_dir():
                continue
            try:
                parts[member.filename] = archive.read(member)
            except (zipfile.BadZipFile, zlib.error, EOFError, NotImplementedError) as exc:
                raise DocxRefused(
                    f"{shown}: the part {member.filename} cannot be unpacked ({exc}); the file "
                    "is damaged"
                ) from None
    return parts


def _is_xml(name: str) -> bool:
    return name.endswith((".xml", ".rels")) or name == "[Content_Types].xml"


def refuse_doctype(data: bytes, where: str) -> None:
    """Refuse XML with a DOCTYPE or entity declaration, before they take any effect."""

    class Refused(Exception):
        pass

    parser = expat.ParserCreate()

    def refuse(*_: object) -> None:
        raise Refused

    parser.StartDoctypeDeclHandler = refuse
    parser.EntityDeclHandler = refuse
    try:
        parser.Parse(data, True)
    except Refused:
        raise DocxRefused(
            f"{where}: line {parser.CurrentLineNumber}: refusing XML with a DOCTYPE or entity "
            "declaration (Word never writes one; such files can read local files or exhaust "
            "memory)"
        ) from None
    except expat.ExpatError as exc:
        raise DocxRefused(
            f"{where}: line {exc.lineno}: not well-formed XML ({expat.ErrorString(exc.code)}); "
            "the file is damaged"
        ) from None


def parse_xml(data: bytes, where: str) -> etree._Element:
    """Parse a part already checked by :func:`refuse_doctype`."""
    try:
        return etree.fromstring(data, SAFE_PARSER)
    except etree.XMLSyntaxError as exc:
        raise DocxRefused(f"{where}: not well-formed XML ({exc})") from None


def _content_types(parts: Mapping[str, bytes], shown: str) -> dict[str, str]:
    """Part name (without leading slash) → content type, overrides over extensions."""
    data = parts.get("[Content_Types].xml")
    if data is None:
        raise DocxRefused(
            f"{shown}: is a ZIP file but not a Word document (it has no [Content_Types].xml)"
        )
    root = parse_xml(data, f"{shown}, part [Content_Types].xml")
    defaults = {
        element.get("Extension", "").lower(): element.get("ContentType", "")
        for element in root.iter(f"{{{_CT_NS}}}Default")
    }
    overrides = {
        element.get("PartName", "").lstrip("/"): element.get("ContentType", "")
        for element in root.iter(f"{{{_CT_NS}}}Override")
    }
    types = {}
    for name in parts:
        extension = name.rsplit(".", 1)[-1].lower() if "." in name else ""
        types[name] = overrides.get(name, defaults.get(extension, ""))
    for name, value in overrides.items():
        types.setdefault(name, value)
    return types


def _refuse_macros(parts: Mapping[str, bytes], types: Mapping[str, str], shown: str) -> None:
    for name, content_type in sorted(types.items()):
        lowered = name.lower()
        if (
            lowered.endswith(("vbaproject.bin", "vbadata.xml"))
            or "macroenabled" in content_type.lower()
            or "vbaproject" in content_type.lower()
        ):
            raise DocxRefused(
                f"{shown}: contains macros (part {name}): a macro-enabled document (.docm) is "
                "refused. Save it in Word as Word Document (.docx) and import that"
            )
        if lowered.startswith("word/activex/") or "activex" in content_type.lower():
            raise DocxRefused(
                f"{shown}: contains ActiveX controls (part {name}); remove them and save again"
            )


def _main_part(parts: Mapping[str, bytes], types: Mapping[str, str], shown: str) -> str:
    data = parts.get(_PACKAGE_RELS)
    if data is None:
        raise DocxRefused(f"{shown}: is not a Word document (it has no {_PACKAGE_RELS})")
    root = parse_xml(data, f"{shown}, part {_PACKAGE_RELS}")
    for rel in root.iter(f"{{{_RELS_NS}}}Relationship"):
        if rel.get("Type") == _OFFICE_DOCUMENT:
            name = str(rel.get("Target", "")).lstrip("/")
            content_type = types.get(name, "")
            if content_type == _TEMPLATE_TYPE:
                raise DocxRefused(
                    f"{shown}: is a Word template (.dotx); create a document from it and save "
                    "that as .docx"
                )
            if content_type != DOCUMENT_TYPE or name not in parts:
                raise DocxRefused(
                    f"{shown}: is not a Word document (its main part {name or '?'} is "
                    f"{content_type or 'missing'})"
                )
            return name
    raise DocxRefused(f"{shown}: is not a Word document (no main document part)")


def _external_links(parts: Mapping[str, bytes], shown: str) -> tuple[str, ...]:
    """External relationships other than hyperlinks: listed, never fetched."""
    found = []
    for name in sorted(parts):
        if not name.endswith(".rels"):
            continue
        root = parse_xml(parts[name], f"{shown}, part {name}")
        for rel in root.iter(f"{{{_RELS_NS}}}Relationship"):
            if rel.get("TargetMode") != "External" or rel.get("Type") == _HYPERLINK:
                continue
            kind = posixpath.basename(rel.get("Type", "")) or "link"
            target = rel.get("Target", "")
            shown_target = target if len(target) <= 80 else target[:79] + "…"
            source = name.replace("_rels/", "").removesuffix(".rels")
            found.append(f"{source}: {kind} {shown_target} (not fetched)")
    return tuple(found)
