"""Keys, the key cache and usage records on the real databases: SQLite and PostgreSQL."""

from __future__ import annotations

import asyncio
import time
from collections.abc import AsyncIterator
from typing import Any

import pytest
from sqlalchemy import event, func, insert, select, text
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.auth.cache import KeyCache
from anygate.auth.keys import changed_since, create_key, find_by_hash, get_key, hash_key, list_keys, revoke_key
from anygate.config import RetentionConfig
from anygate.core.chat import Thinking
from anygate.core.errors import GatewayError
from anygate.core.usage import Usage
from anygate.metering.budget import release, release_expired, reserve
from anygate.metering.record import usage_row
from anygate.metering.report import usage_totals
from anygate.metering.writer import FLUSH_SECONDS, UsageWriter
from anygate.store import upstream_objects
from anygate.store.database import create_engine, migrate
from anygate.store.replay import load_entries, save_entries
from anygate.store.retention import Retention
from anygate.store.tables import StoredResponse, UsageRecord


@pytest.fixture
async def engine(database_url: str) -> AsyncIterator[AsyncEngine]:
    engine = create_engine(database_url)
    await migrate(engine)
    await migrate(engine)  # idempotent
    yield engine
    await engine.dispose()


async def test_keys_are_stored_hashed_and_found_by_hash(engine: AsyncEngine) -> None:
    key, record = await create_key(engine, "alice", models=["m1"], rpm=5, tpm=100, budget_usd=1.5, expires_at=4102444800.0)
    async with engine.connect() as conn:
        stored = (await conn.execute(text("SELECT key_hash, prefix FROM api_keys WHERE id = :id"), {"id": record.id})).one()
        everything = str((await conn.execute(text("SELECT * FROM api_keys"))).all())
    assert stored.key_hash == hash_key(key) and stored.prefix == key[:10]
    assert key not in everything
    found = await find_by_hash(engine, hash_key(key))
    assert found == record and found.models == ("m1",) and found.allows_model("m1") and not found.allows_model("m2")
    assert await get_key(engine, record.id) == record
    assert record.id in {r.id for r in await list_keys(engine)}


async def test_revoke_is_seen_by_changed_since(engine: AsyncEngine) -> None:
    key, record = await create_key(engine, "bob")
    before = time.time()
    assert await revoke_key(engine, record.id)
    assert await revoke_key(engine, record.id)  # twice is fine
    assert not await revoke_key(engine, "key_missing")
    changed = dict(await changed_since(engine, before - 1))
    assert changed[hash_key(key)].revoked_at is not None


async def test_key_cache_hits_misses_and_refresh(engine: AsyncEngine) -> None:
    cache = KeyCache(engine)
    key, record = await create_key(engine, "carol")
    assert await cache.lookup("ag-unknown") is None
    assert (await cache.lookup(key)) == record
    await revoke_key(engine, record.id)
    assert (await cache.lookup(key)).revoked_at is None  # type: ignore[union-attr] # cached until the refresh
    await cache.refresh()
    assert (await cache.lookup(key)).revoked_at is not None  # type: ignore[union-attr]


async def test_usage_writer_batches_and_totals(engine: AsyncEngine) -> None:
    writer = UsageWriter(engine)
    writer.start()
    key_id = "key_" + str(time.time_ns())[-12:]
    for i in range(2500):
        writer.add(_usage_row(key_id, f"r{i}", "m" if i % 2 else "n"))
    await writer.close()
    totals = {t.model: t for t in await usage_totals(engine, key_id=key_id)}
    assert totals["m"].requests == 1250 and totals["n"].input_tokens == 12500
    assert totals["m"].cost_usd == pytest.approx(1.25)
    assert await usage_totals(engine, key_id=key_id, since=time.time() + 60) == []


async def test_usage_writer_writes_a_trickle_in_few_transactions(engine: AsyncEngine) -> None:
    """Rows that arrive while a batch is being written wait for the next flush, instead of being
    chased one tiny transaction (and fsync) after another."""
    commits = 0

    def count(_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    writer = UsageWriter(engine)
    writer.start()
    key_id = "key_" + str(time.time_ns())[-12:]
    loop = asyncio.get_running_loop()
    until = loop.time() + 1.2
    sent = 0
    while loop.time() < until:
        writer.add(_usage_row(key_id, f"t{sent}", "m"))
        sent += 1
        await asyncio.sleep(0.001)
    await writer.close()
    event.remove(engine.sync_engine, "commit", count)
    assert (await usage_totals(engine, key_id=key_id))[0].requests == sent
    assert sent > 300 and commits <= 1.2 / FLUSH_SECONDS + 3


async def test_a_sync_writer_writes_before_written_returns_and_groups_the_waiting_calls(engine: AsyncEngine) -> None:
    """`metering.durability: sync`: `written` returns once the rows queued before it are committed, at
    once rather than at the next half-second flush, and calls waiting together share a transaction;
    a failed write keeps them waiting until the retry succeeds."""
    commits = 0

    def count(_: object) -> None:
        nonlocal commits
        commits += 1

    writer = UsageWriter(engine, sync=True)
    writer.start()
    key_id = "key_" + str(time.time_ns())[-12:]
    await asyncio.sleep(0.05)  # the writer is waiting for work
    event.listen(engine.sync_engine, "commit", count)
    loop = asyncio.get_running_loop()
    began = loop.time()
    writer.add(_usage_row(key_id, "s0", "m"))
    await writer.written()
    assert loop.time() - began < FLUSH_SECONDS / 2 and (await usage_totals(engine, key_id=key_id))[0].requests == 1
    commits = 0

    async def call(i: int) -> None:
        writer.add(_usage_row(key_id, f"g{i}", "m"))
        await writer.written()

    await asyncio.gather(*(call(i) for i in range(50)))
    event.remove(engine.sync_engine, "commit", count)
    assert (await usage_totals(engine, key_id=key_id))[0].requests == 51
    assert commits <= 3, "fifty calls ending together wait for one or two transactions, not fifty"

    broken = {**_usage_row(key_id, "bad", "m"), "family": None}  # NOT NULL: refused by either database
    writer.add(broken)
    waiting = asyncio.ensure_future(writer.written())
    await asyncio.sleep(0.3)
    assert not waiting.done(), "a record that failed to write is not reported written"
    writer._pending.remove(broken)  # the operator mends the database: the retry succeeds
    await asyncio.wait_for(waiting, FLUSH_SECONDS * 4)
    await writer.close()


async def test_retention_purges_what_expired_in_batches_and_keeps_the_rest(engine: AsyncEngine) -> None:
    key_id = "key_" + str(time.time_ns())[-12:]
    now = time.time()
    old, fresh = now - 10 * 86400, now - 3600
    rows = [_usage_row(key_id, f"old{i}", "m") | {"created_at": old} for i in range(12)]
    rows += [_usage_row(key_id, f"new{i}", "m") | {"created_at": fresh} for i in range(3)]
    responses = [
        {"id": f"resp_{key_id}_{i}", "key_id": key_id, "created_at": when, "input_items": "[]", "response": "{}"}
        for i, when in enumerate([old] * 4 + [fresh])
    ]
    async with engine.begin() as conn:
        await conn.execute(insert(UsageRecord), rows)
        await conn.execute(insert(StoredResponse), responses)

    async def left() -> tuple[int, int]:
        async with engine.connect() as conn:
            usage = await conn.scalar(select(func.count()).select_from(UsageRecord).where(UsageRecord.key_id == key_id))
            stored = await conn.scalar(select(func.count()).select_from(StoredResponse).where(StoredResponse.key_id == key_id))
        return int(usage or 0), int(stored or 0)

    assert await Retention(engine, RetentionConfig(usage_days=None, responses_days=7), batch=3).purge(now) >= 4
    assert await left() == (15, 1)  # usage kept for good unless a retention is set
    commits = 0

    def count(_: object) -> None:
        nonlocal commits
        commits += 1

    event.listen(engine.sync_engine, "commit", count)
    assert await Retention(engine, RetentionConfig(usage_days=7, responses_days=7), batch=5).purge(now) >= 12
    event.remove(engine.sync_engine, "commit", count)
    assert await left() == (3, 1)
    assert commits >= 3  # 12 rows, five a transaction


async def test_replay_entries_round_trip_and_keep_the_first_of_an_id(engine: AsyncEngine) -> None:
    run = str(time.time_ns())
    thinking = [Thinking("why", "sig-1"), Thinking(redacted="opaque")]
    await save_entries(engine, [(f"toolu_{run}", None, thinking), (f"call_{run}", "gemini-sig", None)])
    await save_entries(engine, [(f"call_{run}", "another", None)])  # the same id again: the first stays
    loaded = await load_entries(engine, [f"toolu_{run}", f"call_{run}", f"missing_{run}"])
    assert sorted(loaded, key=lambda e: e[0]) == [(f"call_{run}", "gemini-sig", None), (f"toolu_{run}", None, thinking)]


def _usage_row(key_id: str, request_id: str, model: str) -> dict[str, Any]:
    return usage_row(time.time(), request_id, key_id, "openai_chat", (model, "p", "u"), Usage(10, 5), 0.001, 1.0, 200, 1)


async def _spent_and_held(engine: AsyncEngine, key_id: str) -> tuple[float, float, int]:
    async with engine.connect() as conn:
        row = (await conn.execute(text("SELECT spent_usd, reserved_usd FROM api_keys WHERE id = :id"), {"id": key_id})).one()
        holds = (await conn.execute(text("SELECT COUNT(*) FROM budget_holds WHERE key_id = :id"), {"id": key_id})).scalar_one()
    return round(float(row.spent_usd), 9), round(float(row.reserved_usd), 9), int(holds)


async def test_budget_holds_are_reserved_settled_once_and_expire(engine: AsyncEngine) -> None:
    _, key = await create_key(engine, "budgeted", budget_usd=1.0)
    first = await reserve(engine, key.id, 1.0, 0.6, 60)
    with pytest.raises(GatewayError) as refused:
        await reserve(engine, key.id, 1.0, 0.5, 60)  # 0.6 held + 0.5 > 1.0
    assert refused.value.status == 403 and "$0.6000 held by calls in flight" in refused.value.message
    second = await reserve(engine, key.id, 1.0, 0.4, 60)  # exactly the budget
    assert await _spent_and_held(engine, key.id) == (0.0, 1.0, 2)
    writer = UsageWriter(engine)
    models = ("m", "p", "u")
    writer.add(usage_row(time.time(), "r1", key.id, "openai", models, Usage(1, 1), 0.25, 1.0, 200, 1), first)
    writer.release(second)
    writer.release(second)  # released twice: given back once
    await writer.flush()
    assert await _spent_and_held(engine, key.id) == (0.25, 0.0, 0), "the cost replaced the hold in one transaction"
    assert writer.unflushed_cost == {}
    lost = await reserve(engine, key.id, 1.0, 0.7, -1)  # its instance died: the hold has expired
    assert await release_expired(engine) == 1 and await release_expired(engine) == 0
    assert await _spent_and_held(engine, key.id) == (0.25, 0.0, 0)
    async with engine.begin() as conn:
        await release(conn, [lost])  # the late settlement of an expired hold gives nothing back twice
    assert await _spent_and_held(engine, key.id) == (0.25, 0.0, 0)


async def test_upstream_objects_belong_to_one_key_and_are_recorded_once(engine: AsyncEngine) -> None:
    run = f"{time.time_ns()}"  # PostgreSQL's database is shared by the session's tests
    ids = [f"file-{run}-1", f"file-{run}-2"]
    assert await upstream_objects.remember(engine, "file", ids, "up", "key_a") == ids
    assert await upstream_objects.remember(engine, "file", [ids[1], f"file-{run}-3"], "up", "key_a") == [f"file-{run}-3"]
    assert await upstream_objects.remember(engine, "file", ids, "up", "key_b") == []  # an id is never handed to a second key
    assert await upstream_objects.remember(engine, "file-billed", ids[:1], "up", "key_a") == ids[:1]  # another kind, same id
    assert await upstream_objects.holder(engine, "file", ids[0], "key_a") == "up"
    assert await upstream_objects.holder(engine, "file", ids[0], "key_b") is None
    assert await upstream_objects.holder(engine, "batch", ids[0], "key_a") is None
    assert await upstream_objects.owned(engine, "file", [*ids, "file-other"], "up", "key_a") == set(ids)
    assert await upstream_objects.owned(engine, "file", ids, "elsewhere", "key_a") == set()
    await upstream_objects.forget(engine, "file", ids[0], "up")
    assert await upstream_objects.holder(engine, "file", ids[0], "key_a") is None
    assert await upstream_objects.holder(engine, "file", ids[1], "key_a") == "up"
    assert await upstream_objects.owned(engine, "file-billed", ids, "up", "key_a") == {ids[0]}


async def test_racing_records_of_one_object_record_it_once(engine: AsyncEngine) -> None:
    job = f"run_{time.time_ns()}"
    results = await asyncio.gather(*(upstream_objects.remember(engine, "run-billed", [job], "up", "key_a") for _ in range(5)))
    assert sorted(results) == [[], [], [], [], [job]]


def test_the_head_revision_is_the_migration_no_other_revises_and_each_file_names_its_revision() -> None:
    import ast
    from pathlib import Path

    from anygate.store.database import head_revision

    versions = Path("anygate/store/migrations/versions")
    revises: dict[str, str | None] = {}
    for path in versions.glob("*.py"):
        values = {
            node.targets[0].id: ast.literal_eval(node.value)
            for node in ast.parse(path.read_text()).body
            if isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Name)
        }
        assert values["revision"] == path.name.partition("_")[0], path.name
        revises[values["revision"]] = values["down_revision"]
    (head,) = set(revises) - set(revises.values())
    assert head_revision() == head and len(revises) >= 14


async def test_a_schema_behind_the_newest_migration_is_brought_to_it(database_url: str) -> None:
    from anygate.store.database import head_revision

    engine = create_engine(database_url)
    try:
        await migrate(engine)
        async with engine.begin() as conn:
            await conn.execute(text("UPDATE alembic_version SET version_num = '0013'"))
            await conn.execute(text("ALTER TABLE usage_records DROP COLUMN detail"))
        await migrate(engine)  # behind: upgraded, the column back
        async with engine.connect() as conn:
            assert (await conn.execute(text("SELECT version_num FROM alembic_version"))).scalar() == head_revision()
            await conn.execute(text("SELECT detail FROM usage_records LIMIT 1"))
    finally:
        await engine.dispose()
