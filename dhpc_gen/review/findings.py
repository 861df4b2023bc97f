"""One finding of ``dhpc check``: what is wrong, where, and how serious it is."""

from __future__ import annotations

import json
import re
from collections.abc import Iterable, Iterator, Mapping, Sequence
from dataclasses import asdict, dataclass
from typing import Literal

from dhpc_gen.review.check_ids import CHECK_IDS as CHECK_IDS

Severity = Literal["error", "warning", "note"]
"""error: must be fixed; warning: to look at (fails ``--strict``); note: for information
only (a catalog no native speaker has reviewed, a national deviation an authority asked
for), it never fails a check."""

SEVERITIES: tuple[Severity, ...] = ("error", "warning", "note")

JSON_FORMAT_VERSION = 1


@dataclass(frozen=True)
class Finding:
    """A difference between a translation and its source that a reviewer must look at.

    ``source`` and ``target`` are short excerpts of the two texts around the place;
    ``source_mark`` and ``target_mark``, when given, are the exact words at fault (the
    review document highlights them), and ``source_span`` and ``target_span`` where they
    are: (start, end) in the field's text as the checks read it (without markup, see
    :func:`~dhpc_gen.content.markup.plain_text`), so that of two "2" the right one is
    marked. ``file`` and ``line`` say where to fix it.
    """

    check: str
    severity: Severity
    language: str
    field: str
    message: str
    source: str = ""
    target: str = ""
    source_mark: str = ""
    target_mark: str = ""
    file: str = ""
    line: int | None = None
    code: str = ""
    country: str = ""
    """In a campaign: the country the finding is about (regulator, deviation); ``""`` when
    it is about a language text shared by every country that sends in it."""
    source_span: tuple[int, int] | None = None
    target_span: tuple[int, int] | None = None

    def __post_init__(self) -> None:
        if self.check not in CHECK_IDS:
            raise ValueError(f"unknown check id {self.check!r}")
        if self.severity not in SEVERITIES:
            raise ValueError(f"unknown severity {self.severity!r}")

    @property
    def is_error(self) -> bool:
        return self.severity == "error"

    @property
    def is_warning(self) -> bool:
        return self.severity == "warning"

    @property
    def tag(self) -> str:
        """``catalog`` or, with a code, ``catalog:unreviewed``."""
        return f"{self.check}:{self.code}" if self.code else self.check

    def where(self) -> str:
        """``fi.yaml:42 summary[3]``: the place to fix, as the loader names places."""
        place = self.file
        if place and self.line is not None:
            place = f"{place}:{self.line}"
        return " ".join(part for part in (place, self.field) if part)

    @property
    def location(self) -> str:
        """``fi.yaml:42``: the file's name and line, without its folder."""
        name = self.file.replace("\\", "/").rsplit("/", 1)[-1]
        return f"{name}:{self.line}" if name and self.line is not None else name

    def to_dict(self) -> dict[str, object]:
        data = asdict(self)
        if not self.country:
            del data["country"]
        return data

    def sort_key(self) -> tuple[object, ...]:
        return (
            self.language,
            self.country,
            self.file,
            self.line or 0,
            field_sort_key(self.field),
            CHECK_IDS.index(self.check),
            SEVERITIES.index(self.severity),
            self.message,
            self.source,
            self.target,
            self.code,
            self.source_span or (-1, -1),
            self.target_span or (-1, -1),
        )


_PART = re.compile(r"\d+|\D+")


def field_sort_key(path: str) -> tuple[tuple[int, int | str], ...]:
    """Sort ``summary[2]`` before ``summary[10]``: digits compare as numbers."""
    return tuple((0, int(part)) if part.isdigit() else (1, part) for part in _PART.findall(path))


def sort_findings(findings: Iterable[Finding]) -> list[Finding]:
    """A stable order: by language and file, in reading order (line, field), then check."""
    return sorted(set(findings), key=Finding.sort_key)


def count_by_check(findings: Iterable[Finding]) -> dict[str, dict[str, int]]:
    """``{check: {"error": n, "warning": m}}`` for every check id, zeros included."""
    counts: dict[str, dict[str, int]] = {
        check: {severity: 0 for severity in SEVERITIES} for check in CHECK_IDS
    }
    for finding in findings:
        counts[finding.check][finding.severity] += 1
    return counts


def findings_json(
    findings: Sequence[Finding],
    *,
    dhpc_id: str,
    source_language: str,
    languages: Sequence[str],
    checks: Sequence[str] = CHECK_IDS,
    countries: Mapping[str, Sequence[str]] | None = None,
    approvals: Sequence[Mapping[str, object]] | None = None,
) -> str:
    """The findings as JSON for CI: sorted keys and findings, no clock, no machine state.

    ``countries`` (a campaign): country → its languages. ``approvals``: the sign-off state
    of each language, when the caller has it.
    """
    ordered = sort_findings(findings)
    counts: dict[str, object] = {s: sum(f.severity == s for f in ordered) for s in SEVERITIES}
    counts["by_check"] = count_by_check(ordered)
    document: dict[str, object] = {
        "format": JSON_FORMAT_VERSION,
        "dhpc": dhpc_id,
        "source_language": source_language,
        "languages": list(languages),
        "checks": list(checks),
        "counts": counts,
        "findings": [f.to_dict() for f in ordered],
    }
    if countries is not None:
        document["countries"] = {code: list(langs) for code, langs in countries.items()}
    if approvals is not None:
        document["approvals"] = [dict(a) for a in approvals]
    return json.dumps(document, ensure_ascii=False, indent=2, sort_keys=True) + "\n"


def excerpt(text: str, start: int, end: int, width: int = 40) -> str:
    """The words around ``text[start:end]``, cut at word boundaries, with ellipses."""
    left = max(0, start - width)
    right = min(len(text), end + width)
    if left > 0:
        space = text.find(" ", left, start)
        left = space + 1 if space != -1 else left
    if right < len(text):
        space = text.rfind(" ", end, right)
        right = space if space != -1 else right
    piece = " ".join(text[left:right].split())
    return ("…" if left > 0 else "") + piece + ("…" if right < len(text) else "")


def shorten(text: str, width: int = 120) -> str:
    """The start of ``text`` on one line, cut at a word boundary."""
    flat = " ".join(text.split())
    if len(flat) <= width:
        return flat
    cut = flat.rfind(" ", 0, width)
    return flat[: cut if cut > width // 2 else width] + "…"


# --- where a mark is --------------------------------------------------------------------------


def _mark_pattern(mark: str) -> re.Pattern[str] | None:
    words = mark.split()
    if not words:
        return None
    # Spaces may differ between the text a check read and the text shown: a line break in
    # the YAML, a no-break space of the typesetting.
    return re.compile(r"\s+".join(re.escape(word) for word in words))


def occurrences(
    text: str, mark: str, skip: Sequence[tuple[int, int]] = ()
) -> Iterator[tuple[int, int]]:
    """(start, end) of each occurrence of ``mark`` in ``text`` outside ``skip``."""
    pattern = _mark_pattern(mark)
    if pattern is None:
        return
    for match in pattern.finditer(text):
        if not any(s < match.end() and match.start() < e for s, e in skip):
            yield match.span()


def occurrence(
    text: str,
    span: tuple[int, int] | None,
    mark: str,
    skip: Sequence[tuple[int, int]] = (),
) -> int | None:
    """Which occurrence of ``mark`` in ``text`` (0 for the first) ``span`` is, not
    counting those overlapping ``skip``; ``None`` when ``span`` is not one of them.

    Another rendering of the same text (the review's cells, the letter's HTML) finds the
    same occurrence with :func:`nth_occurrence`, whatever its offsets.
    """
    if span is None:
        return None
    for index, found in enumerate(occurrences(text, mark, skip)):
        if found == span:
            return index
        if found[0] > span[0]:
            break
    return None


def nth_occurrence(
    text: str, mark: str, index: int, skip: Sequence[tuple[int, int]] = ()
) -> tuple[int, int] | None:
    """(start, end) of the ``index``-th occurrence of ``mark`` in ``text``."""
    for number, found in enumerate(occurrences(text, mark, skip)):
        if number == index:
            return found
    return None
