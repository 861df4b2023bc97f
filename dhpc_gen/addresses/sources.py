"""Address source definitions: ``sources.yaml`` next to the DHPC (or a file given).

Each source names a register export (CSV or XLSX), how to read it, and how its headers
and values map onto the canonical fields. Problems are reported all at once, with the
file, line and field path, like the content loader does.
"""

from __future__ import annotations

import codecs
import dataclasses
import functools
import logging
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from pathlib import Path
from typing import Annotated, Any, Literal

from pydantic import (
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationError,
    field_validator,
)

from dhpc_gen.content.loader import format_loc, line_of, read_yaml
from dhpc_gen.content.model import Dhpc
from dhpc_gen.errors import ContentError, Problem, display_path

logger = logging.getLogger(__name__)

SOURCES_FILE = "sources.yaml"
SOURCES_DIR = "sources"
"""A campaign's address sources: ``sources/<CC>.yaml``, one file per country."""


def default_sources_file(dhpc: Dhpc) -> Path:
    """``DIR/sources.yaml``, or for one country of a campaign ``DIR/sources/<CC>.yaml``."""
    if dhpc.in_campaign:
        return dhpc.directory / SOURCES_DIR / f"{dhpc.meta.country}.yaml"
    return dhpc.directory / SOURCES_FILE


CanonicalField = Literal[
    "first_name",
    "last_name",
    "name",
    "title",
    "profession",
    "specialty",
    "organisation",
    "street",
    "postal_code",
    "city",
    "country",
    "language",
    "email",
    "id",
]
CANONICAL_FIELDS: tuple[str, ...] = CanonicalField.__args__  # type: ignore[attr-defined]

_Text = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
_Value = Annotated[str, StringConstraints(strip_whitespace=True, max_length=500)]
_Country = Annotated[str, StringConstraints(pattern=r"^[A-Z]{2}$")]

_DELIMITERS = {",": ",", ";": ";", "\t": "\t", "tab": "\t", "|": "|"}
_FORMATS = {".csv": "csv", ".txt": "csv", ".tsv": "csv", ".xlsx": "xlsx", ".xlsm": "xlsx"}


class _Model(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True, str_strip_whitespace=True)


class _SourceEntry(_Model):
    name: _Text
    path: _Text
    format: Literal["csv", "xlsx"] | None = None
    encoding: _Text | None = None
    delimiter: Literal[",", ";", "\t", "tab", "|"] | None = None
    sheet: int | str | None = None
    header_row: Annotated[int, Field(ge=1, le=1000)] | None = None
    country: _Country | None = None
    name_order: Literal["last_first", "first_last"] | None = None
    columns: dict[_Text, CanonicalField] = Field(min_length=1)
    values: dict[CanonicalField, dict[_Text, _Value]] = Field(default_factory=dict)
    defaults: dict[CanonicalField, _Text] = Field(default_factory=dict)

    @field_validator("sheet", mode="before")
    @classmethod
    def _sheet(cls, value: object) -> object:
        """A name, or a number from 1 (a YAML ``true`` is neither)."""
        if value is None or (isinstance(value, str) and 0 < len(value.strip()) <= 500):
            return value.strip() if isinstance(value, str) else None
        if isinstance(value, int) and not isinstance(value, bool) and 1 <= value <= 1000:
            return value
        raise ValueError("give the sheet's name, or its number (1 for the first sheet)")


class _SourcesFile(_Model):
    sources: tuple[_SourceEntry, ...] = Field(min_length=1)
    suppression: _Text | None = None


@dataclass(frozen=True)
class AddressSource:
    """One register export and how to read it."""

    name: str
    """As printed in the letter's address-source line (spelled as in dhpc.yaml)."""
    path: Path
    shown: str
    """The path as given in sources.yaml, for messages and reports."""
    format: Literal["csv", "xlsx"]
    encoding: str | None
    delimiter: str | None
    sheet: int | str | None
    """XLSX: the sheet's name, or its number (1 for the first); None: the only one with data."""
    header_row: int | None
    country: str | None
    name_order: Literal["last_first", "first_last"]
    columns: Mapping[str, str]
    """Header as in the file → canonical field."""
    values: Mapping[str, Mapping[str, str]]
    """Canonical field → (case-folded value as in the file → value to use)."""
    defaults: Mapping[str, str]
    """Canonical field → value for rows where it is empty."""
    kind: Literal["register", "suppression"] = "register"
    """A register has the settings of sources.yaml; hints for other files name none."""
    joins: Mapping[str, tuple[str, ...]] = dataclasses.field(default_factory=dict)
    """Canonical field → the headers whose cells are joined into it, in this order
    (``street: [Rue, Numéro]``); each is also in :attr:`columns`."""


@dataclass(frozen=True)
class SourceSet:
    """Everything ``sources.yaml`` defines."""

    file: Path
    sources: tuple[AddressSource, ...]
    suppression: Path | None


def _inside_folder(folder: Path, relative: str) -> Path | None:
    """``folder/relative`` resolved, or None when it escapes ``folder``."""
    if Path(relative).is_absolute():
        return None
    base = folder.resolve()
    target = (base / relative).resolve()
    if base not in target.parents:
        return None
    return target


Joins = dict[int, dict[str, tuple[str, ...]]]
"""Source index → canonical field → the headers joined into it."""


def _split_joins(data: Any, shown: str) -> tuple[Any, Joins, list[Problem]]:
    """Take the explicit joins (``street: [Rue, Numéro]``) out of each ``columns``.

    Returns the data with each join written as ``header: field`` items (what the model
    reads), the joins, and the problems of badly written ones.
    """
    sources = data.get("sources") if isinstance(data, Mapping) else None
    if not isinstance(sources, list):
        return data, {}, []
    joins: Joins = {}
    problems: list[Problem] = []
    entries: list[Any] = []
    for index, entry in enumerate(sources):
        columns = entry.get("columns") if isinstance(entry, Mapping) else None
        if not isinstance(columns, Mapping) or not any(
            isinstance(v, list) for v in columns.values()
        ):
            entries.append(entry)
            continue
        flat: dict[Any, Any] = {}
        for key, value in columns.items():
            if not isinstance(value, list):
                flat.setdefault(key, value)
                continue
            where = f"sources[{index}].columns.{key}"
            line = line_of(data, ("sources", index, "columns", key))
            headers = [" ".join(str(h).split()) for h in value if isinstance(h, str)]
            if key not in CANONICAL_FIELDS:
                problems.append(
                    Problem(
                        shown,
                        where,
                        f"a list joins several headers into one field, and {key!r} is not one "
                        f"(the canonical fields are: {', '.join(CANONICAL_FIELDS)}); write "
                        "e.g. street: [Rue, Numéro]",
                        line,
                    )
                )
            elif len(headers) != len(value) or len(headers) < 2 or not all(headers):
                problems.append(
                    Problem(shown, where, "list at least two headers of the file to join", line)
                )
            elif len({h.casefold() for h in headers}) != len(headers):
                problems.append(Problem(shown, where, "a header is listed twice", line))
            else:
                for header in headers:
                    if any(str(k).casefold() == header.casefold() for k in columns):
                        problems.append(
                            Problem(
                                shown,
                                where,
                                f"{header!r} is mapped on its own too: map it once",
                                line,
                            )
                        )
                    flat.setdefault(header, key)
                joins.setdefault(index, {})[str(key)] = tuple(headers)
        entries.append({**entry, "columns": flat})
    return {**data, "sources": entries}, joins, problems


def _validate(
    data: Any, shown: str, lines: Any = None
) -> tuple[_SourcesFile | None, list[Problem]]:
    """The model of ``data``; problems carry the lines of ``lines`` (default ``data``)."""
    lines = data if lines is None else lines
    try:
        return _SourcesFile.model_validate(data), []
    except ValidationError as exc:
        problems = []
        errors = exc.errors(include_url=False)
        for err in errors:
            loc = tuple(err["loc"])
            message = err["msg"]
            if loc == ("sources",) and err["type"] == "too_short" and len(errors) > 1:
                continue  # pydantic's count of the sources that had no problem: not one
            if err["type"] == "value_error":
                message = message.removeprefix("Value error, ")
            if err["type"] == "extra_forbidden":
                message = "unknown field (check the spelling)"
            elif err["type"] == "missing":
                message = "required field is missing"
            elif err["type"] == "literal_error" and loc and loc[-1] != "format":
                message = f"{message} (the canonical fields are: {', '.join(CANONICAL_FIELDS)})"
            problems.append(Problem(shown, format_loc(loc), message, line_of(lines, loc)))
        return None, problems


def load_sources(path: Path, *, address_sources: Iterable[str] = ()) -> SourceSet:
    """Read and check a sources file; raise :class:`ContentError` listing every problem.

    ``address_sources``: the names in dhpc.yaml; a source spelled otherwise is logged,
    since the letter's address-source line prints the names as dhpc.yaml spells them.
    """
    shown = display_path(path)
    if not path.is_file():
        raise ContentError(
            [Problem(shown, "", "no such sources file: create it or pass --sources FILE")]
        )
    data, problems = read_yaml(path, shown)
    if data is None:
        raise ContentError(problems)
    flat, joins, join_problems = _split_joins(data, shown)
    parsed, problems = _validate(flat, shown, data)
    problems = join_problems + problems
    if parsed is None or join_problems:
        raise ContentError(problems)

    def at(*loc: int | str) -> int | None:
        return line_of(data, loc)

    folder = path.parent
    sources: list[AddressSource] = []
    seen_names: dict[str, int] = {}
    seen_paths: dict[Path, int] = {}
    for index, entry in enumerate(parsed.sources):
        where = f"sources[{index}]"
        if entry.name in seen_names:
            problems.append(
                Problem(
                    shown,
                    f"{where}.name",
                    f"{entry.name!r} is already the name of sources[{seen_names[entry.name]}]",
                    at("sources", index, "name"),
                )
            )
        seen_names.setdefault(entry.name, index)
        file = _inside_folder(folder, entry.path)
        if file is None:
            problems.append(
                Problem(
                    shown,
                    f"{where}.path",
                    f"{entry.path!r} is outside the folder of {path.name}: give a path "
                    "relative to that folder, below it",
                    at("sources", index, "path"),
                )
            )
            continue
        if not file.is_file():
            problems.append(
                Problem(
                    shown,
                    f"{where}.path",
                    f"no such file {entry.path!r} (paths are relative to {path.name})",
                    at("sources", index, "path"),
                )
            )
        elif file in seen_paths:
            problems.append(
                Problem(
                    shown,
                    f"{where}.path",
                    f"the same file as sources[{seen_paths[file]}]",
                    at("sources", index, "path"),
                )
            )
        seen_paths.setdefault(file, index)
        fmt = entry.format or _FORMATS.get(file.suffix.lower())
        if fmt is None:
            problems.append(
                Problem(
                    shown,
                    f"{where}.format",
                    f"cannot tell the format from {file.name!r}: add format: csv or format: xlsx",
                    at("sources", index),
                )
            )
        if entry.encoding is not None:
            try:
                codecs.lookup(entry.encoding)
            except LookupError:
                problems.append(
                    Problem(
                        shown,
                        f"{where}.encoding",
                        f"unknown encoding {entry.encoding!r} (e.g. utf-8, utf-8-sig, cp1252)",
                        at("sources", index, "encoding"),
                    )
                )
        if fmt == "xlsx" and (entry.encoding or entry.delimiter):
            problems.append(
                Problem(
                    shown,
                    where,
                    "encoding and delimiter apply to CSV files only",
                    at("sources", index),
                )
            )
        if fmt == "csv" and entry.sheet is not None:
            problems.append(
                Problem(
                    shown,
                    f"{where}.sheet",
                    "sheet applies to XLSX workbooks only",
                    at("sources", index, "sheet"),
                )
            )
        joined = joins.get(index, {})
        problems += _column_problems(
            entry, joined, shown, where, functools.partial(at, "sources", index)
        )
        if fmt is None or problems:
            continue
        sources.append(
            AddressSource(
                name=entry.name,
                path=file,
                shown=entry.path,
                format=fmt,  # type: ignore[arg-type]
                encoding=entry.encoding,
                delimiter=_DELIMITERS[entry.delimiter] if entry.delimiter else None,
                sheet=entry.sheet,
                header_row=entry.header_row,
                country=entry.country,
                name_order=entry.name_order or "last_first",
                columns={header: field for header, field in entry.columns.items()},
                joins=joined,
                values={
                    field: {key.casefold(): value for key, value in mapping.items()}
                    for field, mapping in entry.values.items()
                },
                defaults={str(field): value for field, value in entry.defaults.items()},
            )
        )

    suppression: Path | None = None
    if parsed.suppression is not None:
        suppression = _inside_folder(folder, parsed.suppression)
        if suppression is None or not suppression.is_file():
            reason = (
                "is outside the folder of the sources file"
                if suppression is None
                else "no such file"
            )
            problems.append(
                Problem(
                    shown, "suppression", f"{parsed.suppression!r}: {reason}", at("suppression")
                )
            )
    if problems:
        raise ContentError(problems)

    known = set(address_sources)
    for source in sources:
        if known and source.name not in known:
            logger.warning(
                "%s: source %r is not spelled as any of dhpc.yaml's address_sources (%s); "
                "the letter prints the name as given here",
                shown,
                source.name,
                ", ".join(sorted(known)),
            )
    return SourceSet(file=path, sources=tuple(sources), suppression=suppression)


def _column_problems(
    entry: _SourceEntry, joins: Mapping[str, tuple[str, ...]], shown: str, where: str, at: Any
) -> list[Problem]:
    """The column mapping must be able to give a name and a way to reach the person."""
    problems = []
    mapped = set(entry.columns.values())
    headers_of: dict[str, list[str]] = {}
    for header, target in entry.columns.items():
        headers_of.setdefault(target, []).append(header)
    for mapped_to, headers in headers_of.items():
        joined = joins.get(mapped_to, ())
        alone = [h for h in headers if h not in joined]
        if joined and alone:
            problems.append(
                Problem(
                    shown,
                    f"{where}.columns",
                    f"{' and '.join(repr(h) for h in alone)} map(s) to {mapped_to}, which "
                    f"already joins {', '.join(joined)}: list it in {mapped_to}: [...] or "
                    "map it to another field",
                    at("columns", alone[-1]),
                )
            )
        elif len(headers) > 1 and not joined:
            # One cell would silently overwrite the other (a city read as the street); a
            # join is said explicitly, with its order: street: [Rue, Numéro].
            problems.append(
                Problem(
                    shown,
                    f"{where}.columns",
                    f"{' and '.join(repr(h) for h in headers)} both map to {mapped_to}: "
                    f"map only one of them, or join them on purpose: {mapped_to}: "
                    f"[{', '.join(headers)}]",
                    at("columns", headers[-1]),
                )
            )
    if "name" in mapped and mapped & {"first_name", "last_name"}:
        problems.append(
            Problem(
                shown,
                f"{where}.columns",
                "map either one name column or first_name/last_name, not both",
                at("columns"),
            )
        )
    if not mapped & {"name", "last_name"}:
        problems.append(
            Problem(
                shown,
                f"{where}.columns",
                "no column maps to name or last_name: every row would be rejected",
                at("columns"),
            )
        )
    if "name" in mapped and entry.name_order is None:
        problems.append(
            Problem(
                shown,
                f"{where}.name_order",
                "a column maps to name: say how it is written, name_order: last_first "
                '("Virtanen Matti") or first_last ("Matti Virtanen")',
                at("columns"),
            )
        )
    reachable = mapped | set(entry.defaults)
    if "email" not in reachable and not {"street", "postal_code", "city"} <= reachable:
        problems.append(
            Problem(
                shown,
                f"{where}.columns",
                "no email column and no street, postal_code and city columns: "
                "every row would be rejected",
                at("columns"),
            )
        )
    for field in entry.defaults:
        if field in {"name", "first_name", "last_name", "email", "id"}:
            problems.append(
                Problem(
                    shown,
                    f"{where}.defaults.{field}",
                    "a default is for fields shared by every row (profession, country, …), "
                    "not for names, e-mail or ids",
                    at("defaults", field),
                )
            )
    return problems
