"""The replay entries in the database: written before a translated turn ends (so the client's next
turn finds them on any worker or instance, or after a restart), read for ids a process has not seen."""

from __future__ import annotations

import time
from dataclasses import asdict
from typing import Any

import orjson
from sqlalchemy import select
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.core.chat import Thinking
from anygate.core.replay_cache import Entry
from anygate.store.tables import ReplayEntry

_LOOKUP_CHUNK = 500  # ids per query


async def save_entries(engine: AsyncEngine, entries: list[Entry]) -> None:
    """Store entries; an id already stored keeps its first entry (tool call ids do not repeat)."""
    now = time.time()
    rows = [
        {
            "id": call_id,
            "signature": signature,
            "thinking": orjson.dumps([asdict(t) for t in thinking]).decode() if thinking else None,
            "created_at": now,
        }
        for call_id, signature, thinking in entries
    ]
    dialect: Any = postgresql if engine.dialect.name == "postgresql" else sqlite
    async with engine.begin() as conn:
        await conn.execute(dialect.insert(ReplayEntry).on_conflict_do_nothing(index_elements=["id"]), rows)


async def load_entries(engine: AsyncEngine, ids: list[str]) -> list[Entry]:
    """The stored entries of these tool call ids (those with none are left out)."""
    entries: list[Entry] = []
    async with engine.connect() as conn:
        for start in range(0, len(ids), _LOOKUP_CHUNK):
            query = select(ReplayEntry.id, ReplayEntry.signature, ReplayEntry.thinking).where(
                ReplayEntry.id.in_(ids[start : start + _LOOKUP_CHUNK])
            )
            for call_id, signature, thinking in (await conn.execute(query)).all():
                entries.append((call_id, signature, [Thinking(**t) for t in orjson.loads(thinking)] if thinking else None))
    return entries
