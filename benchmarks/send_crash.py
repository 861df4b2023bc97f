"""Kill ``dhpc send`` with SIGKILL at random points and count what the mail server received.

Runs the crash trials of ``tests/test_send_crash.py`` (the loop is in
``tests/send_helpers.py``) against a real SMTP server on 127.0.0.1 and prints trials,
messages, duplicates and lost recipients. ``fork`` starts each killed run from a process
that has already imported dhpc_gen; ``spawn`` starts each one as a fresh
``python -m dhpc_gen`` (slower, the same code). Usage::

    .venv/bin/python benchmarks/send_crash.py [--mode fork|spawn|both] [--trials N]
"""

from __future__ import annotations

import argparse
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path[:0] = [str(ROOT), str(ROOT / "tests")]

from send_helpers import (  # noqa: E402
    CONTENT,
    DHPC_ID,
    CrashFigures,
    run_crash_trials,
)

from dhpc_gen.build import build  # noqa: E402
from dhpc_gen.content import load_dhpc  # noqa: E402


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["fork", "spawn", "both"], default="both")
    parser.add_argument("--trials", type=int, default=40, help="killed runs (fork mode)")
    parser.add_argument("--recipients", type=int, default=400, help="recipients (fork mode)")
    parser.add_argument("--spawn-trials", type=int, default=20)
    parser.add_argument("--spawn-recipients", type=int, default=200)
    parser.add_argument("--seed", type=int, default=2019)
    args = parser.parse_args()

    results: list[CrashFigures] = []
    with tempfile.TemporaryDirectory(prefix="dhpc-crash-") as scratch:
        root = Path(scratch)
        build(load_dhpc(CONTENT), root / "built")
        built = root / "built" / DHPC_ID
        if args.mode in ("fork", "both"):
            results.append(
                run_crash_trials(
                    root / "fork",
                    built,
                    mode="fork",
                    trials=args.trials,
                    recipients=args.recipients,
                    seed=args.seed,
                )
            )
            print(results[-1].line(), flush=True)
        if args.mode in ("spawn", "both"):
            results.append(
                run_crash_trials(
                    root / "spawn",
                    built,
                    mode="spawn",
                    trials=args.spawn_trials,
                    recipients=args.spawn_recipients,
                    seed=args.seed + 1,
                )
            )
            print(results[-1].line(), flush=True)

    print()
    print(
        f"{'mode':6} {'trials':>6} {'kills':>5} {'recipients':>10} {'messages':>8} "
        f"{'duplicates':>10} {'unknown':>7} {'lost':>4} {'s/trial':>7}"
    )
    for f in results:
        per_trial = f.seconds / max(f.trials, 1)
        print(
            f"{f.mode:6} {f.trials:6} {f.kills:5} {f.recipients:10} {f.messages:8} "
            f"{f.duplicates:10} {f.unknown:7} {f.lost:4} {per_trial:7.2f}"
        )
    if len(results) == 2:
        fork, spawn = results
        ratio = (spawn.seconds / spawn.trials) / (fork.seconds / fork.trials)
        print(f"a spawned trial takes {ratio:.1f}× as long as a forked one (start-up and imports)")
    failed = [
        f
        for f in results
        if f.lost
        or f.duplicates_not_unknown
        or f.max_in_flight_per_crash > 1
        or f.unknown > f.kills
        or f.not_sent_at_end
    ]
    if failed:
        print("FAILED: a recipient was lost or sent twice without being reported unknown")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
