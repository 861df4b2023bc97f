"""Mailing list at scale: 100,000 generated register rows → one deduplicated list.

Generates three messy sources (tests/mailing_helpers.py: cp1252 CSV, UTF-8-BOM CSV,
XLSX; people in several sources with spelling variants; a known ground truth), then
runs ``dhpc mailing-list`` in a child process and prints wall time, rows/s, the child's
peak memory, and the dedupe's precision and recall on the ground truth. As a baseline,
a second child only reads the same files (the readers, no normalisation or dedupe).

Names collide as in a national register (``--names common``, the default): the
commonest Finnish and Finland-Swedish name pairs belong to dozens of people each,
spread over a few thousand postal codes, so that several different people of one name
share a postal code. ``--names plain`` draws every name from Faker's lists instead.

    .venv/bin/python benchmarks/mailing.py [--rows 100000] [--seed 2019] [--names common]
                                           [--keep DIR]

Targets: under 15 s and under 500 MB; precision and recall >= 0.99 each.
"""

from __future__ import annotations

import argparse
import csv
import os
import resource
import shutil
import subprocess
import sys
import tempfile
import time
from collections import defaultdict
from itertools import combinations
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT / "tests"))
sys.path.insert(0, str(ROOT))

import mailing_helpers as helpers  # noqa: E402

TARGET_SECONDS = 15.0
TARGET_MB = 500.0
TARGET_QUALITY = 0.99

READ_ONLY = """
import sys
from pathlib import Path
from dhpc_gen.addresses import load_sources
from dhpc_gen.addresses.readers import read_rows
sources = load_sources(Path(sys.argv[1]))
print(sum(sum(1 for _ in read_rows(source)) for source in sources.sources))
"""


def _people_for(rows: int) -> int:
    """People giving about ``rows`` rows (the helpers give ~1.45 rows per person)."""
    return max(10, round(rows / 1.455))


def _child(args: list[str]) -> tuple[float, float, float, str]:
    """Run a child Python; return (wall s, its CPU s, its peak RSS in MB, its stdout)."""
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    before, cpu_before = usage.ru_maxrss, usage.ru_utime + usage.ru_stime
    start = time.perf_counter()
    done = subprocess.run(
        [sys.executable, *args], cwd=ROOT, capture_output=True, text=True, check=False
    )
    wall = time.perf_counter() - start
    if done.returncode != 0:
        sys.exit(f"child failed ({done.returncode}):\n{done.stderr}")
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    cpu = usage.ru_utime + usage.ru_stime - cpu_before
    # ru_maxrss is the largest child so far (KiB on Linux): run the big child first.
    return wall, cpu, max(usage.ru_maxrss, before) / 1024, done.stdout


def _same_name_pairs(generated: helpers.Generated) -> tuple[int, int]:
    """(people whose full name another person has, pairs of them in one postal code)."""
    by_name: dict[tuple[str, str], list[helpers.Person]] = defaultdict(list)
    for person in generated.people.values():
        by_name[(person.first_names[0], person.last_name)].append(person)
    shared = [group for group in by_name.values() if len(group) > 1]
    same_place = sum(
        1 for group in shared for a, b in combinations(group, 2) if a.postal_code == b.postal_code
    )
    return sum(len(group) for group in shared), same_place


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--rows", type=int, default=100_000)
    parser.add_argument("--seed", type=int, default=2019)
    parser.add_argument("--names", choices=("common", "plain"), default="common")
    parser.add_argument("--keep", type=Path, help="Generate into this folder and keep it.")
    options = parser.parse_args()

    work = options.keep or Path(tempfile.mkdtemp(prefix="dhpc-mailing-bench-"))
    try:
        content = work / "content"
        shutil.copytree(ROOT / "content" / "lemtrada-2019", content, dirs_exist_ok=True)
        start = time.perf_counter()
        generated = helpers.generate_sources(
            content / "sources",
            people=_people_for(options.rows),
            seed=options.seed,
            junk=20,
            common_names=options.names == "common",
        )
        sources_yaml = helpers.SOURCES_YAML.replace(
            "suppression: sources/suppression.csv", "# no suppression list in the benchmark"
        )
        (content / "sources.yaml").write_text(sources_yaml, encoding="utf-8")
        print(
            f"generated {generated.rows} rows of {len(generated.people)} people "
            f"in {time.perf_counter() - start:.1f} s:"
        )
        for name, path in generated.files.items():
            count = sum(1 for source, _ in [*generated.truth, *generated.rejects] if source == name)
            print(f"  {name}: {count} rows, {path.stat().st_size / 1e6:.1f} MB ({path.suffix})")

        out = work / "out"
        wall, cpu, peak_mb, _ = _child(
            ["-m", "dhpc_gen", "mailing-list", str(content), "--everyone", "--out", str(out)]
        )
        read_wall, read_cpu, _, read_count = _child(
            ["-c", READ_ONLY, str(content / "sources.yaml")]
        )

        mailing = out / "lemtrada-2019" / "mailing"
        with (mailing / "provenance.csv").open(encoding="utf-8", newline="") as handle:
            triples = [
                (r["recipient_id"], r["source"], int(r["row"])) for r in csv.DictReader(handle)
            ]
        predicted = helpers.predicted_pairs(triples)
        true = generated.true_pairs()
        precision, recall = helpers.precision_recall(predicted, true)
        with (mailing / "rejects.csv").open(encoding="utf-8", newline="") as handle:
            rejected = {(r["source"], int(r["row"])) for r in csv.DictReader(handle)}
        with (mailing / "duplicates.csv").open(encoding="utf-8", newline="") as handle:
            possible = [
                frozenset({(r["kept_source"], int(r["kept_row"])), (r["other_source"],
                           int(r["other_row"]))})
                for r in csv.DictReader(handle)
                if r["match"] == "possible"
            ]  # fmt: skip
        same_name = _same_name_pairs(generated)

        rows = generated.rows
        print(
            f"mailing-list: {wall:.2f} s wall ({cpu:.2f} s CPU), {rows / wall:,.0f} rows/s, "
            f"peak {peak_mb:.0f} MB"
        )
        print(
            f"baseline (read the files only, {read_count.strip()} rows): {read_wall:.2f} s wall "
            f"({read_cpu:.2f} s CPU); pipeline/baseline {wall / read_wall:.1f}x"
        )
        print(f"machine load average: {', '.join(f'{x:.1f}' for x in os.getloadavg())}")
        print(
            f"names: {same_name[0]} people share their full name with someone, "
            f"{same_name[1]} pairs of different people of one name in one postal code"
        )
        print(
            f"dedupe: precision {precision:.4f}, recall {recall:.4f} "
            f"({len(predicted)} pairs joined, {len(true)} true pairs, "
            f"{len(predicted - true)} joined wrongly)"
        )
        print(
            f"possible duplicates (kept apart for a human): {len(possible)} pairs, "
            f"{sum(1 for pair in possible if pair in true)} of them one person"
        )
        print(
            f"rejects: {len(rejected)} rows, the {len(generated.rejects)} built to be rejected "
            f"{'all found' if rejected == set(generated.rejects) else 'NOT matched'}"
        )
        checks = [
            ("time", wall < TARGET_SECONDS, f"< {TARGET_SECONDS:.0f} s"),
            ("memory", peak_mb < TARGET_MB, f"< {TARGET_MB:.0f} MB"),
            ("precision", precision >= TARGET_QUALITY, f">= {TARGET_QUALITY}"),
            ("recall", recall >= TARGET_QUALITY, f">= {TARGET_QUALITY}"),
        ]
        for name, ok, target in checks:
            print(f"  {name:9} {target:10} {'ok' if ok else 'MISSED'}")
    finally:
        if options.keep is None:
            shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
