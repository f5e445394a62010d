"""Kling's task routes under /transtreams/kling/v1: videos (text2video, image2video, omni-video) and
images (generations, omni-image), each with its query by task id. `model_name` (or `model`) is the
public model id; `callback_url` is kept by the gateway, which calls it on each change of
`task_status` with the task's `data`, as Kling does."""

from __future__ import annotations

from typing import Any

from anygate.providers.kling.adapter import IMAGE_KINDS, VIDEO_KINDS
from anygate.server import web
from anygate.server.call import Call
from anygate.server.json_body import read_json_object
from anygate.tasks.contract import TaskState, TaskStatus, TaskView
from anygate.tasks.routes import idempotency_key, load_task, resolve, submit_task
from anygate.tasks.targets import TaskTarget

FAMILY = "kling"
_WORDS = {
    TaskState.PENDING: "submitted",
    TaskState.RUNNING: "processing",
    TaskState.SUCCEEDED: "succeed",
    TaskState.FAILED: "failed",
}


def _envelope(data: dict[str, Any], request_id: str) -> dict[str, Any]:
    return {"code": 0, "message": "SUCCEED", "request_id": request_id, "data": data}


def task_data(task: TaskView) -> dict[str, Any]:
    """A task's `data` as Kling's query shows it, under the gateway's id and state."""
    upstream = task.result or {}
    data = dict(upstream["data"]) if isinstance(upstream.get("data"), dict) else {}
    data.update(
        task_id=task.id,
        task_status=_WORDS[task.state],
        created_at=data.get("created_at", int(task.created_at * 1000)),
        updated_at=int(task.updated_at * 1000),
    )
    if task.state is TaskState.FAILED:
        data["task_status_msg"] = task.error or data.get("task_status_msg", "")
    return data


def submitter(kind: str) -> Any:
    """The handler that starts a task of `kind`."""

    async def submit(request: web.Request, call: Call) -> web.Response:
        body = await read_json_object(request)
        model = body.get("model_name", body.get("model"))
        target = resolve(call, model, kind, param="model_name")

        def upstream(t: TaskTarget) -> dict[str, Any]:
            kept = {k: v for k, v in body.items() if k not in ("callback_url", "model")}
            return kept | {"model_name": t.model}

        task = await submit_task(call, FAMILY, kind, target, body, upstream, body.get("callback_url"), idempotency_key(request))
        return web.json_response(_envelope(task_data(task), call.request_id), headers={"x-request-id": call.request_id})

    return submit


def querier(kind: str) -> Any:
    """The handler that reads a task of `kind`."""

    async def query(request: web.Request, call: Call) -> web.Response:
        task = await load_task(call, request.match_info["task_id"], (FAMILY,), kind)
        return web.json_response(_envelope(task_data(task), call.request_id), headers={"x-request-id": call.request_id})

    return query


class KlingTasks:
    """Kling's callbacks: the task's `data`, on each change of `task_status`."""

    name = FAMILY

    def events(self, task: TaskView, before: TaskStatus | None) -> list[tuple[str, dict[str, Any]]]:
        """One event named after the new status."""
        return [(_WORDS[task.state], task_data(task))]


ROUTES = [(f"videos/{kind}", kind) for kind in VIDEO_KINDS] + [(f"images/{kind}", kind) for kind in IMAGE_KINDS]
