"""OpenAI's Videos API over the task providers: POST /openai/v1/videos starts a Kling or DashScope
task (translated), GET /openai/v1/videos/{id} shows it as a video object, GET …/content streams the
finished video through. With `callback_url` the gateway POSTs `video.completed` / `video.failed`
events in the shape of OpenAI's webhooks."""

from __future__ import annotations

import asyncio
import base64
import re
import secrets
import time
from typing import Any

import aiohttp
from aiohttp.http_exceptions import HttpProcessingError

from anygate.core.errors import ErrorKind, GatewayError
from anygate.providers import declared_kinds
from anygate.providers.base import MakesVideos, VideoAsk
from anygate.server import web
from anygate.server.call import Call
from anygate.server.json_body import MAX_BODY_BYTES, read_json_object
from anygate.server.streaming import ClientGone, start, write
from anygate.tasks.contract import TaskState, TaskStatus, TaskView
from anygate.tasks.routes import idempotency_key, load_task, resolve, submit_task

FAMILY = "openai-video"
_STATUS = {
    TaskState.PENDING: "queued",
    TaskState.RUNNING: "in_progress",
    TaskState.SUCCEEDED: "completed",
    TaskState.FAILED: "failed",
}
MAX_SECONDS = 120  # longer than any video model makes in one task
_FETCH_TIMEOUT = aiohttp.ClientTimeout(total=None, connect=10, sock_read=60)


def _seconds(body: dict[str, Any]) -> int:
    value = body.get("seconds", body.get("duration", 5))
    try:
        seconds = int(value)
    except (TypeError, ValueError, OverflowError):
        seconds = 0
    if isinstance(value, bool) or not 1 <= seconds <= MAX_SECONDS:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"'seconds' must be a whole number from 1 to {MAX_SECONDS}", param="seconds"
        )
    return seconds


_LAST_FRAME = {"last_frame", "end_frame", "last", "end", "tail"}


def _image(body: dict[str, Any]) -> str | None:
    image = body.get("image") or body.get("input_reference")
    return image if isinstance(image, str) else None


def _frames(body: dict[str, Any]) -> tuple[str | None, str | None]:
    """The first and last frames a request asks for: `frame_images` entries (`url` or `image_url`, with
    a `role` or `frame_type` of first_frame or last_frame; an entry without one is the first frame),
    else `image` / `input_reference` as the first."""
    first, last = None, None
    frames = body.get("frame_images")
    if frames is not None and not isinstance(frames, list):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'frame_images' must be an array of {url, role}", param="frame_images")
    for i, frame in enumerate(frames or []):
        url = frame.get("url", frame.get("image_url")) if isinstance(frame, dict) else None
        if not isinstance(url, str) or not url:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"frame_images[{i}].url is required", param="frame_images")
        role = str(frame.get("role") or frame.get("frame_type") or "first_frame").lower()
        if role in _LAST_FRAME:
            last = url
        else:
            first = first or url
    return first or _image(body), last


async def _read_body(request: web.Request) -> dict[str, Any]:
    """The body as JSON, or as the multipart form the `openai` SDK sends (a file `input_reference`
    becomes a data URL)."""
    if request.content_type not in ("multipart/form-data", "application/x-www-form-urlencoded"):
        return await read_json_object(request)
    body: dict[str, Any] = {}
    try:
        form = await asyncio.wait_for(request.post(), request.body_timeout)
    except TimeoutError:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, "The request body did not arrive in time", status=408, headers={"Connection": "close"}
        ) from None
    except web.BodyTooLarge:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST,
            f"The request body is larger than the gateway takes ({MAX_BODY_BYTES // 2**20} MB)",
            status=413,
        ) from None
    except (ValueError, AssertionError, HttpProcessingError) as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"The form body cannot be read: {str(exc).strip()[:200]}") from None
    for name, value in form.items():
        if isinstance(value, web.FileField):
            data = base64.b64encode(value.file.read()).decode()
            body[name] = f"data:{value.content_type or 'image/png'};base64,{data}"
        elif (nested := _ARRAY_FIELD.fullmatch(name)) is not None:
            _add_to_array(body, nested.group(1), nested.group(2), value)
        else:
            body[name] = value
    return body


_ARRAY_FIELD = re.compile(r"([A-Za-z_]+)\[\](?:\[([A-Za-z_]+)\])?")  # name[] or name[][key], as the SDK sends arrays in a form


def _add_to_array(body: dict[str, Any], name: str, key: str | None, value: Any) -> None:
    """One form field of an array: `name[]` adds an item; the n-th `name[][key]` sets `key` on the n-th
    object (the SDK sends every item's first key, then every item's second, …)."""
    items = body.setdefault(name, [])
    if not isinstance(items, list):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"'{name}' is sent both as a value and as an array", param=name)
    if key is None:
        items.append(value)
        return
    index = next((i for i, item in enumerate(items) if isinstance(item, dict) and key not in item), len(items))
    if index == len(items):
        items.append({})
    items[index][key] = value


async def create_video(request: web.Request, call: Call) -> web.Response:
    """Start a video task on the model's Kling or DashScope target."""
    body = await _read_body(request)
    if not isinstance(body.get("prompt"), str) or not body["prompt"]:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'prompt' is required", param="prompt")
    first, last = _frames(body)
    ask = VideoAsk(body, body["prompt"], _seconds(body), str(body.get("size", "1280x720")), first, last)
    target = resolve(call, body.get("model"), *declared_kinds("video_kinds"))
    provider = target.provider
    if not isinstance(provider, MakesVideos):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"The model '{target.public_model}' does not make videos", param="model")
    kind, upstream = provider.video_task(ask, target.model, target.kinds)
    if kind not in target.kinds:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"The model '{target.public_model}' does not run '{kind}' tasks", param="model"
        )
    task = await submit_task(
        call, FAMILY, kind, target.priced_for(kind), body, lambda _: upstream, body.get("callback_url"), idempotency_key(request)
    )
    return web.json_response(video_object(task), headers={"x-request-id": call.request_id})


async def get_video(request: web.Request, call: Call) -> web.Response:
    """A video task as OpenAI's video object."""
    task = await load_task(call, request.match_info["video_id"], (FAMILY,))
    return web.json_response(video_object(task), headers={"x-request-id": call.request_id})


async def video_content(request: web.Request, call: Call) -> web.StreamResponse:
    """The finished video, streamed through from the upstream's asset URL."""
    task = await load_task(call, request.match_info["video_id"], (FAMILY,))
    url = asset_url(task.result or {})
    if task.state is not TaskState.SUCCEEDED or url is None:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"Video '{task.id}' is not completed (status {_STATUS[task.state]})")
    upstream = await call.gateway.outbound.open_asset(
        url, "video", allow_private=call.gateway.settings.fetch_allow_private, timeout=_FETCH_TIMEOUT
    )
    try:
        response = await start(request, call, upstream.content_type or "video/mp4")
        try:
            async for chunk in upstream.content.iter_chunked(256 * 1024):
                await write(response, chunk)
            await response.write_eof()
        except ClientGone:
            pass
        return response
    finally:
        upstream.release()


def asset_url(result: dict[str, Any]) -> str | None:
    """The video URL in a Kling query (`data.task_result.videos[0].url`) or a DashScope one (`output.video_url`)."""
    data = result.get("data")
    videos = (
        data.get("task_result", {}).get("videos")
        if isinstance(data, dict) and isinstance(data.get("task_result"), dict)
        else None
    )
    if isinstance(videos, list) and videos and isinstance(videos[0], dict) and isinstance(videos[0].get("url"), str):
        return str(videos[0]["url"])
    output = result.get("output")
    url = output.get("video_url") if isinstance(output, dict) else None
    return url if isinstance(url, str) else None


def video_object(task: TaskView) -> dict[str, Any]:
    """OpenAI's video object for a task."""
    request = task.request
    finished = task.state in (TaskState.SUCCEEDED, TaskState.FAILED)
    return {
        "id": task.id,
        "object": "video",
        "model": task.public_model,
        "status": _STATUS[task.state],
        "progress": task.progress,
        "created_at": int(task.created_at),
        "completed_at": int(task.updated_at) if finished else None,
        "expires_at": None,
        "prompt": request.get("prompt"),
        "seconds": str(request.get("seconds", request.get("duration", 5))),
        "size": str(request.get("size", "1280x720")),
        "remixed_from_video_id": None,
        "error": {"code": "video_generation_failed", "message": task.error or "failed"}
        if task.state is TaskState.FAILED
        else None,
    }


class VideoTasks:
    """OpenAI-style webhooks: `video.completed` or `video.failed`, naming the video."""

    name = FAMILY

    def events(self, task: TaskView, before: TaskStatus | None) -> list[tuple[str, dict[str, Any]]]:
        """An event when the video is done, one way or the other."""
        if task.state not in (TaskState.SUCCEEDED, TaskState.FAILED):
            return []
        kind = "video.completed" if task.state is TaskState.SUCCEEDED else "video.failed"
        event = {
            "id": "evt_" + secrets.token_hex(12),
            "object": "event",
            "created_at": int(time.time()),
            "type": kind,
            "data": {"id": task.id},
        }
        return [(kind, event)]
