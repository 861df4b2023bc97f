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
  have the same e-mail, -10 when both have different e-mails, -10 when (no e-mails to
  compare) both have a street and the streets differ, -10 when one source gives them
  different ids.

Matches are joined best first (union-find); every join is a :class:`Merge` with its score.
"""

from __future__ import annotations

import logging
from collections import Counter, defaultdict
from collections.abc import Callable, Iterable, Sequence
from collections.abc import Set as AbstractSet
from dataclasses import dataclass

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
    """Row ``b`` joined to row ``a``'s person with ``score``."""

    a: int
    b: int
    score: float


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


def pair_score(a: PersonRow, b: PersonRow, shared_emails: AbstractSet[str] = frozenset()) -> float:
    """How sure we are that ``a`` and ``b`` are one person (0-100); 0 if names disagree.

    An address in ``shared_emails`` (an office's) says nothing about who a row is.
    """
    email_a = "" if a.email_key in shared_emails else a.email_key
    email_b = "" if b.email_key in shared_emails else b.email_key
    if not names_agree(a, b, bool(email_a) and email_a == email_b):
        return 0.0
    score = name_similarity(a, b)
    if email_a and email_b:
        score += EVIDENCE if email_a == email_b else -EVIDENCE
    elif (
        a.street
        and b.street
        and a.postal_code == b.postal_code
        and fuzz.token_set_ratio(fold(a.street), fold(b.street)) < STREET_AGREEMENT
    ):
        score -= EVIDENCE
    if a.source == b.source and a.source_id and b.source_id and a.source_id != b.source_id:
        score -= EVIDENCE
    return round(min(100.0, max(0.0, score)), 1)


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
    """Every pair of rows in a common block whose score reaches ``threshold``.

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
                score = pair_score(row, rows[j], shared)
                if score >= threshold:
                    matches.append(Merge(pair[0], pair[1], score))
        done += len(members)
        if progress is not None and done - reported >= step:
            progress(done, total)
            reported = done
    if progress is not None:
        progress(total, total)
    return matches


def cluster(count: int, matches: Iterable[Merge]) -> tuple[list[list[int]], list[Merge]]:
    """Join matches best first; return (clusters of row indexes, the joins made)."""
    parent = list(range(count))

    def root(i: int) -> int:
        while parent[i] != i:
            parent[i] = parent[parent[i]]
            i = parent[i]
        return i

    joins = []
    for match in sorted(matches, key=lambda m: (-m.score, m.a, m.b)):
        ra, rb = root(match.a), root(match.b)
        if ra == rb:
            continue
        if rb < ra:
            ra, rb = rb, ra
        parent[rb] = ra
        joins.append(match)
    groups: dict[int, list[int]] = defaultdict(list)
    for i in range(count):
        groups[root(i)].append(i)
    return sorted(groups.values()), joins
