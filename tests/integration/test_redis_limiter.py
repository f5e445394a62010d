"""The Redis limiter's leases, against the real Redis: two limiters are two gateway instances."""

from __future__ import annotations

import asyncio
import secrets
import socket
import time

import pytest
import redis

from anygate.auth.keys import DAY_SECONDS, WINDOW_SECONDS, KeyRecord
from anygate.auth.limits import CORRECTION_DELAY_SECONDS, LEASE_SHARE, RedisLimiter
from anygate.core.errors import GatewayError


def _key(rpm: int | None = None, tpm: int | None = None, rpd: int | None = None, concurrency: int | None = None) -> KeyRecord:
    return KeyRecord(secrets.token_hex(8), "t", "ag-x", None, rpm, tpm, None, None, time.time(), None, concurrency, rpd=rpd)


def _limiter(redis_url: str) -> RedisLimiter:
    """An instance that waits for Redis: on a loaded CI machine a round trip can pass the production
    quarter second, and a check let through unchecked would be counted as the limiter's mistake."""
    return RedisLimiter(redis_url, timeout=10)


async def _wait_for_a_fresh_window() -> None:
    """Keep a test's calls inside one minute window."""
    if WINDOW_SECONDS - time.time() % WINDOW_SECONDS < 5:
        await asyncio.sleep(6)


async def test_two_instances_never_let_more_than_the_limit_through(redis_url: str) -> None:
    await _wait_for_a_fresh_window()
    first, second = _limiter(redis_url), _limiter(redis_url)
    key = _key(rpm=1000)
    try:
        windows = [await limiter.check(key, 0) for _ in range(550) for limiter in (first, second)]
    finally:
        await first.close()
        await second.close()
    allowed = sum(w.allowed for w in windows)
    share = 1000 // LEASE_SHARE
    assert 1000 - share <= allowed <= 1000, "at most one share sits unused in the other instance's lease"
    refused = next(w for w in windows if not w.allowed)
    assert refused.requests >= 1000 - share and 0 < refused.reset_seconds <= WINDOW_SECONDS


async def test_most_checks_need_no_round_trip(redis_url: str) -> None:
    await _wait_for_a_fresh_window()
    limiter = _limiter(redis_url)
    key = _key(rpm=10_000, tpm=10_000_000)
    try:
        for _ in range(200):
            assert (await limiter.check(key, 50)).allowed
    finally:
        await limiter.close()
    window = int(time.time() // WINDOW_SECONDS)
    counted = redis.Redis.from_url(redis_url).get(f"anygate:limit:{key.id}:{window}:requests")
    assert counted is not None and int(counted) == 200, "two leases of a hundred requests each, not 200 round trips"


async def test_tokens_owed_beyond_the_lease_reach_the_other_instances(redis_url: str) -> None:
    await _wait_for_a_fresh_window()
    first, second = _limiter(redis_url), _limiter(redis_url)
    key = _key(tpm=10_000)
    try:
        assert (await first.check(key, 100)).allowed  # leases 100 tokens (a hundredth of the limit)
        first.correct(key, 9_950)  # the answer was long: the lease cannot cover it
        await asyncio.sleep(CORRECTION_DELAY_SECONDS * 3)
        refused = await second.check(key, 100)
        assert not refused.allowed and refused.tokens == 10_050
        first.correct(key, -9_000)  # given back to the first instance's lease, not to the window
        assert (await first.check(key, 5_000)).allowed
    finally:
        await first.close()
        await second.close()


async def test_a_daily_cap_holds_across_instances_and_its_refusals_spare_the_minute(redis_url: str) -> None:
    await _wait_for_a_fresh_window()
    first, second = _limiter(redis_url), _limiter(redis_url)
    key = _key(rpm=1000, rpd=300)
    try:
        windows = [await limiter.check(key, 0) for _ in range(200) for limiter in (first, second)]
    finally:
        await first.close()
        await second.close()
    allowed = sum(w.allowed for w in windows)
    assert 300 - 300 // LEASE_SHARE <= allowed <= 300
    refused = next(w for w in windows if not w.allowed)
    assert refused.seconds == DAY_SECONDS and 0 < refused.reset_seconds <= DAY_SECONDS
    minute = int(time.time() // WINDOW_SECONDS)
    leased = int(redis.Redis.from_url(redis_url).get(f"anygate:limit:{key.id}:{minute}:requests") or 0)
    assert allowed <= leased <= allowed + 2 * (1000 // LEASE_SHARE), "the day's 100 refusals took nothing of the minute"


@pytest.mark.parametrize("deny", [False, True])
async def test_a_redis_that_does_not_answer_is_logged_once_and_allowed_or_denied(
    caplog: pytest.LogCaptureFixture, deny: bool
) -> None:
    with socket.socket() as silent:  # accepts connections into its backlog, never answers
        silent.bind(("127.0.0.1", 0))
        silent.listen(8)
        limiter = RedisLimiter(f"redis://127.0.0.1:{silent.getsockname()[1]}", timeout=0.2, deny_on_error=deny)
        key = _key(rpm=1, concurrency=1)
        outcomes: list[object] = []
        try:
            assert await limiter.problem() is not None
            for check in (lambda: limiter.check(key, 0), lambda: limiter.check(key, 0), lambda: limiter.acquire(key)):
                try:
                    outcomes.append(await check())
                except GatewayError as err:
                    outcomes.append(err)
        finally:
            await limiter.close()
    errors = [r for r in caplog.records if "Redis did not answer" in r.getMessage()]
    assert len(errors) == 1 and errors[0].levelname == "ERROR", "one loud line per outage, not one per call"
    if deny:
        assert all(isinstance(o, GatewayError) and o.status == 503 and o.headers["Retry-After"] == "1" for o in outcomes)
        assert "limits.on_redis_error: deny" in errors[0].getMessage()
    else:
        assert [getattr(o, "allowed", None) for o in outcomes[:2]] == [True, True] and outcomes[2] == 0
        assert "go through unchecked" in errors[0].getMessage()


async def test_a_redis_that_answers_has_no_problem(redis_url: str) -> None:
    limiter = _limiter(redis_url)
    try:
        assert await limiter.problem() is None
    finally:
        await limiter.close()
