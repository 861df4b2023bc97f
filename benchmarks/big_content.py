"""How long the largest content the loader accepts takes to build.

Generates DHPCs at the limits of ``dhpc_gen/content/loader.py`` (``MAX_CONTENT_BYTES``)
and ``dhpc_gen/content/model.py`` (``MAX_TEXT_CHARS``): both language files just under
the file limit, filled with

- paragraphs of words, each as long as a text field may be;
- paragraphs that are each one word of that length (nowhere to break a line: before
  :mod:`dhpc_gen.render.long_words`, WeasyPrint laid the rest of the paragraph out again
  for every line such a word filled);
- short bullets, as many as fit;

and builds each with ``dhpc build`` in a fresh process, next to the bundled example
built in the same run. Prints per case the size of the two language files, the pages of
each PDF, the wall time, the peak memory and the ratios to the example.

Target: every case at the limits within 3 × the example's CPU time and 2 × its memory
(CPU time, because wall time on a shared machine says more about the neighbours).

    .venv/bin/python benchmarks/big_content.py
    # the same content built by another checkout's code, e.g. to compare with main:
    .venv/bin/python benchmarks/big_content.py --checkout /work/main
    # larger than the limits allow, with a checkout that accepts them (before the limits):
    .venv/bin/python benchmarks/big_content.py --checkout ../old --file-bytes 1048000 \\
        --text-chars 19900
"""

from __future__ import annotations

import argparse
import json
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

PROJECT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(PROJECT))

from dhpc_gen.content import load_dhpc  # noqa: E402
from dhpc_gen.content.loader import MAX_CONTENT_BYTES  # noqa: E402
from dhpc_gen.content.model import MAX_TEXT_CHARS  # noqa: E402

EXAMPLE = PROJECT / "content" / "lemtrada-2019"
VOCABULARY = (
    *("alemtutsumabi", "hoito", "potilas", "infuusio", "maksan", "toiminta", "arvioitava"),
    *("ennen", "aikana", "ja", "behandling", "patienter", "levern", "funktion", "utvärderas"),
    *("före", "under", "och", "sydän", "verisuoni"),
)


@dataclass(frozen=True)
class Figures:
    case: str
    kib: float
    pages: str
    seconds: float
    cpu: float
    """User and system time of the build process: what the machine's other work does not
    change (``seconds`` is wall time)."""
    mb: float


def words(length: int, seed: int) -> str:
    """Text of about ``length`` characters, words of the letter's own vocabulary."""
    rng = random.Random(seed)
    out: list[str] = []
    size = 0
    while size < length:
        word = rng.choice(VOCABULARY)
        out.append(word)
        size += len(word) + 1
    return " ".join(out)[:length].rstrip()


def fill(folder: Path, field: str, item: Callable[[int], str], file_bytes: int) -> None:
    """Replace ``field`` of each language file by as many items as fit under the limit."""
    datas = {
        language: text.model_dump(mode="json", exclude_defaults=True)
        for language, text in load_dhpc(EXAMPLE).iter_texts()
    }

    def size(data: dict[str, Any], count: int) -> int:
        items = [item(index) for index in range(count)]
        return len(json.dumps({**data, field: items}, ensure_ascii=False).encode())

    one = max(size(data, 1) for data in datas.values())
    each = max(size(data, 2) for data in datas.values()) - one
    count = max(1, (file_bytes - one) // each)
    while count > 1 and max(size(data, count) for data in datas.values()) > file_bytes:
        count -= 1
    for language, data in datas.items():
        data[field] = [item(index) for index in range(count)]
        text = json.dumps(data, ensure_ascii=False)
        (folder / f"{language}.yaml").write_text(text, encoding="utf-8")


def build(folder: Path, checkout: Path, case: str) -> Figures:
    out = folder.parent / "out"
    started = time.perf_counter()
    process = subprocess.Popen(
        [sys.executable, "-m", "dhpc_gen", "build", str(folder), "--out", str(out)],
        cwd=checkout,
        env={**os.environ, "PYTHONPATH": str(checkout)},
        stdout=subprocess.DEVNULL,
        stderr=subprocess.PIPE,
    )
    _, status, usage = os.wait4(process.pid, 0)
    seconds = time.perf_counter() - started
    stderr = process.stderr.read().decode() if process.stderr else ""
    if status != 0:
        raise SystemExit(f"{case}: the build failed:\n{stderr}")
    manifest = json.loads((out / folder.name / "manifest.json").read_text(encoding="utf-8"))
    pages = "+".join(str(entry["pages"]) for entry in manifest["outputs"])
    kib = sum((folder / f"{lang}.yaml").stat().st_size for lang in ("sv", "fi")) / 1024
    cpu = usage.ru_utime + usage.ru_stime
    return Figures(case, kib, pages, seconds, cpu, usage.ru_maxrss / 1024)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--checkout", type=Path, default=PROJECT, help="whose code builds")
    parser.add_argument("--file-bytes", type=int, default=MAX_CONTENT_BYTES)
    parser.add_argument("--text-chars", type=int, default=MAX_TEXT_CHARS)
    parser.add_argument("--word-chars", type=int, help="[default: --text-chars]")
    args = parser.parse_args()
    chars: int = args.text_chars
    word = "x" * (args.word_chars or chars)
    long_words = " ".join([word] * max(1, (chars + 1) // (len(word) + 1)))
    cases: dict[str, Callable[[Path], None]] = {
        "example": lambda folder: None,
        f"paragraphs of {chars} chars": lambda folder: fill(
            folder, "background", lambda i: words(chars, i), args.file_bytes
        ),
        f"words of {len(word)} chars": lambda folder: fill(
            folder, "background", lambda i: long_words, args.file_bytes
        ),
        "bullets of 200 chars": lambda folder: fill(
            folder, "summary", lambda i: words(200, i), args.file_bytes
        ),
    }
    print(
        f"checkout {args.checkout}; language files up to {args.file_bytes} bytes, "
        f"text fields up to {chars} characters"
    )
    print(
        f"{'case':<28} {'KiB sv+fi':>9} {'pages':>9} {'wall s':>7} {'CPU s':>6} {'MB':>6}"
        "  CPU, memory vs example"
    )
    baseline: Figures | None = None
    with tempfile.TemporaryDirectory() as tmp:
        for number, (case, make) in enumerate(cases.items()):
            folder = Path(tmp) / str(number) / EXAMPLE.name
            shutil.copytree(EXAMPLE, folder)
            make(folder)
            figures = build(folder, args.checkout.resolve(), case)
            baseline = baseline or figures
            print(
                f"{case:<28} {figures.kib:>9.0f} {figures.pages:>9} {figures.seconds:>7.1f} "
                f"{figures.cpu:>6.1f} {figures.mb:>6.0f}  {figures.cpu / baseline.cpu:4.1f}x "
                f"{figures.mb / baseline.mb:4.1f}x",
                flush=True,
            )


if __name__ == "__main__":
    main()
