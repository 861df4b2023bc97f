"""The print file of one language: every letter, one after the other, written as it goes.

The body's content streams, fonts and images are written once. Each letter adds only
its page dictionaries (which point at those shared streams), one small content stream
with its address, and a blank page when the body has an odd number of pages, so that
duplex printing never puts two recipients on one sheet. Pages hang in a two-level page
tree (groups of letters under the root) so viewers and printers find page 20,000 fast.
"""

from __future__ import annotations

import io
from typing import BinaryIO

from pypdf import PdfReader
from pypdf.generic import ArrayObject, DictionaryObject, IndirectObject, NameObject

from dhpc_gen.distribution.letter_body import LetterBody
from dhpc_gen.distribution.pdf_objects import (
    ObjectCopier,
    PdfFileWriter,
    pdf_string,
    stream_object,
)
from dhpc_gen.distribution.pdf_overlay import FONT_RESOURCE, EmbeddedFont
from dhpc_gen.errors import RenderError

PAGE_ATTRIBUTES = (
    "/MediaBox",
    "/CropBox",
    "/BleedBox",
    "/TrimBox",
    "/ArtBox",
    "/Rotate",
    "/Group",
)
LETTERS_PER_GROUP = 64


def page_resources(copier: ObjectCopier, resources: object, *, font: int | None) -> bytes:
    """A page's resource dictionary, with the address font added when ``font`` is given."""
    if isinstance(resources, IndirectObject):
        resources = resources.get_object()
    if not isinstance(resources, DictionaryObject):
        resources = DictionaryObject()
    if font is None:
        return copier.serialise(resources)
    fonts = resources.get("/Font")
    if isinstance(fonts, IndirectObject):
        fonts = fonts.get_object()
    if not isinstance(fonts, DictionaryObject):
        fonts = DictionaryObject()
    if NameObject("/" + FONT_RESOURCE.decode()) in fonts:
        raise RenderError(f"the letter body already uses the font name /{FONT_RESOURCE.decode()}")
    rest = DictionaryObject({k: v for k, v in resources.items() if k != "/Font"})
    font_dict = b"<</" + FONT_RESOURCE + b" %d 0 R " % font + copier.serialise(fonts)[2:]
    return b"<</Font " + font_dict + b" " + copier.serialise(rest)[2:]


def content_refs(copier: ObjectCopier, contents: object) -> list[bytes]:
    """The page's content streams as renumbered references."""
    if contents is None:
        return []
    if isinstance(contents, IndirectObject):
        target = contents.get_object()
        if isinstance(target, ArrayObject):
            return content_refs(copier, target)
        return [b"%d 0 R" % copier.number(contents)]
    if isinstance(contents, ArrayObject):
        refs = []
        for item in contents:
            if not isinstance(item, IndirectObject):
                raise RenderError("the letter body has a page content that is not a stream")
            refs.append(b"%d 0 R" % copier.number(item))
        return refs
    raise RenderError("the letter body has a page content that is not a stream")


class PrintFile:
    """Writes the letters of one language into ``handle``; call :meth:`close` at the end."""

    def __init__(
        self,
        handle: BinaryIO,
        body: LetterBody,
        font: EmbeddedFont,
        *,
        title: str,
        identifier: bytes,
        creation_date: str,
        pad_to_even: bool = True,
    ) -> None:
        self._writer = writer = PdfFileWriter(handle)
        self._title = title
        self._identifier = identifier
        self._creation_date = creation_date
        reader = PdfReader(io.BytesIO(body.pdf))
        copier = ObjectCopier(reader, writer.reserve)
        self._root = writer.reserve()
        font_number = font.write(writer)
        save = writer.add(stream_object(b"", b"q\n", compress=False))
        restore = writer.add(stream_object(b"", b"Q\n", compress=False))

        self._page_tails: list[bytes] = []
        """Per body page: its dictionary after ``/Parent``; page 1 lacks its overlay ref."""
        for index, page in enumerate(reader.pages):
            attributes = b"".join(
                b" " + key.encode() + b" " + copier.serialise(page[key])
                for key in PAGE_ATTRIBUTES
                if key in page
            )
            resources = writer.add(
                page_resources(
                    copier, page.get("/Resources"), font=font_number if index == 0 else None
                )
            )
            refs = content_refs(copier, page.get("/Contents"))
            if index == 0:
                refs = [b"%d 0 R" % save, *refs, b"%d 0 R" % restore]
                contents = b"[" + b" ".join(refs) + b" "
            else:
                contents = b"[" + b" ".join(refs) + b"]>>"
            self._page_tails.append(
                attributes + b" /Resources %d 0 R /Contents " % resources + contents
            )
        if not self._page_tails:
            raise RenderError("the letter body has no pages")
        first = reader.pages[0]
        blank_attributes = b"".join(
            b" " + key.encode() + b" " + copier.serialise(first[key])
            for key in PAGE_ATTRIBUTES
            if key in first
        )
        self._blank_tail = blank_attributes + b" /Resources <<>>>>"
        self._pad = pad_to_even and len(self._page_tails) % 2 == 1
        copier.flush(writer.write)

        self._groups: list[int] = []
        self._group: int | None = None
        self._group_kids: list[int] = []
        self._group_letters = 0
        self.pages = 0
        self.letters = 0

    def add_letter(self, overlay: bytes) -> tuple[int, int]:
        """Add one letter whose first page also shows ``overlay`` (a content stream).

        Returns its first and last page, 1-based.
        """
        writer = self._writer
        if self._group is None or self._group_letters == LETTERS_PER_GROUP:
            self._close_group()
            self._group = writer.reserve()
        parent = b"<</Type /Page /Parent %d 0 R" % self._group
        overlay_number = writer.add(stream_object(b"", overlay))
        tails = list(self._page_tails)
        tails[0] = tails[0] + b"%d 0 R]>>" % overlay_number
        if self._pad:
            tails.append(self._blank_tail)
        for tail in tails:
            self._group_kids.append(writer.add(parent + tail))
        self._group_letters += 1
        self.letters += 1
        first = self.pages + 1
        self.pages += len(tails)
        return first, self.pages

    def _close_group(self) -> None:
        if self._group is None:
            return
        kids = b" ".join(b"%d 0 R" % kid for kid in self._group_kids)
        self._writer.write(
            self._group,
            b"<</Type /Pages /Parent %d 0 R /Count %d /Kids [%s]>>"
            % (self._root, len(self._group_kids), kids),
        )
        self._groups.append(self._group)
        self._group = None
        self._group_kids = []
        self._group_letters = 0

    def close(self) -> None:
        """Write the page tree, the catalog and the trailer."""
        self._close_group()
        writer = self._writer
        kids = b" ".join(b"%d 0 R" % group for group in self._groups)
        writer.write(self._root, b"<</Type /Pages /Count %d /Kids [%s]>>" % (self.pages, kids))
        catalog = writer.add(b"<</Type /Catalog /Pages %d 0 R>>" % self._root)
        info = writer.add(
            b"<</Title "
            + pdf_string(self._title)
            + b" /Creator (dhpc_gen merge) /CreationDate "
            + pdf_string(self._creation_date)
            + b" /ModDate "
            + pdf_string(self._creation_date)
            + b">>"
        )
        ident = self._identifier.hex().encode("ascii")
        writer.close(b"/Root %d 0 R /Info %d 0 R /ID [<%s> <%s>]" % (catalog, info, ident, ident))
