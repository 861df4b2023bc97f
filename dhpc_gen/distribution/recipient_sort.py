"""Sorting more recipients than should be held in memory: sorted runs on disk, merged.

Records are kept in memory up to ``run_size``, then each group's records are sorted and
written to a run file (pickled, owner-readable only, in a folder the caller removes).
Reading a group merges its runs lazily, so memory holds one run's worth of records at
most, however long the mailing list.
"""

from __future__ import annotations

import heapq
import os
import pickle
from collections.abc import Iterator
from pathlib import Path
from typing import Any, BinaryIO

SortKey = tuple[str, ...]
Record = tuple[Any, ...]


class SortedRuns:
    """Groups of ``(key, record)`` pairs, read back per group in key order."""

    def __init__(self, directory: Path, run_size: int = 4_000) -> None:
        self._directory = directory
        self._run_size = run_size
        self._buffer: dict[str, list[tuple[SortKey, Record]]] = {}
        self._buffered = 0
        self._runs: dict[str, list[Path]] = {}
        self._counts: dict[str, int] = {}

    def add(self, group: str, key: SortKey, record: Record) -> None:
        self._buffer.setdefault(group, []).append((key, record))
        self._counts[group] = self._counts.get(group, 0) + 1
        self._buffered += 1
        if self._buffered >= self._run_size:
            self._spill()

    def groups(self) -> list[str]:
        return sorted(self._counts)

    def count(self, group: str) -> int:
        return self._counts.get(group, 0)

    def _spill(self) -> None:
        for group, pairs in self._buffer.items():
            pairs.sort(key=lambda pair: pair[0])
            runs = self._runs.setdefault(group, [])
            path = self._directory / f"run-{group}-{len(runs)}.pickle"
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
            with os.fdopen(fd, "wb") as handle:
                for pair in pairs:
                    pickle.dump(pair, handle, protocol=pickle.HIGHEST_PROTOCOL)
            runs.append(path)
        self._buffer = {}
        self._buffered = 0

    def read(self, group: str) -> Iterator[Record]:
        """The records of ``group`` in key order."""
        in_memory = sorted(self._buffer.get(group, []), key=lambda pair: pair[0])
        handles = [path.open("rb") for path in self._runs.get(group, [])]
        try:
            streams = [_pairs(handle) for handle in handles]
            for _key, record in heapq.merge(iter(in_memory), *streams, key=lambda pair: pair[0]):
                yield record
        finally:
            for handle in handles:
                handle.close()


def _pairs(handle: BinaryIO) -> Iterator[tuple[SortKey, Record]]:
    while True:
        try:
            pair: tuple[SortKey, Record] = pickle.load(handle)
        except EOFError:
            return
        yield pair
