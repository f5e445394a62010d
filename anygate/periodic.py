"""Running one coroutine in the background every few seconds, or sooner when it is due, surviving
its failures."""

from __future__ import annotations

import asyncio
import contextlib
import logging
import time
from collections.abc import Awaitable, Callable

log = logging.getLogger(__name__)


class Periodic:
    """Calls `work` every `seconds` until stopped, and sooner when `due` asks for it, though never
    more often than every `tick` seconds; a failure is logged and retried next time."""

    def __init__(self, work: Callable[[], Awaitable[object]], seconds: float, what: str, tick: float = 0.0) -> None:
        self._work = work
        self._seconds = seconds
        self._what = what
        self._tick = tick
        self._next = float("inf")
        self._woken = asyncio.Event()
        self._task: asyncio.Task[None] | None = None

    def start(self) -> None:
        """Start in the background; the first run is `seconds` from now, or when `due` says."""
        self._next = min(self._next, time.time() + self._seconds)
        self._task = asyncio.create_task(self._run())

    def due(self, at: float) -> None:
        """Ask for a run at time `at` (a time.time() value), or as soon after it as the tick allows."""
        if at < self._next:
            self._next = at
            self._woken.set()

    async def stop(self) -> None:
        """Stop, waiting for the task to end."""
        if self._task:
            self._task.cancel()
            with contextlib.suppress(asyncio.CancelledError):
                await self._task

    async def _run(self) -> None:
        while True:
            wait = self._next - time.time()
            if wait > 0:
                self._woken.clear()
                with contextlib.suppress(TimeoutError):
                    await asyncio.wait_for(self._woken.wait(), wait)
                continue
            self._next = time.time() + self._seconds
            try:
                await self._work()
            except Exception:  # a database hiccup must not stop the loop
                log.warning("%s failed; will retry", self._what, exc_info=True)
            if self._tick:
                await asyncio.sleep(self._tick)
