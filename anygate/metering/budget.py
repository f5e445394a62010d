"""Budgets that hold under parallel load, on every instance: money is reserved before an upstream call
and settled after it.

The rule: a call of a key with a budget first reserves its worst case (a task its price; a generation
its prompt estimate plus its output cap, at the dearest of its model's targets) in one conditional
UPDATE of the key's row, which succeeds only while `spent + reserved + worst case <= budget`. The
database serialises those updates, so parallel calls on any number of instances can never reserve more
than the budget. The hold is released in the same transaction that adds the call's real cost to the
key's spend, so the two never count twice or not at all. A key can overspend only by what a call costs
beyond its reservation (an answer longer than the output cap it was reserved for). Holds whose
instance died are released by any instance when they expire.
"""

from __future__ import annotations

import secrets
import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import delete, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine

from anygate.core.errors import ErrorKind, GatewayError
from anygate.store.tables import ApiKey, BudgetHold

GENERATION_HOLD_SECONDS = 3600.0  # a generation's hold outlives any call; a task's lasts to its deadline


@dataclass(frozen=True, slots=True)
class Hold:
    """Money reserved against a key's budget."""

    id: str
    key_id: str
    amount: float


async def reserve(
    engine: AsyncEngine, key_id: str, budget: float, amount: float, seconds: float, hold_id: str | None = None
) -> Hold:
    """Reserve `amount` USD of the key's budget for `seconds` at most; 403 `budget_exceeded` when the
    budget cannot cover it beside what is spent and held."""
    hold = Hold(hold_id or "hold_" + secrets.token_hex(16), key_id, amount)
    async with engine.begin() as conn:
        taken = await conn.execute(
            update(ApiKey)
            .where(ApiKey.id == key_id, ApiKey.spent_usd + ApiKey.reserved_usd + amount <= budget + 1e-9)
            .values(reserved_usd=ApiKey.reserved_usd + amount)
        )
        if taken.rowcount == 1:
            await conn.execute(
                insert(BudgetHold).values(id=hold.id, key_id=key_id, amount_usd=amount, expires_at=time.time() + seconds)
            )
            return hold
        row = (await conn.execute(select(ApiKey.spent_usd, ApiKey.reserved_usd).where(ApiKey.id == key_id))).first()
    spent, held = (float(row.spent_usd), float(row.reserved_usd)) if row is not None else (0.0, 0.0)
    raise budget_exceeded(budget, spent, held, amount)


def budget_exceeded(budget: float, spent: float, held: float = 0.0, amount: float = 0.0) -> GatewayError:
    """The 403 of a key whose budget is used up, or cannot cover a call beside those in flight."""
    if spent >= budget:
        message = f"This API key has used its budget of ${budget:.2f}"
    else:
        message = (
            f"This API key's budget of ${budget:.2f} cannot cover this call (up to ${amount:.4f}): "
            f"${spent:.4f} is spent and ${held:.4f} held by calls in flight"
        )
    return GatewayError(ErrorKind.PERMISSION, message, code="budget_exceeded")


async def release(conn: AsyncConnection, holds: list[Hold]) -> None:
    """Give back each hold still held (once, whoever releases it first), inside the caller's transaction."""
    for hold in holds:
        gone = await conn.execute(delete(BudgetHold).where(BudgetHold.id == hold.id))
        if gone.rowcount == 1:
            await conn.execute(
                update(ApiKey).where(ApiKey.id == hold.key_id).values(reserved_usd=ApiKey.reserved_usd - hold.amount)
            )


async def release_expired(engine: AsyncEngine) -> int:
    """Release the holds that outlived their call (the instance that made them died); how many."""
    async with engine.begin() as conn:
        rows = (await conn.execute(select(BudgetHold).where(BudgetHold.expires_at < time.time()).limit(500))).all()
        await release(conn, [Hold(r.id, r.key_id, float(r.amount_usd)) for r in rows])
    return len(rows)


def output_cap(body: dict[str, Any]) -> int | None:
    """The most output tokens a request allows, in whichever family's field it gives it."""
    config = body.get("generationConfig")
    for value in (
        body.get("max_completion_tokens"),
        body.get("max_tokens"),
        body.get("max_output_tokens"),
        config.get("maxOutputTokens") if isinstance(config, dict) else None,
    ):
        if isinstance(value, int) and not isinstance(value, bool) and value > 0:
            return value
    return None
