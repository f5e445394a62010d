"""Metrics across `--workers`: each worker writes a snapshot of its counts to a folder the parent
made (every second, and just before it answers a scrape), and a scrape adds up every worker's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from anygate.metrics import Metrics, add_up, snapshot

SHARE_SECONDS = 1.0


def write_whole(path: Path, value: Any) -> None:
    """`value` as JSON in `path`, atomically: a reader sees the old file or the new one, never half."""
    partial = path.with_name(path.name + ".partial")
    partial.write_bytes(orjson.dumps(value))
    partial.replace(path)


def read_every(folder: Path, pattern: str) -> list[Any]:
    """The JSON of each worker's file in `folder` that matches `pattern`; one that cannot be read is
    left out (a worker's file being replaced: the next read has it)."""
    found: list[Any] = []
    for path in folder.glob(pattern):
        try:
            found.append(orjson.loads(path.read_bytes()))
        except (OSError, orjson.JSONDecodeError):
            continue
    return found


class SharedMetrics:
    """This worker's snapshot file in the shared folder, and the sum of all of them."""

    def __init__(self, folder: str, metrics: Metrics) -> None:
        self._folder = Path(folder)
        self._metrics = metrics
        self._mine = self._folder / f"{os.getpid()}.json"

    async def write(self) -> None:
        """Write this worker's snapshot (atomically: a reader never sees half of it)."""
        write_whole(self._mine, snapshot(self._metrics))

    async def total(self) -> Metrics:
        """Every worker's counts added up, this worker's as of now."""
        await self.write()
        return add_up(read_every(self._folder, "*.json"))
