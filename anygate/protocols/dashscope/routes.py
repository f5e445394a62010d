"""DashScope's routes: image generation (answered at once), video synthesis (a task) and task queries.

A video task's body may carry `callback_url` (the gateway's addition; DashScope itself has none): each
change of `task_status` is then POSTed there, in the shape of the task query.
"""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage
from anygate.metering.record import record_failure, record_usage
from anygate.providers.dashscope.adapter import IMAGE, VIDEO, DashScopeProvider
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.json_body import read_json_object
from anygate.tasks.contract import TaskState, TaskStatus, TaskView
from anygate.tasks.routes import idempotency_key, load_task, resolve, submit_task
from anygate.tasks.targets import TaskTarget

FAMILY = "dashscope"
_WORDS = {"PENDING", "RUNNING", "SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"}


def _json(data: dict[str, Any], call: Call) -> web.Response:
    return web.json_response(data, headers={"x-request-id": call.request_id})


async def image_generation(request: web.Request, call: Call) -> web.Response:
    """Synchronous image generation, relayed with the model swapped; billed at the target's task price."""
    body = await read_json_object(request)
    target = resolve(call, body.get("model"), IMAGE)
    await admit(call, body, [target])
    provider = target.provider
    assert isinstance(provider, DashScopeProvider)
    try:
        answer = await provider.generate({**body, "model": target.model})
    except GatewayError as err:
        record_failure(call, FAMILY, target, err)
        raise
    record_usage(call, FAMILY, target, Usage(), 200)
    return _json({**answer, "request_id": call.request_id}, call)  # the gateway's id, as on every answer


async def video_synthesis(request: web.Request, call: Call) -> web.Response:
    """Start a video task; answers the gateway's task id."""
    body = await read_json_object(request)
    target = resolve(call, body.get("model"), VIDEO)
    if not isinstance(body.get("input"), dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'input' must be an object", param="input")

    def upstream(t: TaskTarget) -> dict[str, Any]:
        return {k: v for k, v in body.items() if k != "callback_url"} | {"model": t.model}

    task = await submit_task(call, FAMILY, VIDEO, target, body, upstream, body.get("callback_url"), idempotency_key(request))
    return _json({"request_id": call.request_id, "output": {"task_id": task.id, "task_status": _word(task)}}, call)


async def get_task(request: web.Request, call: Call) -> web.Response:
    """A task as DashScope's query shows it, with the gateway's id; an id this key has no task by is
    `UNKNOWN` (200), as DashScope answers for unknown and expired ids."""
    task_id = request.match_info["task_id"]
    try:
        task = await load_task(call, task_id, (FAMILY,))
    except GatewayError as err:
        if err.kind is not ErrorKind.NOT_FOUND:
            raise
        return _json({"request_id": call.request_id, "output": {"task_id": task_id, "task_status": "UNKNOWN"}}, call)
    return _json(task_body(task, call.request_id), call)


def _word(task: TaskView) -> str:
    if task.upstream_status in _WORDS:
        return task.upstream_status
    return {TaskState.SUCCEEDED: "SUCCEEDED", TaskState.FAILED: "FAILED", TaskState.RUNNING: "RUNNING"}.get(task.state, "PENDING")


def task_body(task: TaskView, request_id: str) -> dict[str, Any]:
    """The query answer of a task: the upstream's latest, under the gateway's id and state."""
    upstream = task.result or {}
    output = dict(upstream["output"]) if isinstance(upstream.get("output"), dict) else {}
    output.update(task_id=task.id, task_status=_word(task))
    if task.state is TaskState.FAILED and task.error and "message" not in output:
        output.update(code="TaskFailed", message=task.error)
    body: dict[str, Any] = {"request_id": request_id, "output": output}
    if isinstance(upstream.get("usage"), dict):
        body["usage"] = upstream["usage"]
    return body


class DashScopeTasks:
    """DashScope's webhooks: the task query body, on every change of `task_status`."""

    name = FAMILY

    def events(self, task: TaskView, before: TaskStatus | None) -> list[tuple[str, dict[str, Any]]]:
        """One event named after the new status."""
        return [(_word(task).lower(), task_body(task, task.id))]
