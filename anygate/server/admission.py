"""Letting a generation call in: the key's budget, then its request and token limits (per minute and per day)."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.auth.limits import counts_tokens, refusal, too_many_in_flight
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import estimate_tokens
from anygate.server.call import Call


async def admit(call: Call, body: dict[str, Any]) -> None:
    """Refuse a call whose key is out of budget (403) or over a limit (429); count it otherwise."""
    key = call.key
    gateway = call.gateway
    if key.budget_usd is not None and gateway.spend.spent(key.id) >= key.budget_usd:
        raise GatewayError(
            ErrorKind.PERMISSION, f"This API key has used its budget of ${key.budget_usd:.2f}", code="budget_exceeded"
        )
    if not key.caps:
        return await _take_slot(call)
    tokens = estimate_tokens(orjson.dumps(body).decode()) if counts_tokens(key) else 0
    window = await gateway.limiter.check(key, tokens)
    if not window.allowed:
        raise refusal(key, window)
    call.counted_tokens = tokens
    await _take_slot(call)


async def _take_slot(call: Call) -> None:
    """Hold one of the key's concurrent slots for this call (given back when the handler ends)."""
    if call.key.max_concurrency is None:
        return
    if await call.gateway.limiter.acquire(call.key) is None:
        raise too_many_in_flight(call.key)
    call.holds_slot = True
