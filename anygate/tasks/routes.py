"""What every task route does, whatever its family: submit a task for the caller's key, find one of its tasks."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.tasks.contract import TaskView
from anygate.tasks.store import find_task, view
from anygate.tasks.targets import TaskTarget


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
) -> TaskView:
    """Check the callback URL and the key's limits, then submit: the stored task's view."""
    if callback_url is not None and not isinstance(callback_url, str):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "the callback URL must be a string", param="callback_url")
    tasks = call.gateway.tasks
    await tasks.check_callback(callback_url or None)
    await admit(call, body)
    return await tasks.submit(call.key, family, kind, target, body, upstream_body(target), callback_url or None)


async def load_task(call: Call, task_id: str, families: tuple[str, ...], kind: str | None = None) -> TaskView:
    """The caller's task `task_id` made through one of `families` (and of `kind`, when given); 404 for anything else."""
    row = await find_task(call.gateway.engine, task_id, call.key.id)
    if row is None or row.family not in families or (kind is not None and row.kind != kind):
        raise GatewayError(ErrorKind.NOT_FOUND, f"No task with id '{task_id}'", param="task_id")
    return view(row)
