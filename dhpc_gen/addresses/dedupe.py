"""Find the rows that are one person, across and within sources.

Blocking keeps it fast: only rows that share a postal code and a name token, or share
an e-mail address, are compared. Two rows are one person when

- their names agree: they share a first name (or an initial; "Anna" and "Sanna" are two
  people unless both rows have the same e-mail) and a last name of one is like a last
  name of the other (similarity >= 80, so a typo passes), in either order, so
  "Virtanen Matti" / "Matti Virtanen" agree; and
- their score reaches the threshold. The score is the similarity of the names (0-100:
  each name of the shorter name against its best match in the other, weighted by
  length; order, case, accents and a missing middle name ignored), +10 when both
  have the same e-mail, -10 when both have different e-mails, -10 when their streets in
  the same postal code differ (unless the e-mail is the same), +10 when one source
  gives them the same id, -10 when one source gives them different ids; and
- nothing says they are two people: two rows with the same name in one postal code but
  on different streets, with no e-mail and no register id in common, are two people
  as often as one (common names are common). Such a pair is a *possible* duplicate:
  both are kept and the pair is listed for a human. Nor does a third row join them
  into one person through the back door.

Matches are joined best first (union-find); every join is a :class:`Merge` with its score.
"""

from __future__ import annotations

import functools
import logging
import re
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass
from typing import NamedTuple

from rapidfuzz import fuzz

from dhpc_gen.addresses.normalise import fold
from dhpc_gen.addresses.records import PersonRow

DEFAULT_THRESHOLD = 90.0
EVIDENCE = 10.0
"""Points added or taken for e-mail, street and id evidence."""
TOKEN_AGREEMENT = 80.0
"""Similarity two name tokens need to count as the same name (one typo passes)."""
STREET_AGREEMENT = 85.0
SHARED_EMAIL = 10
"""Rows one e-mail address may have before it counts as an office's, not a person's."""
MAX_BLOCK = 1000
"""Rows sharing a postal code and a name beyond which that pair of keys is not compared."""

logger = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Merge:
    """Row ``b`` joined to row ``a``'s person with ``score`` (or, if ``possible``, not)."""

    a: int
    b: int
    score: float
    possible: bool = False
    """The rows look like one person but their streets differ: kept apart, for a human."""


class Clustering(NamedTuple):
    """The people found: groups of row indexes, the joins made, the possible duplicates."""

    groups: list[list[int]]
    joins: list[Merge]
    possible: list[Merge]


def _agree(left: Sequence[str], right: Sequence[str]) -> bool:
    for x in left:
        for y in right:
            if x == y or fuzz.ratio(x, y, score_cutoff=TOKEN_AGREEMENT):
                return True
    return False


def _same_name(left: Sequence[str], right: Sequence[str]) -> bool:
    """A name in common (accents and case aside), or an initial of one."""
    for x in left:
        for y in right:
            if x == y or (len(x) == 1 and y.startswith(x)) or (len(y) == 1 and x.startswith(y)):
                return True
    return False


def names_agree(a: PersonRow, b: PersonRow, same_email: bool | None = None) -> bool:
    """First names and last names agree, in the same or in swapped order.

    Last names may differ by a typo; first names must share a name ("Anna" and "Sanna"
    are two people), unless both rows have the same e-mail.
    """
    if not (a.first_keys and a.last_keys and b.first_keys and b.last_keys):
        return a.name_key == b.name_key and bool(a.name_key)
    if same_email is None:
        same_email = bool(a.email_key) and a.email_key == b.email_key
    first = _agree if same_email else _same_name
    if first(a.first_keys, b.first_keys) and _agree(a.last_keys, b.last_keys):
        return True
    return _same_name(a.first_keys, b.last_keys) and _same_name(a.last_keys, b.first_keys)


def name_similarity(a: PersonRow, b: PersonRow) -> float:
    """0-100: each name of the shorter name against its best match in the other.

    Weighted by length; the extra names of the longer one (a middle name) do not count,
    nor does the order.
    """
    short, long = (
        (a, b) if len(a.first_keys + a.last_keys) <= len(b.first_keys + b.last_keys) else (b, a)
    )
    short_tokens = short.first_keys + short.last_keys
    others = long.first_keys + long.last_keys
    total = weight = 0.0
    for token in short_tokens:
        best = max(100.0 if token == other else fuzz.ratio(token, other) for other in others)
        total += best * len(token)
        weight += len(token)
    return total / weight if weight else 0.0


_STREET_TOKENS = re.compile(r"[0-9]+|[a-z]+")


@functools.lru_cache(maxsize=1 << 16)
def _street_parts(street: str) -> tuple[str, tuple[str, ...]]:
    """(the street's name, its numbers and letters): "Kotikatu 10 A 5" → ("kotikatu", 10 a 5)."""
    tokens = _STREET_TOKENS.findall(fold(street))
    words = " ".join(t for t in tokens if len(t) > 1 and not t.isdigit())
    return words, tuple(t for t in tokens if t.isdigit() or len(t) == 1)


def streets_agree(x: str, y: str) -> bool:
    """One street address written two ways: the name alike (a typo, an abbreviation), the
    house number the same ("Kotikatu 10" and "Kotikatu 10 A 5" agree, "Kotikatu 3" and
    "Kotikatu 17" do not)."""
    if x == y or fold(x) == fold(y):
        return True
    words_x, numbers_x = _street_parts(x)
    words_y, numbers_y = _street_parts(y)
    short, long = sorted((numbers_x, numbers_y), key=len)
    if long[: len(short)] != short:
        return False
    return words_x == words_y or fuzz.token_set_ratio(words_x, words_y) >= STREET_AGREEMENT


def judge(
    a: PersonRow, b: PersonRow, shared_emails: AbstractSet[str] = frozenset()
) -> tuple[float, bool]:
    """(score, conflict): how sure we are that ``a`` and ``b`` are one person (0-100; 0 if
    the names disagree), and whether their streets say two people while no e-mail or
    register id says one.

    An address in ``shared_emails`` (an office's) says nothing about who a row is.
    """
    email_a = "" if a.email_key in shared_emails else a.email_key
    email_b = "" if b.email_key in shared_emails else b.email_key
    same_email = bool(email_a) and email_a == email_b
    if not names_agree(a, b, same_email):
        return 0.0, False
    score = name_similarity(a, b)
    if email_a and email_b:
        score += EVIDENCE if same_email else -EVIDENCE
    same_id = False
    if a.source == b.source and a.source_id and b.source_id:
        same_id = a.source_id == b.source_id
        score += EVIDENCE if same_id else -EVIDENCE
    streets_differ = (
        not same_email
        and bool(a.street and b.street)
        and a.postal_code == b.postal_code
        and not streets_agree(a.street, b.street)
    )
    if streets_differ:
        score -= EVIDENCE
    conflict = streets_differ and not same_id
    return round(min(100.0, max(0.0, score)), 1), conflict


def pair_score(a: PersonRow, b: PersonRow, shared_emails: AbstractSet[str] = frozenset()) -> float:
    """How sure we are that ``a`` and ``b`` are one person (0-100); 0 if names disagree."""
    return judge(a, b, shared_emails)[0]


def shared_emails(rows: Iterable[PersonRow]) -> set[str]:
    """E-mail addresses on more rows than one person plausibly has: an office's."""
    counts = Counter(row.email_key for row in rows if row.email_key)
    return {email for email, count in counts.items() if count > SHARED_EMAIL}


def _blocks(rows: Sequence[PersonRow], shared: AbstractSet[str]) -> list[list[int]]:
    places: dict[tuple[str, str], dict[str, list[int]]] = {}
    emails: dict[str, list[int]] = {}
    for index, row in enumerate(rows):
        if row.postal_code:
            place = places.setdefault((row.country, row.postal_code), {})
            for token in set(row.first_keys + row.last_keys):
                members = place.get(token)
                if members is None:
                    place[token] = [index]
                else:
                    members.append(index)
        if row.email_key and row.email_key not in shared:
            emails.setdefault(row.email_key, []).append(index)
    blocks = [members for place in places.values() for members in place.values()]
    blocks += emails.values()
    kept = [members for members in blocks if 1 < len(members) <= MAX_BLOCK]
    dropped = sum(1 for members in blocks if len(members) > MAX_BLOCK)
    if dropped:
        logger.warning(
            "%d groups of more than %d rows share a postal code and a name: rows are "
            "compared within them only through their other names and e-mail",
            dropped,
            MAX_BLOCK,
        )
    return kept


def find_matches(
    rows: Sequence[PersonRow],
    threshold: float = DEFAULT_THRESHOLD,
    progress: Callable[[int, int], None] | None = None,
) -> list[Merge]:
    """Every pair of rows in a common block whose score reaches ``threshold``, and the
    possible duplicates (``possible``: they would, but for a different street).

    ``progress(done, total)`` is called now and then with rows of blocks compared.
    """
    shared = shared_emails(rows)
    if shared:
        logger.info("%d e-mail addresses are shared by several people", len(shared))
    blocks = _blocks(rows, shared)
    total = sum(len(members) for members in blocks)
    step = max(1, total // 100)
    done = reported = 0
    compared: set[tuple[int, int]] = set()
    matches = []
    for members in blocks:
        for position, i in enumerate(members):
            row = rows[i]
            for j in members[position + 1 :]:
                pair = (i, j) if i < j else (j, i)
                if pair in compared:
                    continue
                compared.add(pair)
                score, conflict = judge(row, rows[j], shared)
                if conflict:
                    # Would be one person but for the street: a human decides.
                    if score + EVIDENCE >= threshold:
                        matches.append(Merge(pair[0], pair[1], score, possible=True))
                elif score >= threshold:
                    matches.append(Merge(pair[0], pair[1], score))
        done += len(members)
        if progress is not None and done - reported >= step:
            progress(done, total)
            reported = done
    if progress is not None:
        progress(total, total)
    return matches


def cluster(count: int, matches: Iterable[Merge]) -> Clustering:
    """Join matches best first, never two rows of a possible duplicate (nor their people).

    A join that would put the two rows of a possible duplicate into one person is not
    made: it is a possible duplicate of its own.
    """
    parent = list(range(count))
    apart: dict[int, set[int]] = {}
    """Root → rows that must not join its person."""

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    certain = []
    possible = []
    for match in matches:
        if match.possible:
            possible.append(match)
            apart.setdefault(match.a, set()).add(match.b)
            apart.setdefault(match.b, set()).add(match.a)
        else:
            certain.append(match)
    joins = []
    for match in sorted(certain, key=lambda m: (-m.score, m.a, m.b)):
        ra, rb = root(match.a), root(match.b)
        if ra == rb:
            continue
        if apart:
            away_a, away_b = apart.get(ra), apart.get(rb)
            if (away_a and any(root(x) == rb for x in away_a)) or (
                away_b and any(root(x) == ra for x in away_b)
            ):
                possible.append(Merge(match.a, match.b, match.score, possible=True))
                continue
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra
        moved = apart.pop(rb, None)
        if moved:
            apart.setdefault(ra, set()).update(moved)
        joins.append(match)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(count):
        groups[root(i)].append(i)
    possible.sort(key=lambda m: (m.a, m.b))
    return Clustering(sorted(groups.values()), joins, possible)
