"""Waiting for what a running gateway writes: its usage records, or any condition."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Callable
from typing import Any

from sqlalchemy import select

from anygate.store.database import create_engine
from anygate.store.tables import UsageRecord
from tests.gateway_process import GatewayProcess


def eventually(condition: Callable[[], bool], seconds: float = 5.0) -> bool:
    """Whether `condition` holds within `seconds`."""
    deadline = time.time() + seconds
    while not condition():
        if time.time() > deadline:
            return False
        time.sleep(0.05)
    return True


def usage_rows(gateway: GatewayProcess, where: Any) -> list[tuple[str, int, int]]:
    """(provider, status, attempts) of the usage records matching `where`, once the queue is written."""

    async def read() -> list[tuple[str, int, int]]:
        engine = create_engine(gateway.config["database"])
        try:
            async with engine.connect() as conn:
                query = select(UsageRecord.provider, UsageRecord.status, UsageRecord.attempts).where(where)
                return [(r[0], r[1], r[2]) for r in await conn.execute(query.order_by(UsageRecord.id))]
        finally:
            await engine.dispose()

    deadline = time.time() + 5
    while time.time() < deadline:
        time.sleep(0.6)  # the usage queue is written every half second
        rows = asyncio.run(read())
        if rows:
            return rows
    return []


def key_records(gateway: GatewayProcess, key_id: str, count: int, *columns: Any) -> list[tuple[Any, ...]]:
    """`columns` of the key's usage records, in order, once at least `count` are written (all there are
    after 5 s otherwise)."""

    async def read() -> list[tuple[Any, ...]]:
        engine = create_engine(gateway.config["database"])
        try:
            async with engine.connect() as conn:
                query = select(*columns).where(UsageRecord.key_id == key_id).order_by(UsageRecord.id)
                return [tuple(r) for r in await conn.execute(query)]
        finally:
            await engine.dispose()

    rows: list[tuple[Any, ...]] = []
    deadline = time.time() + 5
    while time.time() < deadline and len(rows) < count:
        time.sleep(0.3)
        rows = asyncio.run(read())
    return rows


def fresh_minute(needed: float = 15.0) -> None:
    """Wait, when fewer than `needed` seconds are left of this minute, for the next one to begin: a
    per-minute limit counts calendar minutes, and a test's calls must not straddle two of them."""
    left = 60.0 - time.time() % 60.0
    if left < needed:
        time.sleep(left + 0.05)
