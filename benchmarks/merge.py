"""Benchmark of ``dhpc merge`` against laying out every letter with WeasyPrint.

Generates N recipients with Faker (Finnish- and Swedish-speaking, about one in ten in
Swedish, a few abroad), then measures in the same run:

(a) the naive way: each letter rendered from HTML by WeasyPrint with its address in it,
    on a sample of 20 letters, the time per letter extrapolated to N;
(b) ``dhpc merge`` as a user runs it (a fresh process, both cores), print files only and
    with ``--per-recipient``.

It prints letters/s of each, the ratio, the peak memory (largest process, and the sum
over the process and its workers, sampled from /proc) and the print file's bytes per
letter. Targets on a 2-core machine: ratio >= 100 at N = 2,000; N = 25,000 in <= 60 s;
peak memory <= 400 MB and not growing with N; <= 5 KB per extra letter.

    .venv/bin/python benchmarks/merge.py                 # N = 2,000
    .venv/bin/python benchmarks/merge.py --n 2000 --n 25000
"""

from __future__ import annotations

import argparse
import os
import shutil
import subprocess
import sys
import tempfile
import threading
import time
from collections.abc import Iterator
from dataclasses import dataclass
from pathlib import Path

from faker import Faker

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from dhpc_gen.addresses.recipients import Recipient, write_recipients  # noqa: E402
from dhpc_gen.content import load_dhpc  # noqa: E402
from dhpc_gen.distribution.address_block import address_block  # noqa: E402
from dhpc_gen.distribution.letter_body import merged_html  # noqa: E402
from dhpc_gen.distribution.merge import reference_line  # noqa: E402
from dhpc_gen.distribution.reference_address import letter_with_address_html  # noqa: E402
from dhpc_gen.distribution.window import WINDOWS  # noqa: E402
from dhpc_gen.i18n import long_date  # noqa: E402
from dhpc_gen.render.pdf import pdf_identifier, write_pdf  # noqa: E402

EXAMPLE = PROJECT / "content" / "lemtrada-2019"
SAMPLE = 20


def recipients(count: int, seed: int = 2019) -> Iterator[Recipient]:
    finnish, swedish = Faker("fi_FI"), Faker("sv_SE")
    finnish.seed_instance(seed)
    swedish.seed_instance(seed + 1)
    for index in range(count):
        language = "sv" if index % 10 == 0 else "fi"
        abroad = index % 97 == 0
        faker = swedish if abroad else finnish
        yield Recipient(
            recipient_id=f"FI-{index:07d}",
            language=language,
            title="LL" if index % 3 == 0 else "",
            first_name=faker.first_name(),
            last_name=faker.last_name(),
            profession="physician",
            specialty="neurology",
            organisation="HUS Neurologian klinikka" if index % 5 == 0 else "",
            street=faker.street_address(),
            postal_code=faker.postcode(),
            city=faker.city(),
            country="SE" if abroad else "FI",
            email=f"doctor{index}@example.org",
            sources="Suomen Lääkäriliitto",
        )


def naive_seconds_per_letter(sample: list[Recipient]) -> float:
    """Lay out whole letters, address included, one by one (WeasyPrint)."""
    dhpc = load_dhpc(EXAMPLE)
    window = WINDOWS["din5008-b"]
    # One warm-up letter: fonts and catalogs are cached after the first.
    timings = []
    for index, recipient in enumerate([sample[0], *sample]):
        start = time.perf_counter()
        language = recipient.language
        block = address_block(recipient, home="FI", language=language, name_languages=("fi", "sv"))
        info = (long_date(dhpc.meta.date, language), reference_line(dhpc, recipient.recipient_id))
        html = letter_with_address_html(
            merged_html(dhpc, language, window), window, block.lines, info, language=language
        )
        write_pdf(
            html,
            variant=dhpc.meta.pdf_variant,
            identifier=pdf_identifier(recipient.recipient_id),
            epoch=0,
        )
        if index:
            timings.append(time.perf_counter() - start)
    return sum(timings) / len(timings)


@dataclass
class Run:
    seconds: float
    peak_largest_mb: float
    peak_total_mb: float
    letters: int
    print_bytes: int
    letter_files: int
    letter_bytes: int


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


def run_merge(mailing: Path, out: Path, per_recipient: bool) -> Run:
    """``dhpc merge`` in a fresh process; memory sampled every 50 ms."""
    shutil.rmtree(out, ignore_errors=True)
    command = [sys.executable, "-m", "dhpc_gen", "merge", str(EXAMPLE)]
    command += ["--mailing", str(mailing), "--out", str(out)]
    if per_recipient:
        command.append("--per-recipient")
    peak_total = peak_largest = 0
    start = time.perf_counter()
    process = subprocess.Popen(
        command, cwd=PROJECT, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True
    )
    done = threading.Event()

    def sample() -> None:
        nonlocal peak_total, peak_largest
        while not done.is_set():
            pids = _tree(process.pid)
            total = sum(_field_kb(f"/proc/{pid}/smaps_rollup", "Pss:") for pid in pids)
            peak_total = max(peak_total, total)
            for pid in pids:
                peak_largest = max(peak_largest, _field_kb(f"/proc/{pid}/status", "VmHWM:"))
            done.wait(0.05)

    sampler = threading.Thread(target=sample)
    sampler.start()
    stdout, stderr = process.communicate()
    seconds = time.perf_counter() - start
    done.set()
    sampler.join()
    if process.returncode:
        raise SystemExit(f"dhpc merge failed ({process.returncode}):\n{stdout}\n{stderr}")
    print_dir = out / "lemtrada-2019" / "print"
    letters_dir = out / "lemtrada-2019" / "letters"
    prints = list(print_dir.glob("*_print.pdf"))
    files = list(letters_dir.rglob("*.pdf")) if per_recipient else []
    with (print_dir / "print-manifest.csv").open(encoding="utf-8") as handle:
        letters = sum(1 for line in handle if ",print/" in line)
    return Run(
        seconds=seconds,
        peak_largest_mb=peak_largest / 1024,
        peak_total_mb=peak_total / 1024,
        letters=letters,
        print_bytes=sum(p.stat().st_size for p in prints),
        letter_files=len(files),
        letter_bytes=sum(p.stat().st_size for p in files),
    )


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, action="append", help="letters (repeatable)")
    parser.add_argument("--no-per-recipient", action="store_true", help="measure print files only")
    args = parser.parse_args()
    sizes = args.n or [2000]
    print(f"CPUs: {os.cpu_count()}, Python {sys.version.split()[0]}")
    work = Path(tempfile.mkdtemp(prefix="dhpc-merge-bench-"))
    try:
        sample = list(recipients(SAMPLE, seed=7))
        naive = naive_seconds_per_letter(sample)
        print(
            f"(a) naive, WeasyPrint per letter: {naive * 1000:.0f} ms/letter "
            f"= {1 / naive:.1f} letters/s (sample of {SAMPLE}, one process)"
        )
        base_mailing = work / "mailing-base"
        write_recipients(base_mailing / "recipients.csv", recipients(2))
        base = run_merge(base_mailing, work / "out", per_recipient=False)
        for count in sizes:
            mailing = work / f"mailing-{count}"
            start = time.perf_counter()
            write_recipients(mailing / "recipients.csv", recipients(count))
            print(f"\nN = {count:,} (generated in {time.perf_counter() - start:.1f} s)")
            modes = [False] if args.no_per_recipient else [False, True]
            for per_recipient in modes:
                run = run_merge(mailing, work / "out", per_recipient)
                label = "print files + per-recipient" if per_recipient else "print files"
                rate = count / run.seconds
                naive_total = naive * count
                print(f"(b) dhpc merge, {label}:")
                print(f"    {run.seconds:.1f} s = {rate:,.0f} letters/s")
                ratio = naive_total / run.seconds
                print(
                    f"    naive extrapolated: {naive_total:,.0f} s; ratio {ratio:,.0f}x"
                    f" (against a naive run on 2 cores: {ratio / 2:,.0f}x)"
                )
                print(
                    f"    peak memory: largest process {run.peak_largest_mb:.0f} MB, "
                    f"all processes (PSS) {run.peak_total_mb:.0f} MB"
                )
                extra = (run.print_bytes - base.print_bytes) / (run.letters - base.letters)
                print(
                    f"    print files: {run.print_bytes / 1e6:.1f} MB for {run.letters:,} letters "
                    f"= {run.print_bytes / run.letters / 1024:.2f} KB/letter, "
                    f"{extra / 1024:.2f} KB per extra letter"
                )
                if per_recipient:
                    print(
                        f"    per-recipient files: {run.letter_files:,}, "
                        f"{run.letter_bytes / run.letter_files / 1024:.1f} KB each"
                    )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
