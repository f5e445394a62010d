"""Background work runs on its interval, sooner when it is due, never faster than its tick, and
survives its own failures."""

from __future__ import annotations

import asyncio
import time

from anygate.periodic import Periodic


class _Runs:
    def __init__(self, fail_first: bool = False) -> None:
        self.times: list[float] = []
        self._fail_first = fail_first

    async def __call__(self) -> None:
        self.times.append(time.time())
        if self._fail_first and len(self.times) == 1:
            raise RuntimeError("the database went away")


async def test_idle_work_waits_for_its_interval_and_runs_early_when_due() -> None:
    runs = _Runs()
    periodic = Periodic(runs, 30.0, "test work", tick=0.05)
    periodic.start()
    await asyncio.sleep(0.2)
    assert runs.times == []  # nothing announced: the first run is an interval away
    asked = time.time() + 0.15
    periodic.due(asked)
    await asyncio.sleep(0.4)
    assert len(runs.times) == 1 and runs.times[0] >= asked
    periodic.due(0.0)  # due at once: runs at once
    await asyncio.sleep(0.01)
    assert len(runs.times) == 2
    periodic.due(0.0)  # due again at once: the tick holds it back a little
    await asyncio.sleep(0.01)
    assert len(runs.times) == 2
    await asyncio.sleep(0.1)
    assert len(runs.times) == 3 and runs.times[2] - runs.times[1] >= 0.05
    await periodic.stop()


async def test_a_failing_run_is_retried_at_the_next_interval() -> None:
    runs = _Runs(fail_first=True)
    periodic = Periodic(runs, 0.1, "test work")
    periodic.start()
    await asyncio.sleep(0.35)
    await periodic.stop()
    assert len(runs.times) >= 2  # the failure was logged, and the loop went on
