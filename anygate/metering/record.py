"""Building the usage row of one finished call."""

from __future__ import annotations

import time
from typing import Any, Protocol

import orjson

from anygate.core.errors import GatewayError
from anygate.core.usage import Usage
from anygate.server.call import Call


class _Named(Protocol):
    @property
    def name(self) -> str: ...


class Metered(Protocol):
    """What a usage record names and prices: a chat target, or a task target."""

    @property
    def public_model(self) -> str: ...

    @property
    def model(self) -> str: ...

    @property
    def provider(self) -> _Named: ...

    def cost(self, usage: Usage) -> float:
        """The price in USD of a call with this usage."""
        ...


ERROR_KEPT = 500  # characters of a failed call's error kept with its record


def record_usage(call: Call, family: str, target: Metered, usage: Usage, status: int, error: str | None = None) -> None:
    """Queue the usage record of a call that reached `target` (never blocks), with the error it ended with."""
    now = time.time()
    call.gateway.metrics.upstream(
        family, target.public_model, target.provider.name, status, usage.input_tokens, usage.output_tokens, call.attempts
    )
    if call.counted_tokens:
        call.gateway.limiter.correct(call.key, usage.input_tokens + usage.output_tokens - call.counted_tokens)
        call.counted_tokens = 0
    row = usage_row(
        now,
        call.request_id,
        call.key.id,
        family,
        (target.public_model, target.provider.name, target.model),
        usage,
        target.cost(usage),
        (now - call.started) * 1000.0,
        status,
        call.attempts,
        detail=_detail(call, error) if error or call.failures or call.streaming else None,
    )
    call.gateway.usage.add(row, call.hold)  # the call's reservation is settled with its cost
    call.model, call.provider = target.public_model, target.provider.name
    call.hold = None
    call.recorded = True


def _detail(call: Call, error: str | None) -> str:
    """The JSON of a call's error, failed attempts and times, for its record."""
    detail: dict[str, Any] = {"upstream_ms": round(call.upstream_seconds * 1000.0, 2)}
    if call.streaming:
        detail["first_byte_ms"] = round(call.first_byte_seconds * 1000.0, 2)
    if error:
        detail["error"] = error[:ERROR_KEPT]
    if call.failures:
        detail["failures"] = call.failures
    return orjson.dumps(detail).decode()


def record_failure(call: Call, family: str, target: Metered, err: GatewayError) -> None:
    """Queue the record of a call that failed at `target` (at no cost), with the error it answered."""
    record_usage(call, family, target, Usage(), err.status, err.message)


async def record_before_end(call: Call, family: str, target: Metered, usage: Usage, status: int) -> None:
    """With `metering.durability: sync`, record a stream's usage now and wait until it is written, before
    the stream's end event goes out (the relay records it at the end otherwise)."""
    if call.gateway.usage.sync:
        record_usage(call, family, target, usage, status)
        await call.gateway.usage.written()


def usage_row(
    now: float,
    request_id: str,
    key_id: str,
    family: str,
    models: tuple[str, str, str],
    usage: Usage,
    cost_usd: float,
    latency_ms: float,
    status: int,
    attempts: int,
    detail: str | None = None,
) -> dict[str, Any]:
    """The `usage_records` row of one call or task; `models` is (public model, provider, upstream model).
    Every column is present (the writer inserts rows in one statement)."""
    public_model, provider, upstream_model = models
    return {
        "created_at": now,
        "request_id": request_id,
        "key_id": key_id,
        "family": family,
        "public_model": public_model,
        "provider": provider,
        "upstream_model": upstream_model,
        "input_tokens": usage.input_tokens,
        "output_tokens": usage.output_tokens,
        "cached_tokens": usage.cached_tokens,
        "cache_write_tokens": usage.cache_write_tokens,
        "cost_usd": cost_usd,
        "latency_ms": latency_ms,
        "status": status,
        "estimated": usage.estimated,
        "attempts": attempts,
        "detail": detail,
    }
