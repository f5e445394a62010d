"""Tasks and webhook deliveries in the database: recorded before the upstream is asked (an intent, with
no upstream id yet), claimed with leases so that one instance at a time works on each (SKIP LOCKED on
PostgreSQL; SQLite has one writer), renewed while the work goes on, settled or released exactly once."""

from __future__ import annotations

import asyncio
import logging
import time
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager, suppress
from dataclasses import dataclass
from typing import Any

import orjson
from sqlalchemy import Select, case, delete, func, insert, select, update
from sqlalchemy.ext.asyncio import AsyncConnection, AsyncEngine
from sqlalchemy.orm import aliased

from anygate.metering.budget import Hold, release
from anygate.store.tables import ApiKey, Task, UsageRecord, WebhookDelivery
from anygate.tasks.contract import FINISHED, TaskState, TaskStatus, TaskView

log = logging.getLogger(__name__)


def view(row: Any) -> TaskView:
    """The TaskView of a `tasks` row."""
    return TaskView(
        id=row.id,
        kind=row.kind,
        public_model=row.public_model,
        provider=row.provider,
        upstream_id=row.upstream_id,
        state=TaskState(row.state),
        upstream_status=row.upstream_status,
        progress=row.progress,
        request=orjson.loads(row.request),
        result=orjson.loads(row.result) if row.result else None,
        error=row.error,
        created_at=row.created_at,
        updated_at=row.updated_at,
    )


async def insert_task(engine: AsyncEngine, row: dict[str, Any]) -> None:
    """Store a new task (committed when this returns); IntegrityError when the key already has a task
    with the row's idempotency key."""
    async with engine.begin() as conn:
        await conn.execute(insert(Task).values(**row))


async def submitted(engine: AsyncEngine, task_id: str, values: dict[str, Any]) -> bool:
    """Turn an intent into a task the upstream knows: its upstream id and first status, lease let go.
    False when the intent was reconciled meanwhile (its lease lapsed while the submit ran: the database
    did not take the renewals), which then stands."""
    async with engine.begin() as conn:
        query = update(Task).where(Task.id == task_id, Task.upstream_id == "", Task.polls == 0)
        return bool((await conn.execute(query.values(lease_until=0.0, **values))).rowcount)


async def forget_intent(engine: AsyncEngine, task_id: str, hold: Hold | None) -> None:
    """Drop an intent whose submit the upstream refused, and give its hold back, in one transaction."""
    async with engine.begin() as conn:
        await conn.execute(delete(Task).where(Task.id == task_id, Task.upstream_id == ""))
        if hold is not None:
            await release(conn, [hold])


async def find_by_idempotency_key(engine: AsyncEngine, key_id: str, idempotency_key: str) -> Any:
    """The key's task created with `idempotency_key`, or None."""
    query = select(Task.__table__).where(Task.key_id == key_id, Task.idempotency_key == idempotency_key)
    async with engine.connect() as conn:
        return (await conn.execute(query)).first()


async def find_task(engine: AsyncEngine, task_id: str, key_id: str) -> Any:
    """The row of the key's task `task_id`, or None (another key's tasks do not exist for it)."""
    async with engine.connect() as conn:
        return (await conn.execute(select(Task.__table__).where(Task.id == task_id, Task.key_id == key_id))).first()


def _claimable(query: Select[Any], engine: AsyncEngine) -> Select[Any]:
    return query.with_for_update(skip_locked=True) if engine.dialect.name == "postgresql" else query


Leased = type[Task] | type[WebhookDelivery]


async def _lease(conn: AsyncConnection, table: Leased, due: Select[Any], until: float) -> list[str]:
    """The ids `due` selects, leased until `until` in the caller's transaction."""
    ids = [r[0] for r in await conn.execute(due)]
    if ids:
        await conn.execute(update(table).where(table.id.in_(ids)).values(lease_until=until))
    return ids


@asynccontextmanager
async def held(engine: AsyncEngine, table: Leased, ids: list[str], lease: float) -> AsyncIterator[None]:
    """Keep renewing the leases on `ids` (a third of the way through each) while the body runs, so a
    slow poll, submit or delivery keeps its claim and a dead instance's lapses within `lease` seconds.
    A lease the work let go of (0) is not taken up again."""

    async def renew() -> None:
        while True:
            await asyncio.sleep(lease / 3)
            try:
                async with engine.begin() as conn:
                    query = update(table).where(table.id.in_(ids), table.lease_until > 0)
                    await conn.execute(query.values(lease_until=time.time() + lease))
            except Exception:  # the database is away: the leases may lapse, the work is then done again
                log.warning("renewing the leases of %d %s failed", len(ids), table.__tablename__, exc_info=True)

    renewing = asyncio.create_task(renew())
    try:
        yield
    finally:
        renewing.cancel()
        with suppress(asyncio.CancelledError):
            await renewing


def _due_at(providers: list[str]) -> Any:
    """When an unfinished task is next the business of an instance with these providers: its next poll
    if it runs on one of them, else its deadline (instances configured otherwise poll it until then);
    never while another instance holds its lease."""
    when = case((Task.provider.in_(providers), Task.next_poll_at), else_=Task.deadline_at)
    return case((Task.lease_until > when, Task.lease_until), else_=when)


async def claim_tasks(engine: AsyncEngine, providers: list[str], lease: float, limit: int = 20) -> list[Any]:
    """Unfinished tasks due for a poll by an instance with these providers, leased to the caller."""
    now = time.time()
    due = _claimable(
        select(Task.id)
        .where(
            Task.state.in_([TaskState.PENDING.value, TaskState.RUNNING.value]),
            Task.lease_until < now,
            (Task.provider.in_(providers) & (Task.next_poll_at <= now)) | (Task.deadline_at <= now),
        )
        .order_by(Task.next_poll_at)
        .limit(limit),
        engine,
    )
    async with engine.begin() as conn:
        ids = await _lease(conn, Task, due, now + lease)
        return list(await conn.execute(select(Task.__table__).where(Task.id.in_(ids)))) if ids else []


async def next_poll_at(engine: AsyncEngine, providers: list[str]) -> float | None:
    """When the soonest unfinished task is next due a poll by an instance with these providers, or None."""
    query = select(func.min(_due_at(providers))).where(Task.state.in_([TaskState.PENDING.value, TaskState.RUNNING.value]))
    async with engine.connect() as conn:
        soonest = (await conn.execute(query)).scalar_one()
    return float(soonest) if soonest is not None else None


@dataclass(slots=True)
class Outcome:
    """What one poll decided: the new status and result, when to look again, the webhooks to send (and
    the upstream id of a cut-off submit, when the upstream found it)."""

    status: TaskStatus
    result: dict[str, Any] | None
    next_poll_at: float
    webhooks: list[dict[str, Any]]
    upstream_id: str | None = None


async def record_poll(engine: AsyncEngine, task: Any, outcome: Outcome, usage: dict[str, Any] | None) -> None:
    """Store a poll's outcome, its webhooks, and (when the task ends) its billing, in one transaction:
    a finished task's reservation is settled (a usage record, the key's spend) or released once."""
    status = outcome.status
    now = time.time()
    values: dict[str, Any] = {
        "state": status.state.value,
        "upstream_status": status.upstream_status,
        "progress": status.progress,
        "error": status.error,
        "polls": Task.polls + 1,
        "updated_at": now,
        "next_poll_at": outcome.next_poll_at,
        "lease_until": 0.0,
    }
    if outcome.result is not None:
        values["result"] = orjson.dumps(outcome.result).decode()
    if outcome.upstream_id is not None:
        values["upstream_id"] = outcome.upstream_id
    async with engine.begin() as conn:
        await conn.execute(update(Task).where(Task.id == task.id).values(**values))
        if outcome.webhooks:
            await conn.execute(insert(WebhookDelivery), outcome.webhooks)
        if status.state in FINISHED:
            await _bill(conn, task, status.state is TaskState.SUCCEEDED, usage)


async def _bill(conn: AsyncConnection, task: Any, succeeded: bool, usage: dict[str, Any] | None) -> None:
    billing = "settled" if succeeded else "released"
    done = await conn.execute(update(Task).where(Task.id == task.id, Task.billing == "reserved").values(billing=billing))
    if done.rowcount != 1:
        return  # already billed by an earlier poll
    await release(conn, [Hold(task.id, task.key_id, float(task.cost_usd or 0.0))])  # the price held since the submit
    if not succeeded or usage is None:
        return  # nothing to charge
    await conn.execute(insert(UsageRecord).values(**usage))
    if usage["cost_usd"]:
        await conn.execute(update(ApiKey).where(ApiKey.id == task.key_id).values(spent_usd=ApiKey.spent_usd + usage["cost_usd"]))


async def claim_deliveries(engine: AsyncEngine, lease: float, limit: int = 20) -> list[Any]:
    """Webhook deliveries due for an attempt, leased to the caller, with the signing secret of their key.
    A task's events go in order: one waits while an earlier one of its task is still being retried."""
    now = time.time()
    earlier = aliased(WebhookDelivery)
    waits = (
        select(earlier.id)
        .where(
            earlier.task_id == WebhookDelivery.task_id,
            earlier.state == "pending",
            earlier.created_at < WebhookDelivery.created_at,
        )
        .exists()
    )
    due = _claimable(
        select(WebhookDelivery.id)
        .where(
            WebhookDelivery.state == "pending",
            WebhookDelivery.next_attempt_at <= now,
            WebhookDelivery.lease_until < now,
            ~waits,
        )
        .order_by(WebhookDelivery.next_attempt_at)
        .limit(limit),
        engine,
    )
    async with engine.begin() as conn:
        ids = await _lease(conn, WebhookDelivery, due, now + lease)
        if not ids:
            return []
        joined = (
            select(WebhookDelivery.__table__, ApiKey.webhook_secret)
            .join(ApiKey, ApiKey.id == WebhookDelivery.key_id)
            .where(WebhookDelivery.id.in_(ids))
        )
        return list(await conn.execute(joined))


async def record_attempt(engine: AsyncEngine, delivery_id: str, values: dict[str, Any]) -> None:
    """Store the outcome of one delivery attempt and release its lease."""
    async with engine.begin() as conn:
        await conn.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == delivery_id)
            .values(attempts=WebhookDelivery.attempts + 1, lease_until=0.0, **values)
        )


async def deliveries_of(engine: AsyncEngine, task_id: str) -> list[Any]:
    """The delivery log of a task, oldest first."""
    async with engine.connect() as conn:
        query = select(WebhookDelivery.__table__).where(WebhookDelivery.task_id == task_id)
        return list(await conn.execute(query.order_by(WebhookDelivery.created_at)))
