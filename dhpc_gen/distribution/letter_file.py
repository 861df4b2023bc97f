"""The personalised letter of one recipient as a file of its own (for e-mail).

The whole body document is kept (its tags, language, metadata and outline), with the
first page extended by the recipient's address. Everything but the address is the same
for every recipient of a language, so it is serialised once into a template; a letter
is then the template, one content stream, and the cross-reference table, whose entries
do not change either. Assembling one letter costs microseconds, not a layout.
"""

from __future__ import annotations

import hashlib
import io
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

from dhpc_gen.distribution.letter_body import LetterBody
from dhpc_gen.distribution.pdf_objects import (
    ObjectCopier,
    PdfFileWriter,
    stream_object,
    xref_table,
)
from dhpc_gen.distribution.pdf_overlay import EmbeddedFont
from dhpc_gen.distribution.print_file import content_refs, page_resources
from dhpc_gen.errors import RenderError


@dataclass(frozen=True)
class LetterFileTemplate:
    """Everything of a per-recipient letter but its address stream."""

    prefix: bytes
    overlay_number: int
    xref: bytes
    trailer_head: bytes

    def letter(self, overlay: bytes, recipient_id: str) -> bytes:
        """The PDF of one letter whose first page also shows ``overlay``."""
        obj = b"%d 0 obj\n" % self.overlay_number + stream_object(b"", overlay) + b"\nendobj\n"
        tag = hashlib.sha256(recipient_id.encode("utf-8") + b"\0" + overlay).hexdigest()[:32]
        return b"".join(
            (
                self.prefix,
                obj,
                self.xref,
                self.trailer_head,
                tag.encode("ascii"),
                b">]>>\nstartxref\n%d\n%%%%EOF\n" % (len(self.prefix) + len(obj)),
            )
        )


def letter_file_template(body: LetterBody, font: EmbeddedFont) -> LetterFileTemplate:
    """Serialise the body of ``body.language`` once, ready for one address per letter."""
    buffer = io.BytesIO()
    writer = PdfFileWriter(buffer)
    reader = PdfReader(io.BytesIO(body.pdf))
    trailer = reader.trailer
    root_ref = trailer.raw_get("/Root")
    if not isinstance(root_ref, IndirectObject):
        raise RenderError("the letter body has no document catalog")
    copier = ObjectCopier(reader, writer.reserve)
    catalog = copier.number(root_ref)
    info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
    info = copier.number(info_ref) if isinstance(info_ref, IndirectObject) else None
    first = reader.pages[0]
    if first.indirect_reference is None:
        raise RenderError("the letter body's first page is not an object of its own")
    old_first = first.indirect_reference.idnum
    new_first = copier.number(first.indirect_reference)

    font_number = font.write(writer)
    save = writer.add(stream_object(b"", b"q\n", compress=False))
    restore = writer.add(stream_object(b"", b"Q\n", compress=False))
    overlay_number = writer.reserve()

    kept = DictionaryObject(
        {k: v for k, v in first.items() if k not in ("/Resources", "/Contents")}
    )
    refs = [
        b"%d 0 R" % save,
        *content_refs(copier, first.get("/Contents")),
        b"%d 0 R" % restore,
        b"%d 0 R" % overlay_number,
    ]
    resources = page_resources(copier, first.get("/Resources"), font=font_number)
    writer.write(
        new_first,
        copier.serialise(kept)[:-2]
        + b"/Resources "
        + resources
        + b"\n/Contents ["
        + b" ".join(refs)
        + b"]>>",
    )
    copier.flush(writer.write, skip={old_first})

    prefix = buffer.getvalue()
    offsets = writer.offsets
    offsets[overlay_number - 1] = len(prefix)
    if not all(offsets):
        raise RenderError("internal: the letter template misses objects")
    identifiers = trailer.get("/ID")
    first_id = (
        copier.serialise(identifiers[0]) if isinstance(identifiers, list) and identifiers else b"<>"
    )
    head = b"trailer\n<</Size %d /Root %d 0 R " % (len(offsets) + 1, catalog)
    if info is not None:
        head += b"/Info %d 0 R " % info
    head += b"/ID [" + first_id + b" <"
    return LetterFileTemplate(prefix, overlay_number, xref_table(offsets), head)
