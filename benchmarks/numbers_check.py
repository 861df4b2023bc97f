"""Benchmark of what the ``numbers`` check reads: time per character, ordinary and hostile.

Measures, in the same run, :func:`dhpc_gen.review.extract.quantities` (numbers with
their units and signs, dates, ranges in words) on

(a) the baseline: every text field of the bundled Lemtrada letter (sv and fi);
(b) hostile texts, one piece repeated ("1 à 2 à ", "< < ≤ 1 ", "1/mg/kg/kg/", …) at
    5,000 characters (the longest text field content may have), 50,000 and 500,000.

It prints µs per character and the ratio to the baseline. Target: the time per
character does not grow with the length (linear reading), and a hostile field of the
longest allowed length reads in well under a second.

    .venv/bin/python benchmarks/numbers_check.py
"""

from __future__ import annotations

import sys
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from dhpc_gen.content import load_dhpc  # noqa: E402
from dhpc_gen.content.fields import text_fields  # noqa: E402
from dhpc_gen.content.markup import plain_text  # noqa: E402
from dhpc_gen.review.extract import quantities  # noqa: E402

EXAMPLE = PROJECT / "content" / "lemtrada-2019"
HOSTILE = {
    "range words": ("1 à 2 à 3 à ", "fr"),
    "between … and": ("entre 1 et 2 et 3 et ", "fr"),
    "signs": ("< < ≤ > 1 ", "fr"),
    "sign words": ("moins de moins de 1 ", "fr"),
    "unit slashes": ("1/mg/kg/kg/kg/", "en"),
    "digit groups": ("1 000 000 000 ", "fi"),
    "minus signs": ("- -1 -- -2 ", "fi"),
    "long words": ("1 " + "a" * 60 + " ", "fi"),
    "powers of ten": ("1 × 10⁹ × 10⁹ ", "sv"),
    "month names": ("mai mai 2 mai 3 ", "fr"),
    "soft hyphens": ("1 se\u00admai\u00adnes ", "fr"),
}
LENGTHS = (5_000, 50_000, 500_000)


def per_character(texts: list[tuple[str, str]], rounds: int = 1) -> float:
    """Seconds per character to read ``texts`` (language, text), best of ``rounds``."""
    size = sum(len(text) for _, text in texts)
    best = float("inf")
    for _ in range(rounds):
        started = time.perf_counter()
        for language, text in texts:
            quantities(text, language)
        best = min(best, time.perf_counter() - started)
    return best / size


def main() -> None:
    dhpc = load_dhpc(EXAMPLE)
    letter = [
        (language, plain_text(field.text))
        for language, text in dhpc.iter_texts()
        for field in text_fields(text)
    ]
    quantities("warm-up 1 mg", "fr")
    baseline = per_character(letter, rounds=20)
    print(f"baseline (Lemtrada sv+fi): {baseline * 1e6:.2f} µs per character")
    print(f"{'hostile text':<16}" + "".join(f"{n:>22,}" for n in LENGTHS))
    for name, (piece, language) in HOSTILE.items():
        cells = []
        for length in LENGTHS:
            text = (piece * (length // len(piece) + 1))[:length]
            seconds = per_character([(language, text)], rounds=3 if length < 100_000 else 1)
            cells.append(f"{seconds * 1e6:6.2f} µs/c ×{seconds / baseline:5.1f}")
        print(f"{name:<16}" + "".join(f"{c:>22}" for c in cells))


if __name__ == "__main__":
    main()
