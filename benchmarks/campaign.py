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
memory <= 600 MB, (c) <= 1.1 x (b), and (c) writes nothing (every file's bytes, size
and mtime are compared before and after, and no file is added).

The time other processes took on the machine during each run is measured from
/proc/stat: (b) needs two free cores, and the figures say when it did not have them.
A timeline of the median parallel run shows when each worker rendered which letter.

    .venv/bin/python benchmarks/campaign.py
    .venv/bin/python benchmarks/campaign.py --repeat 5 --content content/fictumab-2026
"""

from __future__ import annotations

import argparse
import hashlib
import json
import logging
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
TARGET_PARALLEL = 0.6
TARGET_CHECK = 1.1
TARGET_MB = 600.0
BUSY = 0.25
"""Cores' worth of other processes' work during a run above which it was not on free cores."""


@dataclass(frozen=True)
class Letter:
    """One letter of a run's timeline, in seconds from the start of the build."""

    country: str
    language: str
    worker: int
    started: float
    finished: float
    received: float


@dataclass(frozen=True)
class Run:
    seconds: float
    cpu_seconds: float
    letters: int
    peak_total_mb: float
    peak_largest_mb: float
    others_cores: float
    """Cores' worth of CPU time other processes used during the run."""
    load: float
    """The 1-minute load average when the run started."""
    sampler_cpu: float
    """CPU seconds the memory sampler of this benchmark took during the run."""
    timeline: tuple[Letter, ...]


def _tree(root: int) -> list[int]:
    """``root`` and its descendants, from /proc (each process's list of its children)."""
    found, stack = [], [root]
    while stack:
        pid = stack.pop()
        found.append(pid)
        try:
            with open(f"/proc/{pid}/task/{pid}/children", encoding="ascii") as handle:
                stack.extend(int(child) for child in handle.read().split())
        except (OSError, ValueError):
            continue
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
    load = os.getloadavg()[0]
    busy_before, wall_before, own_before = _machine_busy(), time.perf_counter(), _own_cpu()
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
        tick = 0
        while not done.is_set():
            pids = _tree(process.pid)
            for pid in pids:  # the kernel's own peak: cheap to read, exact
                peak_largest = max(peak_largest, _field_kb(f"/proc/{pid}/status", "VmHWM:"))
            if tick % 4 == 0:  # PSS walks every page table: sparingly, not to slow the build
                total = sum(_field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
                peak_total = max(peak_total, total)
            tick += 1
            done.wait(0.05)

    sampler = threading.Thread(target=sample, daemon=True)
    sampler.start()
    stdout, _ = process.communicate()
    done.set()
    sampler_cpu = _own_cpu() - own_before
    busy = _machine_busy() - busy_before - sampler_cpu
    wall = time.perf_counter() - wall_before
    sampler.join()
    if process.returncode != 0:
        raise SystemExit(f"{mode} failed (exit {process.returncode})")
    figures = json.loads(stdout.strip().splitlines()[-1])
    # The child's own CPU time covers its imports and loading too (its whole life).
    others = max(0.0, busy - figures["process_cpu_seconds"])
    return Run(
        figures["seconds"],
        figures["cpu_seconds"],
        figures["letters"],
        peak_total / 1024,
        peak_largest / 1024,
        others / wall,
        load,
        sampler_cpu,
        tuple(Letter(*entry) for entry in figures["timeline"]),
    )


def _own_cpu() -> float:
    """CPU seconds of this process (the sampler): not the build's, not the others'."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    return mine.ru_utime + mine.ru_stime


def others_busy(seconds: float) -> float:
    """Cores' worth of CPU time the other processes of the machine use over ``seconds``."""
    busy, own, start = _machine_busy(), _own_cpu(), time.perf_counter()
    time.sleep(seconds)
    used = _machine_busy() - busy - (_own_cpu() - own)
    return max(0.0, used) / (time.perf_counter() - start)


def wait_for_free_cores(patience: float) -> float:
    """Wait up to ``patience`` seconds for the other processes to leave the cores free;
    returns how busy they kept them in the last second."""
    deadline = time.perf_counter() + patience
    while True:
        others = others_busy(1.0)
        if others <= BUSY or time.perf_counter() >= deadline:
            return others


def _machine_busy() -> float:
    """CPU seconds every process on the machine has used since boot (/proc/stat)."""
    with open("/proc/stat", encoding="ascii") as handle:
        fields = handle.readline().split()[1:]
    # user nice system idle iowait irq softirq steal: all but idle and iowait.
    ticks = sum(int(value) for index, value in enumerate(fields[:8]) if index not in (3, 4))
    return ticks / os.sysconf("SC_CLK_TCK")


class _Timeline(logging.Handler):
    """Collects the build's per-letter timings (logged at DEBUG level)."""

    def __init__(self) -> None:
        super().__init__(logging.DEBUG)
        self.letters: list[object] = []

    def emit(self, record: logging.LogRecord) -> None:
        timing = getattr(record, "letter_timing", None)
        if timing is not None:
            self.letters.append(timing)


def child(mode: str, content: Path, out: Path) -> None:
    """Runs in the measured process: load, then time the build or the check alone."""
    sys.path.insert(0, str(PROJECT))
    import dhpc_gen.render.pdf  # noqa: F401  (WeasyPrint: imported before the clock starts)
    from dhpc_gen.campaign_build import build_campaign, check_campaign
    from dhpc_gen.content.campaign import load_campaign

    timeline = _Timeline()
    build_logger = logging.getLogger("dhpc_gen.campaign_build")
    build_logger.addHandler(timeline)
    build_logger.setLevel(logging.DEBUG)
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
    entries = [
        [
            t.country,  # type: ignore[attr-defined]
            t.language,  # type: ignore[attr-defined]
            t.worker,  # type: ignore[attr-defined]
            t.started - start,  # type: ignore[attr-defined]
            t.finished - start,  # type: ignore[attr-defined]
            t.received - start,  # type: ignore[attr-defined]
        ]
        for t in timeline.letters
    ]
    figures = {
        "seconds": seconds,
        "cpu_seconds": cpu,
        "process_cpu_seconds": _cpu(),
        "letters": letters,
        "timeline": entries,
    }
    print(json.dumps(figures))


def _cpu() -> float:
    """CPU seconds of this process and of its finished workers."""
    mine = resource.getrusage(resource.RUSAGE_SELF)
    workers = resource.getrusage(resource.RUSAGE_CHILDREN)
    return mine.ru_utime + mine.ru_stime + workers.ru_utime + workers.ru_stime


def _files(folder: Path) -> dict[str, tuple[int, int, str]]:
    """Every file below ``folder`` (temporaries included): mtime, size and SHA-256."""
    return {
        str(p.relative_to(folder)): (
            p.stat().st_mtime_ns,
            p.stat().st_size,
            hashlib.sha256(p.read_bytes()).hexdigest(),
        )
        for p in folder.rglob("*")
        if p.is_file()
    }


def _golden(content: Path, built: Path) -> str:
    """Whether the build is the recorded bytes of tests/data/golden-<id>.json, if there is one."""
    golden = PROJECT / "tests" / "data" / f"golden-{content.name}.json"
    if not golden.is_file():
        return f"not compared ({golden.relative_to(PROJECT)} absent)"
    recorded = json.loads(golden.read_text(encoding="utf-8"))["files"]
    folder = built / content.name
    actual = {
        p.relative_to(folder).as_posix(): hashlib.sha256(p.read_bytes()).hexdigest()
        for p in folder.rglob("*")
        if p.is_file()
    }
    return "yes" if actual == recorded else "NO"


def _print_timeline(run: Run) -> None:
    """Each worker's letters on one line: when it rendered them, and the idle time."""
    if not run.timeline:
        return
    workers = sorted({letter.worker for letter in run.timeline})
    first = min(letter.started for letter in run.timeline)
    last = max(letter.received for letter in run.timeline)
    print(
        f"  timeline of the quietest (b), {run.seconds:.2f} s (others "
        f"{run.others_cores:.1f} cores): before the first letter {first:.2f} s "
        f"(checks, warming up, forking); after the last {run.seconds - last:.2f} s "
        "(its country's files, the campaign manifest, the commit)"
    )
    scale = 60 / run.seconds
    for number, worker in enumerate(workers):
        mine = sorted(
            (letter for letter in run.timeline if letter.worker == worker), key=lambda x: x.started
        )
        bar = [" "] * 61
        for letter in mine:
            for i in range(round(letter.started * scale), round(letter.finished * scale)):
                bar[min(i, 60)] = letter.language[0]
        busy = sum(letter.finished - letter.started for letter in mine)
        end = max(letter.finished for letter in mine)
        print(f"    worker {number}: |{''.join(bar)}| busy {busy:.2f} s, done at {end:.2f} s")
        print(
            "      "
            + ", ".join(f"{x.country} {x.language} {x.started:.2f}-{x.finished:.2f}" for x in mine)
        )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=CONTENT)
    parser.add_argument("--repeat", type=int, default=3)
    parser.add_argument("--child", choices=["serial", "parallel", "check"])
    parser.add_argument("--out", type=Path)
    parser.add_argument(
        "--patience",
        type=float,
        default=30.0,
        metavar="SECONDS",
        help="wait up to this long before each run for other processes to leave the cores "
        "free (a shared machine); 0: do not wait",
    )
    args = parser.parse_args()
    if args.child:
        child(args.child, args.content, args.out)
        return

    cores = len(os.sched_getaffinity(0))
    print(
        f"Campaign {args.content.name}; {cores} cores; load average at the start "
        f"{', '.join(f'{x:.1f}' for x in os.getloadavg())} (/proc/loadavg); "
        f"median of {args.repeat} runs each"
    )
    runs: dict[str, list[Run]] = {"serial": [], "parallel": [], "check": []}
    writes_nothing = True
    golden = ""
    with tempfile.TemporaryDirectory(prefix="dhpc-bench-") as tmp:
        root = Path(tmp)
        for attempt in range(args.repeat):
            for mode in ("serial", "parallel"):
                out = root / f"{mode}-{attempt}"
                if args.patience > 0:
                    wait_for_free_cores(args.patience)
                runs[mode].append(measure(mode, args.content, out))
            checked = root / f"parallel-{attempt}"
            before = _files(checked)
            if args.patience > 0:
                wait_for_free_cores(args.patience)
            runs["check"].append(measure("check", args.content, checked))
            writes_nothing = writes_nothing and _files(checked) == before
            serial_files = _files(root / f"serial-{attempt}")
            if {name: digest for name, (_, _, digest) in serial_files.items()} != {
                name: digest for name, (_, _, digest) in before.items()
            }:
                raise SystemExit("the parallel build differs from the serial one")
            golden = golden or _golden(args.content, checked)
            for mode in ("serial", "parallel"):
                shutil.rmtree(root / f"{mode}-{attempt}")

    def median(mode: str) -> float:
        return statistics.median(run.seconds for run in runs[mode])

    def cpu(mode: str) -> float:
        return statistics.median(run.cpu_seconds for run in runs[mode])

    def shown(mode: str) -> str:
        return ", ".join(f"{r.seconds:.2f} (others {r.others_cores:.1f} cores)" for r in runs[mode])

    letters = runs["serial"][0].letters
    serial, parallel, check = median("serial"), median("parallel"), median("check")
    peak_total = max(run.peak_total_mb for run in runs["parallel"])
    peak_largest = max(run.peak_largest_mb for run in runs["parallel"])
    print(f"  letters:                        {letters}")
    print(f"  (a) one after another:          {serial:6.2f} s   runs: {shown('serial')}")
    print(f"  (b) dhpc build (parallel):      {parallel:6.2f} s   runs: {shown('parallel')}")
    print(f"  (c) dhpc build --check:         {check:6.2f} s   runs: {shown('check')}")
    print(
        f"  CPU time: (a) {cpu('serial'):.2f} s, (b) {cpu('parallel'):.2f} s in all processes, "
        f"(c) {cpu('check'):.2f} s; (b) kept {cpu('parallel') / parallel:.1f} of {cores} cores "
        "busy"
    )
    sampling = statistics.median(run.sampler_cpu for run in runs["parallel"])
    print(f"  the memory sampler of this benchmark took {sampling:.2f} s of CPU during (b)")
    _print_timeline(min(runs["parallel"], key=lambda run: (run.others_cores, run.seconds)))
    pairs = [
        f"{b.seconds / a.seconds:.2f}"
        for a, b in zip(runs["serial"], runs["parallel"], strict=True)
    ]
    print(
        f"  ratio (b)/(a):  {parallel / serial:.2f}   (target <= {TARGET_PARALLEL:.2f}; "
        f"each attempt: {', '.join(pairs)})"
    )
    print(f"  ratio (c)/(b):  {check / parallel:.2f}   (target <= {TARGET_CHECK:.2f})")
    free = {mode: [run.seconds for run in runs[mode] if run.others_cores <= BUSY] for mode in runs}
    if all(free.values()):
        a, b, c = (statistics.median(free[mode]) for mode in ("serial", "parallel", "check"))
        print(
            f"  on free cores (the runs during which others used <= {BUSY} cores: "
            f"{len(free['serial'])}, {len(free['parallel'])}, {len(free['check'])}): "
            f"(a) {a:.2f} s, (b) {b:.2f} s, (c) {c:.2f} s; (b)/(a) {b / a:.2f}, (c)/(b) {c / b:.2f}"
        )
    else:
        print(f"  on free cores: no run of each kind had them (others <= {BUSY} cores)")
    print(
        f"  peak memory of (b): {peak_total:.0f} MB in all processes (PSS), largest process "
        f"{peak_largest:.0f} MB (peak RSS)   (target <= {TARGET_MB:.0f} MB)"
    )
    wrote = "yes" if writes_nothing else "NO"
    print(f"  --check wrote nothing (bytes, sizes, mtimes, no file added): {wrote}")
    print("  the parallel build is byte-identical to the serial one: yes")
    print(f"  the build is the recorded bytes (golden file): {golden}")
    loaded = [
        f"{mode} {index + 1}"
        for mode in ("serial", "parallel", "check")
        for index, run in enumerate(runs[mode])
        if run.others_cores > BUSY
    ]
    if loaded:
        worst = max(run.others_cores for mode in runs.values() for run in mode)
        print(
            f"  NOTE: other processes kept up to {worst:.1f} cores busy during {len(loaded)} of "
            f"{3 * args.repeat} runs ({', '.join(loaded)}): the machine was loaded, and (b) needs "
            "two free cores, so its ratio is not the one of a free machine"
        )
    else:
        print(f"  the machine was free during every run (others below {BUSY} cores)")


if __name__ == "__main__":
    main()
