"""A fake OpenAI-compatible upstream speaking the real wire format (shapes recorded from api.openai.com).

The upstream model id picks the behaviour, so one server covers every scenario:
`up-echo` answers normally; `up-tools` makes two parallel tool calls streamed in pieces;
`up-nousage` streams without a usage chunk; `up-cut` drops the connection mid-stream;
`up-stream-error` sends an error event mid-stream; on /v1/responses `up-same-id` always answers
`resp_same`, `up-long-id` an id of 65 characters, `up-no-id` an empty one, `up-output-object` an output
that is no list; `up-hang`, `up-mute`, `up-stall`, `up-drop` make the faults of
tests/fakes/faults.py; `up-slow` answers after 3 s; `up-drip` streams a piece every 0.3 s; `up-html` answers
200 with an HTML page; `up-<status>` (400, 401, 404, 429, 500, 503, 529) fails with that status.
"""

from __future__ import annotations

import asyncio
import base64
import secrets
import struct
import time
from typing import Any

import orjson
from aiohttp import web

from tests.fakes.faults import Faults

UPSTREAM_KEY = "sk-upstream-secret-0123456789"
PNG_BYTES = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")  # an image it serves too
ECHO_TEXT = "Hello from the fake upstream! This reply arrives in several pieces."
TOOL_CALLS = [
    ("call_Xa1", "get_weather", '{"city": "Paris", "unit": "celsius"}'),
    ("call_Xb2", "get_time", '{"timezone": "Europe/Paris"}'),
]
USAGE = {
    "prompt_tokens": 19,
    "completion_tokens": 12,
    "total_tokens": 31,
    "prompt_tokens_details": {"cached_tokens": 4, "audio_tokens": 0},
    "completion_tokens_details": {
        "reasoning_tokens": 0,
        "audio_tokens": 0,
        "accepted_prediction_tokens": 0,
        "rejected_prediction_tokens": 0,
    },
}
_ERRORS = {
    400: (
        "Invalid value for 'temperature': expected a number between 0 and 2.",
        "invalid_request_error",
        "temperature",
        "invalid_value",
    ),
    401: (
        f"Incorrect API key provided: {UPSTREAM_KEY}. You can find your API key at https://platform.openai.com.",
        "invalid_request_error",
        None,
        "invalid_api_key",
    ),
    404: ("The model `up-404` does not exist or you do not have access to it.", "invalid_request_error", None, "model_not_found"),
    429: ("Rate limit reached for requests", "requests", None, "rate_limit_exceeded"),
    500: ("The server had an error while processing your request.", "server_error", None, None),
    503: ("The engine is currently overloaded, please try again later", "server_error", None, None),
    529: ("Overloaded", "server_error", None, None),
}


class FakeOpenAI:
    """The fake's state: every request it received, for assertions."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.requests: list[dict[str, Any]] = []
        self.faults = Faults()
        self.app = web.Application()
        self.app.router.add_post("/v1/chat/completions", self.chat)
        self.app.router.add_post("/v1/responses", self.responses)
        self.app.router.add_post("/v1/embeddings", self.embeddings)
        self.app.router.add_post("/v1/images/generations", self.images)
        self.app.router.add_get("/files/cat.png", _image)
        self.app.router.add_get("/files/page.html", _page)

    async def chat(self, request: web.Request) -> web.StreamResponse:
        body = await request.json()
        self.requests.append({"headers": dict(request.headers), "body": body})
        model = body["model"]
        if await self.faults.before_headers(model, request):
            return web.Response()
        status = model.removeprefix("up-")
        if status.isdigit():
            message, kind, param, code = _ERRORS[int(status)]
            headers = {"Retry-After": "1"} if status == "429" else {}
            error = {"error": {"message": message, "type": kind, "param": param, "code": code}}
            return web.json_response(error, status=int(status), headers=headers)
        if model == "up-html":
            return web.Response(text="<html><body><h1>502 Bad Gateway</h1></body></html>", content_type="text/html")
        if model == "up-slow":
            await asyncio.sleep(3)
        if body.get("stream"):
            return await self._stream(request, body)
        return web.json_response(_completion(body))

    async def _stream(self, request: web.Request, body: dict[str, Any]) -> web.StreamResponse:
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        model = body["model"]
        with_usage = (body.get("stream_options") or {}).get("include_usage") and model != "up-nousage"
        base = {
            "id": "chatcmpl-AbC123",
            "object": "chat.completion.chunk",
            "created": int(time.time()),
            "model": model,
            "service_tier": "default",
            "system_fingerprint": "fp_f33640a400",
        }
        extra = {"usage": None} if with_usage else {}

        async def send(delta: dict[str, Any], finish: str | None = None) -> None:
            choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
            await response.write(b"data: " + orjson.dumps({**base, "choices": [choice], **extra}) + b"\n\n")

        try:
            if await self.faults.after_headers(model, request):
                return response
            await send({"role": "assistant", "content": "", "refusal": None})
            if await self.faults.after_chunk(model, request):
                return response
            if model == "up-tools":
                for index, (call_id, name, args) in enumerate(TOOL_CALLS):
                    await send(
                        {
                            "tool_calls": [
                                {"index": index, "id": call_id, "type": "function", "function": {"name": name, "arguments": ""}}
                            ]
                        }
                    )
                    for i in range(0, len(args), 7):
                        await send({"tool_calls": [{"index": index, "function": {"arguments": args[i : i + 7]}}]})
                await send({}, "tool_calls")
            else:
                for i in range(0, len(ECHO_TEXT), 9):
                    await send({"content": ECHO_TEXT[i : i + 9]})
                    if model == "up-drip":
                        await asyncio.sleep(0.3)
                    if model == "up-cut" and i > 20:
                        request.transport.close()  # type: ignore[union-attr]
                        return response
                    if model == "up-stream-error" and i > 20:
                        err = {
                            "error": {
                                "message": "The server had an error while processing your request.",
                                "type": "server_error",
                                "param": None,
                                "code": None,
                            }
                        }
                        await response.write(b"data: " + orjson.dumps(err) + b"\n\n")
                        return response
                await send({}, "stop")
            if with_usage:
                await response.write(b"data: " + orjson.dumps({**base, "choices": [], "usage": USAGE}) + b"\n\n")
            await response.write(b"data: [DONE]\n\n")
        except (ConnectionResetError, asyncio.CancelledError):
            self.faults.disconnects += 1
            raise
        return response

    async def embeddings(self, request: web.Request) -> web.Response:
        """Embeddings of three numbers per input, floats or base64 float32 as asked."""
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        texts = body["input"] if isinstance(body["input"], list) else [body["input"]]
        vectors = [[0.25, -0.5, float(i)] for i in range(len(texts))]
        encode = body.get("encoding_format") == "base64"
        data = [
            {"object": "embedding", "index": i, "embedding": base64.b64encode(struct.pack("<3f", *v)).decode() if encode else v}
            for i, v in enumerate(vectors)
        ]
        usage = {"prompt_tokens": 8, "total_tokens": 8}
        return web.json_response({"object": "list", "data": data, "model": body["model"], "usage": usage})

    async def images(self, request: web.Request) -> web.Response:
        """gpt-image-1's answer: base64 PNGs and token usage."""
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        usage = {
            "total_tokens": 4210,
            "input_tokens": 50,
            "output_tokens": 4160,
            "input_tokens_details": {"text_tokens": 50, "image_tokens": 0},
        }
        return web.json_response(
            {
                "created": 1713833628,
                "data": [{"b64_json": base64.b64encode(PNG_BYTES).decode()}] * int(body.get("n", 1)),
                "background": "opaque",
                "output_format": "png",
                "quality": "high",
                "size": "1024x1024",
                "usage": usage,
            }
        )

    async def responses(self, request: web.Request) -> web.StreamResponse:
        """The Responses API as api.openai.com serves it: text answers, whole or as the event stream."""
        body = await request.json()
        self.requests.append({"path": request.path, "headers": dict(request.headers), "body": body})
        status = str(body["model"]).removeprefix("up-")
        if status.isdigit():
            message, kind, param, code = _ERRORS[int(status)]
            return web.json_response(
                {"error": {"message": message, "type": kind, "param": param, "code": code}}, status=int(status)
            )
        response_id = _ODD_IDS.get(body["model"], f"resp_{secrets.token_hex(24)}")
        done = _response(response_id, body, "completed")
        message = done["output"][0]
        if body["model"] == "up-output-object":
            done["output"] = {"message": message}
        if not body.get("stream"):
            return web.json_response(done)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream; charset=utf-8"})
        await response.prepare(request)
        at = {"item_id": message["id"], "output_index": 0}
        pieces = [ECHO_TEXT[i : i + 9] for i in range(0, len(ECHO_TEXT), 9)]
        events: list[dict[str, Any]] = [
            {"type": "response.created", "response": _response(response_id, body, "in_progress")},
            {"type": "response.in_progress", "response": _response(response_id, body, "in_progress")},
            {
                "type": "response.output_item.added",
                "output_index": 0,
                "item": {**message, "status": "in_progress", "content": []},
            },
            {"type": "response.content_part.added", **at, "content_index": 0, "part": {**message["content"][0], "text": ""}},
            *({"type": "response.output_text.delta", **at, "content_index": 0, "delta": p, "logprobs": []} for p in pieces),
            {"type": "response.output_text.done", **at, "content_index": 0, "text": ECHO_TEXT, "logprobs": []},
            {"type": "response.content_part.done", **at, "content_index": 0, "part": message["content"][0]},
            {"type": "response.output_item.done", "output_index": 0, "item": message},
            {"type": "response.completed", "response": done},
        ]
        for number, event in enumerate(events):
            data = orjson.dumps({**event, "sequence_number": number})
            await response.write(b"event: " + event["type"].encode() + b"\ndata: " + data + b"\n\n")
            if body["model"] == "up-cut" and number == 6:
                request.transport.close()  # type: ignore[union-attr]
                break
        return response


_ODD_IDS = {"up-same-id": "resp_same", "up-long-id": "resp_" + "0" * 60, "up-no-id": ""}


def _response(response_id: str, body: dict[str, Any], status: str) -> dict[str, Any]:
    done = status == "completed"
    message = {
        "id": "msg_" + response_id[5:],
        "type": "message",
        "status": "completed",
        "role": "assistant",
        "content": [{"type": "output_text", "text": ECHO_TEXT, "annotations": [], "logprobs": []}],
    }
    usage = {
        "input_tokens": 36,
        "input_tokens_details": {"cached_tokens": 8},
        "output_tokens": 87,
        "output_tokens_details": {"reasoning_tokens": 0},
        "total_tokens": 123,
    }
    return {
        "id": response_id,
        "object": "response",
        "created_at": 1741476777,
        "status": status,
        "background": False,
        "error": None,
        "incomplete_details": None,
        "instructions": body.get("instructions"),
        "max_output_tokens": body.get("max_output_tokens"),
        "model": body["model"] + "-2025-04-14",
        "output": [message] if done else [],
        "parallel_tool_calls": True,
        "previous_response_id": body.get("previous_response_id"),
        "reasoning": {"effort": None, "summary": None},
        "store": body.get("store", True),
        "temperature": 1.0,
        "text": {"format": {"type": "text"}},
        "tool_choice": "auto",
        "tools": body.get("tools", []),
        "top_p": 1.0,
        "truncation": "disabled",
        "usage": usage if done else None,
        "user": None,
        "metadata": {},
    }


async def _image(_: web.Request) -> web.Response:
    return web.Response(body=PNG_BYTES, content_type="image/png")


async def _page(_: web.Request) -> web.Response:
    return web.Response(text="<html></html>", content_type="text/html")


def _completion(body: dict[str, Any]) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": ECHO_TEXT, "refusal": None, "annotations": []}
    finish = "stop"
    if body["model"] == "up-tools":
        message["content"] = None
        message["tool_calls"] = [{"id": c, "type": "function", "function": {"name": n, "arguments": a}} for c, n, a in TOOL_CALLS]
        finish = "tool_calls"
    return {
        "id": "chatcmpl-AbC123",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": body["model"],
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": finish}],
        "usage": USAGE,
        "service_tier": "default",
        "system_fingerprint": "fp_f33640a400",
    }
