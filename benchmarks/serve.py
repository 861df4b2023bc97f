"""Benchmark of ``dhpc serve``: the review page's load, the preview's refresh after a save.

Starts the server as a user does (``dhpc serve`` in a fresh process, on a free loopback
port) on a copy of the Lemtrada example, then measures in the same run:

(a) the first load of the review page (the server reads and checks the folder);
(b) the review page loaded again, N times: the folder unchanged, the checks kept warm;
(c) a save of ``fi.yaml`` until the preview shows it: the time from writing the file to
    the server's change event, and to the new letter's HTML fetched by the page;
(d) the baseline, in this process: reading and checking the folder and rendering one
    letter from nothing (``load_dhpc``, ``run_checks``, ``render_html``), which is what a
    refresh must do at least.

Targets: the review page in <= 1 s after the first load; the preview refreshed <= 2 s
after a save.

    .venv/bin/python benchmarks/serve.py
    .venv/bin/python benchmarks/serve.py --n 20 --saves 10
"""

from __future__ import annotations

import argparse
import http.client
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from pathlib import Path

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from dhpc_gen.content import load_dhpc  # noqa: E402
from dhpc_gen.render.letter import render_html  # noqa: E402
from dhpc_gen.review.checks import run_checks  # noqa: E402
from dhpc_gen.review.termbase import termbase_for  # noqa: E402

EXAMPLE = PROJECT / "content" / "lemtrada-2019"


def get(port: int, path: str) -> tuple[int, bytes]:
    connection = http.client.HTTPConnection("127.0.0.1", port, timeout=60)
    try:
        connection.request("GET", path, headers={"Host": f"127.0.0.1:{port}"})
        response = connection.getresponse()
        return response.status, response.read()
    finally:
        connection.close()


class Events:
    """The server's change events, read in a thread: (time seen, version)."""

    def __init__(self, port: int) -> None:
        self.seen: list[tuple[float, int]] = []
        self.changed = threading.Condition()
        self.connection = http.client.HTTPConnection("127.0.0.1", port, timeout=120)
        self.connection.request("GET", "/events", headers={"Host": f"127.0.0.1:{port}"})
        self.response = self.connection.getresponse()
        threading.Thread(target=self._read, daemon=True).start()

    def _read(self) -> None:
        try:
            for raw in self.response:
                line = raw.decode().strip()
                if line.startswith("data: "):
                    with self.changed:
                        self.seen.append((time.perf_counter(), int(line[6:])))
                        self.changed.notify_all()
        except (OSError, ValueError, AttributeError):  # closed at the end of the run
            return

    def wait_beyond(self, version: int, timeout: float = 30.0) -> tuple[float, int]:
        with self.changed:
            self.changed.wait_for(lambda: bool(self.seen) and self.seen[-1][1] > version, timeout)
            return self.seen[-1]

    def close(self) -> None:
        self.connection.close()


def baseline(folder: Path) -> float:
    start = time.perf_counter()
    dhpc = load_dhpc(folder)
    run_checks(dhpc, termbase=termbase_for(dhpc, ()))
    render_html(dhpc, "fi")
    return time.perf_counter() - start


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--n", type=int, default=10, help="warm loads of the review page")
    parser.add_argument("--saves", type=int, default=5, help="saves of fi.yaml to time")
    args = parser.parse_args()

    work = Path(tempfile.mkdtemp(prefix="dhpc-serve-bench-"))
    folder = work / EXAMPLE.name
    shutil.copytree(EXAMPLE, folder, ignore=shutil.ignore_patterns("sources"))
    process = subprocess.Popen(
        [sys.executable, "-m", "dhpc_gen", "serve", str(folder), "--port", "0"],
        cwd=work,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
        text=True,
    )
    try:
        assert process.stderr is not None
        match = re.search(r":(\d+)/", process.stderr.readline())
        assert match, "dhpc serve did not start"
        port = int(match.group(1))
        threading.Thread(target=process.stderr.read, daemon=True).start()
        while True:
            try:
                get(port, "/static/serve.css")
                break
            except OSError:
                time.sleep(0.05)

        start = time.perf_counter()
        status, _ = get(port, "/review")
        first = time.perf_counter() - start
        assert status == 200
        warm = []
        for _ in range(args.n):
            start = time.perf_counter()
            status, body = get(port, "/review")
            warm.append(time.perf_counter() - start)
            assert status == 200 and b"side-by-side" in body

        events = Events(port)
        version = events.wait_beyond(-1)[1]
        fi = folder / "fi.yaml"
        original = fi.read_text(encoding="utf-8")
        to_event, to_letter = [], []
        for index in range(args.saves):
            marker = f"Vertailu{chr(ord('A') + index % 26)}kohta"  # no digit: no finding
            saved = time.perf_counter()
            fi.write_text(original.replace("Maksan toiminta", f"{marker} maksan toiminta", 1))
            seen, version = events.wait_beyond(version)
            to_event.append(seen - saved)
            # What the preview page does on the event: the page, then the letter.
            get(port, "/preview?lang=fi")
            status, letter = get(port, "/letter/fi")
            to_letter.append(time.perf_counter() - saved)
            shown = letter.decode("utf-8").replace("\u00ad", "")
            assert status == 200 and marker in shown, "the preview does not show the save"
            time.sleep(0.3)
        events.close()
        base = baseline(folder)
    finally:
        process.terminate()
        process.wait(timeout=15)
        shutil.rmtree(work, ignore_errors=True)

    median = statistics.median
    print("dhpc serve, the Lemtrada example (sv, fi)")
    print(f"  review page, first load:           {first * 1000:8.0f} ms")
    print(
        f"  review page, warm (median of {args.n:>2}):  {median(warm) * 1000:8.0f} ms"
        f"   max {max(warm) * 1000:.0f} ms   (goal <= 1000 ms)"
    )
    print(f"  save -> change event (median of {args.saves}): {median(to_event) * 1000:6.0f} ms")
    print(
        f"  save -> new letter fetched (median): {median(to_letter) * 1000:6.0f} ms"
        f"   max {max(to_letter) * 1000:.0f} ms   (goal <= 2000 ms)"
    )
    print(f"  baseline: load + check + render from nothing: {base * 1000:.0f} ms")
    print(f"  ratio warm review / baseline: {median(warm) / base:.2f}")
    ok = median(warm) <= 1.0 and max(to_letter) <= 2.0
    print("  goals met" if ok else "  GOALS NOT MET")


if __name__ == "__main__":
    main()
