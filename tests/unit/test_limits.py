"""The limiters' windows on a controlled clock: a call must fit the minute and the UTC day, a refusal
by one window is not counted in the other, and real usage corrects both. Each test runs with the
in-memory limiter of one process and with two workers' limiters on one shared table, called in turn;
then the table's own cases: calls in flight across workers and a worker that dies, a full table."""

from __future__ import annotations

import itertools
import logging
import multiprocessing
import subprocess
import sys
import time
from collections.abc import Callable, Iterator
from pathlib import Path
from types import SimpleNamespace

import pytest

from anygate.auth import limits, worker_limits
from anygate.auth.keys import DAY_SECONDS, WINDOW_SECONDS, KeyRecord
from anygate.auth.limits import Limiter, MemoryLimiter, Window, refusal
from anygate.auth.worker_limits import WorkerLimiter

DAY_START = 20_000 * 86400.0  # a UTC midnight


def _key(**caps: int) -> KeyRecord:
    return KeyRecord("k", "n", "ag-x", None, caps.pop("rpm", None), caps.pop("tpm", None), None, None, 0.0, None, **caps)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [DAY_START + 100.0]
    for module in (limits, worker_limits):
        monkeypatch.setattr(module, "time", SimpleNamespace(time=lambda: now[0], monotonic=time.monotonic))
    return now


class Workers:
    """Several workers' limiters on one table, each call made by the next of them in turn."""

    def __init__(self, limiters: list[WorkerLimiter]) -> None:
        self.limiters = limiters
        self._turn = itertools.cycle(limiters)

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        return await next(self._turn).check(key, tokens)

    def correct(self, key: KeyRecord, tokens: int) -> None:
        next(self._turn).correct(key, tokens)


@pytest.fixture(params=["memory", "workers"])
def make_limiter(request: pytest.FixtureRequest, tmp_path: Path) -> Iterator[Callable[[], Limiter | Workers]]:
    """A new limiter: one process's, or two workers' sharing a table."""
    made: list[WorkerLimiter] = []

    def make() -> Limiter | Workers:
        if request.param == "memory":
            return MemoryLimiter()
        folder = tmp_path / f"instance-{len(made)}"
        folder.mkdir()
        pair = [WorkerLimiter(str(folder)), WorkerLimiter(str(folder))]
        made.extend(pair)
        return Workers(pair)

    yield make
    for limiter in made:
        limiter._table.close()


async def test_a_call_must_fit_the_minute_and_the_day(clock: list[float], make_limiter: Callable[[], Limiter]) -> None:
    limiter, key = make_limiter(), _key(rpm=2, rpd=3)
    assert [(await limiter.check(key, 0)).allowed for _ in range(3)] == [True, True, False]
    minute = await limiter.check(key, 0)
    assert minute.seconds == WINDOW_SECONDS and minute.reset_seconds == WINDOW_SECONDS - 100 % WINDOW_SECONDS
    clock[0] += WINDOW_SECONDS
    assert (await limiter.check(key, 0)).allowed, "the minute's refusals were not counted in the day"
    day = await limiter.check(key, 0)
    assert not day.allowed and day.seconds == DAY_SECONDS and day.requests == 3
    assert day.reset_seconds == DAY_SECONDS - 100 - WINDOW_SECONDS
    error = refusal(key, day)
    assert "3 requests per day" in error.message and error.headers["x-ratelimit-limit-requests"] == "3"
    clock[0] = DAY_START + DAY_SECONDS + 1
    assert (await limiter.check(key, 0)).allowed, "a new UTC day"


async def test_a_day_refusal_leaves_the_minute_untouched(clock: list[float], make_limiter: Callable[[], Limiter]) -> None:
    limiter, key = make_limiter(), _key(rpm=3, tpd=100)
    assert (await limiter.check(key, 60)).allowed
    assert (await limiter.check(key, 50)).seconds == DAY_SECONDS  # refused: 110 tokens in the day
    assert [(await limiter.check(key, 10)).allowed for _ in range(2)] == [True, True]
    minute = await limiter.check(key, 1)
    assert not minute.allowed and minute.seconds == WINDOW_SECONDS and minute.requests == 3


async def test_real_usage_corrects_the_daily_tokens(clock: list[float], make_limiter: Callable[[], Limiter]) -> None:
    limiter, key = make_limiter(), _key(tpm=10_000, tpd=100)
    assert (await limiter.check(key, 60)).allowed
    limiter.correct(key, 30)  # the answer made it 90
    refused = await limiter.check(key, 20)
    assert not refused.allowed and refused.seconds == DAY_SECONDS and refused.tokens == 90
    limiter.correct(key, -50)
    assert (await limiter.check(key, 20)).allowed


async def test_keys_are_counted_apart_and_a_new_minute_starts_afresh(
    clock: list[float], make_limiter: Callable[[], Limiter]
) -> None:
    limiter, first, second = (
        make_limiter(),
        _key(rpm=2, tpm=100),
        KeyRecord("k2", "n", "ag-y", None, 2, None, None, None, 0.0, None),
    )
    assert [(await limiter.check(first, 40)).allowed for _ in range(3)] == [True, True, False]
    assert [(await limiter.check(second, 0)).allowed for _ in range(3)] == [True, True, False]
    clock[0] += WINDOW_SECONDS
    window = await limiter.check(first, 90)
    assert window.allowed and (window.requests, window.tokens) == (1, 90)
    assert not (await limiter.check(first, 20)).allowed, "110 tokens"
    limiter.correct(first, -50)
    assert (await limiter.check(first, 20)).tokens == 60


async def test_many_keys_keep_their_own_counts_in_both_tables(tmp_path: Path, clock: list[float]) -> None:
    first, second = WorkerLimiter(str(tmp_path)), WorkerLimiter(str(tmp_path))
    keys = [KeyRecord(f"key-{i}", "n", "ag-x", None, 1, None, None, None, 0.0, None, 1, rpd=5) for i in range(300)]
    for key in keys:
        assert (await first.check(key, 0)).allowed and await first.acquire(key) == 1
    for key in keys:
        assert not (await second.check(key, 0)).allowed and await second.acquire(key) is None, key.id
        first.release(key.id)
    assert [await second.acquire(key) for key in keys] == [1] * 300
    assert WorkerLimiter(str(tmp_path)).worker == 2, "the workers' places are untouched"


def _take_slots_and_die(folder: str, count: int, cap: int) -> None:
    """A worker that takes `count` slots of key k and dies without giving them back."""
    import asyncio
    import os

    limiter = WorkerLimiter(folder)

    async def take() -> None:
        for _ in range(count):
            assert await limiter.acquire(_key(max_concurrency=cap)) is not None

    asyncio.run(take())
    os._exit(0)


def _die_holding(folder: Path, count: int, cap: int) -> None:
    worker = multiprocessing.get_context("spawn").Process(target=_take_slots_and_die, args=(str(folder), count, cap))
    worker.start()
    worker.join(30)
    assert worker.exitcode == 0


async def test_calls_in_flight_are_counted_across_workers_and_a_dead_workers_come_back(tmp_path: Path) -> None:
    first, second = WorkerLimiter(str(tmp_path)), WorkerLimiter(str(tmp_path))
    key = _key(max_concurrency=3)
    assert (first.worker, second.worker) == (0, 1)
    assert [await first.acquire(key), await second.acquire(key), await first.acquire(key)] == [1, 2, 3]
    assert await second.acquire(key) is None and await first.acquire(key) is None
    first.release("k")
    assert await second.acquire(key) == 3, "a slot the other worker gave back"
    second.release("k")
    second.release("k")
    second.release("k")  # one more than it holds: nothing changes
    assert await second.acquire(key) == 2 and await second.acquire(key) == 3
    for limiter in (first, second, second):  # what each holds
        limiter.release("k")
    assert await first.acquire(_key(rpm=5)) == 0, "a key without a concurrency cap takes no slot"
    _die_holding(tmp_path, 3, 3)
    assert await first.acquire(key) == 1, "the dead worker's three slots were dropped when they were needed"
    assert [await first.acquire(key), await first.acquire(key), await second.acquire(key)] == [2, 3, None], "once"
    for _ in range(3):
        first.release("k")
    _die_holding(tmp_path, 3, 5)  # in the place the first dead worker had
    third = WorkerLimiter(str(tmp_path))
    assert third.worker == 2, "the dead worker's place is taken again"
    assert await third.acquire(_key(max_concurrency=5)) == 1, "and the slots it held are dropped with it"
    await third.close()
    assert WorkerLimiter(str(tmp_path)).worker == 2, "and given up at close"


def test_a_live_process_is_alive_and_left_alone_and_a_gone_one_is_not() -> None:
    child = subprocess.Popen([sys.executable, "-c", "import time; time.sleep(30)"])
    try:
        assert worker_limits._alive(child.pid) and child.poll() is None
        time.sleep(0.2)
        assert child.poll() is None, "asking sent it no signal"
    finally:
        child.kill()
        child.wait()
    assert not worker_limits._alive(child.pid)


async def test_a_full_table_lets_calls_through_and_says_so(
    tmp_path: Path, clock: list[float], monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture
) -> None:
    monkeypatch.setattr(worker_limits, "WINDOW_SLOTS", 1)
    monkeypatch.setattr(worker_limits, "FLIGHT_SLOTS", 1)
    monkeypatch.setattr(worker_limits, "PROBES", 1)
    limiter = WorkerLimiter(str(tmp_path))
    first, second = _key(rpm=1, max_concurrency=1), KeyRecord("k2", "n", "ag-y", None, 1, None, None, None, 0.0, None, 1)
    assert [(await limiter.check(first, 0)).allowed for _ in range(2)] == [True, False]
    with caplog.at_level(logging.ERROR):
        assert [await limiter.check(second, 0) for _ in range(2)] == [Window(True, 0, 0, 0.0)] * 2
    assert "table is full" in caplog.text
    assert await limiter.acquire(first) == 1 and await limiter.acquire(second) == 0
    clock[0] += WINDOW_SECONDS  # the first key's minute has passed: its slot is free for another
    assert [(await limiter.check(second, 0)).allowed for _ in range(2)] == [True, False]
