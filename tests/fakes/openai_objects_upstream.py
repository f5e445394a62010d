"""A fake OpenAI upstream for the pass-through routes (audio, moderations, files, batches, assistants,
threads), speaking the real wire format (shapes as api.openai.com sends them, streams included) and
recording every request it gets, multipart forms with how their bytes arrived.

A batch or a run is unfinished when created and finished the first time it is read again, with usage.
The model `up-fail` fails with OpenAI's 400.
"""

from __future__ import annotations

import itertools
import time
from typing import Any

import orjson
from aiohttp import web

UPSTREAM_KEY = "sk-objects-upstream-secret"
SPEECH = [b"ID3\x04\x00\x00", b"\xff\xfb\x90" * 4000, b"\xff\xfb\x90\x00end"]  # the chunks of the audio it makes
HEARD_SECONDS = 42.5
SEGMENTS = [(0.0, 2.5, " Hello there."), (2.5, 42.5, " This is the fake upstream.")]
TRANSCRIBE_TOKENS = {"type": "tokens", "input_tokens": 120, "output_tokens": 30, "total_tokens": 150,
                     "input_token_details": {"audio_tokens": 120, "text_tokens": 0}}  # fmt: skip
RUN_USAGE = {"prompt_tokens": 300, "completion_tokens": 40, "total_tokens": 340}
BATCH_USAGE = {"input_tokens": 1000, "output_tokens": 200, "total_tokens": 1200,
               "input_tokens_details": {"cached_tokens": 0}, "output_tokens_details": {"reasoning_tokens": 0}}  # fmt: skip
SEEN = web.RequestKey("seen", dict)
_ids = itertools.count(1)


def _id(prefix: str) -> str:
    return f"{prefix}{next(_ids):06d}abc"


def _error(message: str, status: int = 400, param: str | None = None) -> web.Response:
    kind = "invalid_request_error"
    return web.json_response({"error": {"message": message, "type": kind, "param": param, "code": None}}, status=status)


class FakeOpenAIObjects:
    """The fake's state and every request it received."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.files: dict[str, dict[str, Any]] = {}
        self.contents: dict[str, bytes] = {}
        self.batches: dict[str, dict[str, Any]] = {}
        self.assistants: dict[str, dict[str, Any]] = {}
        self.threads: dict[str, dict[str, Any]] = {}
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.runs: dict[str, dict[str, Any]] = {}
        self.app = web.Application(client_max_size=64 * 1024 * 1024, middlewares=[self._record])
        add = self.app.router.add_route
        add("POST", "/v1/audio/speech", self.speech)
        add("POST", "/v1/audio/transcriptions", self.heard)
        add("POST", "/v1/audio/translations", self.heard)
        add("POST", "/v1/moderations", self.moderations)
        add("POST", "/v1/files", self.upload)
        add("GET", "/v1/files", self._lister(self.files))
        add("GET", "/v1/files/{id}", self._getter(self.files))
        add("DELETE", "/v1/files/{id}", self.delete_file)
        add("GET", "/v1/files/{id}/content", self.content)
        add("POST", "/v1/batches", self.create_batch)
        add("GET", "/v1/batches", self._lister(self.batches))
        add("GET", "/v1/batches/{id}", self.get_batch)
        add("POST", "/v1/batches/{id}/cancel", self.cancel_batch)
        add("POST", "/v1/assistants", self.create_assistant)
        add("GET", "/v1/assistants", self._lister(self.assistants))
        add("GET", "/v1/assistants/{id}", self._getter(self.assistants))
        add("POST", "/v1/threads", self.create_thread)
        add("GET", "/v1/threads/{id}", self._getter(self.threads))
        add("POST", "/v1/threads/{id}/messages", self.add_message)
        add("GET", "/v1/threads/{id}/messages", self.list_messages)
        add("POST", "/v1/threads/{id}/runs", self.create_run)
        add("GET", "/v1/threads/{id}/runs/{run}", self.get_run)

    @web.middleware
    async def _record(self, request: web.Request, handler: Any) -> web.StreamResponse:
        seen: dict[str, Any] = {
            "method": request.method,
            "path": request.path,
            "query": dict(request.query),
            "headers": dict(request.headers),
        }
        if request.headers.get("Authorization") != f"Bearer {UPSTREAM_KEY}":
            return _error("Incorrect API key provided", 401)
        if request.content_type == "multipart/form-data":
            form = await request.post()
            seen["fields"] = [(k, v) for k, v in form.items() if isinstance(v, str)]
            seen["files"] = {k: (v.filename, v.content_type, v.file.read()) for k, v in form.items() if not isinstance(v, str)}
        elif request.can_read_body:
            seen["body"] = await request.json()
        self.requests.append(seen)
        request[SEEN] = seen
        answer: web.StreamResponse = await handler(request)
        return answer

    async def speech(self, request: web.Request) -> web.StreamResponse:
        body = request[SEEN]["body"]
        if body["model"] == "up-fail":
            return _error("Invalid value for 'voice'.", param="voice")
        response = web.StreamResponse(headers={"Content-Type": "audio/mpeg"})
        await response.prepare(request)
        for chunk in SPEECH:
            await response.write(chunk)
        await response.write_eof()
        return response

    async def heard(self, request: web.Request) -> web.Response:
        fields = dict(request[SEEN]["fields"])
        kind = fields.get("response_format", "json")
        text = "".join(t for _, _, t in SEGMENTS).strip()
        if kind == "text":
            return web.Response(text=text + "\n", content_type="text/plain")
        if kind in ("srt", "vtt"):
            return web.Response(text=f"upstream-made {kind}\n", content_type="text/plain")
        if kind == "verbose_json":
            segments = [{"id": i, "seek": 0, "start": a, "end": b, "text": t, "tokens": [1, 2], "temperature": 0.0, "avg_logprob": -0.2,
                         "compression_ratio": 1.1, "no_speech_prob": 0.01} for i, (a, b, t) in enumerate(SEGMENTS)]  # fmt: skip
            task = "transcribe" if request.path.endswith("transcriptions") else "translate"
            answer = {"task": task, "language": "english", "duration": HEARD_SECONDS, "text": text, "segments": segments,
                      "usage": {"type": "duration", "seconds": 43}}  # fmt: skip
            return web.json_response(answer)
        usage = TRANSCRIBE_TOKENS if fields["model"].startswith("gpt-4o") else {"type": "duration", "seconds": 43}
        return web.json_response({"text": text, "usage": usage})

    async def moderations(self, request: web.Request) -> web.Response:
        body = request[SEEN]["body"]
        inputs = body["input"] if isinstance(body["input"], list) else [body["input"]]
        results = [{"flagged": "kill" in str(i), "categories": {"violence": "kill" in str(i)}, "category_scores": {"violence": 0.5},
                    "category_applied_input_types": {"violence": ["text"]}} for i in inputs]  # fmt: skip
        return web.json_response(
            {"id": "modr-0123", "model": body.get("model", "omni-moderation-2024-09-26"), "results": results}
        )

    async def upload(self, request: web.Request) -> web.Response:
        seen = request[SEEN]
        filename, _, data = seen["files"]["file"]
        purpose = dict(seen["fields"])["purpose"]
        item = {"id": _id("file-"), "object": "file", "bytes": len(data), "created_at": int(time.time()), "filename": filename,
                "purpose": purpose, "status": "processed", "expires_at": None, "status_details": None}  # fmt: skip
        self.files[item["id"]] = item
        self.contents[item["id"]] = data
        return web.json_response(item)

    def _lister(self, store: dict[str, dict[str, Any]]) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return await self._list(request, store)

        return handler

    def _getter(self, store: dict[str, dict[str, Any]]) -> Any:
        async def handler(request: web.Request) -> web.Response:
            return await self._get(request, store)

        return handler

    async def _list(self, request: web.Request, store: dict[str, dict[str, Any]]) -> web.Response:
        rows = list(store.values())[::-1]
        after = request.query.get("after")
        if after in store:
            rows = rows[[r["id"] for r in rows].index(after) + 1 :]
        limit = int(request.query.get("limit", "20"))
        data = rows[:limit]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        return web.json_response(
            {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": len(rows) > limit}
        )

    async def _get(self, request: web.Request, store: dict[str, dict[str, Any]]) -> web.Response:
        item = store.get(request.match_info["id"])
        return web.json_response(item) if item else _error(f"No such object: {request.match_info['id']}", 404)

    async def delete_file(self, request: web.Request) -> web.Response:
        file_id = request.match_info["id"]
        if self.files.pop(file_id, None) is None:
            return _error(f"No such File object: {file_id}", 404, "id")
        return web.json_response({"id": file_id, "object": "file", "deleted": True})

    async def content(self, request: web.Request) -> web.StreamResponse:
        data = self.contents.get(request.match_info["id"])
        if data is None:
            return _error("No such File object", 404)
        response = web.StreamResponse(headers={"Content-Type": "application/octet-stream"})
        await response.prepare(request)
        for at in range(0, len(data), 1000):
            await response.write(data[at : at + 1000])
        await response.write_eof()
        return response

    async def create_batch(self, request: web.Request) -> web.Response:
        body = request[SEEN]["body"]
        source = self.contents.get(body["input_file_id"])
        if source is None:
            return _error(f"No such File object: {body['input_file_id']}", 404, "input_file_id")
        model = orjson.loads(source.splitlines()[0])["body"]["model"]
        now = int(time.time())
        batch = {"id": _id("batch_"), "object": "batch", "endpoint": body["endpoint"], "model": model, "errors": None,
                 "input_file_id": body["input_file_id"], "completion_window": body["completion_window"], "status": "validating",
                 "output_file_id": None, "error_file_id": None, "created_at": now, "in_progress_at": None, "expires_at": now + 86400,
                 "finalizing_at": None, "completed_at": None, "failed_at": None, "expired_at": None, "cancelling_at": None,
                 "cancelled_at": None, "request_counts": {"total": 0, "completed": 0, "failed": 0},
                 "metadata": body.get("metadata"), "usage": None}  # fmt: skip
        self.batches[batch["id"]] = batch
        return web.json_response(batch)

    async def get_batch(self, request: web.Request) -> web.Response:
        batch = self.batches.get(request.match_info["id"])
        if batch is None:
            return _error("No such batch", 404)
        if batch["status"] == "validating":  # finished by the time it is asked again
            output = {"id": _id("file-"), "object": "file", "bytes": 2, "created_at": int(time.time()), "filename": "batch_output.jsonl",
                      "purpose": "batch_output", "status": "processed", "expires_at": None, "status_details": None}  # fmt: skip
            self.files[output["id"]] = output
            self.contents[output["id"]] = b'{"custom_id":"a","response":{"status_code":200,"body":{}}}\n'
            batch.update(status="completed", output_file_id=output["id"], completed_at=int(time.time()), usage=BATCH_USAGE,
                         request_counts={"total": 1, "completed": 1, "failed": 0})  # fmt: skip
        return web.json_response(batch)

    async def cancel_batch(self, request: web.Request) -> web.Response:
        batch = self.batches[request.match_info["id"]]
        batch.update(status="cancelling", cancelling_at=int(time.time()))
        return web.json_response(batch)

    async def create_assistant(self, request: web.Request) -> web.Response:
        body = request[SEEN]["body"]
        if body["model"] == "up-fail":
            return _error("The requested model 'up-fail' cannot be used with the Assistants API.", param="model")
        assistant = {"id": _id("asst_"), "object": "assistant", "created_at": int(time.time()), "name": None, "description": None,
                     "instructions": None, "tools": [], "tool_resources": {}, "metadata": {}, "temperature": 1.0, "top_p": 1.0,
                     "response_format": "auto", **body}  # fmt: skip
        self.assistants[assistant["id"]] = assistant
        return web.json_response(assistant)

    async def create_thread(self, request: web.Request) -> web.Response:
        thread = {"id": _id("thread_"), "object": "thread", "created_at": int(time.time()), "metadata": {}, "tool_resources": {}}
        self.threads[thread["id"]] = thread
        self.messages[thread["id"]] = []
        for message in (request[SEEN].get("body") or {}).get("messages") or []:
            self._message(thread["id"], message["role"], message["content"])
        return web.json_response(thread)

    def _message(self, thread_id: str, role: str, text: str, run_id: str | None = None) -> dict[str, Any]:
        message = {"id": _id("msg_"), "object": "thread.message", "created_at": int(time.time()), "assistant_id": None, "thread_id": thread_id,
                   "run_id": run_id, "role": role, "status": "completed", "attachments": [], "metadata": {},
                   "content": [{"type": "text", "text": {"value": text, "annotations": []}}]}  # fmt: skip
        self.messages[thread_id].append(message)
        return message

    async def add_message(self, request: web.Request) -> web.Response:
        body = request[SEEN]["body"]
        return web.json_response(self._message(request.match_info["id"], body["role"], body["content"]))

    async def list_messages(self, request: web.Request) -> web.Response:
        data = self.messages[request.match_info["id"]][::-1]
        first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
        return web.json_response({"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": False})

    def _run(self, thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
        assistant = self.assistants[body["assistant_id"]]
        now = int(time.time())
        return {"id": _id("run_"), "object": "thread.run", "created_at": now, "assistant_id": assistant["id"], "thread_id": thread_id,
                "status": "queued", "started_at": None, "expires_at": now + 600, "cancelled_at": None, "failed_at": None,
                "completed_at": None, "required_action": None, "last_error": None, "model": body.get("model") or assistant["model"],
                "instructions": assistant["instructions"] or "", "tools": [], "metadata": {}, "incomplete_details": None,
                "usage": None, "temperature": 1.0, "top_p": 1.0, "max_prompt_tokens": None, "max_completion_tokens": None,
                "truncation_strategy": {"type": "auto", "last_messages": None}, "response_format": "auto",
                "tool_choice": "auto", "parallel_tool_calls": True}  # fmt: skip

    async def create_run(self, request: web.Request) -> web.StreamResponse:
        body = request[SEEN]["body"]
        thread_id = request.match_info["id"]
        run = self._run(thread_id, body)
        self.runs[run["id"]] = run
        if not body.get("stream"):
            return web.json_response(run)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)

        async def event(name: str, data: Any) -> None:
            await response.write(f"event: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n")

        await event("thread.run.created", run)
        await event("thread.run.in_progress", {**run, "status": "in_progress", "started_at": int(time.time())})
        message = self._message(thread_id, "assistant", "Streamed answer.", run["id"])
        await event("thread.message.created", {**message, "status": "in_progress", "content": []})
        await event("thread.message.delta", {"id": message["id"], "object": "thread.message.delta",
                                             "delta": {"content": [{"index": 0, "type": "text", "text": {"value": "Streamed answer."}}]}})  # fmt: skip
        await event("thread.message.completed", message)
        run.update(status="completed", completed_at=int(time.time()), usage=RUN_USAGE)
        await event("thread.run.completed", run)
        await response.write(b"event: done\ndata: [DONE]\n\n")
        await response.write_eof()
        return response

    async def get_run(self, request: web.Request) -> web.Response:
        run = self.runs[request.match_info["run"]]
        if run["status"] == "queued":  # finished by the time it is asked again
            self._message(run["thread_id"], "assistant", "An answer.", run["id"])
            run.update(status="completed", started_at=int(time.time()), completed_at=int(time.time()), usage=RUN_USAGE)
        return web.json_response(run)
