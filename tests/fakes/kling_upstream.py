"""A fake Kling upstream speaking its own API (the `{code, message, request_id, data}` envelope).

It takes a Bearer key, or a JWT signed as Kling's API requires (HS256 under the secret key, issued by
the access key). `model_name` picks the lifecycle: `kling-ok` is submitted, processing at the first
query and succeed (with videos or images) from the second; `kling-fail` fails at the second query;
`kling-stuck` starts the task but takes STUCK_SECONDS to answer the submit. A task can be queried by
its `external_task_id` too, as Kling allows; an unknown id is Kling's 404.
"""

from __future__ import annotations

import asyncio
import base64
import hashlib
import hmac
import time
import uuid
from collections import Counter
from typing import Any

import orjson
from aiohttp import web

API_KEY = "kling-bearer-secret-0123456789"
ACCESS_KEY = "kling-access-key"
SECRET_KEY = "kling-secret-key-0123456789"
VIDEO_PATH = "/files/video.mp4"  # served by the fake itself, so that a download can be followed through
VIDEO_BYTES = b"\x00\x00\x00\x18ftypmp42" + bytes(range(256)) * 64
IMAGE_URL = "https://cdn.klingai.com/fake/image.png"
STUCK_SECONDS = 4.0


def _valid_jwt(token: str) -> bool:
    try:
        header, claims, signature = token.split(".")
        expected = base64.urlsafe_b64encode(hmac.new(SECRET_KEY.encode(), f"{header}.{claims}".encode(), hashlib.sha256).digest())
        payload = orjson.loads(base64.urlsafe_b64decode(claims + "=" * (-len(claims) % 4)))
    except ValueError:
        return False
    return (
        hmac.compare_digest(expected.rstrip(b"=").decode(), signature)
        and payload["iss"] == ACCESS_KEY
        and payload["exp"] > time.time()
    )


class FakeKling:
    """The fake's state: requests, tasks and their query counts, and how each caller authenticated."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.tasks: dict[str, tuple[str, str]] = {}  # task id -> (kind, model)
        self.external: dict[str, str] = {}  # external_task_id -> task id
        self.queries: Counter[str] = Counter()
        self.auth: list[str] = []
        self.video_downloads = 0
        self.app = web.Application()
        for group in ("videos", "images"):
            self.app.router.add_post(f"/v1/{group}/{{kind}}", self.submit)
            self.app.router.add_get(f"/v1/{group}/{{kind}}/{{task_id}}", self.query)
        self.app.router.add_get(VIDEO_PATH, self.video)

    async def video(self, _: web.Request) -> web.Response:
        self.video_downloads += 1
        return web.Response(body=VIDEO_BYTES, content_type="video/mp4")

    def _refused(self, request: web.Request) -> web.Response | None:
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        if token == API_KEY:
            self.auth.append("bearer")
        elif _valid_jwt(token):
            self.auth.append("jwt")
        else:
            return web.json_response(
                {"code": 1000, "message": "Authorization failed", "request_id": str(uuid.uuid4())}, status=401
            )
        return None

    async def submit(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "body": body})
        if refused := self._refused(request):
            return refused
        now = int(time.time() * 1000)
        task_id = str(time.time_ns())
        self.tasks[task_id] = (request.match_info["kind"], body.get("model_name", ""))
        if body.get("external_task_id"):
            self.external[body["external_task_id"]] = task_id
        if body.get("model_name") == "kling-stuck":
            await asyncio.sleep(STUCK_SECONDS)
        data = {
            "task_id": task_id,
            "task_status": "submitted",
            "task_info": {"external_task_id": body.get("external_task_id")},
            "created_at": now,
            "updated_at": now,
        }
        return web.json_response({"code": 0, "message": "SUCCEED", "request_id": str(uuid.uuid4()), "data": data})

    async def query(self, request: web.Request) -> web.Response:
        if refused := self._refused(request):
            return refused
        task_id = self.external.get(request.match_info["task_id"], request.match_info["task_id"])
        if task_id not in self.tasks:
            return web.json_response({"code": 1203, "message": "task not found", "request_id": str(uuid.uuid4())}, status=404)
        self.queries[task_id] += 1
        kind, model = self.tasks[task_id]
        data: dict[str, Any] = {
            "task_id": task_id,
            "task_status_msg": "",
            "created_at": 1722769557708,
            "updated_at": int(time.time() * 1000),
        }
        if self.queries[task_id] == 1:
            data["task_status"] = "processing"
        elif model == "kling-fail":
            data.update(task_status="failed", task_status_msg="Failure to pass the risk control system")
        elif kind in ("generations", "omni-image"):
            data.update(task_status="succeed", task_result={"images": [{"index": 0, "url": IMAGE_URL}]})
        else:
            video = f"{request.scheme}://{request.host}{VIDEO_PATH}"
            data.update(task_status="succeed", task_result={"videos": [{"id": "v1", "url": video, "duration": "5.041"}]})
        return web.json_response({"code": 0, "message": "SUCCEED", "request_id": str(uuid.uuid4()), "data": data})
