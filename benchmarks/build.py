"""What ``dhpc build`` costs beyond WeasyPrint's own work.

Measures, in one run, as pairs taken one right after the other (so that what else the
machine is doing weighs on both alike), ``--repeat`` times, and reports medians:

(a) ``dhpc build CONTENT`` in a fresh process, against a plain Python script, in a fresh
    process too, that renders the HTML files ``dhpc build --html`` wrote (the very
    letters) through WeasyPrint with the same ``pdf_variant`` and ``pdf_tags=True`` and
    writes the PDFs. Both pay for starting Python and importing WeasyPrint; the build
    also reads and checks the content, typesets the letters (no-break spaces, soft
    hyphens), lays them out and writes the manifest. ``dhpc build`` renders a folder's
    languages in parallel, one worker per core; ``(a, --jobs 1)`` is the same build one
    letter after another, for the cost per letter without that. Target (a) <= 1.10.
(b) ``dhpc build --check`` of the outputs of (a), against ``dhpc build``, fresh
    processes: the check renders in memory and compares. Target <= 1.05.
(c) In one warm process (as ``dhpc serve`` or a test session has), one language file
    is edited and that letter built again (the folder read and checked, the letter
    typeset and laid out, in memory), against WeasyPrint laying out the same HTML in
    the same process (``HTML(string=…).write_pdf(…)`` with the same options). Target
    <= 1.05.
(d) ``dhpc --help``: wall time of a fresh process, next to ``python -c pass`` (starting
    the interpreter alone, on this machine now). Target <= 0.15 s.

    .venv/bin/python benchmarks/build.py
    .venv/bin/python benchmarks/build.py --repeat 15 --content content/fictumab-2026
    # the same measurements of another checkout's code, e.g. main before a change:
    .venv/bin/python benchmarks/build.py --checkout /work/main
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
CONTENT = PROJECT / "content" / "lemtrada-2019"

PLAIN_WEASYPRINT = """
import sys
from weasyprint import HTML
variant, out = sys.argv[1], sys.argv[2]
for index, name in enumerate(sys.argv[3:]):
    HTML(filename=name).write_pdf(f"{out}/{index}.pdf", pdf_variant=variant, pdf_tags=True)
"""


CHECKOUT = PROJECT
"""Whose code runs ``dhpc`` (``--checkout``)."""


def _dhpc() -> list[str]:
    return [sys.executable, "-m", "dhpc_gen"]


def _run(command: list[str], expect: int = 0) -> float:
    start = time.perf_counter()
    done = subprocess.run(
        command,
        cwd=CHECKOUT,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT)},
        capture_output=True,
        text=True,
        check=False,
    )
    seconds = time.perf_counter() - start
    if done.returncode != expect:
        raise SystemExit(f"{' '.join(command)} exited {done.returncode}:\n{done.stderr}")
    return seconds


def _variant(content: Path) -> str:
    sys.path.insert(0, str(CHECKOUT))
    from dhpc_gen.content.campaign import load_campaign

    campaign = load_campaign(content)
    return next(iter(campaign.nationals.values())).meta.pdf_variant


def whole_processes(content: Path, repeat: int, root: Path) -> dict[str, list[float]]:
    """(a), (a, --jobs 1), (b) and (d): fresh processes, interleaved."""
    html_out = root / "html"
    _run([*_dhpc(), "build", str(content), "--out", str(html_out), "--html"])
    pages = sorted(str(p) for p in html_out.rglob("*.html"))
    variant = _variant(content)
    plain_out = root / "plain"
    plain_out.mkdir()
    plain = [sys.executable, "-c", PLAIN_WEASYPRINT, variant, str(plain_out), *pages]
    times: dict[str, list[float]] = {
        key: [] for key in ("build", "plain", "serial", "check", "help", "python")
    }
    for attempt in range(repeat):
        out = root / f"build-{attempt}"
        times["plain"].append(_run(plain))
        times["build"].append(_run([*_dhpc(), "build", str(content), "--out", str(out)]))
        times["check"].append(_run([*_dhpc(), "build", str(content), "--out", str(out), "--check"]))
        serial = root / f"serial-{attempt}"
        times["serial"].append(
            _run([*_dhpc(), "build", str(content), "--out", str(serial), "--jobs", "1"])
        )
        times["help"].append(_run([*_dhpc(), "--help"]))
        times["python"].append(_run([sys.executable, "-c", "pass"]))
        shutil.rmtree(out)
        shutil.rmtree(serial)
    return times


def warm(content: Path, repeat: int, root: Path) -> dict[str, list[float]]:
    """(c) in a child process, so that this one's imports do not count."""
    folder = root / "warm-content"
    shutil.copytree(content, folder)
    done = subprocess.run(
        [sys.executable, __file__, "--child-warm", str(folder), "--repeat", str(repeat)],
        cwd=CHECKOUT,
        env={**os.environ, "PYTHONPATH": str(CHECKOUT)},
        capture_output=True,
        text=True,
        check=False,
    )
    if done.returncode != 0:
        raise SystemExit(f"the warm process failed:\n{done.stderr}")
    figures: dict[str, list[float]] = json.loads(done.stdout.strip().splitlines()[-1])
    return figures


def child_warm(folder: Path, repeat: int) -> None:
    """Runs in the warm process: edit a language, build it again; WeasyPrint alone."""
    from weasyprint import HTML

    from dhpc_gen.build import render_letters
    from dhpc_gen.content.campaign import load_campaign
    from dhpc_gen.resources import TEMPLATES_DIR

    def rebuild() -> tuple[str, str, str, bytes]:
        campaign = load_campaign(folder)
        dhpc = next(iter(campaign.nationals.values()))
        language = next(x for x in dhpc.meta.languages if x != dhpc.meta.source_language)
        (letter,) = render_letters(dhpc, [language])
        return letter.html, dhpc.meta.pdf_variant, language, letter.pdf

    _, _, language, _ = rebuild()  # warm: imports, template, catalogs, fonts
    edited = folder / f"{language}.yaml"
    original = edited.read_text(encoding="utf-8")
    base_url = TEMPLATES_DIR.resolve().as_uri() + "/"
    times: dict[str, list[float]] = {"rebuild": [], "weasyprint": []}
    lines = original.splitlines(keepends=True)
    # The first line of text under "opening:" (a block, or the value on its line).
    at = next(i for i, line in enumerate(lines) if line.startswith("opening:"))
    at = at + 1 if lines[at].rstrip().endswith(("|", ">", "|-", ">-")) else at
    for attempt in range(repeat + 1):
        # A real edit: a word of the letter's text changes, so the PDF does too.
        edit = [*lines]
        edit[at] = edit[at].rstrip("\n") + f" muokattu{attempt}\n"
        edited.write_text("".join(edit), encoding="utf-8")
        start = time.perf_counter()
        html, variant, _, _ = rebuild()
        rebuilt = time.perf_counter() - start
        start = time.perf_counter()
        HTML(string=html, base_url=base_url).write_pdf(pdf_variant=variant, pdf_tags=True)
        alone = time.perf_counter() - start
        if attempt:  # the first pair warms WeasyPrint's own path
            times["rebuild"].append(rebuilt)
            times["weasyprint"].append(alone)
    print(json.dumps(times))


def _runs(values: list[float]) -> str:
    return ", ".join(f"{v:.2f}" for v in values)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--content", type=Path, default=CONTENT)
    parser.add_argument("--repeat", type=int, default=7, help="pairs of each (the N of medians)")
    parser.add_argument("--checkout", type=Path, default=PROJECT, help="whose code runs dhpc")
    parser.add_argument("--child-warm", type=Path, help=argparse.SUPPRESS)
    args = parser.parse_args()
    global CHECKOUT
    CHECKOUT = args.checkout.resolve()
    if args.child_warm:
        child_warm(args.child_warm, args.repeat)
        return

    cores = len(os.sched_getaffinity(0))
    print(
        f"{args.content.name}, dhpc of {CHECKOUT}; {cores} cores, load average "
        f"{os.getloadavg()[0]:.1f} at the start; median of {args.repeat} interleaved pairs each"
    )
    with tempfile.TemporaryDirectory(prefix="dhpc-bench-build-") as tmp:
        root = Path(tmp)
        content = args.content.resolve()
        times = whole_processes(content, args.repeat, root)
        times |= warm(content, args.repeat, root)

    med = {key: statistics.median(values) for key, values in times.items()}
    a = med["build"] / med["plain"]
    a_serial = med["serial"] / med["plain"]
    b = med["check"] / med["build"]
    c = med["rebuild"] / med["weasyprint"]
    d = med["help"]
    print(
        f"  WeasyPrint alone, fresh process:  {med['plain']:6.2f} s  runs: {_runs(times['plain'])}"
    )
    print(
        f"  dhpc build:                       {med['build']:6.2f} s  runs: {_runs(times['build'])}"
    )
    print(
        f"  dhpc build --jobs 1:              {med['serial']:6.2f} s  "
        f"runs: {_runs(times['serial'])}"
    )
    print(
        f"  dhpc build --check:               {med['check']:6.2f} s  runs: {_runs(times['check'])}"
    )
    print(
        f"  warm re-render of one language:   {med['rebuild']:6.3f} s  "
        f"runs: {_runs(times['rebuild'])}"
    )
    print(
        f"  WeasyPrint's layout of it (warm): {med['weasyprint']:6.3f} s  "
        f"runs: {_runs(times['weasyprint'])}"
    )
    print(f"  dhpc --help:                      {d:6.3f} s  runs: {_runs(times['help'])}")
    print(
        f"  python -c pass:                   {med['python']:6.3f} s  "
        f"runs: {_runs(times['python'])}"
    )
    rows = [
        ("(a) build / WeasyPrint", a, 1.10, ""),
        ("(a, --jobs 1) / WeasyPrint", a_serial, None, ""),
        ("(b) build --check / build", b, 1.05, ""),
        ("(c) warm re-render / WeasyPrint", c, 1.05, ""),
    ]
    for label, value, goal, _ in rows:
        verdict = (
            "" if goal is None else f"(goal <= {goal:.2f}: {'met' if value <= goal else 'NOT met'})"
        )
        print(f"  {label + ':':34s} {value:5.2f}   {verdict}")
    print(
        f"  {'(d) dhpc --help:':34s} {d:5.3f} s (goal <= 0.15 s: "
        f"{'met' if d <= 0.15 else 'NOT met'}; the interpreter alone took {med['python']:.3f} s)"
    )


if __name__ == "__main__":
    main()
