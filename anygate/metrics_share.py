"""Metrics across `--workers`: each worker writes a snapshot of its counts to a folder the parent
made (every second, and just before it answers a scrape), and a scrape adds up every worker's."""

from __future__ import annotations

import os
from pathlib import Path
from typing import Any

import orjson

from anygate.metrics import Metrics, add_up, snapshot

SHARE_SECONDS = 1.0


class SharedMetrics:
    """This worker's snapshot file in the shared folder, and the sum of all of them."""

    def __init__(self, folder: str, metrics: Metrics) -> None:
        self._folder = Path(folder)
        self._metrics = metrics
        self._mine = self._folder / f"{os.getpid()}.json"

    async def write(self) -> None:
        """Write this worker's snapshot (atomically: a reader never sees half of it)."""
        partial = self._mine.with_suffix(".tmp")
        partial.write_bytes(orjson.dumps(snapshot(self._metrics)))
        partial.replace(self._mine)

    async def total(self) -> Metrics:
        """Every worker's counts added up, this worker's as of now."""
        await self.write()
        snapshots: list[dict[str, Any]] = []
        for path in self._folder.glob("*.json"):
            try:
                snapshots.append(orjson.loads(path.read_bytes()))
            except (OSError, orjson.JSONDecodeError):
                continue  # a worker's file being replaced: its next scrape will count it
        return add_up(snapshots)
