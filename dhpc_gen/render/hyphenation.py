"""Where a word may be hyphenated, per language.

Most languages use the Pyphen dictionaries WeasyPrint ships. Pyphen has none for
Finnish, whose hyphenation follows a few regular rules (Kielitoimisto): a syllable
starts at the last consonant before a vowel (*kat-to*, *kans-sa*), and two vowels that
are neither a long vowel nor a diphthong belong to different syllables (*ra-di-o*,
*kau-an*). Those rules are written out here. Compound boundaries a dictionary would
know are not found, as with any rule-based hyphenator.

Pyphen parses a dictionary's patterns in Python each time a process first needs them
(German: a second). The parsed patterns are kept as JSON in the user's cache folder
(``$XDG_CACHE_HOME/dhpc_gen``, by default ``~/.cache/dhpc_gen``), named by the SHA-256 of
the dictionary file, so a later process reads them in a few milliseconds; a cache that
cannot be read or written is passed over.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import tempfile
from collections.abc import Callable
from functools import lru_cache
from pathlib import Path
from typing import Any

import pyphen

LEFT_MIN = 2
"""Letters a hyphenated word keeps before the hyphen."""
RIGHT_MIN = 3
"""Letters that go to the next line at least."""

Positions = Callable[[str], list[int]]

# Regional dictionaries where Pyphen's own fallback would pick another region first.
_DICTIONARY = {"de": "de_DE", "en": "en_GB", "pt": "pt_PT", "no": "nb_NO", "nb": "nb_NO"}

_FI_VOWELS = frozenset("aeiouyäöåéü")
_FI_NUCLEI = frozenset(
    "aa ee ii oo uu yy ää öö ai ei oi ui yi äi öi au eu iu ou ey iy äy öy".split()  # noqa: SIM905
)
"""Long vowels and diphthongs: never split."""
_FI_UNSURE = frozenset({"ie", "uo", "yö"})
"""Diphthongs in a first syllable (*tie-to*); later in a word they may also be the
meeting of two parts of a compound (*vitaali|elin*), so no break is made next to them."""


def finnish_positions(word: str) -> list[int]:
    """Indices of ``word`` before which a Finnish hyphen may go."""
    w = word.lower()
    n = len(w)
    points: set[int] = set()
    unsure: set[int] = set()
    # Consonant rule: before the last consonant ahead of a vowel.
    for i in range(1, n - 1):
        if w[i] not in _FI_VOWELS and w[i + 1] in _FI_VOWELS:
            points.add(i)
    # Vowel rule: read each run of vowels as nuclei of one or two letters.
    i = 0
    while i < n:
        if w[i] not in _FI_VOWELS:
            i += 1
            continue
        start = i
        while i < n and w[i] in _FI_VOWELS:
            i += 1
        first = not any(c in _FI_VOWELS for c in w[:start])
        j = start
        while j < i:
            pair = w[j : j + 2]
            if pair in _FI_UNSURE and not first:
                after = i
                while after < n and w[after] not in _FI_VOWELS:
                    after += 1
                unsure.update(range(j, after + 1))
            j += 2 if (pair in _FI_NUCLEI or pair in _FI_UNSURE) and j + 1 < i else 1
            if j < i:
                points.add(j)
    # A part without a vowel is no syllable: "skle-", never "s-kle".
    return sorted(
        p
        for p in points - unsure
        if any(c in _FI_VOWELS for c in w[:p]) and any(c in _FI_VOWELS for c in w[p:])
    )


def cache_dir() -> Path:
    """Where compiled hyphenation patterns are kept."""
    base = os.environ.get("XDG_CACHE_HOME") or str(Path.home() / ".cache")
    return Path(base) / "dhpc_gen"


_FORMAT = "1"
"""Raised when what is written in a cached file changes."""

Patterns = dict[str, Any]
"""Pyphen's: a pattern's letters → (offset, the numbers between them)."""


def load_patterns(path: Path, cache: Path | None) -> pyphen.HyphDict:
    """Pyphen's patterns of the dictionary at ``path``, from ``cache`` if compiled before.

    Only dictionaries whose patterns are all plain numbers are kept (those with
    nonstandard hyphenation, such as Hungarian's, are parsed each time).
    """
    raw = path.read_bytes()
    key = hashlib.sha256(f"{_FORMAT}\0{pyphen.VERSION}\0".encode() + raw).hexdigest()[:24]
    compiled = cache / f"hyphenation-{path.stem}-{key}.json" if cache is not None else None
    patterns = _read_compiled(compiled) if compiled is not None else None
    if patterns:
        patterns_dict: Any = pyphen.HyphDict.__new__(pyphen.HyphDict)
        patterns_dict.patterns = patterns
        patterns_dict.cache = {}
        patterns_dict.maxlen = max(len(key) for key in patterns)
        parsed: pyphen.HyphDict = patterns_dict
        return parsed
    parsed = pyphen.HyphDict(path)
    plain = all(type(v) is int for _, values in parsed.patterns.values() for v in values)
    if compiled is not None and plain:
        _write_compiled(compiled, parsed.patterns)
    return parsed


def _read_compiled(path: Path) -> Patterns | None:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError):
        return None
    # Pyphen reads (offset, numbers) pairs as lists as well as tuples.
    if not isinstance(data, dict) or not all(
        type(entry) is list and len(entry) == 2 and type(entry[1]) is list
        for entry in data.values()
    ):
        return None
    return data


def _write_compiled(path: Path, patterns: Patterns) -> None:
    with contextlib.suppress(OSError):
        path.parent.mkdir(parents=True, exist_ok=True)
        handle, name = tempfile.mkstemp(dir=path.parent, prefix=".hyphenation-")
        try:
            with os.fdopen(handle, "w", encoding="utf-8") as out:
                json.dump(patterns, out, ensure_ascii=False, separators=(",", ":"))
            os.replace(name, path)
        except OSError:
            os.unlink(name)


def _pyphen_positions(dictionary: str) -> Positions:
    path = Path(pyphen.LANGUAGES[pyphen.language_fallback(dictionary)])
    if path not in pyphen.hdcache:
        pyphen.hdcache[path] = load_patterns(path, cache_dir())
    hyphenator = pyphen.Pyphen(filename=path, left=1, right=1)

    def positions(word: str) -> list[int]:
        # Points with a spelling change (Hungarian "ssz") cannot be a soft hyphen.
        return [int(p) for p in hyphenator.positions(word) if p.data is None]

    return positions


@lru_cache(maxsize=64)
def hyphenator(language: str) -> Positions | None:
    """The positions function of ``language``, or None where no rules are known."""
    base = language.replace("-", "_").split("_")[0].lower()
    if base == "fi":
        rules: Positions = finnish_positions
    else:
        dictionary = _DICTIONARY.get(base) or pyphen.language_fallback(base)
        if dictionary is None:
            return None
        rules = _pyphen_positions(dictionary)

    @lru_cache(maxsize=16384)
    def positions(word: str) -> list[int]:
        return [p for p in rules(word) if LEFT_MIN <= p <= len(word) - RIGHT_MIN]

    return positions


def dictionary_size(language: str) -> int:
    """Bytes of the Pyphen dictionary :func:`hyphenator` reads for ``language`` (0: none).

    Reading it is most of what a process pays to start on a language (German's takes
    about as long as laying out six letters): a campaign build plans by it.
    """
    base = language.replace("-", "_").split("_")[0].lower()
    dictionary = None if base == "fi" else _DICTIONARY.get(base) or pyphen.language_fallback(base)
    if dictionary is None:
        return 0
    try:
        return int(pyphen.LANGUAGES[dictionary].stat().st_size)
    except (KeyError, OSError):
        return 0
