"""The AI music routes under /suno: every create route of the Suno API (a task, or answered at once)
and the record queries under /suno/query/{task,lyrics,vocal-removal,wav,mp4,cover}?taskId=.

`model` is a public model id; a request without one that names an earlier task (`taskId`, the
gateway's id) goes to that task's model and provider, whose own id replaces the gateway's; others go
to the first model that runs the route. `callBackUrl` is called by the gateway: `callbackType` text,
first and complete (and error), `task_id` and `data` at the top level as AnyInt's example shows.
"""

from __future__ import annotations

import re
from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage
from anygate.metering.record import record_failure, record_usage
from anygate.protocols.suno.validation import check_callback_url, check_song
from anygate.providers.suno.adapter import COVER_FLAGS, SYNC, TASKS, SunoProvider
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.json_body import read_json_object
from anygate.tasks.contract import TaskState, TaskStatus, TaskView
from anygate.tasks.routes import idempotency_key, load_task, resolve, submit_task
from anygate.tasks.targets import TaskTarget

FAMILY = "suno"
_STAGES = {"TEXT_SUCCESS": "text", "FIRST_SUCCESS": "first", "SUCCESS": "complete"}
_FLAGGED = {"wav", "mp4", "vocal-removal"}  # records whose state is `successFlag`, not `status`
_COVER_CODES = {word: code for code, word in COVER_FLAGS.items()}
_CAMEL = re.compile(r"(?<!^)(?=[A-Z])")


def _ok(data: Any, call: Call) -> web.Response:
    return web.json_response({"code": 200, "msg": "success", "data": data}, headers={"x-request-id": call.request_id})


async def _target_and_body(call: Call, kind: str, body: dict[str, Any]) -> tuple[TaskTarget, dict[str, Any]]:
    """The target for the request, and its body for the upstream (model and earlier task ids swapped)."""
    upstream = {k: v for k, v in body.items() if k != "callBackUrl"}
    reference = body.get("taskId")
    earlier: TaskView | None = None
    if reference is not None:
        if not isinstance(reference, str):
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'taskId' must be a string", param="taskId")
        earlier = await load_task(call, reference, (FAMILY,))
    model = body.get("model")
    if model is not None:
        target = resolve(call, model, kind)
    elif earlier is not None:
        target = call.gateway.tasks.models.resolve(earlier.public_model, call.key, kind)
    else:
        target = call.gateway.tasks.models.default(call.key, kind)
    if earlier is not None:
        if earlier.provider != target.provider.name:
            raise GatewayError(
                ErrorKind.INVALID_REQUEST, f"task '{reference}' was made by another model's provider", param="taskId"
            )
        upstream["taskId"] = earlier.upstream_id
    if "model" in upstream:
        upstream["model"] = target.model
    return target, upstream


def creator(route: str) -> Any:
    """The handler of one create route."""

    async def create(request: web.Request, call: Call) -> web.Response:
        body = await read_json_object(request)
        check_callback_url(body)
        target, upstream = await _target_and_body(call, route, body)
        check_song(route, body, target.model)
        if route in SYNC:
            unpriced = target.priced_for(route, 0.0)  # not a task: free unless the target prices the route
            await admit(call, body, [unpriced])
            provider = target.provider
            assert isinstance(provider, SunoProvider)
            try:
                answer = await provider.call(route, upstream)
            except GatewayError as err:
                record_failure(call, FAMILY, unpriced, err)
                raise
            record_usage(call, FAMILY, unpriced, Usage(), 200)
            return web.json_response(_scrubbed(answer, call.request_id), headers={"x-request-id": call.request_id})
        task = await submit_task(
            call, FAMILY, route, target, body, lambda _: upstream, body.get("callBackUrl"), idempotency_key(request)
        )
        return _ok({"taskId": task.id}, call)

    return create


def _scrubbed(answer: dict[str, Any], request_id: str) -> dict[str, Any]:
    """An answer of a route served at once, without what belongs to the upstream: its task id (the
    gateway's request id stands in) and the operator's credit balance."""
    data = answer.get("data")
    if not isinstance(data, dict):
        return answer
    data = {k: v for k, v in data.items() if k not in ("creditsConsumed", "creditsRemaining")}
    if "taskId" in data:
        data["taskId"] = request_id
    return {**answer, "data": data}


def querier(group: str) -> Any:
    """The handler of one record query."""

    async def query(request: web.Request, call: Call) -> web.Response:
        task_id = request.query.get("taskId")
        if not task_id:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'taskId' is required", param="taskId")
        task = await load_task(call, task_id, (FAMILY,))
        if TASKS[task.kind][1] != group:
            raise GatewayError(ErrorKind.NOT_FOUND, f"No {group} task with id '{task_id}'", param="taskId")
        return _ok(record(task), call)

    return query


def _word(task: TaskView) -> str:
    if task.state is TaskState.FAILED and not task.upstream_status.endswith(("FAILED", "ERROR", "EXCEPTION")):
        return "GENERATE_AUDIO_FAILED"  # failed by the gateway (deadline): Suno's word for a task that produced nothing
    return task.upstream_status


def record(task: TaskView) -> dict[str, Any]:
    """A task's record as record-info shows it, under the gateway's id."""
    upstream = task.result or {}
    data = dict(upstream["data"]) if isinstance(upstream.get("data"), dict) else {}
    data["taskId"] = task.id
    group = TASKS[task.kind][1]
    if group == "cover":  # a number, as Suno's cover record has it
        word = (
            _word(task)
            if task.state is not TaskState.FAILED or task.upstream_status.endswith("FAILED")
            else "GENERATE_COVER_FAILED"
        )
        data["successFlag"] = _COVER_CODES.get(word, 0)
    else:
        data["successFlag" if group in _FLAGGED else "status"] = _word(task)
    if isinstance(data.get("response"), dict) and "taskId" in data["response"]:
        data["response"] = {**data["response"], "taskId": task.id}
    if task.state is TaskState.FAILED:
        data["errorMessage"] = task.error
    return data


def _snake(value: Any) -> Any:
    if isinstance(value, dict):
        return {_CAMEL.sub("_", k).lower(): _snake(v) for k, v in value.items()}
    if isinstance(value, list):
        return [_snake(v) for v in value]
    return value


def _callback_data(task: TaskView, response: Any) -> Any:
    """What a finished stage's callback carries in `data`, in the shape the Suno API's callback of
    that route has: the tracks (snake_case), the lyrics, or the one result of a conversion."""
    found = response if isinstance(response, dict) else {}
    group = TASKS[task.kind][1]
    if group == "lyrics":
        return [{"error_message": "", **_snake(item)} for item in found.get("data") or [] if isinstance(item, dict)]
    if group == "wav":
        return {"audioWavUrl": found.get("audioWavUrl") or found.get("audio_wav_url"), "task_id": task.id}
    if group == "mp4":
        return {"video_url": found.get("videoUrl") or found.get("video_url"), "task_id": task.id}
    if group == "vocal-removal":
        return {
            "task_id": task.id,
            "vocal_removal_info": _snake(found.get("vocal_removal_info") or found.get("vocalRemovalInfo") or {}),
        }
    if group == "cover":
        return {"task_id": task.id, "images": found.get("images") or []}
    tracks = found.get("sunoData")
    return _snake(tracks) if isinstance(tracks, list) else []


class SunoTasks:
    """The callbacks of the music routes, as AnyInt publishes them: `callbackType` (text / first /
    complete, or error), `task_id` and `data` at the top level, beside the Suno API's `code` and
    `msg`; `data` holds what the Suno API's callback of that route holds."""

    name = FAMILY

    def events(self, task: TaskView, before: TaskStatus | None) -> list[tuple[str, dict[str, Any]]]:
        """The callback of the stage the task reached (stages the upstream skipped are skipped)."""
        if task.state is TaskState.FAILED:
            return [
                (
                    "error",
                    {
                        "code": 501,
                        "msg": task.error or "generation failed",
                        "callbackType": "error",
                        "task_id": task.id,
                        "data": None,
                    },
                )
            ]
        stage = _STAGES.get(task.upstream_status)
        if stage is None:
            return []
        message = "All generated successfully." if stage == "complete" else f"{stage} generation succeeded."
        data = _callback_data(task, record(task).get("response"))
        return [(stage, {"code": 200, "msg": message, "callbackType": stage, "task_id": task.id, "data": data})]
