"""Per-key request and token limits per minute: in memory on one instance, in Redis across several.

Windows are whole minutes. Tokens are counted up front from an estimate of the prompt and corrected
by the real usage once the answer is in. A refusal carries what the client needs to wait well:
`Retry-After` and the `x-ratelimit-*` headers.
"""

from __future__ import annotations

import asyncio
import logging
import time
from dataclasses import dataclass
from typing import Any, Protocol

from anygate.auth.keys import KeyRecord
from anygate.core.errors import ErrorKind, GatewayError

log = logging.getLogger(__name__)
WINDOW_SECONDS = 60


@dataclass(frozen=True, slots=True)
class Window:
    """A key's counts in the current window after a check."""

    allowed: bool
    requests: int
    tokens: int
    reset_seconds: float


class Limiter(Protocol):
    """Counts requests and tokens per key and window."""

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        """Count one request of about `tokens` tokens, unless it would pass a limit."""
        ...

    def correct(self, key_id: str, tokens: int) -> None:
        """Add `tokens` (negative to give back) to the key's count in the current window."""
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


def _now_window() -> tuple[int, float]:
    now = time.time()
    return int(now // WINDOW_SECONDS), WINDOW_SECONDS - now % WINDOW_SECONDS


class MemoryLimiter:
    """Limits for one instance."""

    def __init__(self) -> None:
        self._counts: dict[str, list[int]] = {}  # key id -> [window, requests, tokens]
        self._in_flight: dict[str, int] = {}

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        window, reset = _now_window()
        counts = self._counts.get(key.id)
        if counts is None or counts[0] != window:
            counts = self._counts[key.id] = [window, 0, 0]
        over_requests = key.rpm is not None and counts[1] + 1 > key.rpm
        over_tokens = key.tpm is not None and counts[2] + tokens > key.tpm and counts[2] > 0
        if over_requests or over_tokens:
            return Window(False, counts[1], counts[2], reset)
        counts[1] += 1
        counts[2] += tokens
        return Window(True, counts[1], counts[2], reset)

    def correct(self, key_id: str, tokens: int) -> None:
        counts = self._counts.get(key_id)
        if counts is not None and counts[0] == _now_window()[0]:
            counts[2] = max(counts[2] + tokens, 0)

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

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        self._lease = self._redis.register_script(_LEASE)
        self._acquire = self._redis.register_script(_ACQUIRE)
        self._pending: set[asyncio.Task[None]] = set()
        self._corrections: dict[str, int] = {}
        self._leases: dict[str, _Lease] = {}

    @staticmethod
    def _keys(key_id: str, window: int) -> list[str]:
        return [f"anygate:limit:{key_id}:{window}:requests", f"anygate:limit:{key_id}:{window}:tokens"]

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        window, reset = _now_window()
        lease = self._leases.get(key.id)
        if lease is None or lease.window != window:
            lease = self._leases[key.id] = _Lease(window)
        short_of_requests = key.rpm is not None and lease.requests < 1
        short_of_tokens = key.tpm is not None and lease.tokens < tokens
        if short_of_requests or short_of_tokens:
            want_requests = max(key.rpm // LEASE_SHARE, 1) if short_of_requests and key.rpm is not None else 0
            need_tokens = tokens - lease.tokens
            want_tokens = max(key.tpm // LEASE_SHARE, need_tokens) if short_of_tokens and key.tpm is not None else 0
            args = [key.rpm or 0, key.tpm or 0, want_requests, want_tokens, need_tokens, WINDOW_SECONDS * 2]
            try:
                granted, lease.seen_requests, lease.seen_tokens, got_requests, got_tokens = await asyncio.wait_for(
                    self._lease(keys=self._keys(key.id, window), args=args), REDIS_TIMEOUT_SECONDS
                )
            except Exception:  # Redis down or slow: fail open, loudly
                log.warning("rate limit check skipped: Redis did not answer", exc_info=True)
                return Window(True, 0, 0, reset)
            if not granted:
                return Window(False, lease.seen_requests - lease.requests, lease.seen_tokens - lease.tokens, reset)
            lease.requests += got_requests
            lease.tokens += got_tokens
        lease.requests -= 1
        lease.tokens -= tokens
        return Window(True, lease.seen_requests - lease.requests, lease.seen_tokens - lease.tokens, reset)

    def correct(self, key_id: str, tokens: int) -> None:
        """Tokens given back return to this instance's lease; tokens owed come out of it, and what it
        cannot cover is added in Redis (gathered and sent a few times a second, in one pipeline)."""
        window = _now_window()[0]
        lease = self._leases.get(key_id)
        if lease is not None and lease.window == window:
            covered = min(tokens, lease.tokens) if tokens > 0 else tokens
            lease.tokens -= covered
            tokens -= covered
        if tokens <= 0:
            return
        name = self._keys(key_id, window)[1]
        self._corrections[name] = self._corrections.get(name, 0) + tokens
        if len(self._corrections) == 1:
            self._later(self._send_corrections())

    async def _send_corrections(self) -> None:
        await asyncio.sleep(CORRECTION_DELAY_SECONDS)
        batch, self._corrections = self._corrections, {}
        pipe = self._redis.pipeline(transaction=False)
        for name, tokens in batch.items():
            pipe.incrby(name, tokens)
        await pipe.execute()

    async def acquire(self, key: KeyRecord) -> int | None:
        if key.max_concurrency is None:
            return 0
        try:
            taken = await asyncio.wait_for(
                self._acquire(keys=[f"anygate:inflight:{key.id}"], args=[key.max_concurrency, IN_FLIGHT_TTL_SECONDS]),
                REDIS_TIMEOUT_SECONDS,
            )
        except Exception:
            log.warning("concurrency check skipped: Redis did not answer", exc_info=True)
            return 0
        return None if int(taken) < 0 else int(taken)

    def release(self, key_id: str) -> None:
        self._later(self._redis.decr(f"anygate:inflight:{key_id}"))

    def _later(self, command: Any) -> None:
        """Run a Redis command in the background; a lost one is logged."""

        async def run() -> None:
            try:
                await asyncio.wait_for(command, REDIS_TIMEOUT_SECONDS * 4)
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
    """The 429 for a key over its limit, with Retry-After and the x-ratelimit-* headers."""
    reset = f"{max(window.reset_seconds, 0.001):.3f}s"
    headers = {"Retry-After": str(max(int(window.reset_seconds + 0.999), 1))}
    if key.rpm is not None:
        headers |= {
            "x-ratelimit-limit-requests": str(key.rpm),
            "x-ratelimit-remaining-requests": str(max(key.rpm - window.requests, 0)),
            "x-ratelimit-reset-requests": reset,
        }
    if key.tpm is not None:
        headers |= {
            "x-ratelimit-limit-tokens": str(key.tpm),
            "x-ratelimit-remaining-tokens": str(max(key.tpm - window.tokens, 0)),
            "x-ratelimit-reset-tokens": reset,
        }
    what = "requests" if key.rpm is not None and window.requests + 1 > key.rpm else "tokens"
    limit = key.rpm if what == "requests" else key.tpm
    return GatewayError(
        ErrorKind.RATE_LIMIT,
        f"Rate limit reached for this API key: {limit} {what} per minute. Retry after {headers['Retry-After']} s.",
        code="rate_limit_exceeded",
        headers=headers,
    )
