"""A fake Anthropic Messages upstream speaking the real wire format (shapes recorded from api.anthropic.com).

The upstream model id picks the behaviour: `claude-echo` answers with text (its input and cache
usage in `message_start`); `claude-tools` makes two tool calls with `input_json_delta` pieces;
`claude-think` thinks (with a signature) before answering; `claude-think-tools` thinks, then calls a tool; `claude-stream-error` sends
`event: error` mid-stream; `claude-400` and `claude-529` fail with those statuses, `claude-429` too (with
Retry-After); `claude-hang`, `claude-mute`, `claude-stall`, `claude-drop` make the faults of tests/fakes/faults.py.
"""

from __future__ import annotations

import asyncio
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.faults import Faults

UPSTREAM_KEY = "sk-ant-upstream-secret-0123456789"
TEXT = "Hello from the fake Claude. This answer streams in pieces."
THOUGHT = "The user greets me; I should greet back."
SIGNATURE = "EqQBCkYIBxgCKkBsig+fake/signature=="
TOOL_USES = [
    ("toolu_01A", "get_weather", {"city": "Paris", "unit": "celsius"}),
    ("toolu_01B", "get_time", {"timezone": "Europe/Paris"}),
]
USAGE = {
    "input_tokens": 21,
    "cache_creation_input_tokens": 5,
    "cache_read_input_tokens": 10,
    "output_tokens": 17,
    "service_tier": "standard",
}


def _sse(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"


class FakeAnthropic:
    """The fake's state: every request it received, for assertions."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.faults = Faults()
        self.app = web.Application()
        self.app.router.add_post("/v1/messages", self.messages)
        self.app.router.add_post("/v1/messages/count_tokens", self.count_tokens)

    async def count_tokens(self, request: web.Request) -> web.Response:
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        return web.json_response({"input_tokens": 42})

    async def messages(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        model = body["model"]
        if await self.faults.before_headers(model, request):
            return web.Response()
        if model == "claude-429":
            error = {"type": "rate_limit_error", "message": "Number of request tokens has exceeded your per-minute rate limit"}
            return web.json_response({"type": "error", "error": error}, status=429, headers={"retry-after": "1"})
        if model == "claude-400":
            error = {"type": "invalid_request_error", "message": "messages.0.content: text content blocks must be non-empty"}
            return web.json_response({"type": "error", "error": error, "request_id": "req_011"}, status=400)
        if model == "claude-529":
            return web.json_response(
                {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}, status=529
            )
        blocks = self._blocks(model)
        if body.get("stream"):
            return await self._stream(request, model, blocks)
        stop = "tool_use" if "tools" in model else "end_turn"
        return web.json_response(
            {
                "id": "msg_01Fake",
                "type": "message",
                "role": "assistant",
                "model": model,
                "content": blocks,
                "stop_reason": stop,
                "stop_sequence": None,
                "usage": USAGE,
            }
        )

    def _blocks(self, model: str) -> list[dict[str, Any]]:
        if model == "claude-think-tools":
            thinking = {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE}
            return [thinking] + [{"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in TOOL_USES[:1]]
        if model == "claude-tools":
            return [{"type": "text", "text": "Let me check."}] + [
                {"type": "tool_use", "id": i, "name": n, "input": a} for i, n, a in TOOL_USES
            ]
        blocks = [{"type": "text", "text": TEXT}]
        if model == "claude-think":
            blocks.insert(0, {"type": "thinking", "thinking": THOUGHT, "signature": SIGNATURE})
        return blocks

    async def _stream(self, request: web.Request, model: str, blocks: list[dict[str, Any]]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8", "request-id": "req_fake"})
        await response.prepare(request)
        if await self.faults.after_headers(model, request):
            return response
        start_usage = {**USAGE, "output_tokens": 1}
        message: dict[str, Any] = {
            "id": "msg_01Fake",
            "type": "message",
            "role": "assistant",
            "model": model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": start_usage,
        }
        await response.write(_sse("message_start", {"type": "message_start", "message": message}))
        if await self.faults.after_chunk(model, request):
            return response
        await response.write(_sse("ping", {"type": "ping"}))
        for index, block in enumerate(blocks):
            kind = block["type"]
            opening = {"type": kind, "text": ""} if kind == "text" else {"type": "thinking", "thinking": "", "signature": ""}
            if kind == "tool_use":
                opening = {"type": "tool_use", "id": block["id"], "name": block["name"], "input": {}}
            await response.write(
                _sse("content_block_start", {"type": "content_block_start", "index": index, "content_block": opening})
            )
            for delta in _deltas(block):
                await response.write(_sse("content_block_delta", {"type": "content_block_delta", "index": index, "delta": delta}))
                await asyncio.sleep(0)
                if model == "claude-stream-error":
                    error = {"type": "error", "error": {"type": "overloaded_error", "message": "Overloaded"}}
                    await response.write(_sse("error", error))
                    return response
            await response.write(_sse("content_block_stop", {"type": "content_block_stop", "index": index}))
        stop = "tool_use" if "tools" in model else "end_turn"
        delta = {
            "type": "message_delta",
            "delta": {"stop_reason": stop, "stop_sequence": None},
            "usage": {"output_tokens": USAGE["output_tokens"]},
        }
        await response.write(_sse("message_delta", delta))
        await response.write(_sse("message_stop", {"type": "message_stop"}))
        return response


def _deltas(block: dict[str, Any]) -> list[dict[str, Any]]:
    if block["type"] == "text":
        text = block["text"]
        return [{"type": "text_delta", "text": text[i : i + 11]} for i in range(0, len(text), 11)]
    if block["type"] == "thinking":
        text = block["thinking"]
        pieces = [{"type": "thinking_delta", "thinking": text[i : i + 15]} for i in range(0, len(text), 15)]
        return [*pieces, {"type": "signature_delta", "signature": block["signature"]}]
    raw = orjson.dumps(block["input"]).decode()
    return [{"type": "input_json_delta", "partial_json": ""}] + [
        {"type": "input_json_delta", "partial_json": raw[i : i + 6]} for i in range(0, len(raw), 6)
    ]
