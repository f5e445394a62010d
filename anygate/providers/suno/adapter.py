"""Calls to the Suno API (sunoapi.org): each create route answers `{code, msg, data: {taskId}}` and its
record-info route reads the task (`data.status`, or `data.successFlag` for WAV, MP4 and stems).
`code` in the body is the outcome (200 is success), whatever the HTTP status.

The upstream requires a `callBackUrl`; the gateway polls record-info instead and gives it an address
that never resolves (`.invalid`), so the upstream's own callbacks, which carry its ids, reach no one.
"""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from anygate.config import ProviderConfig
from anygate.core.errors import ErrorKind, GatewayError, kind_for_status
from anygate.providers.http import HttpUpstream
from anygate.tasks.contract import Polled, Submitted, TaskState, TaskStatus

DEFAULT_BASE_URL = "https://api.sunoapi.org"
NO_CALLBACK = "https://callbacks.anygate.invalid/suno"
# client route -> (upstream create path, record-info group)
TASKS = {
    "generate": ("/api/v1/generate", "task"),
    "extend": ("/api/v1/generate/extend", "task"),
    "upload-cover": ("/api/v1/generate/upload-cover", "task"),
    "upload-extend": ("/api/v1/generate/upload-extend", "task"),
    "add-vocals": ("/api/v1/generate/add-vocals", "task"),
    "add-instrumental": ("/api/v1/generate/add-instrumental", "task"),
    "replace-section": ("/api/v1/generate/replace-section", "task"),
    "generate-lyrics": ("/api/v1/lyrics", "lyrics"),
    "generate-cover": ("/api/v1/suno/cover/generate", "cover"),
    "vocal-removal": ("/api/v1/vocal-removal/generate", "vocal-removal"),
    "split-stem": ("/api/v1/vocal-removal/generate", "vocal-removal"),
    "wav-generate": ("/api/v1/wav/generate", "wav"),
    "mp4-generate": ("/api/v1/mp4/generate", "mp4"),
}
RECORDS = {
    "task": "/api/v1/generate/record-info",
    "lyrics": "/api/v1/lyrics/record-info",
    "cover": "/api/v1/suno/cover/record-info",
    "vocal-removal": "/api/v1/vocal-removal/record-info",
    "wav": "/api/v1/wav/record-info",
    "mp4": "/api/v1/mp4/record-info",
}
# routes answered at once, not tasks
SYNC = {
    "timestamped-lyrics": "/api/v1/generate/get-timestamped-lyrics",
    "style-generate": "/api/v1/style/generate",
    "generate-persona": "/api/v1/generate/generate-persona",
}
_RUNNING = {"TEXT_SUCCESS": 33, "FIRST_SUCCESS": 66}
# the cover record's successFlag is a number, where the others' are words
COVER_FLAGS = {0: "PENDING", 1: "SUCCESS", 2: "CREATE_TASK_FAILED", 3: "GENERATE_COVER_FAILED"}


def task_status(data: dict[str, Any]) -> TaskStatus:
    """What a record-info `data` says of a task."""
    flag = data.get("successFlag")
    if isinstance(flag, int) and not isinstance(flag, bool):
        flag = COVER_FLAGS.get(flag, "GENERATE_COVER_FAILED")
    word = str(data.get("status") or flag or "PENDING")
    if word == "SUCCESS":
        return TaskStatus(TaskState.SUCCEEDED, word, 100)
    if word in _RUNNING:
        return TaskStatus(TaskState.RUNNING, word, _RUNNING[word])
    if word.endswith(("FAILED", "ERROR", "EXCEPTION")):
        return TaskStatus(TaskState.FAILED, word, 0, str(data.get("errorMessage") or word))
    return TaskStatus(TaskState.PENDING if word == "PENDING" else TaskState.RUNNING, word)


class SunoProvider:
    """One configured Suno API upstream: Bearer key on every call."""

    kinds = frozenset(TASKS) | frozenset(SYNC)

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        headers = {"Authorization": f"Bearer {config.api_key}"} if config.api_key else {}
        self._upstream = HttpUpstream(name, config, http, headers)
        self._base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")

    def _checked(self, answer: dict[str, Any]) -> dict[str, Any]:
        code = answer.get("code")
        if code != 200:
            status = code if isinstance(code, int) and 400 <= code < 600 else 502
            kind = kind_for_status(status)
            if kind in (ErrorKind.AUTHENTICATION, ErrorKind.PERMISSION):  # the gateway's own credentials: not the client's fault
                kind, status = ErrorKind.UPSTREAM, 502
            raise GatewayError(kind, str(answer.get("msg") or f"upstream '{self.name}' answered code {code}"), status=status)
        return answer

    async def call(self, route: str, body: dict[str, Any]) -> dict[str, Any]:
        """A route answered at once (SYNC): the upstream's answer, checked."""
        return self._checked(await self._upstream.call_json("POST", self._base + SYNC[route], body))

    async def submit(self, kind: str, body: dict[str, Any], reference: str) -> Submitted:
        """Start a task."""
        path = TASKS[kind][0]
        extra = {"type": "split_stem"} if kind == "split-stem" else {}
        answer = self._checked(
            await self._upstream.call_json("POST", self._base + path, {**body, **extra, "callBackUrl": NO_CALLBACK})
        )
        data = answer.get("data")
        task_id = data.get("taskId") if isinstance(data, dict) else None
        if not isinstance(task_id, str) or not task_id:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' answered without a taskId", code="upstream_bad_response"
            )
        return Submitted(task_id, answer, TaskStatus(TaskState.PENDING, "PENDING"))

    async def find(self, kind: str, body: dict[str, Any], reference: str) -> Submitted | None:
        """None: Suno's API cannot look a task up by anything but its own id."""
        return None

    async def query(self, kind: str, upstream_id: str) -> Polled:
        """The task's record."""
        url = f"{self._base}{RECORDS[TASKS[kind][1]]}?taskId={quote(upstream_id, safe='')}"
        answer = self._checked(await self._upstream.call_json("GET", url))
        data = answer.get("data") if isinstance(answer.get("data"), dict) else {}
        return Polled(task_status(data or {}), answer)
