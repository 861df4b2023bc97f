"""Crash test: ``dhpc send`` killed with SIGKILL at random points loses nobody and sends twice
only what it reported ``unknown``.

The same trial loop prints its figures in ``benchmarks/send_crash.py``.
"""

from __future__ import annotations

from pathlib import Path

import pytest
from send_helpers import built_letters, run_crash_trials


def test_sigkill_at_random_points_loses_nobody_and_duplicates_only_unknown(
    tmp_path: Path, tmp_path_factory: pytest.TempPathFactory
) -> None:
    figures = run_crash_trials(
        tmp_path, built_letters(tmp_path_factory), mode="fork", trials=24, recipients=240
    )
    print(figures.line())
    assert figures.trials >= 20 and figures.kills >= 20, "every trial ends in a SIGKILL"
    assert figures.exit_codes[-9] == figures.kills
    assert figures.exit_codes[0] == 2, "the two finishing runs succeed"
    assert figures.lost == 0
    assert figures.not_sent_at_end == 0
    assert figures.duplicates_not_unknown == 0
    assert figures.max_in_flight_per_crash <= 1
    assert figures.unknown <= figures.kills
    assert figures.messages == figures.recipients + figures.duplicates
    assert figures.duplicates <= figures.unknown
