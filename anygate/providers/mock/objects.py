"""The mock's files, batches, assistants and threads, kept in this process's memory (bounded: the
oldest go first) and answered in OpenAI's shapes. A batch or a run finishes at once, answered by the
mock model."""

from __future__ import annotations

import time
from collections import OrderedDict
from collections.abc import AsyncIterator
from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.providers.base import Reply, Upload
from anygate.providers.mock.behaviour import answer

MAX_OBJECTS = 1000  # of each kind
MAX_FILE_BYTES = 16 * 1024 * 1024


def _missing(kind: str, object_id: str) -> GatewayError:
    return GatewayError(ErrorKind.NOT_FOUND, f"No {kind} found with id '{object_id}'.")


def _json(value: Any) -> Reply:
    return Reply(body=orjson.dumps(value))


def page(items: list[dict[str, Any]], query: dict[str, str]) -> dict[str, Any]:
    """One page of a list, newest first unless `order=asc`, after the id `after`."""
    rows = items if query.get("order") == "asc" else items[::-1]
    if "after" in query:
        ids = [r["id"] for r in rows]
        rows = rows[ids.index(query["after"]) + 1 :] if query["after"] in ids else []
    given = query.get("limit") or "20"
    if not given.isdigit() or not 1 <= int(given) <= 10000:
        raise invalid_request(f"Invalid value for 'limit': {given!r}; an integer from 1 to 10000 is expected", "limit")
    limit = int(given)
    data = rows[:limit]
    first, last = (data[0]["id"], data[-1]["id"]) if data else (None, None)
    return {"object": "list", "data": data, "first_id": first, "last_id": last, "has_more": len(rows) > limit}


class _Shelf:
    """The objects of one kind, by id, the oldest dropped past MAX_OBJECTS."""

    def __init__(self, kind: str, prefix: str) -> None:
        self.kind, self.prefix = kind, prefix
        self.items: OrderedDict[str, dict[str, Any]] = OrderedDict()

    def add(self, fields: dict[str, Any]) -> dict[str, Any]:
        item = {"id": f"{self.prefix}mock{time.time_ns()}", "object": self.kind, "created_at": int(time.time()), **fields}
        self.items[item["id"]] = item
        while len(self.items) > MAX_OBJECTS:
            self.items.popitem(last=False)
        return item

    def get(self, object_id: str) -> dict[str, Any]:
        if object_id not in self.items:
            raise _missing(self.kind, object_id)
        return self.items[object_id]

    def delete(self, object_id: str) -> Reply:
        self.get(object_id)
        del self.items[object_id]
        return _json({"id": object_id, "object": f"{self.kind}.deleted", "deleted": True})


class MockObjects:
    """The state behind the mock's object routes."""

    def __init__(self) -> None:
        self.files = _Shelf("file", "file-")
        self.contents: dict[str, bytes] = {}
        self.batches = _Shelf("batch", "batch_")
        self.assistants = _Shelf("assistant", "asst_")
        self.threads = _Shelf("thread", "thread_")
        self.messages: dict[str, list[dict[str, Any]]] = {}
        self.runs: dict[str, list[dict[str, Any]]] = {}

    async def upload(self, upload: Upload) -> Reply:
        data = bytearray()
        async for chunk in upload.chunks:
            data += chunk
            if len(data) > MAX_FILE_BYTES:
                raise GatewayError(ErrorKind.INVALID_REQUEST, "The mock keeps files of at most 16 MB", status=413)
        fields = dict(upload.fields + await upload.rest())
        if not fields.get("purpose"):
            raise invalid_request("'purpose' is required", param="purpose")
        return _json(self._file(bytes(data), upload.filename, fields["purpose"]))

    def _file(self, data: bytes, filename: str, purpose: str) -> dict[str, Any]:
        item = self.files.add(
            {
                "bytes": len(data),
                "filename": filename,
                "purpose": purpose,
                "status": "processed",
                "expires_at": None,
                "status_details": None,
            }
        )
        self.contents[item["id"]] = data
        for gone in set(self.contents) - set(self.files.items):
            del self.contents[gone]
        return item

    def content(self, file_id: str) -> Reply:
        self.files.get(file_id)
        data = self.contents[file_id]

        async def chunks() -> AsyncIterator[bytes]:
            yield data

        return Reply(chunks=chunks(), content_type="application/octet-stream")

    def batch(self, body: dict[str, Any]) -> Reply:
        """A batch, run at once: each line of its input answered by the mock model."""
        source = self.files.get(str(body.get("input_file_id")))
        if body.get("endpoint") not in ("/v1/chat/completions", "/v1/responses", "/v1/embeddings", "/v1/completions"):
            raise invalid_request(
                "'endpoint' must be one of /v1/chat/completions, /v1/responses, /v1/embeddings, /v1/completions", param="endpoint"
            )
        lines: list[bytes] = []
        tokens = [0, 0]
        for raw in self.contents[source["id"]].splitlines():
            if not raw.strip():
                continue
            request = orjson.loads(raw)
            said = answer(request.get("body") or {})
            tokens[0] += said.prompt_tokens
            tokens[1] += said.completion_tokens
            reply = {"status_code": 200, "request_id": f"req_mock{len(lines)}", "body": {"object": "chat.completion", "choices": [
                {"index": 0, "message": {"role": "assistant", "content": said.content}, "finish_reason": said.finish_reason}]}}  # fmt: skip
            lines.append(
                orjson.dumps(
                    {"id": f"batch_req_{len(lines)}", "custom_id": request.get("custom_id"), "response": reply, "error": None}
                )
            )
        output = self._file(b"\n".join(lines) + b"\n", "batch_output.jsonl", "batch_output")
        now = int(time.time())
        return _json(
            self.batches.add(
                {
                    "endpoint": body["endpoint"],
                    "errors": None,
                    "input_file_id": source["id"],
                    "completion_window": body.get("completion_window", "24h"),
                    "status": "completed",
                    "output_file_id": output["id"],
                    "error_file_id": None,
                    "in_progress_at": now,
                    "expires_at": now + 86400,
                    "finalizing_at": now,
                    "completed_at": now,
                    "failed_at": None,
                    "expired_at": None,
                    "cancelling_at": None,
                    "cancelled_at": None,
                    "request_counts": {"total": len(lines), "completed": len(lines), "failed": 0},
                    "metadata": body.get("metadata"),
                    "usage": {
                        "input_tokens": tokens[0],
                        "output_tokens": tokens[1],
                        "total_tokens": sum(tokens),
                        "input_tokens_details": {"cached_tokens": 0},
                        "output_tokens_details": {"reasoning_tokens": 0},
                    },
                }  # fmt: skip
            )
        )

    def cancel(self, batch_id: str) -> Reply:
        batch = self.batches.get(batch_id)
        raise invalid_request(f"Cannot cancel a batch with status '{batch['status']}'.")

    def assistant(self, body: dict[str, Any]) -> Reply:
        if not isinstance(body.get("model"), str):
            raise invalid_request("'model' is required", param="model")
        fields: dict[str, Any] = {"name": None, "description": None, "instructions": None, "tools": [], "tool_resources": {}, "metadata": {},
                  "temperature": 1.0, "top_p": 1.0, "response_format": "auto"}  # fmt: skip
        return _json(self.assistants.add({**fields, **body}))

    def thread(self, body: dict[str, Any]) -> Reply:
        thread = self.threads.add({"metadata": body.get("metadata") or {}, "tool_resources": {}})
        self.messages[thread["id"]], self.runs[thread["id"]] = [], []
        for message in body.get("messages") or []:
            self.message(thread["id"], message)
        return _json(thread)

    def message(
        self, thread_id: str, body: dict[str, Any], run_id: str | None = None, assistant_id: str | None = None
    ) -> dict[str, Any]:
        self.threads.get(thread_id)
        content = body.get("content")
        text = content if isinstance(content, str) else " ".join(p.get("text", "") for p in content or [] if isinstance(p, dict))
        message = {
            "id": f"msg_mock{time.time_ns()}", "object": "thread.message", "created_at": int(time.time()), "thread_id": thread_id,
            "role": body.get("role", "user"), "status": "completed", "assistant_id": assistant_id, "run_id": run_id,
            "attachments": body.get("attachments") or [], "metadata": body.get("metadata") or {},
            "content": [{"type": "text", "text": {"value": text, "annotations": []}}],
        }  # fmt: skip
        self.messages[thread_id].append(message)
        return message

    def run(self, thread_id: str, body: dict[str, Any]) -> dict[str, Any]:
        """A run, finished at once: the mock model answers the thread's messages."""
        assistant = self.assistants.get(str(body.get("assistant_id")))
        history = [{"role": m["role"], "content": m["content"][0]["text"]["value"]} for m in self.messages[thread_id]]
        said = answer({"messages": history or [{"role": "user", "content": ""}]})
        now = int(time.time())
        run = {
            "id": f"run_mock{time.time_ns()}", "object": "thread.run", "created_at": now, "thread_id": thread_id,
            "assistant_id": assistant["id"], "status": "completed", "started_at": now, "completed_at": now,
            "model": body.get("model") or assistant["model"], "instructions": body.get("instructions") or assistant["instructions"],
            "tools": assistant["tools"], "metadata": body.get("metadata") or {}, "required_action": None, "last_error": None,
            "expires_at": None, "cancelled_at": None, "failed_at": None, "incomplete_details": None,
            "usage": {"prompt_tokens": said.prompt_tokens, "completion_tokens": said.completion_tokens,
                      "total_tokens": said.prompt_tokens + said.completion_tokens},
            "temperature": 1.0, "top_p": 1.0, "max_prompt_tokens": None, "max_completion_tokens": None,
            "truncation_strategy": {"type": "auto", "last_messages": None}, "response_format": "auto",
            "tool_choice": "auto", "parallel_tool_calls": True,
        }  # fmt: skip
        self.message(thread_id, {"role": "assistant", "content": said.content or ""}, run["id"], assistant["id"])
        self.runs[thread_id].append(run)
        return run

    def run_events(self, run: dict[str, Any], thread_id: str) -> Reply:
        """A finished run as the event stream of `stream: true`."""
        message = self.messages[thread_id][-1]
        events = [
            ("thread.run.created", {**run, "status": "queued", "completed_at": None}),
            ("thread.run.in_progress", {**run, "status": "in_progress", "completed_at": None}),
            ("thread.message.created", {**message, "status": "in_progress", "content": []}),
            ("thread.message.delta", {"id": message["id"], "object": "thread.message.delta",
                                      "delta": {"content": [{"index": 0, **message["content"][0]}]}}),
            ("thread.message.completed", message),
            ("thread.run.completed", run),
        ]  # fmt: skip

        async def chunks() -> AsyncIterator[bytes]:
            for name, data in events:
                yield f"event: {name}\ndata: ".encode() + orjson.dumps(data) + b"\n\n"
            yield b"event: done\ndata: [DONE]\n\n"

        return Reply(chunks=chunks(), content_type="text/event-stream")
