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


def _now_window() -> tuple[int, float]:
    now = time.time()
    return int(now // WINDOW_SECONDS), WINDOW_SECONDS - now % WINDOW_SECONDS


class MemoryLimiter:
    """Limits for one instance."""

    def __init__(self) -> None:
        self._counts: dict[str, list[int]] = {}  # key id -> [window, requests, tokens]

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


# One round trip: both counters checked, and bumped only when the request is allowed.
_SCRIPT = """
local requests = tonumber(redis.call('GET', KEYS[1]) or '0')
local tokens = tonumber(redis.call('GET', KEYS[2]) or '0')
local rpm, tpm, cost = tonumber(ARGV[1]), tonumber(ARGV[2]), tonumber(ARGV[3])
if (rpm > 0 and requests + 1 > rpm) or (tpm > 0 and tokens > 0 and tokens + cost > tpm) then
  return {0, requests, tokens}
end
requests = redis.call('INCR', KEYS[1])
tokens = redis.call('INCRBY', KEYS[2], cost)
redis.call('EXPIRE', KEYS[1], ARGV[4])
redis.call('EXPIRE', KEYS[2], ARGV[4])
return {1, requests, tokens}
"""
REDIS_TIMEOUT_SECONDS = 0.25


class RedisLimiter:
    """Limits shared by every instance on one Redis. When Redis does not answer in time the request
    is let through (and logged): an outage of the limiter must not become an outage of the gateway."""

    def __init__(self, url: str) -> None:
        import redis.asyncio as redis

        self._redis: Any = redis.from_url(url, socket_timeout=REDIS_TIMEOUT_SECONDS, socket_connect_timeout=REDIS_TIMEOUT_SECONDS)
        self._script = self._redis.register_script(_SCRIPT)
        self._pending: set[asyncio.Task[None]] = set()

    @staticmethod
    def _keys(key_id: str, window: int) -> list[str]:
        return [f"anygate:limit:{key_id}:{window}:requests", f"anygate:limit:{key_id}:{window}:tokens"]

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        window, reset = _now_window()
        args = [key.rpm or 0, key.tpm or 0, tokens, WINDOW_SECONDS * 2]
        try:
            allowed, requests, used = await asyncio.wait_for(
                self._script(keys=self._keys(key.id, window), args=args), REDIS_TIMEOUT_SECONDS
            )
        except Exception:  # Redis down or slow: fail open, loudly
            log.warning("rate limit check skipped: Redis did not answer", exc_info=True)
            return Window(True, 0, 0, reset)
        return Window(bool(allowed), int(requests), int(used), reset)

    def correct(self, key_id: str, tokens: int) -> None:
        if tokens:
            task = asyncio.get_running_loop().create_task(self._correct(key_id, tokens))
            self._pending.add(task)
            task.add_done_callback(self._pending.discard)

    async def _correct(self, key_id: str, tokens: int) -> None:
        try:
            await self._redis.incrby(self._keys(key_id, _now_window()[0])[1], tokens)
        except Exception:
            log.warning("rate limit correction lost: Redis did not answer", exc_info=True)

    async def close(self) -> None:
        """Close the connection pool."""
        await self._redis.aclose()


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
