"""A fake upstream for agent clients, speaking all three text wires (OpenAI chat, Anthropic Messages,
Gemini) on one port, streamed or whole, as those APIs do.

It acts like a model driving an agent: asked about a file (a path ending in `marker.txt` in the last
user turn), it calls the client's own file-reading or shell tool, whichever the request offers; given
that tool's result, it answers `The file says: <result>`; otherwise it answers `pong`. So a client that
shows the final answer proves a whole tool round trip went through the gateway and back.
"""

from __future__ import annotations

import re
from typing import Any

import orjson
from aiohttp import web

MARKER_PATH = re.compile(r"(/[\w./-]*marker\.txt)")
TOO_LONG = "TOO-LONG"  # in the last user turn: the upstream refuses the prompt as too long, in its own words
OVERFLOWS = {
    "openai": {
        "error": {
            "message": "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens.",
            "type": "invalid_request_error",
            "param": "messages",
            "code": "context_length_exceeded",
        }
    },
    "anthropic": {
        "type": "error",
        "error": {"type": "invalid_request_error", "message": "prompt is too long: 131072 tokens > 128000 maximum"},
    },
    "gemini": {
        "error": {
            "code": 400,
            "message": "The input token count (131072) exceeds the maximum number of tokens allowed (128000).",
            "status": "INVALID_ARGUMENT",
        }
    },
}
USAGE = {"input": 31, "output": 9}


def tool_call(tools: dict[str, dict[str, Any]], path: str) -> tuple[str, dict[str, Any]] | None:
    """The call a model would make to read `path` with one of `tools` (name -> JSON schema)."""
    for name, schema in tools.items():
        props = schema.get("properties") or {}
        short = name.rsplit("__", 1)[-1]
        if short in ("Read", "read_file"):
            key = next((k for k in ("file_path", "absolute_path", "path") if k in props), "file_path")
            return name, {key: path}
        if short == "exec_command":
            return name, {"cmd": f"cat {path}"}
        if short in ("shell", "local_shell"):
            return name, {"commands": [f"cat {path}"]} if "commands" in props else {"command": ["cat", path]}
    return None


def decide(last_user_text: str, tool_result: str | None, tools: dict[str, dict[str, Any]]) -> tuple[str, Any]:
    """("text", answer) or ("call", (name, arguments)) for the turn."""
    if tool_result is not None:
        return "text", "The file says: " + tool_result.strip()[:200]
    found = MARKER_PATH.search(last_user_text)
    call = tool_call(tools, found.group(1)) if found else None
    return ("call", call) if call else ("text", "pong")


def _text(value: Any) -> str:
    if isinstance(value, str):
        return value
    if isinstance(value, list):
        return "\n".join(_text(v.get("text", v.get("content", ""))) if isinstance(v, dict) else _text(v) for v in value)
    return "" if value is None else orjson.dumps(value).decode()


class FakeAgentUpstream:
    """The fake's state: every request it received (path, headers, body), for assertions."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.app = web.Application(client_max_size=20 * 1024 * 1024)
        self.app.router.add_post("/v1/chat/completions", self.openai)
        self.app.router.add_post("/v1/messages", self.anthropic)
        self.app.router.add_post("/v1beta/models/{model_method}", self.gemini)

    async def _body(self, request: web.Request) -> dict[str, Any]:
        body: dict[str, Any] = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        return body

    async def openai(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        messages = body["messages"]
        last = messages[-1]
        result = _text(last.get("content")) if last.get("role") == "tool" else None
        users = [m for m in messages if m.get("role") == "user"]
        if users and TOO_LONG in _text(users[-1]["content"]):
            return web.json_response(OVERFLOWS["openai"], status=400)
        tools = {t["function"]["name"]: t["function"].get("parameters") or {} for t in body.get("tools", [])}
        kind, value = decide(_text(users[-1]["content"]) if users else "", result, tools)
        usage = {"prompt_tokens": USAGE["input"], "completion_tokens": USAGE["output"], "total_tokens": sum(USAGE.values())}
        if kind == "call":
            name, args = value
            calls = [
                {"id": "call_agent1", "type": "function", "function": {"name": name, "arguments": orjson.dumps(args).decode()}}
            ]
            message: dict[str, Any] = {"role": "assistant", "content": None, "tool_calls": calls}
            finish = "tool_calls"
        else:
            message, finish = {"role": "assistant", "content": value}, "stop"
        base = {"id": "chatcmpl-agent", "created": 1764500000, "model": body["model"]}
        if not body.get("stream"):
            choice = {"index": 0, "message": message, "finish_reason": finish}
            return web.json_response({**base, "object": "chat.completion", "choices": [choice], "usage": usage})
        chunks = [{"role": "assistant", "content": ""}]
        if kind == "call":
            call = message["tool_calls"][0]
            chunks.append(
                {
                    "tool_calls": [
                        {
                            "index": 0,
                            "id": call["id"],
                            "type": "function",
                            "function": {"name": call["function"]["name"], "arguments": ""},
                        }
                    ]
                }
            )
            args = call["function"]["arguments"]
            chunks += [{"tool_calls": [{"index": 0, "function": {"arguments": args[i : i + 8]}}]} for i in range(0, len(args), 8)]
        else:
            chunks += [{"content": value[i : i + 6]} for i in range(0, len(value), 6)]
        events = [
            {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": d, "finish_reason": None}]}
            for d in chunks
        ]
        events.append(
            {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": {}, "finish_reason": finish}]}
        )
        events.append({**base, "object": "chat.completion.chunk", "choices": [], "usage": usage})
        return await _sse(request, [b"data: " + orjson.dumps(e) for e in events] + [b"data: [DONE]"])

    async def anthropic(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        users = [m for m in body["messages"] if m.get("role") == "user"]
        last = users[-1]["content"] if users else ""
        blocks = last if isinstance(last, list) else [{"type": "text", "text": last}]
        results = [b for b in blocks if b.get("type") == "tool_result"]
        if TOO_LONG in _text(blocks):
            return web.json_response(OVERFLOWS["anthropic"], status=400)
        tools = {t["name"]: t.get("input_schema") or {} for t in body.get("tools", []) if "name" in t}
        kind, value = decide(_text(blocks), _text(results[-1].get("content")) if results else None, tools)
        if kind == "call":
            content: dict[str, Any] = {"type": "tool_use", "id": "toolu_agent1", "name": value[0], "input": value[1]}
            stop = "tool_use"
        else:
            content, stop = {"type": "text", "text": value}, "end_turn"
        usage = {"input_tokens": USAGE["input"], "output_tokens": USAGE["output"]}
        message = {"id": "msg_agent", "type": "message", "role": "assistant", "model": body["model"], "stop_sequence": None}
        if not body.get("stream"):
            return web.json_response({**message, "content": [content], "stop_reason": stop, "usage": usage})
        start = {**content, "input": {}} if kind == "call" else {"type": "text", "text": ""}
        delta = (
            {"type": "input_json_delta", "partial_json": orjson.dumps(value[1]).decode()}
            if kind == "call"
            else {"type": "text_delta", "text": value}
        )
        events = [
            (
                "message_start",
                {"message": {**message, "content": [], "stop_reason": None, "usage": {**usage, "output_tokens": 1}}},
            ),
            ("content_block_start", {"index": 0, "content_block": start}),
            ("content_block_delta", {"index": 0, "delta": delta}),
            ("content_block_stop", {"index": 0}),
            (
                "message_delta",
                {"delta": {"stop_reason": stop, "stop_sequence": None}, "usage": {"output_tokens": USAGE["output"]}},
            ),
            ("message_stop", {}),
        ]
        return await _sse(request, [b"event: " + n.encode() + b"\ndata: " + orjson.dumps({"type": n, **d}) for n, d in events])

    async def gemini(self, request: web.Request) -> web.StreamResponse:
        body = await self._body(request)
        contents = body["contents"]
        parts = contents[-1].get("parts", []) if contents else []
        answers = [p["functionResponse"] for p in parts if "functionResponse" in p]
        users = [c for c in contents if c.get("role") == "user" and not any("functionResponse" in p for p in c.get("parts", []))]
        text = "\n".join(p.get("text", "") for p in (users[-1]["parts"] if users else []))
        if TOO_LONG in text:
            return web.json_response(OVERFLOWS["gemini"], status=400)
        tools = {
            f["name"]: f.get("parametersJsonSchema") or f.get("parameters") or {}
            for t in body.get("tools", [])
            for f in t.get("functionDeclarations", [])
        }
        kind, value = decide(text, _text(answers[-1].get("response")) if answers else None, tools)
        part = {"functionCall": {"name": value[0], "args": value[1]}} if kind == "call" else {"text": value}
        usage = {
            "promptTokenCount": USAGE["input"],
            "candidatesTokenCount": USAGE["output"],
            "totalTokenCount": sum(USAGE.values()),
        }
        answer = {
            "candidates": [{"content": {"role": "model", "parts": [part]}, "finishReason": "STOP", "index": 0}],
            "usageMetadata": usage,
            "modelVersion": request.match_info["model_method"].split(":")[0],
            "responseId": "agent-response",
        }
        if "streamGenerateContent" not in request.path:
            return web.json_response(answer)
        return await _sse(request, [b"data: " + orjson.dumps(answer)])


async def _sse(request: web.Request, events: list[bytes]) -> web.StreamResponse:
    response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
    await response.prepare(request)
    for event in events:
        await response.write(event + b"\n\n")
    await response.write_eof()
    return response
