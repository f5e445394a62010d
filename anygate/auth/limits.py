"""Per-key request and token limits per minute and per day: in memory in one process, in a file the
workers of one instance share (`worker_limits`), in Redis across several instances.

Windows are whole minutes and whole UTC days; a call must fit in both. Tokens are counted up front
from an estimate of the prompt and corrected by the real usage once the answer is in. A refusal
carries what the client needs to wait well: `Retry-After` and the `x-ratelimit-*` headers of the
window that refused.
"""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from typing import Any, Protocol

from anygate.auth.keys import DAY_SECONDS, WINDOW_SECONDS, KeyRecord
from anygate.core.errors import ErrorKind, GatewayError

log = logging.getLogger(__name__)
PERIOD_NAMES = {WINDOW_SECONDS: "minute", DAY_SECONDS: "day"}


@dataclass(slots=True)
class Window:
    """A key's counts in a window after a check: the one that refused, else the minute's (or the day's
    when the key has only daily caps)."""

    allowed: bool
    requests: int
    tokens: int
    reset_seconds: float
    seconds: int = WINDOW_SECONDS  # the window's length


def counts_tokens(key: KeyRecord) -> bool:
    """True when the key caps tokens in some window, so calls must be estimated and corrected."""
    return key.tpm is not None or key.tpd is not None


class Limiter(Protocol):
    """Counts requests and tokens per key and window."""

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        """Count one request of about `tokens` tokens, unless it would pass a limit."""
        ...

    def correct(self, key: KeyRecord, tokens: int) -> None:
        """Add `tokens` (negative to give back) to the key's counts in its current windows."""
        ...

    async def acquire(self, key: KeyRecord) -> int | None:
        """Take one of the key's slots for a request in flight; None when all are taken, else the count."""
        ...

    def release(self, key_id: str) -> None:
        """Give a slot back."""
        ...

    async def close(self) -> None:
        """Finish pending work and let go of connections."""
        ...


def _window(seconds: int, now: float) -> tuple[int, float]:
    """The number of the window of this length that `now` is in, and the seconds until it ends."""
    return int(now // seconds), seconds - now % seconds


def take(key: KeyRecord, tokens: int, now: float, counts_of: Callable[[int, int], list[int]]) -> Window:
    """Count one request of about `tokens` tokens in each of the key's windows, unless one of them has
    no room for it. `counts_of(seconds, number)` gives the counts of the key's windows of that length
    ([window number, requests, tokens], changed in place; those of an earlier window start again)."""
    fits: list[list[int]] = []
    first = (0.0, WINDOW_SECONDS)  # reset and length of the first window
    for seconds, requests_cap, tokens_cap in key.caps:
        number, reset = _window(seconds, now)
        counts = counts_of(seconds, number)
        if counts[0] != number:
            counts[:] = [number, 0, 0]
        over_requests = requests_cap is not None and counts[1] + 1 > requests_cap
        over_tokens = tokens_cap is not None and counts[2] + tokens > tokens_cap and counts[2] > 0
        if over_requests or over_tokens:
            return Window(False, counts[1], counts[2], reset, seconds)
        if not fits:
            first = (reset, seconds)
        fits.append(counts)
    for counts in fits:  # counted only once every window has room
        counts[1] += 1
        counts[2] += tokens
    return Window(True, fits[0][1], fits[0][2], *first) if fits else Window(True, 0, 0, 0.0)


def taken_back(counts: list[int], seconds: int, now: float, tokens: int) -> bool:
    """Add `tokens` (negative to give back, never below none) to a window's counts when it is the
    current one; whether it was."""
    if counts[0] != _window(seconds, now)[0]:
        return False
    counts[2] = max(counts[2] + tokens, 0)
    return True


class MemoryLimiter:
    """Limits for one process."""

    def __init__(self) -> None:
        self._counts: dict[tuple[str, int], list[int]] = {}  # (key id, window seconds) -> [window, requests, tokens]
        self._in_flight: dict[str, int] = {}

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        counts = self._counts
        return take(key, tokens, time.time(), lambda seconds, _: counts.setdefault((key.id, seconds), [0, 0, 0]))

    def correct(self, key: KeyRecord, tokens: int) -> None:
        now = time.time()
        for seconds, _, tokens_cap in key.caps:
            counts = self._counts.get((key.id, seconds))
            if tokens_cap is not None and counts is not None:
                taken_back(counts, seconds, now, tokens)

    async def acquire(self, key: KeyRecord) -> int | None:
        taken = self._in_flight.get(key.id, 0)
        if key.max_concurrency is not None and taken >= key.max_concurrency:
            return None
        self._in_flight[key.id] = taken + 1
        return taken + 1

    def release(self, key_id: str) -> None:
        left = self._in_flight.get(key_id, 0) - 1
        if left > 0:
            self._in_flight[key_id] = left
        else:
            self._in_flight.pop(key_id, None)

    async def close(self) -> None:
        """Nothing to close: the counts live in this process."""


# One round trip grants an instance a lease: up to ARGV[3] requests and ARGV[4] tokens of the window,
# at least ARGV[5] tokens (the call at hand), or nothing when the window cannot cover the call.
# A window's first call may take more tokens than the limit, so one long prompt is not refused forever.
_LEASE = """
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local tokens = tonumber(redis.call('GET', KEYS[2]) or '0')
local rpm, tpm = tonumber(ARGV[1]), tonumber(ARGV[2])
local want_requests, want_tokens, need_tokens = tonumber(ARGV[3]), tonumber(ARGV[4]), tonumber(ARGV[5])
local got_requests, got_tokens = 0, 0
if want_requests > 0 then
  if requests + 1 > rpm then return {0, requests, tokens, 0, 0} end
  got_requests = math.min(want_requests, rpm - requests)
end
if want_tokens > 0 then
  if tokens > 0 and tokens + need_tokens > tpm then return {0, requests, tokens, 0, 0} end
  got_tokens = math.max(math.min(want_tokens, tpm - tokens), need_tokens)
end
requests = redis.call('INCRBY', KEYS[1], got_requests)
tokens = redis.call('INCRBY', KEYS[2], got_tokens)
redis.call('EXPIRE', KEYS[1], ARGV[6])
redis.call('EXPIRE', KEYS[2], ARGV[6])
return {1, requests, tokens, got_requests, got_tokens}
"""
LEASE_SHARE = 100  # an instance leases a hundredth of a limit at a time (at least one request, or the call's tokens)
REDIS_TIMEOUT_SECONDS = 0.25
# Slots in flight: taken only when one is free. The key expires if no instance touches it for a while,
# so slots held by an instance that died come back.
_ACQUIRE = """
local taken = tonumber(redis.call('GET', KEYS[1]) or '0')
if taken >= tonumber(ARGV[1]) then return -1 end
taken = redis.call('INCR', KEYS[1])
redis.call('EXPIRE', KEYS[1], ARGV[2])
return taken
"""
IN_FLIGHT_TTL_SECONDS = 600
CORRECTION_DELAY_SECONDS = 0.1
WARN_EVERY_SECONDS = 10.0  # while Redis does not answer, how often that is logged again


@dataclass(slots=True)
class _Lease:
    """What this instance may still spend of a key's window without asking Redis, and the window's
    totals as Redis last told them (leases of every instance included)."""

    window: int
    requests: int = 0
    tokens: int = 0
    seen_requests: int = 0
    seen_tokens: int = 0


class RedisLimiter:
    """Limits shared by every instance on one Redis. Each instance leases a small share of a window at
    a time and counts it down locally, so most calls make no round trip; the price is that, near the
    limit, up to one share per other instance may sit unused in leases (never more than the limit is let
    through). When Redis does not answer in time the request is let through (and logged): an outage of
    the limiter must not become an outage of the gateway."""

    def __init__(self, url: str, timeout: float = REDIS_TIMEOUT_SECONDS, deny_on_error: bool = False) -> None:
        import redis.asyncio as redis
        from redis.asyncio.retry import Retry
        from redis.backoff import NoBackoff
        from redis.exceptions import ConnectionError as RedisConnectionError

        self._timeout = timeout
        self._deny = deny_on_error
        self._warned_at = -WARN_EVERY_SECONDS
        # a pooled connection that Redis closed (a restart) is replaced at once, once: without the retry
        # each dead connection in the pool let one call through unchecked after Redis was back; a
        # timeout is not retried (the check's time is bounded)
        self._redis: Any = redis.from_url(
            url,
            socket_timeout=timeout,
            socket_connect_timeout=timeout,
            retry=Retry(NoBackoff(), 1),
            retry_on_error=[RedisConnectionError],
        )
        self._lease = self._redis.register_script(_LEASE)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._pending: set[asyncio.Task[None]] = set()
        self._corrections: dict[str, tuple[int, int]] = {}  # Redis key -> (tokens owed, window seconds)
        self._leases: dict[tuple[str, int], _Lease] = {}  # (key id, window seconds) -> lease

    @staticmethod
    def _keys(key_id: str, seconds: int, window: int) -> list[str]:
        base = f"anygate:limit:{key_id}:{window}" if seconds == WINDOW_SECONDS else f"anygate:limit:{key_id}:day{window}"
        return [base + ":requests", base + ":tokens"]

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        now = time.time()
        fits: list[tuple[_Lease, int, float]] = []  # (lease, window seconds, seconds to its reset)
        for seconds, requests_cap, tokens_cap in key.caps:
            number, reset = _window(seconds, now)
            lease = self._leases.get((key.id, seconds))
            if lease is None or lease.window != number:
                lease = self._leases[(key.id, seconds)] = _Lease(number)
            short_of_requests = requests_cap is not None and lease.requests < 1
            short_of_tokens = tokens_cap is not None and lease.tokens < tokens
            if short_of_requests or short_of_tokens:
                want_requests = max(requests_cap // LEASE_SHARE, 1) if short_of_requests and requests_cap is not None else 0
                need_tokens = tokens - lease.tokens
                want_tokens = max(tokens_cap // LEASE_SHARE, need_tokens) if short_of_tokens and tokens_cap is not None else 0
                args = [requests_cap or 0, tokens_cap or 0, want_requests, want_tokens, need_tokens, seconds * 2]
                try:
                    granted, lease.seen_requests, lease.seen_tokens, got_requests, got_tokens = await asyncio.wait_for(
                        self._lease(keys=self._keys(key.id, seconds, number), args=args), self._timeout
                    )
                except Exception:  # Redis down or slow: fail open (or closed, when so configured), loudly
                    self._unanswered("rate limit check")
                    return Window(True, 0, 0, reset, seconds)
                if not granted:
                    return Window(False, lease.seen_requests - lease.requests, lease.seen_tokens - lease.tokens, reset, seconds)
                lease.requests += got_requests  # kept for the next calls even if another window refuses this one
                lease.tokens += got_tokens
            fits.append((lease, seconds, reset))
        for lease, _, _ in fits:  # taken only once every window has room
            lease.requests -= 1
            lease.tokens -= tokens
        if not fits:
            return Window(True, 0, 0, 0.0)
        lease, seconds, reset = fits[0]
        return Window(True, lease.seen_requests - lease.requests, lease.seen_tokens - lease.tokens, reset, seconds)

    def correct(self, key: KeyRecord, tokens: int) -> None:
        """Tokens given back return to this instance's leases; tokens owed come out of them, and what
        they cannot cover is added in Redis (gathered and sent a few times a second, in one pipeline)."""
        now = time.time()
        for seconds, _, tokens_cap in key.caps:
            if tokens_cap is None:
                continue
            number = _window(seconds, now)[0]
            owed = tokens
            lease = self._leases.get((key.id, seconds))
            if lease is not None and lease.window == number:
                covered = min(owed, lease.tokens) if owed > 0 else owed
                lease.tokens -= covered
                owed -= covered
            if owed <= 0:
                continue
            name = self._keys(key.id, seconds, number)[1]
            self._corrections[name] = (self._corrections.get(name, (0, seconds))[0] + owed, seconds)
            if len(self._corrections) == 1:
                self._later(self._send_corrections())

    async def _send_corrections(self) -> None:
        await asyncio.sleep(CORRECTION_DELAY_SECONDS)
        batch, self._corrections = self._corrections, {}
        pipe = self._redis.pipeline(transaction=False)
        for name, (tokens, seconds) in batch.items():
            pipe.incrby(name, tokens)
            pipe.expire(name, seconds * 2)  # a window no instance leased from yet must still expire
        await pipe.execute()

    async def acquire(self, key: KeyRecord) -> int | None:
        if key.max_concurrency is None:
            return 0
        try:
            taken = await asyncio.wait_for(
                self._acquire(keys=[f"anygate:inflight:{key.id}"], args=[key.max_concurrency, IN_FLIGHT_TTL_SECONDS]),
                self._timeout,
            )
        except Exception:
            self._unanswered("concurrency check")
            return 0
        return None if int(taken) < 0 else int(taken)

    def _unanswered(self, what: str) -> None:
        """Redis did not answer a check: the call goes through, or with `deny_on_error` is refused with a
        503; either way the first miss, and one every WARN_EVERY_SECONDS after, is logged as an error."""
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            outcome = (
                "calls are refused (limits.on_redis_error: deny)"
                if self._deny
                else "calls go through unchecked (limits.on_redis_error: allow)"
            )
            log.error("%s skipped: Redis did not answer; %s", what, outcome, exc_info=True)
        if self._deny:
            raise GatewayError(
                ErrorKind.UNAVAILABLE,
                "Rate limits cannot be checked right now; try again shortly",
                code="limiter_unavailable",
                headers={"Retry-After": "1"},
            )

    async def problem(self) -> str | None:
        """Why Redis cannot be used right now, or None when it answers."""
        try:
            await asyncio.wait_for(self._redis.ping(), self._timeout * 4)
        except Exception as exc:
            return f"{type(exc).__name__}: {exc}" if str(exc) else type(exc).__name__
        return None

    def release(self, key_id: str) -> None:
        self._later(self._redis.decr(f"anygate:inflight:{key_id}"))

    def _later(self, command: Any) -> None:
        """Run a Redis command in the background; a lost one is logged."""

        async def run() -> None:
            try:
                await asyncio.wait_for(command, self._timeout * 4)
            except Exception:
                log.warning("a rate limit update was lost: Redis did not answer", exc_info=True)

        task = asyncio.get_running_loop().create_task(run())
        self._pending.add(task)
        task.add_done_callback(self._pending.discard)

    async def close(self) -> None:
        """Send what is still queued, then close the connection pool."""
        if self._pending:
            await asyncio.gather(*self._pending, return_exceptions=True)
        await self._redis.aclose()


def too_many_in_flight(key: KeyRecord) -> GatewayError:
    """The 429 for a key with all its concurrent slots taken."""
    return GatewayError(
        ErrorKind.RATE_LIMIT,
        f"This API key already has {key.max_concurrency} requests in flight; retry when one finishes",
        code="concurrency_limit_exceeded",
        headers={"Retry-After": "1"},
    )


def refusal(key: KeyRecord, window: Window) -> GatewayError:
    """The 429 for a key over a limit, with Retry-After and the x-ratelimit-* headers of the window that refused."""
    requests_cap, tokens_cap = (key.rpm, key.tpm) if window.seconds == WINDOW_SECONDS else (key.rpd, key.tpd)
    reset = f"{max(window.reset_seconds, 0.001):.3f}s"
    headers = {"Retry-After": str(max(int(window.reset_seconds + 0.999), 1))}
    if requests_cap is not None:
        headers |= {
            "x-ratelimit-limit-requests": str(requests_cap),
            "x-ratelimit-remaining-requests": str(max(requests_cap - window.requests, 0)),
            "x-ratelimit-reset-requests": reset,
        }
    if tokens_cap is not None:
        headers |= {
            "x-ratelimit-limit-tokens": str(tokens_cap),
            "x-ratelimit-remaining-tokens": str(max(tokens_cap - window.tokens, 0)),
            "x-ratelimit-reset-tokens": reset,
        }
    what = "requests" if requests_cap is not None and window.requests + 1 > requests_cap else "tokens"
    limit = requests_cap if what == "requests" else tokens_cap
    period = PERIOD_NAMES[window.seconds]
    return GatewayError(
        ErrorKind.RATE_LIMIT,
        f"Rate limit reached for this API key: {limit} {what} per {period}. Retry after {headers['Retry-After']} s.",
        code="rate_limit_exceeded",
        headers=headers,
    )
