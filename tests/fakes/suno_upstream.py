"""A fake Suno API (sunoapi.org) upstream: create routes answer `{code, msg, data: {taskId}}`, the
record-info routes walk each task through its states, one step per query.

Music: PENDING, then TEXT_SUCCESS, FIRST_SUCCESS and SUCCESS (with sunoData, camelCase) on the first
three queries; a prompt containing "fail" ends GENERATE_AUDIO_FAILED instead. WAV, MP4 and stems:
`successFlag` PENDING then SUCCESS. Lyrics: SUCCESS at the first query. A missing `callBackUrl` or a
bad key is refused with `code` 400 / 401 in an HTTP 200, as the Suno API does.
"""

from __future__ import annotations

import time
import uuid
from collections import Counter
from typing import Any

import orjson
from aiohttp import web

UPSTREAM_KEY = "suno-secret-0123456789"
AUDIO_URL = "https://musicfile.api.box/fake/track1.mp3"
WAV_URL = "https://musicfile.api.box/fake/track1.wav"
CREATE_PATHS = [
    "/api/v1/generate",
    "/api/v1/generate/extend",
    "/api/v1/generate/upload-cover",
    "/api/v1/generate/upload-extend",
    "/api/v1/generate/add-vocals",
    "/api/v1/generate/add-instrumental",
    "/api/v1/generate/replace-section",
    "/api/v1/lyrics",
    "/api/v1/suno/cover/generate",
    "/api/v1/vocal-removal/generate",
    "/api/v1/wav/generate",
    "/api/v1/mp4/generate",
]
RECORD_PATHS = [
    "/api/v1/generate/record-info",
    "/api/v1/lyrics/record-info",
    "/api/v1/suno/cover/record-info",
    "/api/v1/vocal-removal/record-info",
    "/api/v1/wav/record-info",
    "/api/v1/mp4/record-info",
]


def _answer(data: Any, code: int = 200, msg: str = "success") -> web.Response:
    return web.json_response({"code": code, "msg": msg, "data": data})


class FakeSuno:
    """The fake's state: requests, tasks by id (with their create path and body), query counts."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.tasks: dict[str, tuple[str, dict[str, Any]]] = {}
        self.queries: Counter[str] = Counter()
        self.app = web.Application()
        for path in CREATE_PATHS:
            self.app.router.add_post(path, self.create)
        for path in RECORD_PATHS:
            self.app.router.add_get(path, self.record)
        self.app.router.add_post("/api/v1/generate/get-timestamped-lyrics", self.timestamped)
        self.app.router.add_post("/api/v1/style/generate", self.style)

    def _refused(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {UPSTREAM_KEY}":
            return _answer(None, 401, "You do not have access permissions")
        return None

    async def create(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "body": body})
        if refused := self._refused(request):
            return refused
        if not body.get("callBackUrl"):
            return _answer(None, 400, "Please enter callBackUrl.")
        if body.get("taskId") is not None and body["taskId"] not in self.tasks:
            return _answer(None, 400, "The taskId does not exist")
        task_id = uuid.uuid4().hex
        self.tasks[task_id] = (request.path, body)
        return _answer({"taskId": task_id})

    async def record(self, request: web.Request) -> web.Response:
        if refused := self._refused(request):
            return refused
        task_id = request.query["taskId"]
        self.queries[task_id] += 1
        count = self.queries[task_id]
        path, body = self.tasks[task_id]
        if path.startswith(("/api/v1/wav", "/api/v1/mp4", "/api/v1/vocal-removal")):
            done = count >= 2
            response = {"audioWavUrl": WAV_URL} if done and "wav" in path else ({"videoUrl": "https://x/v.mp4"} if done else None)
            if done and "vocal-removal" in path:
                response = {"vocal_removal_info": {"instrumental_url": WAV_URL, "vocal_url": AUDIO_URL}}
            return _answer(
                {"taskId": task_id, "successFlag": "SUCCESS" if done else "PENDING", "response": response, "errorMessage": None}
            )
        if path == "/api/v1/suno/cover/generate":  # its successFlag is a number: 0 pending, 1 done, 2-3 failed
            done = count >= 2
            images = {"images": ["https://x/cover-1.png", "https://x/cover-2.png"]} if done else None
            return _answer(
                {
                    "taskId": task_id,
                    "parentTaskId": body.get("taskId"),
                    "successFlag": 1 if done else 0,
                    "response": images,
                    "errorCode": 200,
                    "errorMessage": "",
                }
            )
        if path == "/api/v1/lyrics":
            lyrics = {"taskId": task_id, "data": [{"text": "[Verse]\nla la", "title": "Song", "status": "complete"}]}
            return _answer({"taskId": task_id, "status": "SUCCESS", "response": lyrics, "errorMessage": None})
        fails = "fail" in str(body.get("prompt", ""))
        status = ["TEXT_SUCCESS", "FIRST_SUCCESS", "SUCCESS"][min(count, 3) - 1]
        if fails and count >= 2:
            status = "GENERATE_AUDIO_FAILED"
        track = {
            "id": "e231" + task_id[:8],
            "audioUrl": AUDIO_URL if status == "SUCCESS" else "",
            "streamAudioUrl": "https://x/stream",
            "imageUrl": "https://x/cover.jpeg",
            "prompt": body.get("prompt", ""),
            "modelName": "chirp-v5",
            "title": body.get("title", ""),
            "tags": body.get("style", ""),
            "createTime": "2026-11-28 10:00:00",
            "duration": 198.44 if status == "SUCCESS" else None,
        }
        data = {
            "taskId": task_id,
            "parentMusicId": "",
            "param": "{}",
            "status": status,
            "type": "GENERATE",
            "response": {"taskId": task_id, "sunoData": [] if fails and count >= 2 else [track]},
            "errorCode": 500 if status.endswith("FAILED") else None,
            "errorMessage": "Audio generation failed" if status.endswith("FAILED") else None,
            "createTime": int(time.time() * 1000),
        }
        return _answer(data)

    async def style(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "body": body})
        data = {
            "taskId": uuid.uuid4().hex,
            "param": orjson.dumps(body).decode(),
            "result": f"{body.get('content')}, with haunting synths",
            "creditsConsumed": 1,
            "creditsRemaining": 4321,
            "successFlag": "1",
            "errorCode": None,
            "errorMessage": None,
            "createTime": "2026-11-30 10:00:00",
        }
        return _answer(data)

    async def timestamped(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "body": body})
        if body.get("taskId") not in self.tasks:
            return _answer(None, 400, "The taskId does not exist")
        return _answer(
            {"alignedWords": [{"word": "la", "success": True, "startS": 1.0, "endS": 1.5, "palign": 0}], "waveformData": [0.1]}
        )
