"""Stored Responses API responses: saved with the conversation they answered, scoped to one key."""

from __future__ import annotations

import logging
import time
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.store.tables import StoredResponse

log = logging.getLogger(__name__)


@dataclass(frozen=True, slots=True)
class Stored:
    """A stored response and the input items it answered."""

    input_items: list[dict[str, Any]]
    response: dict[str, Any]


async def save(engine: AsyncEngine, key_id: str, input_items: list[dict[str, Any]], response: dict[str, Any]) -> None:
    """Keep `response` (by its id) with the conversation it answered. An id already stored (a native
    upstream that gives the same id twice) keeps the first: the call goes on, its response is not kept."""
    row = {
        "id": response["id"],
        "key_id": key_id,
        "created_at": time.time(),
        "input_items": orjson.dumps(input_items).decode(),
        "response": orjson.dumps(response).decode(),
    }
    try:
        async with engine.begin() as conn:
            await conn.execute(insert(StoredResponse).values(**row))
    except IntegrityError:
        log.warning("response %s was not stored: a response with its id already is", response["id"])


async def load(engine: AsyncEngine, key_id: str, response_id: str) -> Stored | None:
    """The response `response_id` of this key, or None (another key's responses do not exist for it)."""
    query = select(StoredResponse.input_items, StoredResponse.response).where(
        StoredResponse.id == response_id, StoredResponse.key_id == key_id
    )
    async with engine.connect() as conn:
        row = (await conn.execute(query)).first()
    return Stored(orjson.loads(row[0]), orjson.loads(row[1])) if row else None


async def remove(engine: AsyncEngine, key_id: str, response_id: str) -> bool:
    """Delete the response of this key; False when it has none by that id."""
    async with engine.begin() as conn:
        result = await conn.execute(
            delete(StoredResponse).where(StoredResponse.id == response_id, StoredResponse.key_id == key_id)
        )
    return bool(result.rowcount)
