"""The latest calls that ended before any upstream was asked (bad input, a refused key, a forbidden or
unknown model, a limit, a budget): they leave no usage record, so each worker keeps the newest KEPT in
memory for the dashboard and the admin API. Never written to the database: a flood of refusals must
cost the gateway nothing but this bounded list. With `--workers` each worker shares its list through
the folder the parent made, as it does its metrics."""

from __future__ import annotations

import os
from collections import deque
from pathlib import Path
from typing import Any

from anygate.metrics_share import read_every, write_whole

KEPT = 1000  # refusals kept per worker


class Refusals:
    """This worker's latest refusals, and every worker's when they share a folder."""

    def __init__(self, folder: str | None = None) -> None:
        self._kept: deque[dict[str, Any]] = deque(maxlen=KEPT)
        self._added = 0
        self._shared = 0  # how many had been added when the list was last written for the other workers
        self._folder = Path(folder) if folder else None
        self._mine = self._folder / f"{os.getpid()}.refused" if self._folder else None

    def add(self, refusal: dict[str, Any]) -> None:
        """Keep one refusal (the oldest kept goes when there are KEPT)."""
        self._kept.append(refusal)
        self._added += 1

    async def write(self) -> None:
        """Write this worker's list for the others, when it changed (atomically)."""
        if self._mine is None or self._added == self._shared:
            return
        self._shared = self._added
        write_whole(self._mine, list(self._kept))

    async def latest(self) -> list[dict[str, Any]]:
        """Every worker's kept refusals (this one's as of now), in no particular order."""
        if self._folder is None:
            return list(self._kept)
        await self.write()
        return [refusal for kept in read_every(self._folder, "*.refused") for refusal in kept]
