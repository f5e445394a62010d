"""Letting a call in: the key's budget (its worst case reserved), then its request and token limits
(per minute and per day), then a concurrent slot."""

from __future__ import annotations

from collections.abc import Sequence
from typing import Any

import orjson

from anygate.auth.limits import counts_tokens, refusal, too_many_in_flight
from anygate.core.usage import Usage, estimate_tokens
from anygate.metering.budget import GENERATION_HOLD_SECONDS, budget_exceeded, output_cap, reserve
from anygate.metering.record import Metered
from anygate.server.call import Call


async def admit(call: Call, body: dict[str, Any], plan: Sequence[Metered] = (), free: bool = False) -> None:
    """Refuse a call whose key is out of budget (403) or over a limit (429); count it otherwise, and
    reserve its worst case at the dearest of `plan`'s targets against the key's budget. A `free` call
    (a token count) is counted as a request, not as tokens."""
    key = call.key
    gateway = call.gateway
    if plan:
        call.model = plan[0].public_model  # named in the access line and the refusals even when refused here
    if key.budget_usd is not None and gateway.spend.spent(key.id) >= key.budget_usd:
        raise budget_exceeded(key.budget_usd, gateway.spend.spent(key.id))
    budget = key.budget_usd if plan else None  # what a worst case is reserved against
    counted = bool(key.caps) and counts_tokens(key) and not free
    prompt = estimate_tokens(orjson.dumps(body).decode()) if counted or budget is not None else 0  # once, for both
    if key.caps:
        tokens = prompt if counted else 0
        window = await gateway.limiter.check(key, tokens)
        if not window.allowed:
            raise refusal(key, window)
        call.counted_tokens = tokens
    await _take_slot(call)
    if budget is not None:
        worst = Usage(prompt, output_cap(body) or gateway.settings.limits.reserve_output_tokens)
        amount = max(target.cost(worst) for target in plan)
        if amount > 0:
            call.hold = await reserve(gateway.engine, key.id, budget, amount, GENERATION_HOLD_SECONDS)


async def _take_slot(call: Call) -> None:
    """Hold one of the key's concurrent slots for this call (given back when the handler ends)."""
    if call.key.max_concurrency is None:
        return
    if await call.gateway.limiter.acquire(call.key) is None:
        raise too_many_in_flight(call.key)
    call.holds_slot = True
