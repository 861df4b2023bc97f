"""Benchmark of ``dhpc build`` of a campaign: parallel against one letter after another.

Measures in the same run, each in a fresh process (imports and loading the content are
not timed, rendering and writing are):

(a) the baseline: every letter of the example campaign built one after another in one
    process (``--jobs 1``);
(b) ``dhpc build`` as a user runs it: the letters rendered in forked workers on every
    core;
(c) ``dhpc build --check`` of the unchanged outputs of (b): it renders in memory and
    compares, and must write nothing.

Each is run ``--repeat`` times, interleaved, and the median is reported, with the peak
memory (the sum of PSS over the process and its workers, and the largest process's
peak RSS, sampled from /proc). Targets on this 2-core machine: (b) <= 0.6 x (a), peak
memory <= 600 MB, (c) <= 1.1 x (b), and (c) writes nothing.

    .venv/bin/python benchmarks/campaign.py
    .venv/bin/python benchmarks/campaign.py --repeat 5 --content content/fictumab-2026
"""

from __future__ import annotations

import argparse
import json
import os
import resource
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from dataclasses import dataclass
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CONTENT = PROJECT / "content" / "fictumab-2026"


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    letters: int
    peak_total_mb: float
    peak_largest_mb: float


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc."""
    children: dict[int, list[int]] = {}
    for entry in os.listdir("/proc"):
        if not entry.isdigit():
            continue
        try:
            with open(f"/proc/{entry}/stat", encoding="ascii", errors="replace") as handle:
                parent = int(handle.read().rsplit(")", 1)[1].split()[1])
        except (OSError, ValueError, IndexError):
            continue
        children.setdefault(parent, []).append(int(entry))
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        stack.extend(children.get(pid, []))
    return found


def _field_kb(path: str, name: str) -> int:
    try:
        with open(path, encoding="ascii") as handle:
            for line in handle:
                if line.startswith(name):
                    return int(line.split()[1])
    except (OSError, ValueError):
        pass
    return 0


def measure(mode: str, content: Path, out: Path) -> Run:
    """One build (``serial``, ``parallel``) or ``check`` in a fresh process."""
    process = subprocess.Popen(
        [sys.executable, __file__, "--child", mode, "--content", str(content), "--out", str(out)],
        stdout=subprocess.PIPE,
        text=True,
        cwd=PROJECT,
    )
    peak_total = peak_largest = 0
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_total, peak_largest
        while not done.is_set():
            pids = _tree(process.pid)
            total = sum(_field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
            peak_total = max(peak_total, total)
            for pid in pids:
                peak_largest = max(peak_largest, _field_kb(f"/proc/{pid}/status", "VmHWM:"))
            done.wait(0.02)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    done.set()
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{mode} failed (exit {process.returncode})")
    figures = json.loads(stdout.strip().splitlines()[-1])
    return Run(
        figures["seconds"],
        figures["cpu_seconds"],
        figures["letters"],
        peak_total / 1024,
        peak_largest / 1024,
    )


def child(mode: str, content: Path, out: Path) -> None:
    """Runs in the measured process: load, then time the build or the check alone."""
    sys.path.insert(0, str(PROJECT))
    import dhpc_gen.render.pdf  # noqa: F401  (WeasyPrint: imported before the clock starts)
    from dhpc_gen.campaign_build import build_campaign, check_campaign
    from dhpc_gen.content.campaign import load_campaign

    campaign = load_campaign(content)
    letters = sum(len(languages) for languages in campaign.countries.values())
    before = _cpu()
    start = time.perf_counter()
    if mode == "check":
        stale = check_campaign(campaign, out)
        if stale:
            raise SystemExit(f"--check found stale outputs: {stale[:3]}")
    else:
        build_campaign(campaign, out, jobs=1 if mode == "serial" else None)
    seconds = time.perf_counter() - start
    cpu = _cpu() - before
    print(json.dumps({"seconds": seconds, "cpu_seconds": cpu, "letters": letters}))


def _cpu() -> float:
    """CPU seconds of this process and of its finished workers."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + workers.ru_utime + workers.ru_stime


def _files(folder: Path) -> dict[str, tuple[int, int]]:
    return {
        str(p.relative_to(folder)): (p.stat().st_mtime_ns, p.stat().st_size)
        for p in folder.rglob("*")
    }


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=CONTENT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["serial", "parallel", "check"])
    parser.add_argument("--out", type=Path)
    args = parser.parse_args()
    if args.child:
        child(args.child, args.content, args.out)
        return

    cores = len(os.sched_getaffinity(0))
    load = os.getloadavg()[0]
    print(
        f"Campaign {args.content.name}; {cores} cores (load average {load:.1f} at the start: "
        f"other work on the machine slows (b) most); median of {args.repeat} runs each"
    )
    runs: dict[str, list[Run]] = {"serial": [], "parallel": [], "check": []}
    writes_nothing = True
    with tempfile.TemporaryDirectory(prefix="dhpc-bench-") as tmp:
        root = Path(tmp)
        for attempt in range(args.repeat):
            for mode in ("serial", "parallel"):
                out = root / f"{mode}-{attempt}"
                runs[mode].append(measure(mode, args.content, out))
            checked = root / f"parallel-{attempt}"
            before = _files(checked)
            runs["check"].append(measure("check", args.content, checked))
            writes_nothing = writes_nothing and _files(checked) == before
            identical = all(
                (root / f"serial-{attempt}" / name).read_bytes() == (checked / name).read_bytes()
                for name, _ in before.items()
                if (checked / name).is_file()
            )
            if not identical:
                raise SystemExit("the parallel build differs from the serial one")
            for mode in ("serial", "parallel"):
                shutil.rmtree(root / f"{mode}-{attempt}")

    def median(mode: str) -> float:
        return statistics.median(run.seconds for run in runs[mode])

    def cpu(mode: str) -> float:
        return statistics.median(run.cpu_seconds for run in runs[mode])

    letters = runs["serial"][0].letters
    serial, parallel, check = median("serial"), median("parallel"), median("check")
    peak_total = max(run.peak_total_mb for run in runs["parallel"])
    peak_largest = max(run.peak_largest_mb for run in runs["parallel"])
    print(f"  letters:                       {letters}")
    print(
        f"  (a) one after another:          {serial:6.2f} s  ({letters / serial:.1f} letters/s)  "
        f"runs: {', '.join(f'{r.seconds:.2f}' for r in runs['serial'])}"
    )
    print(
        f"  (b) dhpc build (parallel):      {parallel:6.2f} s  ({letters / parallel:.1f} "
        f"letters/s)  runs: {', '.join(f'{r.seconds:.2f}' for r in runs['parallel'])}"
    )
    print(
        f"  (c) dhpc build --check:         {check:6.2f} s  "
        f"runs: {', '.join(f'{r.seconds:.2f}' for r in runs['check'])}"
    )
    print(
        f"  peak memory of (b): {peak_total:.0f} MB in all (PSS), "
        f"largest process {peak_largest:.0f} MB"
    )
    print(
        f"  CPU time: (a) {cpu('serial'):.2f} s, (b) {cpu('parallel'):.2f} s in all processes, "
        f"(c) {cpu('check'):.2f} s; (b) kept {cpu('parallel') / parallel:.1f} of {cores} cores busy"
    )
    print(f"  ratio (b)/(a): {parallel / serial:.2f}   (target <= 0.60)")
    print(f"  ratio (c)/(b): {check / parallel:.2f}   (target <= 1.10)")
    print(f"  peak memory:   {peak_total:.0f} MB   (target <= 600 MB)")
    print(f"  --check wrote nothing: {'yes' if writes_nothing else 'NO'}")
    print("  the parallel build is byte-identical to the serial one: yes")


if __name__ == "__main__":
    main()
