"""Editing the XML of a Word package the way Word itself stores changes and comments."""

from __future__ import annotations

import copy
import io
import subprocess
import zipfile
from collections.abc import Callable, Sequence
from pathlib import Path
from typing import Any

from lxml import etree

W_NS = "http://schemas.openxmlformats.org/wordprocessingml/2006/main"
R_NS = "http://schemas.openxmlformats.org/officeDocument/2006/relationships"
RELS_NS = "http://schemas.openxmlformats.org/package/2006/relationships"
CT_NS = "http://schemas.openxmlformats.org/package/2006/content-types"
COMMENTS_TYPE = "http://schemas.openxmlformats.org/officeDocument/2006/relationships/comments"
COMMENTS_CT = "application/vnd.openxmlformats-officedocument.wordprocessingml.comments+xml"


def w(tag: str) -> str:
    return f"{{{W_NS}}}{tag}"


def read_parts(path: Path) -> dict[str, bytes]:
    with zipfile.ZipFile(path) as archive:
        return {name: archive.read(name) for name in archive.namelist()}


def write_parts(path: Path, parts: dict[str, bytes]) -> None:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, data in parts.items():
            archive.writestr(name, data)
    path.write_bytes(buffer.getvalue())


def edit_document(
    source: Path, target: Path, edit: Callable[[Any, dict[str, bytes]], None]
) -> None:
    """Copy ``source`` to ``target`` with ``edit(document_root, parts)`` applied."""
    parts = read_parts(source)
    root = etree.fromstring(parts["word/document.xml"])
    edit(root, parts)
    parts["word/document.xml"] = etree.tostring(root, xml_declaration=True, encoding="UTF-8")
    write_parts(target, parts)


def paragraph(root: Any, starts: str) -> Any:
    """The first ``w:p`` whose text starts with ``starts``."""
    for element in root.iter(w("p")):
        if "".join(element.itertext()).startswith(starts):
            return element
    raise AssertionError(f"no paragraph starts with {starts!r}")


def _run(text: str, template: Any, tag: str = "t") -> Any:
    run = etree.Element(w("r"))
    properties = template.find(w("rPr")) if template is not None else None
    if properties is not None:
        run.append(copy.deepcopy(properties))
    element = etree.SubElement(run, w(tag))
    element.text = text
    element.set("{http://www.w3.org/XML/1998/namespace}space", "preserve")
    return run


def _change(tag: str, number: int, author: str, date: str) -> Any:
    element = etree.Element(w(tag))
    element.set(w("id"), str(number))
    element.set(w("author"), author)
    element.set(w("date"), date)
    return element


def tracked_replace(p: Any, old: str, new: str, *, author: str, date: str, number: int) -> None:
    """Delete ``old`` and insert ``new`` in its place, as tracked changes."""
    for run in p.iter(w("r")):
        text = "".join(t.text or "" for t in run.iter(w("t")))
        if old in text:
            before, _, after = text.partition(old)
            parent = run.getparent()
            index = parent.index(run)
            pieces = []
            if before:
                pieces.append(_run(before, run))
            deletion = _change("del", number, author, date)
            deletion.append(_run(old, run, "delText"))
            pieces.append(deletion)
            if new:
                insertion = _change("ins", number + 1, author, date)
                insertion.append(_run(new, run))
                pieces.append(insertion)
            if after:
                pieces.append(_run(after, run))
            parent.remove(run)
            for offset, piece in enumerate(pieces):
                parent.insert(index + offset, piece)
            return
    raise AssertionError(f"{old!r} is not in one run")


def tracked_insert(p: Any, text: str, *, author: str, date: str, number: int) -> None:
    """Insert ``text`` at the end of the paragraph, as a tracked change."""
    runs = list(p.iter(w("r")))
    insertion = _change("ins", number, author, date)
    insertion.append(_run(text, runs[-1] if runs else None))
    p.append(insertion)


def tracked_delete_paragraph(p: Any, *, author: str, date: str, number: int) -> None:
    """Delete the whole paragraph, its mark included, as Word does when a bullet goes."""
    ppr = p.find(w("pPr"))
    if ppr is None:
        ppr = etree.SubElement(p, w("pPr"))
        p.insert(0, ppr)
    rpr = ppr.find(w("rPr"))
    if rpr is None:
        rpr = etree.SubElement(ppr, w("rPr"))
    rpr.append(_change("del", number, author, date))
    deletion = _change("del", number + 1, author, date)
    for run in [r for r in p if r.tag == w("r")]:
        for text in run.iter(w("t")):
            text.tag = w("delText")
        p.remove(run)
        deletion.append(run)
    p.append(deletion)


def add_comments(
    root: Any, parts: dict[str, bytes], comments: Sequence[tuple[Any, str, str, str, str]]
) -> None:
    """Comments as Word stores them: (paragraph, anchored text or "", author, date, text)."""
    part = etree.Element(w("comments"), nsmap={"w": W_NS})
    for number, (p, anchor, author, date, text) in enumerate(comments):
        comment = etree.SubElement(part, w("comment"))
        comment.set(w("id"), str(number))
        comment.set(w("author"), author)
        comment.set(w("date"), date)
        comment.set(w("initials"), "".join(word[0] for word in author.split()))
        cp = etree.SubElement(comment, w("p"))
        ref = etree.SubElement(cp, w("r"))
        etree.SubElement(ref, w("annotationRef"))
        cp.append(_run(text, None))
        start = etree.Element(w("commentRangeStart"))
        start.set(w("id"), str(number))
        end = etree.Element(w("commentRangeEnd"))
        end.set(w("id"), str(number))
        runs = [r for r in p if r.tag == w("r")]
        target = next((r for r in runs if anchor and anchor in "".join(r.itertext())), None)
        if target is not None and anchor:
            text_of = "".join(t.text or "" for t in target.iter(w("t")))
            before, _, after = text_of.partition(anchor)
            index = p.index(target)
            p.remove(target)
            pieces = [
                *([_run(before, target)] if before else []),
                start,
                _run(anchor, target),
                end,
                *([_run(after, target)] if after else []),
            ]
            for offset, piece in enumerate(pieces):
                p.insert(index + offset, piece)
        else:
            first = next(i for i, child in enumerate(p) if child.tag != w("pPr"))
            p.insert(first, start)
            p.append(end)
        reference = etree.SubElement(p, w("r"))
        etree.SubElement(reference, w("commentReference")).set(w("id"), str(number))
    parts["word/comments.xml"] = etree.tostring(part, xml_declaration=True, encoding="UTF-8")
    rels = etree.fromstring(parts["word/_rels/document.xml.rels"])
    rel = etree.SubElement(rels, f"{{{RELS_NS}}}Relationship")
    rel.set("Id", "rIdComments1")
    rel.set("Type", COMMENTS_TYPE)
    rel.set("Target", "comments.xml")
    parts["word/_rels/document.xml.rels"] = etree.tostring(
        rels, xml_declaration=True, encoding="UTF-8"
    )
    types = etree.fromstring(parts["[Content_Types].xml"])
    override = etree.SubElement(types, f"{{{CT_NS}}}Override")
    override.set("PartName", "/word/comments.xml")
    override.set("ContentType", COMMENTS_CT)
    parts["[Content_Types].xml"] = etree.tostring(types, xml_declaration=True, encoding="UTF-8")


def libreoffice_convert(files: Sequence[Path], out: Path, profile: Path) -> list[Path]:
    """Open each file in LibreOffice and save it as Word (.docx), in one run of soffice."""
    out.mkdir(parents=True, exist_ok=True)
    subprocess.run(
        [
            "soffice",
            f"-env:UserInstallation={profile.resolve().as_uri()}",
            "--headless",
            "--norestore",
            "--convert-to",
            "docx:MS Word 2007 XML",
            "--outdir",
            str(out),
            *map(str, files),
        ],
        check=True,
        capture_output=True,
        timeout=300,
    )
    converted = [out / (path.stem + ".docx") for path in files]
    missing = [path.name for path in converted if not path.is_file()]
    assert not missing, f"LibreOffice did not write {missing}"
    return converted
