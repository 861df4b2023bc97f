"""Which language a text reads as, roughly: by the words of the letters' own wording.

Each language's vocabulary is the words of its catalog (``locales/<lang>/LC_MESSAGES/
messages.po``: the letter's headings, the ▼ sentence, the closing …) and of the
registry's call for reporting and authority names in that language. A text scores, for
each language, the words it shares with that vocabulary, each counted ``1 / n`` when
``n`` languages have it (``de`` is French, Dutch, Spanish …). It is a cheap check for
a file labelled with the wrong language, not a language identifier: a language with
more catalog words scores higher, close languages (Danish and Norwegian) score alike.
A new catalog takes part without code changes.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Mapping
from dataclasses import dataclass
from functools import lru_cache
from pathlib import Path

from babel.messages.pofile import PoFileError, read_po

from dhpc_gen.i18n import SOURCE_LANGUAGE, available_languages, catalog_path
from dhpc_gen.regulators import registry

WORD = re.compile(r"[^\W\d_]+(?:['’][^\W\d_]+)?")

MIN_EVIDENCE = 10.0
"""Below this score for the best language, a text is too short to tell anything."""
OTHER_LANGUAGE_RATIO = 3.0
"""A text reads as another language when it scores that many times the named one's."""


def words(text: str) -> list[str]:
    return [word.casefold() for word in WORD.findall(text)]


def _catalog_texts(path: Path, language: str) -> list[str]:
    try:
        with path.open("rb") as handle:
            catalog = read_po(handle)
    except (OSError, PoFileError, ValueError):
        return []
    texts: list[str] = []
    for message in catalog:
        if not message.id:
            continue
        if message.fuzzy:
            continue
        values = message.id if language == SOURCE_LANGUAGE else message.string
        if isinstance(values, str):
            texts.append(values)
        elif values:
            texts += [str(value) for value in values if value]
    return texts


@lru_cache(maxsize=4)
def _vocabularies(stamps: tuple[tuple[str, int], ...]) -> dict[str, frozenset[str]]:
    found: dict[str, frozenset[str]] = {}
    regulators = registry.all_regulators()
    for language, _ in stamps:
        texts = _catalog_texts(catalog_path(language), language)
        for entry in regulators:
            if entry.language == language:
                texts += [entry.call_for_reporting, entry.authority]
        found[language] = frozenset(word for text in texts for word in words(text))
    return found


def vocabularies() -> dict[str, frozenset[str]]:
    """Each catalog language's words (read again when a catalog changes)."""
    stamps = tuple(
        (language, catalog_path(language).stat().st_mtime_ns) for language in available_languages()
    )
    return _vocabularies(stamps)


@dataclass(frozen=True)
class LanguageScores:
    scores: Mapping[str, float]
    """Language → score, best first."""
    shared: Mapping[str, tuple[str, ...]]
    """Language → its words the text uses most, most used first."""

    @property
    def best(self) -> str | None:
        return next(iter(self.scores), None)


def score(texts: Iterable[str]) -> LanguageScores:
    """How much ``texts`` read as each catalog language."""
    vocabulary = vocabularies()
    spread = Counter(word for vocab in vocabulary.values() for word in vocab)
    used = Counter(word for text in texts for word in words(text))
    scores: dict[str, float] = {}
    shared: dict[str, tuple[str, ...]] = {}
    for language, vocab in vocabulary.items():
        mine = [(count, word) for word, count in used.items() if word in vocab]
        scores[language] = sum(count / spread[word] for count, word in mine)
        shared[language] = tuple(word for _, word in sorted(mine, key=lambda m: (-m[0], m[1])))
    ordered = dict(sorted(scores.items(), key=lambda item: (-item[1], item[0])))
    return LanguageScores(ordered, shared)


def reads_as_other(texts: Iterable[str], language: str) -> tuple[str, LanguageScores] | None:
    """The language ``texts`` read as, when it is clearly not ``language``; else None."""
    found = score(texts)
    best = found.best
    if best is None or best == language or language not in found.scores:
        return None
    top = found.scores[best]
    if top < MIN_EVIDENCE or top < OTHER_LANGUAGE_RATIO * found.scores[language]:
        return None
    return best, found
