"""Calls to DashScope: synchronous image generation, asynchronous video synthesis and task queries.

Video synthesis is only asynchronous over HTTP: the call carries `X-DashScope-Async: enable` and
answers `output.task_id`; `GET /tasks/{id}` answers `output.task_status` (PENDING, RUNNING,
SUCCEEDED, FAILED, CANCELED, UNKNOWN) and, once it succeeded, `output.video_url`.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from anygate.config import ProviderConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.providers.base import VideoAsk
from anygate.providers.http import HttpUpstream
from anygate.tasks.contract import Polled, Submitted, TaskState, TaskStatus

DEFAULT_BASE_URL = "https://dashscope-intl.aliyuncs.com/api/v1"
VIDEO = "video-synthesis"
IMAGE = "image-generation"  # synchronous: answered at once, never a task
_PATHS = {VIDEO: "/services/aigc/video-generation/video-synthesis", IMAGE: "/services/aigc/multimodal-generation/generation"}
_STATES = {
    "PENDING": TaskState.PENDING,
    "RUNNING": TaskState.RUNNING,
    "SUCCEEDED": TaskState.SUCCEEDED,
    "FAILED": TaskState.FAILED,
    "CANCELED": TaskState.FAILED,
    "UNKNOWN": TaskState.FAILED,
}


def task_status(answer: dict[str, Any]) -> TaskStatus:
    """What a DashScope task answer (submit or query) says of the task."""
    output: dict[str, Any] = answer["output"] if isinstance(answer.get("output"), dict) else {}
    word = str(output.get("task_status") or "PENDING")
    state = _STATES.get(word, TaskState.RUNNING)
    error = None
    if state is TaskState.FAILED:
        error = str(output.get("message") or output.get("code") or f"the task ended {word}")
    if state is TaskState.SUCCEEDED and not output.get("video_url") and not output.get("results"):
        state, error = TaskState.FAILED, "the task succeeded without an asset URL"
    progress = 100 if state is TaskState.SUCCEEDED else (50 if state is TaskState.RUNNING else 0)
    return TaskStatus(state, word, progress, error)


class DashScopeProvider:
    """One configured DashScope upstream: Bearer key on every call."""

    kinds = frozenset({VIDEO, IMAGE})
    image_kinds = frozenset({IMAGE})  # how it answers OpenAI's images API
    video_kinds = frozenset({VIDEO})  # and its videos API

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._upstream = HttpUpstream(name, config, http, headers)
        self._base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")

    async def generate(self, body: dict[str, Any]) -> dict[str, Any]:
        """Synchronous image generation: the upstream's answer as it came."""
        return await self._upstream.call_json("POST", self._base + _PATHS[IMAGE], body)

    async def draw_images(self, body: dict[str, Any], upstream_model: str) -> list[str]:
        """An OpenAI images/generations body through image generation: the URLs of the images."""
        prompt = body.get("prompt")
        if not isinstance(prompt, str) or not prompt:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'prompt' is required", param="prompt")
        parameters: dict[str, Any] = {"watermark": False}
        if isinstance(body.get("size"), str) and body["size"] != "auto":
            parameters["size"] = body["size"].replace("x", "*")
        if isinstance(body.get("n"), int):
            parameters["n"] = body["n"]
        request = {
            "model": upstream_model,
            "input": {"messages": [{"role": "user", "content": [{"text": prompt}]}]},
            "parameters": parameters,
        }
        answer = await self.generate(request)
        output = answer.get("output") if isinstance(answer.get("output"), dict) else {}
        urls = [
            part["image"]
            for choice in (output or {}).get("choices") or []
            for part in ((choice.get("message") or {}).get("content") or [])
            if isinstance(part, dict) and isinstance(part.get("image"), str)
        ]
        if not urls:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' answered without images", code="upstream_bad_response"
            )
        return urls

    def video_task(self, ask: VideoAsk, upstream_model: str, kinds: frozenset[str]) -> tuple[str, dict[str, Any]]:
        """An OpenAI videos request as a video synthesis task (a first frame makes it image-to-video)."""
        inputs: dict[str, Any] = {"prompt": ask.prompt}
        if ask.first_frame:
            inputs["img_url"] = ask.first_frame
        parameters = {"size": ask.size.replace("x", "*"), "duration": ask.seconds}
        return VIDEO, {"model": upstream_model, "input": inputs, "parameters": parameters}

    async def submit(self, kind: str, body: dict[str, Any], reference: str) -> Submitted:
        """Start a video synthesis task."""
        answer = await self._upstream.call_json("POST", self._base + _PATHS[kind], body, {"X-DashScope-Async": "enable"})
        output = answer.get("output")
        task_id = output.get("task_id") if isinstance(output, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' answered without a task id", code="upstream_bad_response"
            )
        return Submitted(task_id, answer, task_status(answer))

    async def find(self, kind: str, body: dict[str, Any], reference: str) -> Submitted | None:
        """None: DashScope cannot look a task up by anything but its own id."""
        return None

    async def query(self, kind: str, upstream_id: str) -> Polled:
        """The task's state."""
        answer = await self._upstream.call_json("GET", f"{self._base}/tasks/{quote(upstream_id, safe='')}")
        return Polled(task_status(answer), answer)
