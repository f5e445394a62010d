"""Running one coroutine every few seconds in the background, surviving its failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls `work` every `seconds` until stopped; a failure is logged and retried next time."""

    def __init__(self, work: Callable[[], Awaitable[None]], seconds: float, what: str) -> None:
        self._work = work
        self._seconds = seconds
        self._what = what
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start in the background."""
        self._task = asyncio.create_task(self._run())

    async def stop(self) -> None:
        """Stop, waiting for the task to end."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            await asyncio.sleep(self._seconds)
            try:
                await self._work()
            except Exception:  # a database hiccup must not stop the loop
                log.warning("%s failed; will retry", self._what, exc_info=True)
