"""Calls to Kling: `POST /v1/{videos|images}/{kind}` starts a task, `GET` of the same path with the task
id reads it. Every answer is the envelope `{code, message, request_id, data}`, `code` 0 on success;
`data.task_status` is submitted, processing, succeed or failed (`task_status_msg` says why).

Authentication is a Bearer key, or Kling's own scheme: a JWT (HS256) signed with `secret_key`,
issued by `access_key`, valid 30 minutes and renewed before it runs out.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import secrets
import time
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.providers.base import VideoAsk
from anygate.providers.http import HttpUpstream
from anygate.providers.kling.openai_media import image_body, video_body, video_kind
from anygate.providers.kling.settings import KlingSettings
from anygate.tasks.contract import Polled, Submitted, TaskState, TaskStatus

DEFAULT_BASE_URL = "https://api-singapore.klingai.com"
VIDEO_KINDS = ("text2video", "image2video", "omni-video")
IMAGE_KINDS = ("generations", "omni-image")
TOKEN_SECONDS = 1800
KLING_IMAGES = "generations"
KLING_WAIT_SECONDS = 180.0  # how long an OpenAI images call waits for its Kling task
_STATES = {
    "submitted": TaskState.PENDING,
    "processing": TaskState.RUNNING,
    "succeed": TaskState.SUCCEEDED,
    "failed": TaskState.FAILED,
}


def path_of(kind: str) -> str:
    """The API path of a task kind: /v1/videos/text2video, /v1/images/generations, …"""
    return f"/v1/{'videos' if kind in VIDEO_KINDS else 'images'}/{kind}"


def _b64(data: bytes) -> str:
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def jwt_token(access_key: str, secret_key: str, now: float) -> str:
    """Kling's API token: HS256 over {iss: access key, exp: now + 30 min, nbf: now - 5 s}."""
    header = _b64(orjson.dumps({"alg": "HS256", "typ": "JWT"}))
    claims = _b64(orjson.dumps({"iss": access_key, "exp": int(now) + TOKEN_SECONDS, "nbf": int(now) - 5}))
    signed = hmac.new(secret_key.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest()
    return f"{header}.{claims}.{_b64(signed)}"


def task_status(data: dict[str, Any]) -> TaskStatus:
    """What Kling's `data` says of a task."""
    word = str(data.get("task_status") or "submitted")
    state = _STATES.get(word, TaskState.RUNNING)
    error = str(data.get("task_status_msg") or "the task failed") if state is TaskState.FAILED else None
    if state is TaskState.SUCCEEDED and not data.get("task_result"):
        state, error = TaskState.FAILED, "the task succeeded without a result"
    progress = {TaskState.SUCCEEDED: 100, TaskState.RUNNING: 50}.get(state, 0)
    return TaskStatus(state, word, progress, error)


def external_id(body: dict[str, Any], reference: str) -> str:
    """The `external_task_id` a task is submitted with: the client's own, or the gateway's task id."""
    own = body.get("external_task_id")
    return own if isinstance(own, str) and own else reference


class KlingProvider:
    """One configured Kling upstream."""

    kinds = frozenset(VIDEO_KINDS + IMAGE_KINDS)
    image_kinds = frozenset({KLING_IMAGES})  # how it answers OpenAI's images API
    video_kinds = frozenset(VIDEO_KINDS)  # and its videos API

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config: ProviderConfig = config
        assert isinstance(config, KlingSettings), "a kling provider is configured by its own model"
        self._keys = config
        self._upstream = HttpUpstream(name, config, http, {})
        self._base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._token = ("", 0.0)  # (JWT, when it runs out)

    def _auth(self) -> dict[str, str]:
        config = self._keys
        if config.access_key and config.secret_key:
            now = time.time()
            if self._token[1] - now < 300:
                self._token = (jwt_token(config.access_key, config.secret_key, now), now + TOKEN_SECONDS)
            return {"Authorization": f"Bearer {self._token[0]}"}
        return {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}

    def _data(self, answer: dict[str, Any]) -> dict[str, Any]:
        if answer.get("code") not in (0, None) or not isinstance(answer.get("data"), dict):
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"upstream '{self.name}' refused the task: {answer.get('message') or answer.get('code')}",
                code="upstream_error",
            )
        return dict(answer["data"])

    async def submit(self, kind: str, body: dict[str, Any], reference: str) -> Submitted:
        """Start a task of `kind`, named by the client's `external_task_id` or else the gateway's `reference`."""
        body = {**body, "external_task_id": external_id(body, reference)}
        answer = await self._upstream.call_json("POST", self._base + path_of(kind), body, self._auth())
        return self._submitted(answer)

    async def find(self, kind: str, body: dict[str, Any], reference: str) -> Submitted | None:
        """The task submitted with this external_task_id (Kling reads either id in the query path), or None."""
        try:
            polled = await self.query(kind, external_id(body, reference))
        except GatewayError as err:
            if err.kind in (ErrorKind.NOT_FOUND, ErrorKind.INVALID_REQUEST):
                return None  # no task by that id: the submit never reached Kling
            raise
        return self._submitted(polled.raw)

    def _submitted(self, answer: dict[str, Any]) -> Submitted:
        data = self._data(answer)
        task_id = data.get("task_id")
        if not isinstance(task_id, str | int) or not str(task_id):
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' answered without a task id", code="upstream_bad_response"
            )
        return Submitted(str(task_id), answer, task_status(data))

    def video_task(self, ask: VideoAsk, upstream_model: str, kinds: frozenset[str]) -> tuple[str, dict[str, Any]]:
        """An OpenAI videos request as a text-to-video, image-to-video or Omni video task."""
        kind = video_kind(ask, upstream_model, kinds)
        return kind, video_body(ask, upstream_model, kind)

    async def draw_images(self, body: dict[str, Any], upstream_model: str) -> list[str]:
        """The images of an OpenAI images request: its task submitted and waited for (at most KLING_WAIT_SECONDS)."""
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'prompt' is required", param="prompt")
        return await self._draw(image_body(body, upstream_model), KLING_WAIT_SECONDS)

    async def _draw(self, body: dict[str, Any], wait_seconds: float) -> list[str]:
        """Generate images: submit the task and poll it (every half second, then up to every two)
        until it ends; its image URLs. 504 when it is not done within `wait_seconds`."""
        submitted = await self.submit(KLING_IMAGES, body, secrets.token_hex(16))
        deadline = time.monotonic() + wait_seconds
        pause = 0.5
        status, raw = submitted.status, submitted.raw
        while status.state not in (TaskState.SUCCEEDED, TaskState.FAILED):
            if time.monotonic() + pause > deadline:
                raise GatewayError(
                    ErrorKind.TIMEOUT,
                    f"upstream '{self.name}' did not finish the images within {wait_seconds:.0f} s (its task {submitted.upstream_id})",
                )
            await asyncio.sleep(pause)
            pause = min(pause * 2, 2.0)
            polled = await self.query(KLING_IMAGES, submitted.upstream_id)
            status, raw = polled.status, polled.raw
        if status.state is TaskState.FAILED:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' could not make the images: {status.error}", code="upstream_error"
            )
        images = ((raw.get("data") or {}).get("task_result") or {}).get("images") or []
        urls = [str(i["url"]) for i in images if isinstance(i, dict) and i.get("url")]
        if not urls:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' answered without images", code="upstream_bad_response"
            )
        return urls

    async def query(self, kind: str, upstream_id: str) -> Polled:
        """The task's state."""
        answer = await self._upstream.call_json(
            "GET", f"{self._base}{path_of(kind)}/{quote(upstream_id, safe='')}", None, self._auth()
        )
        return Polled(task_status(self._data(answer)), answer)
