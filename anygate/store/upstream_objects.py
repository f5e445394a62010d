"""Who owns the objects upstreams hand out (files, batches, assistants, threads): the key that created
each, and the provider that holds it."""

from __future__ import annotations

import time
from collections.abc import Iterable
from typing import Any

from sqlalchemy import delete, insert, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.store.tables import UpstreamObject


async def remember(engine: AsyncEngine, kind: str, ids: Iterable[str], provider: str, key_id: str) -> list[str]:
    """Record `ids` as objects of `key_id` held by `provider`; those recorded now (ids already recorded,
    here or by a call racing this one, are left as they are)."""
    ids = list(ids)
    try:
        return await _insert(engine, kind, ids, provider, key_id)
    except IntegrityError:  # another call recorded one of them first
        return []


async def _insert(engine: AsyncEngine, kind: str, ids: list[str], provider: str, key_id: str) -> list[str]:
    async with engine.begin() as conn:
        known = set(
            (
                await conn.execute(
                    select(UpstreamObject.id).where(
                        UpstreamObject.id.in_(ids), UpstreamObject.provider == provider, UpstreamObject.kind == kind
                    )
                )
            ).scalars()
        )
        rows: list[dict[str, Any]] = [
            {"id": i, "provider": provider, "kind": kind, "key_id": key_id, "created_at": time.time()}
            for i in dict.fromkeys(ids)
            if i not in known
        ]
        if rows:
            await conn.execute(insert(UpstreamObject), rows)
    return [str(row["id"]) for row in rows]


async def holder(engine: AsyncEngine, kind: str, object_id: str, key_id: str) -> str | None:
    """The provider holding the key's object `object_id`, or None (another key's objects do not exist for it)."""
    query = select(UpstreamObject.provider).where(
        UpstreamObject.id == object_id, UpstreamObject.kind == kind, UpstreamObject.key_id == key_id
    )
    async with engine.connect() as conn:
        return (await conn.execute(query.limit(1))).scalar()


async def owned(engine: AsyncEngine, kind: str, ids: Iterable[str], provider: str, key_id: str) -> set[str]:
    """Those of `ids` (held by `provider`) that belong to the key."""
    query = select(UpstreamObject.id).where(
        UpstreamObject.id.in_(list(ids)),
        UpstreamObject.provider == provider,
        UpstreamObject.kind == kind,
        UpstreamObject.key_id == key_id,
    )
    async with engine.connect() as conn:
        return set((await conn.execute(query)).scalars())


async def held(engine: AsyncEngine, kind: str, ids: Iterable[str], key_id: str) -> set[str]:
    """Those of `ids` that belong to the key, wherever they are held."""
    query = select(UpstreamObject.id).where(
        UpstreamObject.id.in_(list(ids)), UpstreamObject.kind == kind, UpstreamObject.key_id == key_id
    )
    async with engine.connect() as conn:
        return set((await conn.execute(query)).scalars())


async def forget(engine: AsyncEngine, kind: str, object_id: str, provider: str) -> None:
    """Drop the record of a deleted object."""
    async with engine.begin() as conn:
        await conn.execute(
            delete(UpstreamObject).where(
                UpstreamObject.id == object_id, UpstreamObject.provider == provider, UpstreamObject.kind == kind
            )
        )
