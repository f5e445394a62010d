"""What every task route does, whatever its family: submit a task for the caller's key, find one of its tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import orjson
from sqlalchemy.exc import IntegrityError

from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.tasks.contract import FINISHED, TaskState, TaskView
from anygate.tasks.store import find_by_idempotency_key, find_task, view
from anygate.tasks.targets import TaskTarget

MAX_IDEMPOTENCY_KEY = 255


def idempotency_key(request: web.Request) -> str | None:
    """The client's `Idempotency-Key` header, if it sent one."""
    return request.headers.get("Idempotency-Key")


def resolve(call: Call, model: Any, *kinds: str, param: str = "model") -> TaskTarget:
    """The target for a task of one of `kinds` on `model`; 400 when the body names no model."""
    if not isinstance(model, str) or not model:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"'{param}' is required", param=param)
    return call.gateway.tasks.models.resolve(model, call.key, *kinds)


async def submit_task(
    call: Call,
    family: str,
    kind: str,
    target: TaskTarget,
    body: dict[str, Any],
    upstream_body: Callable[[TaskTarget], dict[str, Any]],
    callback_url: Any = None,
    idempotency_key: str | None = None,
) -> TaskView:
    """Check the callback URL and the key's limits, then submit: the stored task's view. A request that
    repeats an `Idempotency-Key` of the caller's gets the task the first one made (nothing new is
    submitted or charged)."""
    if callback_url is not None and not isinstance(callback_url, str):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "the callback URL must be a string", param="callback_url")
    tasks = call.gateway.tasks
    if idempotency_key is not None:
        if not 0 < len(idempotency_key) <= MAX_IDEMPOTENCY_KEY:
            raise GatewayError(
                ErrorKind.INVALID_REQUEST,
                f"Idempotency-Key must be 1 to {MAX_IDEMPOTENCY_KEY} characters",
                param="Idempotency-Key",
            )
        if (first := await _first_task(call, idempotency_key, family, kind, body)) is not None:
            return first
    await tasks.check_callback(callback_url or None)
    await admit(call, body)
    try:
        return await tasks.submit(
            call.key, family, kind, target, body, upstream_body(target), callback_url or None, idempotency_key
        )
    except IntegrityError:  # the same key, sent twice at once: the other request made the task
        first = await _first_task(call, str(idempotency_key), family, kind, body)
        if first is None:
            raise
        return first


async def _first_task(call: Call, idempotency_key: str, family: str, kind: str, body: dict[str, Any]) -> TaskView | None:
    """The task an earlier request with this Idempotency-Key made, or None; 400 when that request
    was another, 409 while its submit is still under way."""
    row = await find_by_idempotency_key(call.gateway.engine, call.key.id, idempotency_key)
    if row is None:
        return None
    if (row.family, row.kind) != (family, kind) or orjson.loads(row.request) != body:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST,
            "This Idempotency-Key was used for another request: a key names one request, with the same body",
            param="Idempotency-Key",
            code="idempotency_key_reused",
        )
    if not row.upstream_id and TaskState(row.state) not in FINISHED:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST,
            "A request with this Idempotency-Key is still being submitted; retry in a few seconds",
            status=409,
            param="Idempotency-Key",
            code="idempotency_key_in_use",
            headers={"Retry-After": "2"},
        )
    return view(row)


async def load_task(call: Call, task_id: str, families: tuple[str, ...], kind: str | None = None) -> TaskView:
    """The caller's task `task_id` made through one of `families` (and of `kind`, when given); 404 for anything else."""
    row = await find_task(call.gateway.engine, task_id, call.key.id)
    if row is None or row.family not in families or (kind is not None and row.kind != kind):
        raise GatewayError(ErrorKind.NOT_FOUND, f"No task with id '{task_id}'", param="task_id")
    return view(row)
