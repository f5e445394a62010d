"""The admin view of tasks: a list, one task with its webhook delivery log, and a webhook retried by hand."""

from __future__ import annotations

from typing import Any

import orjson
from sqlalchemy import select, update

from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web
from anygate.server.call import Call
from anygate.store.tables import Task, WebhookDelivery
from anygate.tasks.store import deliveries_of

_LISTED = (
    "id",
    "key_id",
    "family",
    "kind",
    "public_model",
    "provider",
    "upstream_id",
    "state",
    "upstream_status",
    "progress",
    "polls",
    "cost_usd",
    "billing",
    "created_at",
    "updated_at",
    "error",
)


def _task(row: Any) -> dict[str, Any]:
    return {name: getattr(row, name) for name in _LISTED}


def _delivery(row: Any) -> dict[str, Any]:
    names = (
        "id",
        "event",
        "url",
        "state",
        "attempts",
        "last_status",
        "last_error",
        "created_at",
        "next_attempt_at",
        "delivered_at",
    )
    return {name: getattr(row, name) for name in names}


async def list_tasks(request: web.Request, call: Call) -> web.Response:
    """The newest tasks (up to `limit`, 100 by default), optionally of one `key_id` or `state`."""
    query = select(Task.__table__).order_by(Task.created_at.desc())
    if key_id := request.query.get("key_id"):
        query = query.where(Task.key_id == key_id)
    if state := request.query.get("state"):
        query = query.where(Task.state == state)
    try:
        limit = min(max(int(request.query.get("limit", "100")), 1), 1000)
    except ValueError:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'limit' must be an integer", param="limit") from None
    async with call.gateway.engine.connect() as conn:
        rows = list(await conn.execute(query.limit(limit)))
    return web.json_response({"object": "list", "data": [_task(r) for r in rows]})


async def _find(call: Call, task_id: str) -> Any:
    async with call.gateway.engine.connect() as conn:
        row = (await conn.execute(select(Task.__table__).where(Task.id == task_id))).first()
    if row is None:
        raise GatewayError(ErrorKind.NOT_FOUND, f"No task with id '{task_id}'")
    return row


async def show_task(request: web.Request, call: Call) -> web.Response:
    """One task: its record, its request and latest upstream answer, and its webhook deliveries."""
    row = await _find(call, request.match_info["task_id"])
    deliveries = await deliveries_of(call.gateway.engine, row.id)
    return web.json_response(
        {
            **_task(row),
            "callback_url": row.callback_url,
            "request": orjson.loads(row.request),
            "result": orjson.loads(row.result) if row.result else None,
            "webhooks": [_delivery(d) for d in deliveries],
        }
    )


async def retry_webhook(request: web.Request, call: Call) -> web.Response:
    """Send a delivery again, now (the same event id and body), whatever became of it."""
    row = await _find(call, request.match_info["task_id"])
    event_id = request.match_info["event_id"]
    async with call.gateway.engine.begin() as conn:
        done = await conn.execute(
            update(WebhookDelivery)
            .where(WebhookDelivery.id == event_id, WebhookDelivery.task_id == row.id)
            .values(state="pending", next_attempt_at=0.0, lease_until=0.0)
        )
    if done.rowcount != 1:
        raise GatewayError(ErrorKind.NOT_FOUND, f"No webhook '{event_id}' for task '{row.id}'")
    call.gateway.tasks.deliver_soon()
    return web.json_response({"id": event_id, "state": "pending"})
