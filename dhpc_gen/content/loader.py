"""Load ``content/<id>/`` into a :class:`Dhpc`, reporting every problem at once.

YAML is read with ruamel.yaml so that each value keeps its line number; pydantic's
errors are translated into ``file:line field.path: message``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml import YAML
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError

from dhpc_gen.content.model import Dhpc, DhpcMeta, LanguageText
from dhpc_gen.errors import ContentError, Problem, display_path

META_FILE = "dhpc.yaml"
MAX_FILE_BYTES = 1 << 20
MAX_NODES = 50_000

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)


def format_loc(loc: Sequence[int | str]) -> str:
    """``('summary', 2, 'text')`` → ``summary[2].text``."""
    out = ""
    for part in loc:
        if isinstance(part, int):
            out += f"[{part}]"
        else:
            out += f".{part}" if out else str(part)
    return out


def parse_loc(path: str) -> Loc:
    """``sections[1].paragraphs`` → ``('sections', 1, 'paragraphs')`` (inverse of format_loc)."""
    loc: list[int | str] = []
    for part in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", path):
        loc.append(int(part.group(2)) if part.group(2) is not None else part.group(1))
    return tuple(loc)


def line_of(data: Any, loc: Sequence[int | str]) -> int | None:
    """1-based line of the value at ``loc`` (or of its nearest existing parent)."""
    line: int | None = None
    node = data
    for part in loc:
        try:
            if isinstance(node, CommentedMap) and part in node:
                line = int(node.lc.key(part)[0]) + 1
                node = node[part]
            elif isinstance(node, CommentedSeq) and isinstance(part, int) and part < len(node):
                line = int(node.lc.item(part)[0]) + 1
                node = node[part]
            else:
                break
        except (KeyError, IndexError, TypeError, AttributeError):
            break
    if line is None and isinstance(data, CommentedMap):
        return int(data.lc.line) + 1
    return line


def _count_nodes(data: Any) -> int:
    """Count nodes, stopping past MAX_NODES (guards against alias bombs)."""
    count = 0
    stack = [data]
    while stack and count <= MAX_NODES:
        node = stack.pop()
        count += 1
        if isinstance(node, dict):
            stack.extend(node.values())
        elif isinstance(node, list):
            stack.extend(node)
    return count


def link_outside_problem(path: Path, shown: str) -> Problem | None:
    """A problem if ``path`` is a symbolic link to a file outside its own folder.

    Content is read, shown in reports and written back (XLIFF import): a link such as
    ``fi.yaml -> /etc/passwd`` must not make any of that reach another file.
    """
    if not path.is_symlink():
        return None
    folder = path.parent.resolve()
    if folder in path.resolve().parents:
        return None
    return Problem(
        shown, "", "is a link to a file outside its folder: put the file itself in the folder"
    )


def _short(reason: str, limit: int = 200) -> str:
    """One line of at most ``limit`` characters: a duplicate key quotes both whole values."""
    reason = " ".join(reason.split())
    return reason if len(reason) <= limit else reason[: limit - 1] + "…"


def read_yaml(path: Path, shown: str, *, follow_links: bool = False) -> tuple[Any, list[Problem]]:
    """Parse one YAML file; return (data, problems).

    A link to a file outside its folder is refused unless ``follow_links`` (a file the
    user named on the command line, not one found in a content folder).
    """
    outside = None if follow_links else link_outside_problem(path, shown)
    if outside is not None:
        return None, [outside]
    try:
        raw = path.read_bytes()
    except OSError as exc:
        return None, [Problem(shown, "", f"cannot read the file: {exc.strerror}")]
    if len(raw) > MAX_FILE_BYTES:
        return None, [Problem(shown, "", f"file is larger than {MAX_FILE_BYTES} bytes")]
    try:
        text = raw.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        return None, [Problem(shown, "", f"not UTF-8 text (byte {exc.start})")]
    yaml = YAML(typ="rt")
    try:
        data = yaml.load(text)
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(shown, "", f"invalid YAML: {_short(reason)}", line)]
    except YAMLError as exc:
        return None, [Problem(shown, "", f"invalid YAML: {_short(str(exc))}")]
    if not isinstance(data, CommentedMap):
        return None, [Problem(shown, "", "expected a mapping of fields at the top level", 1)]
    if _count_nodes(data) > MAX_NODES:
        return None, [Problem(shown, "", f"more than {MAX_NODES} values (aliases?)", 1)]
    return data, []


_PATTERN_HINTS = {
    "id": "use lower-case letters, digits, '.', '_' and '-' (at most 64; it names the files)",
    "country": "a two-letter country code in capitals, such as 'FI' or 'BE'",
    "languages": "a language code in lower case, such as 'sv' or 'fi'",
    "source_language": "a language code in lower case, such as 'sv' or 'fi'",
    "language": "a language code in lower case, such as 'sv' or 'fi'",
}


def _message(err: Mapping[str, Any]) -> str:
    """pydantic's message in words an author can act on."""
    kind, loc = err["type"], err["loc"]
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "string_pattern_mismatch":
        field = next((part for part in reversed(loc) if isinstance(part, str)), "")
        hint = _PATTERN_HINTS.get(field)
        if hint:
            return f"{err['input']!r} is not valid: {hint}"
    return str(err["msg"])


def validate_model(model: type[M], data: Any, shown: str) -> tuple[M | None, list[Problem]]:
    """Validate ``data`` into ``model``; problems with field path, line and plain words."""
    try:
        return model.model_validate(data), []
    except ValidationError as exc:
        errors = exc.errors(include_url=False)
        deeper = {tuple(err["loc"][:n]) for err in errors for n in range(len(err["loc"]))}
        problems = []
        for err in errors:
            loc: Loc = tuple(err["loc"])
            if err["type"] == "too_short" and loc in deeper:
                # "at least 1 item" only because an item was invalid: that item is reported.
                continue
            problems.append(Problem(shown, format_loc(loc), _message(err), line_of(data, loc)))
        problems.sort(key=lambda p: p.line or 0)
        return None, problems


def load_dhpc(
    directory: Path,
    *,
    known_languages: Iterable[str] | None = None,
    known_countries: Iterable[str] | None = None,
    letterheads_dir: Path | None = None,
) -> Dhpc:
    """Read and validate ``directory``; raise :class:`ContentError` listing every problem.

    ``letterheads_dir``: where shared letterheads are (default: the project's).
    """
    if known_languages is None or known_countries is None:
        from dhpc_gen.i18n import available_languages
        from dhpc_gen.regulators import registry

        known_languages = available_languages() if known_languages is None else known_languages
        known_countries = registry.countries() if known_countries is None else known_countries
    languages_ok = set(known_languages)
    countries_ok = set(known_countries)

    meta_path = directory / META_FILE
    shown_meta = display_path(meta_path)
    if not directory.is_dir():
        raise ContentError([Problem(display_path(directory), "", "no such content folder")])
    if not meta_path.is_file():
        raise ContentError([Problem(shown_meta, "", "missing: every DHPC folder needs one")])

    problems: list[Problem] = []
    meta_data, found = read_yaml(meta_path, shown_meta)
    problems += found
    meta: DhpcMeta | None = None
    if meta_data is not None and "countries" in meta_data:
        raise ContentError(
            [
                Problem(
                    shown_meta,
                    "countries",
                    "this folder is a campaign of several countries: read it with "
                    "load_campaign and take one country's version",
                    line_of(meta_data, ("countries",)),
                )
            ]
        )
    if meta_data is not None:
        meta, found = validate_model(DhpcMeta, meta_data, shown_meta)
        problems += found
    if meta is None:
        raise ContentError(problems)

    def at(loc: Loc) -> int | None:
        return line_of(meta_data, loc)

    if meta.country not in countries_ok:
        problems.append(
            Problem(
                shown_meta,
                "country",
                f"unknown country {meta.country!r}: no reporting block in the regulator registry",
                at(("country",)),
            )
        )
    for index, language in enumerate(meta.languages):
        if language not in languages_ok:
            problems.append(
                Problem(
                    shown_meta,
                    f"languages[{index}]",
                    f"unknown language {language!r}: no catalog locales/{language}/"
                    f"LC_MESSAGES/messages.po (available: {', '.join(sorted(languages_ok))})",
                    at(("languages", index)),
                )
            )
    if len(set(meta.languages)) != len(meta.languages):
        problems.append(
            Problem(shown_meta, "languages", "a language is listed twice", at(("languages",)))
        )
    if meta.source_language not in meta.languages:
        problems.append(
            Problem(
                shown_meta,
                "source_language",
                f"{meta.source_language!r} is not one of the languages {list(meta.languages)}",
                at(("source_language",)),
            )
        )

    texts: dict[str, LanguageText] = {}
    files = [meta_path]
    for index, language in enumerate(meta.languages):
        if language not in languages_ok:
            continue
        path = directory / f"{language}.yaml"
        shown = display_path(path)
        if not path.is_file():
            problems.append(
                Problem(
                    shown,
                    "",
                    f"missing: dhpc.yaml lists language {language!r} (languages[{index}])",
                )
            )
            continue
        files.append(path)
        data, found = read_yaml(path, shown)
        problems += found
        if data is None:
            continue
        text, found = validate_model(LanguageText, data, shown)
        problems += found
        if text is None:
            continue
        problems += _text_against_meta(
            text, meta, language, shown, functools.partial(line_of, data)
        )
        texts[language] = text

    letterhead = None
    if meta.letterhead is not None:
        from dhpc_gen.content.letterhead import resolve_letterhead
        from dhpc_gen.resources import LETTERHEADS_DIR

        letterhead, found = resolve_letterhead(
            meta.letterhead, directory, shown_meta, at, letterheads_dir or LETTERHEADS_DIR
        )
        problems += found
        if letterhead is not None and meta.letterhead.shared is None:
            files += letterhead.files  # its logo is a file of the content folder

    if problems:
        raise ContentError(problems)
    return Dhpc(
        directory=directory, meta=meta, texts=texts, files=tuple(files), letterhead=letterhead
    )


def _text_against_meta(
    text: LanguageText,
    meta: DhpcMeta,
    language: str,
    shown: str,
    at: Callable[[Loc], int | None],
) -> list[Problem]:
    """Problems in one language file that only show against ``dhpc.yaml``."""
    problems = []
    if text.language != language:
        problems.append(
            Problem(
                shown,
                "language",
                f"says {text.language!r} but the file is for {language!r}",
                at(("language",)),
            )
        )
    counts = [
        ("active_substances", len(text.active_substances), len(meta.products), "products", False),
        ("contact_points", len(text.contact_points), len(meta.mahs), "mahs", True),
        (
            "signatory_titles",
            len(text.signatory_titles),
            len(meta.signatories),
            "signatories",
            True,
        ),
        (
            "address_sources",
            len(text.address_sources),
            len(meta.address_sources),
            "address_sources",
            True,
        ),
    ]
    for field, have, want, meta_field, optional in counts:
        if have != want and not (optional and have == 0):
            problems.append(
                Problem(
                    shown,
                    field,
                    f"has {have} entries but dhpc.yaml has {want} {meta_field}: give one for each",
                    at((field,)),
                )
            )
    return problems


def consistency_problems(dhpc: Dhpc) -> list[Problem]:
    """Structural differences between each language and the source language.

    A letter whose languages do not have the same bullets and sections must not be
    printed: the build refuses it, ``dhpc check`` reports it.
    """
    source = dhpc.text(dhpc.meta.source_language)
    problems = []
    for language, text in dhpc.iter_texts():
        if language == dhpc.meta.source_language:
            continue
        differing = [row for row in structure_counts(source, text) if row[1] != row[2]]
        if not differing:
            continue  # the file is read again only to name the lines of a problem
        path = dhpc.language_file(language)
        shown = display_path(path)
        data, _ = read_yaml(path, shown)
        for field, have, want in differing:
            problems.append(
                Problem(
                    shown,
                    field,
                    f"has {have} but the source language {dhpc.meta.source_language!r} has {want}",
                    line_of(data, parse_loc(field)),
                )
            )
    return problems


def registry_problems(dhpc: Dhpc) -> list[Problem]:
    """Languages the DHPC is sent in that its country's reporting block lacks.

    Loading allows them so that ``dhpc check`` can report them with the other findings;
    the build refuses them, naming the line in ``dhpc.yaml``.
    """
    from dhpc_gen.regulators import registry

    reporting = registry.languages(dhpc.meta.country)
    if all(language in reporting for language in dhpc.meta.languages):
        return []
    meta_path = dhpc.files[0]
    shown = display_path(meta_path)
    data, _ = read_yaml(meta_path, shown)
    # A campaign lists a country's languages under countries: <CC>.
    where: Loc = ("countries", dhpc.meta.country) if dhpc.in_campaign else ("languages",)
    return [
        Problem(
            shown,
            f"{'.'.join(map(str, where))}[{index}]",
            f"the regulator registry has no {language!r} reporting block for "
            f"{dhpc.meta.country} (it has {', '.join(reporting)}): add one to "
            f"{display_path(registry.file_for(dhpc.meta.country))}",
            line_of(data, (*where, index)),
        )
        for index, language in enumerate(dhpc.meta.languages)
        if language not in reporting
    ]


def structure_counts(source: LanguageText, target: LanguageText) -> list[tuple[str, int, int]]:
    """(field, count in target, count in source) for every list whose length must match."""
    rows = [
        ("introduction", len(target.introduction), len(source.introduction)),
        ("summary", len(target.summary), len(source.summary)),
        ("background", len(target.background), len(source.background)),
        ("sections", len(target.sections), len(source.sections)),
        ("reporting", len(target.reporting), len(source.reporting)),
    ]
    for index, (mine, theirs) in enumerate(zip(target.sections, source.sections, strict=False)):
        rows.append((f"sections[{index}].paragraphs", len(mine.paragraphs), len(theirs.paragraphs)))
    return rows
