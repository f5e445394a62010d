"""The in-memory limiter's windows on a controlled clock: a call must fit the minute and the UTC day,
a refusal by one window is not counted in the other, and real usage corrects both."""

from __future__ import annotations

from types import SimpleNamespace

import pytest

from anygate.auth import limits
from anygate.auth.keys import DAY_SECONDS, WINDOW_SECONDS, KeyRecord
from anygate.auth.limits import MemoryLimiter, refusal

DAY_START = 20_000 * 86400.0  # a UTC midnight


def _key(**caps: int) -> KeyRecord:
    return KeyRecord("k", "n", "ag-x", None, caps.pop("rpm", None), caps.pop("tpm", None), None, None, 0.0, None, **caps)


@pytest.fixture
def clock(monkeypatch: pytest.MonkeyPatch) -> list[float]:
    now = [DAY_START + 100.0]
    monkeypatch.setattr(limits, "time", SimpleNamespace(time=lambda: now[0]))
    return now


async def test_a_call_must_fit_the_minute_and_the_day(clock: list[float]) -> None:
    limiter, key = MemoryLimiter(), _key(rpm=2, rpd=3)
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


async def test_a_day_refusal_leaves_the_minute_untouched(clock: list[float]) -> None:
    limiter, key = MemoryLimiter(), _key(rpm=3, tpd=100)
    assert (await limiter.check(key, 60)).allowed
    assert (await limiter.check(key, 50)).seconds == DAY_SECONDS  # refused: 110 tokens in the day
    assert [(await limiter.check(key, 10)).allowed for _ in range(2)] == [True, True]
    minute = await limiter.check(key, 1)
    assert not minute.allowed and minute.seconds == WINDOW_SECONDS and minute.requests == 3


async def test_real_usage_corrects_the_daily_tokens(clock: list[float]) -> None:
    limiter, key = MemoryLimiter(), _key(tpm=10_000, tpd=100)
    assert (await limiter.check(key, 60)).allowed
    limiter.correct(key, 30)  # the answer made it 90
    refused = await limiter.check(key, 20)
    assert not refused.allowed and refused.seconds == DAY_SECONDS and refused.tokens == 90
    limiter.correct(key, -50)
    assert (await limiter.check(key, 20)).allowed
