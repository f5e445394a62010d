"""A fake DashScope (Alibaba Model Studio) upstream speaking its native API, with task lifecycles.

The model picks the lifecycle of a video task: `wan-ok` is PENDING, RUNNING at the first query and
SUCCEEDED with a video_url from the second; `wan-fail` fails at the second query; `wan-flaky`
answers 500 to its first query, then goes like `wan-ok`; `wan-slow` stays RUNNING; `wan-hang` takes
HANG_SECONDS to answer its first query, then goes like `wan-ok`; `wan-stuck` starts the task but
takes HANG_SECONDS to answer the submit (a gateway killed meanwhile never learns the task's id).
Image generation answers at once. Every query is counted per task, and when it began is noted.
"""

from __future__ import annotations

import asyncio
import time
import uuid
from collections import Counter, defaultdict
from typing import Any

from aiohttp import web

UPSTREAM_KEY = "sk-dashscope-secret-0123456789"
VIDEO_URL = "https://dashscope-result-sh.oss-cn-shanghai.aliyuncs.com/fake/video.mp4?Expires=1"
IMAGE_PATH = "/files/image.png"  # served by the fake itself, so that the image can be fetched
HANG_SECONDS = 4.0
IMAGE_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


class FakeDashScope:
    """The fake's state: requests, tasks and their query counts, for assertions."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.tasks: dict[str, str] = {}  # task id -> model
        self.queries: Counter[str] = Counter()
        self.query_times: defaultdict[str, list[float]] = defaultdict(list)  # when each query of a task began
        self.app = web.Application()
        self.app.router.add_post("/api/v1/services/aigc/video-generation/video-synthesis", self.video)
        self.app.router.add_post("/api/v1/services/aigc/multimodal-generation/generation", self.image)
        self.app.router.add_get("/api/v1/tasks/{task_id}", self.query)
        self.app.router.add_get(IMAGE_PATH, self.file)

    async def file(self, _: web.Request) -> web.Response:
        return web.Response(body=IMAGE_BYTES, content_type="image/png")

    def _unauthorised(self, request: web.Request) -> web.Response | None:
        if request.headers.get("Authorization") != f"Bearer {UPSTREAM_KEY}":
            body = {"code": "InvalidApiKey", "message": "Invalid API-key provided.", "request_id": str(uuid.uuid4())}
            return web.json_response(body, status=401)
        return None

    async def video(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        if refused := self._unauthorised(request):
            return refused
        if request.headers.get("X-DashScope-Async") != "enable":
            error = {"code": "AccessDenied", "message": "current user api does not support synchronous calls", "request_id": "r"}
            return web.json_response(error, status=403)
        if body.get("model") == "wan-bad":
            error = {"code": "InvalidParameter", "message": "The size is not match the allowed size", "request_id": "r"}
            return web.json_response(error, status=400)
        task_id = str(uuid.uuid4())
        self.tasks[task_id] = body["model"]
        if body["model"] == "wan-stuck":
            await asyncio.sleep(HANG_SECONDS)
        return web.json_response({"output": {"task_id": task_id, "task_status": "PENDING"}, "request_id": str(uuid.uuid4())})

    async def query(self, request: web.Request) -> web.Response:
        if refused := self._unauthorised(request):
            return refused
        task_id = request.match_info["task_id"]
        self.queries[task_id] += 1
        self.query_times[task_id].append(time.time())
        count = self.queries[task_id]
        model = self.tasks.get(task_id)
        if model == "wan-hang" and count == 1:
            await asyncio.sleep(HANG_SECONDS)
        output: dict[str, Any] = {"task_id": task_id, "submit_time": "2026-11-28 10:00:00.000"}
        if model is None:
            output["task_status"] = "UNKNOWN"
        elif model == "wan-flaky" and count == 1:
            return web.json_response({"code": "InternalError", "message": "Internal error", "request_id": "r"}, status=500)
        elif model == "wan-slow" or count == 1 or (model == "wan-flaky" and count == 2):
            output["task_status"] = "RUNNING"
        elif model == "wan-fail":
            output.update(
                task_status="FAILED", code="DataInspectionFailed", message="Input data may contain inappropriate content."
            )
        else:
            output.update(task_status="SUCCEEDED", video_url=VIDEO_URL, orig_prompt="a cat", end_time="2026-11-28 10:01:00.000")
        answer: dict[str, Any] = {"request_id": str(uuid.uuid4()), "output": output}
        if output["task_status"] == "SUCCEEDED":
            answer["usage"] = {"video_duration": 5, "video_count": 1, "SR": 720}
        return web.json_response(answer)

    async def image(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        if refused := self._unauthorised(request):
            return refused
        image = f"{request.scheme}://{request.host}{IMAGE_PATH}"
        choice = {"finish_reason": "stop", "message": {"role": "assistant", "content": [{"image": image}]}}
        return web.json_response(
            {
                "output": {"choices": [choice]},
                "usage": {"width": 1328, "height": 1328, "image_count": 1},
                "request_id": str(uuid.uuid4()),
            }
        )
