"""The personalised letter of one recipient as a file of its own (for e-mail).

The whole body document is kept (its tags, language, metadata and outline), with the
first page extended by the recipient's address. Everything but the address is the same
for every recipient of a language, so it is serialised once into a template: the
streams as they are, the other objects packed into one compressed object stream. A
letter is then the template, one small content stream and a cross-reference stream
whose entries are fixed but for the last two. Assembling one costs microseconds.
"""

from __future__ import annotations

import hashlib
import io
import struct
from dataclasses import dataclass

from pypdf import PdfReader
from pypdf.generic import DictionaryObject, IndirectObject

from dhpc_gen.distribution.letter_body import LetterBody
from dhpc_gen.distribution.pdf_objects import (
    HEADER,
    ObjectCopier,
    ObjectSet,
    deflate,
    is_stream,
    object_stream,
    stream_object,
)
from dhpc_gen.distribution.pdf_overlay import EmbeddedFont
from dhpc_gen.distribution.print_file import content_refs, page_resources
from dhpc_gen.errors import RenderError

_ENTRY = struct.Struct(">BIH")
"""A cross-reference stream entry, /W [1 4 2]: type, offset or object stream, index."""


@dataclass(frozen=True)
class LetterFileTemplate:
    """Everything of a per-recipient letter but its address stream."""

    prefix: bytes
    overlay_number: int
    xref_number: int
    fixed_entries: bytes
    trailer_entries: bytes

    def letter(self, overlay: bytes, recipient_id: str) -> bytes:
        """The PDF of one letter whose first page also shows ``overlay``."""
        overlay_object = (
            b"%d 0 obj\n" % self.overlay_number + stream_object(b"", overlay) + b"\nendobj\n"
        )
        xref_at = len(self.prefix) + len(overlay_object)
        entries = (
            self.fixed_entries + _ENTRY.pack(1, len(self.prefix), 0) + _ENTRY.pack(1, xref_at, 0)
        )
        tag = hashlib.sha256(recipient_id.encode("utf-8") + b"\0" + overlay).hexdigest()[:32]
        data = deflate(entries)
        xref_object = (
            b"%d 0 obj\n<</Type /XRef /Size %d /W [1 4 2] "
            % (self.xref_number, self.xref_number + 1)
            + self.trailer_entries
            + tag.encode("ascii")
            + b">] /Filter /FlateDecode /Length %d>>\nstream\n" % len(data)
            + data
            + b"\nendstream\nendobj\n"
        )
        return b"".join(
            (
                self.prefix,
                overlay_object,
                xref_object,
                b"startxref\n%d\n%%%%EOF\n" % xref_at,
            )
        )


def letter_file_template(body: LetterBody, font: EmbeddedFont) -> LetterFileTemplate:
    """Serialise the body of ``body.language`` once, ready for one address per letter."""
    objects = ObjectSet()
    reader = PdfReader(io.BytesIO(body.pdf))
    trailer = reader.trailer
    root_ref = trailer.raw_get("/Root")
    if not isinstance(root_ref, IndirectObject):
        raise RenderError("the letter body has no document catalog")
    copier = ObjectCopier(reader, objects.reserve)
    catalog = copier.number(root_ref)
    info_ref = trailer.raw_get("/Info") if "/Info" in trailer else None
    info = copier.number(info_ref) if isinstance(info_ref, IndirectObject) else None
    first = reader.pages[0]
    if first.indirect_reference is None:
        raise RenderError("the letter body's first page is not an object of its own")
    old_first = first.indirect_reference.idnum
    new_first = copier.number(first.indirect_reference)

    font_number = font.write(objects)
    save = objects.reserve()
    objects.write(save, stream_object(b"", b"q\n", compress=False))
    restore = objects.reserve()
    objects.write(restore, stream_object(b"", b"Q\n", compress=False))
    kept = DictionaryObject(
        {k: v for k, v in first.items() if k not in ("/Resources", "/Contents")}
    )
    resources = page_resources(copier, first.get("/Resources"), font=font_number)
    contents = [b"%d 0 R" % save, *content_refs(copier, first.get("/Contents"))]
    copier.flush(objects.write, skip={old_first})
    packed = objects.reserve()
    overlay_number = objects.reserve()
    xref_number = objects.reserve()
    contents += [b"%d 0 R" % restore, b"%d 0 R" % overlay_number]
    objects.write(
        new_first,
        copier.serialise(kept)[:-2]
        + b"/Resources "
        + resources
        + b"\n/Contents ["
        + b" ".join(contents)
        + b"]>>",
    )
    copier.flush(objects.write, skip={old_first})

    # Streams first, as they are; every other object into one object stream.
    buffer = io.BytesIO()
    buffer.write(HEADER)
    entries: dict[int, bytes] = {0: _ENTRY.pack(0, 0, 0xFFFF)}
    small: list[tuple[int, bytes]] = []
    for number in sorted(objects.bodies):
        body_bytes = objects.bodies[number]
        if is_stream(body_bytes):
            entries[number] = _ENTRY.pack(1, buffer.tell(), 0)
            buffer.write(b"%d 0 obj\n" % number + body_bytes + b"\nendobj\n")
        else:
            entries[number] = _ENTRY.pack(2, packed, len(small))
            small.append((number, body_bytes))
    entries[packed] = _ENTRY.pack(1, buffer.tell(), 0)
    buffer.write(b"%d 0 obj\n" % packed + object_stream(small) + b"\nendobj\n")
    missing = [n for n in range(1, overlay_number) if n not in entries]
    if missing:
        raise RenderError(f"internal: the letter template misses objects {missing[:5]}")

    identifiers = trailer.get("/ID")
    first_id = (
        copier.serialise(identifiers[0]) if isinstance(identifiers, list) and identifiers else b"<>"
    )
    trailer_entries = b"/Root %d 0 R " % catalog
    if info is not None:
        trailer_entries += b"/Info %d 0 R " % info
    trailer_entries += b"/ID [" + first_id + b" <"
    return LetterFileTemplate(
        prefix=buffer.getvalue(),
        overlay_number=overlay_number,
        xref_number=xref_number,
        fixed_entries=b"".join(entries[n] for n in range(overlay_number)),
        trailer_entries=trailer_entries,
    )
