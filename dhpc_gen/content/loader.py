"""Load ``content/<id>/`` into a :class:`Dhpc`, reporting every problem at once.

YAML is read with libyaml's parser where the text is plain YAML
(:mod:`dhpc_gen.content.plain_yaml`), else with ruamel.yaml's round-trip reader; the
lines of the values are found with the round-trip reader when a message needs one
(:func:`line_of`). pydantic's errors are translated into ``file:line field.path: message``.
"""

from __future__ import annotations

import functools
import re
from collections.abc import Callable, Iterable, Mapping, Sequence
from collections.abc import Set as AbstractSet
from pathlib import Path
from typing import Any, TypeVar

from pydantic import BaseModel, ValidationError
from ruamel.yaml.comments import CommentedMap, CommentedSeq
from ruamel.yaml.error import MarkedYAMLError, YAMLError
from ruamel.yaml.reader import ReaderError

from dhpc_gen.content.model import Dhpc, DhpcMeta, LanguageText
from dhpc_gen.content.phrases import named_placeholders
from dhpc_gen.content.plain_yaml import plain_load
from dhpc_gen.content.yaml_values import Unreadable, content_yaml, short_tag
from dhpc_gen.errors import ContentError, Problem, display_path

META_FILE = "dhpc.yaml"
MAX_FILE_BYTES = 1 << 20
"""Any YAML file read (a termbase, a register's sources, a letterhead)."""
MAX_CONTENT_BYTES = 64 << 10
"""``dhpc.yaml`` and each ``<lang>.yaml``: about 15 pages of letter, which build in
seconds (layout time grows with the text; a 1 MiB language file was a 230-page letter
that took half a minute and 200 MB to build)."""
MAX_NODES = 50_000
MAX_DEPTH = 64

Loc = tuple[int | str, ...]
M = TypeVar("M", bound=BaseModel)


_NAME = re.compile(r"^[A-Za-z_][A-Za-z0-9_]*$")


def format_loc(loc: Sequence[Any]) -> str:
    """``('summary', 2, 'text')`` → ``summary[2].text``.

    A key that is not a plain name (a ``boilerplate`` phrase, a key typed with a space,
    a control character or a list as key) is shown quoted: ``boilerplate['Summary']``.
    """
    out = ""
    previous: Any = None
    for part in loc:
        if isinstance(part, int) and not isinstance(part, bool):
            out += f"[{part}]"
        elif isinstance(part, str) and _NAME.match(part) and previous != "boilerplate":
            out += f".{part}" if out else part
        else:
            out += f"[{part!r}]"
        previous = part
    return out


def parse_loc(path: str) -> Loc:
    """``sections[1].paragraphs`` → ``('sections', 1, 'paragraphs')`` (inverse of format_loc)."""
    loc: list[int | str] = []
    for part in re.finditer(r"([^.\[\]]+)|\[(\d+)\]", path):
        loc.append(int(part.group(2)) if part.group(2) is not None else part.group(1))
    return tuple(loc)


class PlainMapping(dict[str, Any]):
    """A file's top-level mapping as read by the fast reader, with the text it came from.

    The values are plain; :func:`line_of` reads the text again round-trip, once, when a
    message asks for a line.
    """

    def __init__(self, data: dict[str, Any], text: str) -> None:
        super().__init__(data)
        self._text = text
        self._positions: CommentedMap | None = None

    def positions(self) -> CommentedMap | None:
        """The same mapping read round-trip: it knows the line of every value."""
        if self._positions is None:
            try:
                data = content_yaml().load(self._text)
            except Exception:  # read alike by both readers (tests/test_plain_yaml.py)
                data = None
            self._positions = data if isinstance(data, CommentedMap) else CommentedMap()
        return self._positions


def line_of(data: Any, loc: Sequence[int | str]) -> int | None:
    """1-based line of the value at ``loc`` (or of its nearest existing parent)."""
    if isinstance(data, PlainMapping):
        data = data.positions()
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


def _count_nodes(data: Any) -> tuple[int, int]:
    """(nodes, depth), stopping past MAX_NODES or MAX_DEPTH (guards against alias bombs)."""
    count = deepest = 0
    stack = [(data, 1)]
    while stack and count <= MAX_NODES and deepest <= MAX_DEPTH:
        node, depth = stack.pop()
        count += 1
        deepest = max(deepest, depth)
        if isinstance(node, dict):
            stack.extend((value, depth + 1) for value in node.values())
        elif isinstance(node, list):
            stack.extend((value, depth + 1) for value in node)
    return count, deepest


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


def read_yaml(
    path: Path, shown: str, *, follow_links: bool = False, max_bytes: int = MAX_FILE_BYTES
) -> tuple[Any, list[Problem]]:
    """Parse one YAML file of at most ``max_bytes``; return (data, problems).

    Plain YAML is read fast (a :class:`PlainMapping`); any other text, or a text with a
    problem, round-trip. Either way :func:`line_of` finds the line of a value.

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
    if len(raw) > max_bytes:
        return None, [Problem(shown, "", _too_large(len(raw), max_bytes))]
    text, problem = _decode(raw, shown)
    if problem is not None:
        return None, [problem]
    plain = plain_load(text)
    if isinstance(plain, dict):
        count, depth = _count_nodes(plain)
        if count <= MAX_NODES and depth <= MAX_DEPTH:
            return PlainMapping(plain, text), []
    # Not plain YAML, or not a mapping, or too large: the round-trip reader says what.
    try:
        data = content_yaml().load(text)
    except ReaderError as exc:
        line = text.count("\n", 0, exc.position) + 1 if isinstance(exc.position, int) else None
        char = exc.character if isinstance(exc.character, int) else 0
        return None, [
            Problem(
                shown,
                "",
                f"invalid YAML: the character U+{char:04X} may not be typed in a YAML file "
                "(a control character): remove it",
                line,
            )
        ]
    except MarkedYAMLError as exc:
        mark = exc.problem_mark or exc.context_mark
        line = mark.line + 1 if mark is not None else None
        reason = exc.problem or exc.context or "invalid YAML"
        return None, [Problem(shown, "", f"invalid YAML: {_short(reason)}", line)]
    except YAMLError as exc:
        return None, [Problem(shown, "", f"invalid YAML: {_short(str(exc))}")]
    except RecursionError:
        return None, [Problem(shown, "", f"values nested more than {MAX_DEPTH} levels deep")]
    except Exception as exc:  # the YAML library on hostile input: a message, not a traceback
        return None, [Problem(shown, "", f"invalid YAML: {_short(str(exc) or type(exc).__name__)}")]
    if not isinstance(data, CommentedMap):
        return None, [Problem(shown, "", "expected a mapping of fields at the top level", 1)]
    count, depth = _count_nodes(data)
    if count > MAX_NODES:
        return None, [Problem(shown, "", f"more than {MAX_NODES} values (aliases?)", 1)]
    if depth > MAX_DEPTH:
        return None, [Problem(shown, "", f"values nested more than {MAX_DEPTH} levels deep", 1)]
    return data, []


def _too_large(size: int, limit: int) -> str:
    if limit == MAX_CONTENT_BYTES:
        return (
            f"is {size / 1024:.0f} KiB; a content file may have at most {limit // 1024} KiB "
            "(about 15 pages of letter, which build in seconds): shorten the text"
        )
    return f"is {size / 1024:.0f} KiB; the file may have at most {limit // 1024} KiB"


_OTHER_ENCODINGS = (
    (b"\xff\xfe\x00\x00", "UTF-32"),
    (b"\x00\x00\xfe\xff", "UTF-32"),
    (b"\xff\xfe", "UTF-16"),
    (b"\xfe\xff", "UTF-16"),
)


def _decode(raw: bytes, shown: str) -> tuple[str, Problem | None]:
    """The file as text (UTF-8, with or without BOM), or the problem saying how to save it."""
    for bom, name in _OTHER_ENCODINGS:
        if raw.startswith(bom):
            return "", Problem(shown, "", f"is saved as {name}: save it as UTF-8", 1)
    try:
        return raw.decode("utf-8-sig"), None
    except UnicodeDecodeError as exc:
        line = raw.count(b"\n", 0, exc.start) + 1
        column = exc.start - (raw.rfind(b"\n", 0, exc.start) + 1) + 1
        return "", Problem(
            shown,
            "",
            f"not UTF-8 text: byte 0x{raw[exc.start]:02X} at column {column} is not UTF-8 "
            "(saved as Latin-1 or Windows-1252?): save the file as UTF-8",
            line,
        )


_PATTERN_HINTS = {
    "id": "use lower-case letters, digits, '.', '_' and '-' (at most 64; it names the files)",
    "country": "a two-letter country code in capitals, such as 'FI' or 'BE'",
    "countries": "a two-letter country code in capitals, such as 'FI' or 'BE'",
    "languages": "a language code in lower case, such as 'sv' or 'fi'",
    "source_language": "a language code in lower case, such as 'sv' or 'fi'",
    "language": "a language code in lower case, such as 'sv' or 'fi'",
}


def _message(err: Mapping[str, Any]) -> str:
    """pydantic's message in words an author can act on."""
    kind, loc, value = err["type"], err["loc"], err.get("input")
    if isinstance(value, Unreadable):
        return value.describe()
    if loc and loc[-1] == "[key]":
        if kind == "string_too_short" or value is None:
            return "the key is empty: write the English phrase the text replaces"
        return f"the key {_message({**err, 'loc': loc[:-1]})}"
    if kind == "invalid_key":
        return "the key should be text"
    if kind.startswith("date"):
        how = "write the date as YYYY-MM-DD, such as 2019-04-24"
        if isinstance(value, str):
            return f"{value!r} is not a date: {how}"
        return f"YAML reads it as {_type_words(value)}, not a date: {how}"
    if kind == "string_type":
        return _not_text(value)
    if kind == "string_too_long" and isinstance(value, str):
        limit = err.get("ctx", {}).get("max_length")
        return (
            f"has {len(value.strip())} characters; a text may have at most {limit} (about a "
            "page, which lays out quickly): shorten it or split it in two"
        )
    if kind == "string_unicode":
        return "contains an unpaired surrogate (an escape such as \\ud800): remove it"
    if kind == "too_short" and loc == ("countries",):
        return "lists no country: give each country with its languages, such as DE: [de]"
    if kind == "extra_forbidden":
        return "unknown field (check the spelling)"
    if kind == "missing":
        return "required field is missing"
    if kind == "value_error":
        return str(err["msg"]).removeprefix("Value error, ")
    if kind == "literal_error":
        allowed = str(err.get("ctx", {}).get("expected", "")).replace("'", "")
        return f"{err['input']!r} is not one of the values allowed here: {allowed}"
    if kind == "string_pattern_mismatch":
        # The innermost field with a hint: a key of countries: is a country code.
        field = next((p for p in reversed(loc) if isinstance(p, str) and p in _PATTERN_HINTS), "")
        hint = _PATTERN_HINTS.get(field)
        if hint:
            return f"{err['input']!r} is not valid: {hint}"
    return str(err["msg"])


def _type_words(value: Any) -> str:
    if isinstance(value, bool):
        return "true or false"
    if isinstance(value, (int, float)):
        return "a number"
    if isinstance(value, (list, tuple, AbstractSet)):
        return "a list"
    if isinstance(value, Mapping):
        return "a mapping"
    if isinstance(value, bytes):
        return "binary data"
    if value is None:
        return "empty"
    tag = getattr(value, "tag", None)
    if tag is not None:
        return f"a value tagged {short_tag(str(getattr(tag, 'value', tag)))}"
    return "not text"


def _not_text(value: Any) -> str:
    """Why a value is not text, and what to type instead."""
    words = _type_words(value)
    if value is None:
        return "is empty: write the text, or leave the field out"
    if isinstance(value, bytes):
        return "is binary data (!!binary): write the text itself"
    if words in ("a list", "a mapping"):
        return f"should be text, not {words}"
    if words.startswith("a value tagged"):
        return f"should be text, not {words}: remove the tag"
    return f"should be text, but YAML reads it as {words}: put it in quotes"


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
            path = format_loc(loc[:-1] if loc and loc[-1] == "[key]" else loc)
            problems.append(Problem(shown, path, _message(err), line_of(data, loc)))
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
    meta_data, found = read_yaml(meta_path, shown_meta, max_bytes=MAX_CONTENT_BYTES)
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
        # The language files are still checked on their own, so one run lists every
        # problem: their languages as dhpc.yaml lists them, where it can be read.
        problems += texts_alone(directory, _listed_languages(meta_data), languages_ok)
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
    if meta.source_language not in meta.languages and meta.source_language not in languages_ok:
        problems.append(
            Problem(
                shown_meta,
                "source_language",
                f"unknown language {meta.source_language!r}: no catalog "
                f"locales/{meta.source_language}/LC_MESSAGES/messages.po",
                at(("source_language",)),
            )
        )

    if meta.reporting_authority is not None and meta.country in countries_ok:
        from dhpc_gen.content.campaign import reporting_authority_problems

        problems += reporting_authority_problems(
            meta.country,
            [lang for lang in meta.languages if lang in languages_ok],
            meta.reporting_authority,
            shown_meta,
            at(("reporting_authority",)),
        )

    texts: dict[str, LanguageText] = {}
    files = [meta_path]
    # The source language need not be sent: an English core for a letter sent in Czech
    # only is read to check the translation against, and built in no letter.
    read = list(meta.languages)
    if meta.source_language not in read:
        read.append(meta.source_language)
    for index, language in enumerate(read):
        if language not in languages_ok:
            continue
        path = directory / f"{language}.yaml"
        shown = display_path(path)
        if not path.is_file():
            listed = (
                f"dhpc.yaml lists language {language!r} (languages[{index}])"
                if language in meta.languages
                else f"the source text, in {language!r} (source_language)"
            )
            problems.append(Problem(shown, "", f"missing: {listed}"))
            continue
        files.append(path)
        data, found = read_yaml(path, shown, max_bytes=MAX_CONTENT_BYTES)
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


def _listed_languages(meta_data: Any) -> list[object]:
    if not isinstance(meta_data, Mapping):
        return []
    listed = meta_data.get("languages")
    return [*(listed if isinstance(listed, list) else []), meta_data.get("source_language")]


def texts_alone(
    directory: Path, languages: Iterable[object], languages_ok: AbstractSet[str]
) -> list[Problem]:
    """The problems of each language file of ``languages``, each read by itself.

    For a ``dhpc.yaml`` too broken to say more: its language files are still checked,
    so that one run lists every problem. A missing file is said once it is valid.
    """
    problems: list[Problem] = []
    for language in dict.fromkeys(languages):
        if not isinstance(language, str) or language not in languages_ok:
            continue
        path = directory / f"{language}.yaml"
        if not path.is_file():
            continue
        shown = display_path(path)
        data, found = read_yaml(path, shown, max_bytes=MAX_CONTENT_BYTES)
        problems += found
        if data is not None:
            problems += validate_model(LanguageText, data, shown)[1]
    return problems


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
    for msgid, override in text.boilerplate.items():
        wanted = set(named_placeholders(msgid))
        for placeholder in dict.fromkeys(named_placeholders(override)):
            if placeholder not in wanted:
                problems.append(
                    Problem(
                        shown,
                        format_loc(("boilerplate", msgid)),
                        f"uses {placeholder}, which the phrase does not have "
                        f"(it has {', '.join(sorted(wanted)) or 'none'}); "
                        "a percent sign before '(' is written %%",
                        at(("boilerplate", msgid)),
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
