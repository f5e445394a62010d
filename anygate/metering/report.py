"""Spend and token totals by key and model (`anygate usage`), and by day (the admin API)."""

from __future__ import annotations

import time
from dataclasses import dataclass
from typing import Any

from sqlalchemy import Integer, Select, cast, func, select
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.store.tables import ApiKey, UsageRecord


@dataclass(frozen=True, slots=True)
class UsageTotal:
    """Totals of one key and public model."""

    key_id: str
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached_tokens: int  # parts of input_tokens: read from the upstream's cache
    cache_write_tokens: int  # and written to it
    budget_usd: float | None = None  # the key's cap, if any
    key_spent_usd: float = 0.0  # the key's whole spend, every model together


def _sums() -> tuple[Any, ...]:
    """Requests, input tokens, output tokens, cost, cached and cache-write tokens of a group of usage records."""
    u = UsageRecord
    return (
        func.count(),
        func.coalesce(func.sum(u.input_tokens), 0),
        func.coalesce(func.sum(u.output_tokens), 0),
        func.coalesce(func.sum(u.cost_usd), 0.0),
        func.coalesce(func.sum(u.cached_tokens), 0),
        func.coalesce(func.sum(u.cache_write_tokens), 0),
    )


def _totals(row: Any) -> tuple[int, int, int, float, int, int]:
    """The `_sums` of a result row that starts with them, typed."""
    return int(row[0]), int(row[1]), int(row[2]), float(row[3]), int(row[4]), int(row[5])


def _filtered(query: Select[Any], key_id: str | None, since: float | None) -> Select[Any]:
    """`query` narrowed to one key and to records from a time on, when given."""
    if key_id:
        query = query.where(UsageRecord.key_id == key_id)
    if since is not None:
        query = query.where(UsageRecord.created_at >= since)
    return query


async def usage_totals(engine: AsyncEngine, *, key_id: str | None = None, since: float | None = None) -> list[UsageTotal]:
    """Totals grouped by key and public model, optionally for one key and from a time on."""
    u = UsageRecord
    query = select(
        u.key_id,
        u.public_model,
        *_sums(),
    ).group_by(u.key_id, u.public_model)
    query = _filtered(query, key_id, since)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(u.key_id, u.public_model))).all()
        keys = {
            k.id: (k.budget_usd, float(k.spent_usd))
            for k in (await conn.execute(select(ApiKey.id, ApiKey.budget_usd, ApiKey.spent_usd))).all()
        }
    return [UsageTotal(r[0], r[1], *_totals(r[2:]), *keys.get(r[0], (None, 0.0))) for r in rows]


@dataclass(frozen=True, slots=True)
class DayTotal:
    """Totals of one UTC day, key and public model."""

    day: str
    key_id: str
    model: str
    requests: int
    input_tokens: int
    output_tokens: int
    cost_usd: float
    cached_tokens: int
    cache_write_tokens: int


async def usage_by_day(engine: AsyncEngine, *, key_id: str | None = None, since: float | None = None) -> list[DayTotal]:
    """Totals grouped by UTC day, key and public model, oldest first."""
    u = UsageRecord
    days = u.created_at / 86400
    # SQLite's CAST truncates, which floors these positive times; PostgreSQL's rounds, so it floors first
    day = cast(func.floor(days) if engine.dialect.name == "postgresql" else days, Integer)
    query = select(
        day,
        u.key_id,
        u.public_model,
        *_sums(),
    ).group_by(day, u.key_id, u.public_model)
    query = _filtered(query, key_id, since)
    async with engine.connect() as conn:
        rows = (await conn.execute(query.order_by(day, u.key_id, u.public_model))).all()
    return [DayTotal(time.strftime("%Y-%m-%d", time.gmtime(int(r[0]) * 86400)), r[1], r[2], *_totals(r[3:])) for r in rows]
