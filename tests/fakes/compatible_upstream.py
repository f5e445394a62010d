"""Fakes of the OpenAI-compatible upstreams that have a provider type of their own, each enforcing the
quirks its real API has (as recorded in its docs and in the errors users of other gateways hit), and
answering in its own shape. One server, one path prefix per profile: POST /{profile}/chat/completions.

Every profile answers text, or a tool call when tools are given and the last message is the user's,
or a final text once the tool's result is in; a model id ending in `-400` fails as that API fails.
- mistral: any field its API does not know is a 422 `extra_forbidden` (as `stream_options`,
  `max_completion_tokens`, `user` are there); a tool-call id not of nine letters and digits is a 400;
  `tool_choice` is auto, none, any or a function; the seed is `random_seed`; its own ids are 9 long.
- deepseek: thinks (`reasoning_content`), and refuses an assistant turn with tool calls that does not
  bring its `reasoning_content` back.
- qwen: thinks when `enable_thinking` is true, which is its default and refused on a whole answer; openrouter: thinks (`reasoning`) when given a
  `reasoning` object with an effort; groq: refuses `logprobs`, `top_logprobs` and `logit_bias`.
- the others (xai, together, fireworks, vllm, ollama) answer as OpenAI does; xai and vllm think
  (`reasoning_content`, `reasoning`) when asked for an effort.
- azure (and azurev1): the key only in an `api-key` header (401 otherwise); at
  /{profile}/openai/deployments/{deployment}/chat/completions?api-version= (404 without a version;
  the deployment is the model) or at /{profile}/openai/v1/chat/completions; its answers carry content
  filter results, and its streams begin with a chunk of no choices.
- ollama's own chat API at /{profile}/api/chat (see `ollama_chat`): tool calls with object arguments
  and no ids, results that name their tool, `think` for thinking, `options`, and streams of JSON lines.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson
from aiohttp import web

THINKING = "The user wants the weather, so I call the tool."

_MISTRAL_FIELDS = {
    "model",
    "messages",
    "temperature",
    "top_p",
    "max_tokens",
    "stream",
    "stop",
    "random_seed",
    "response_format",
    "tools",
    "tool_choice",
    "presence_penalty",
    "frequency_penalty",
    "n",
    "prediction",
    "parallel_tool_calls",
    "safe_prompt",
    "prompt_mode",
}
_GROQ_REFUSED = ("logprobs", "top_logprobs", "logit_bias")


def _error(status: int, message: str, kind: str = "invalid_request_error", code: Any = None) -> web.Response:
    return web.json_response({"error": {"message": message, "type": kind, "param": None, "code": code}}, status=status)


def _mistral_problem(body: dict[str, Any]) -> web.Response | None:
    extra = [name for name in body if name not in _MISTRAL_FIELDS]
    if extra:
        detail = [
            {"type": "extra_forbidden", "loc": ["body", name], "msg": "Extra inputs are not permitted", "input": body[name]}
            for name in extra
        ]
        return web.json_response(
            {"object": "error", "message": {"detail": detail}, "type": "invalid_request_error", "param": None, "code": None},
            status=422,
        )
    choice = body.get("tool_choice")
    if isinstance(choice, str) and choice not in ("auto", "none", "any"):
        return web.json_response(
            {
                "object": "error",
                "message": f"Invalid tool_choice: {choice}",
                "type": "invalid_request_error",
                "param": None,
                "code": None,
            },
            status=422,
        )
    for message in body["messages"]:
        ids = [c["id"] for c in message.get("tool_calls") or []] + (
            [message["tool_call_id"]] if "tool_call_id" in message else []
        )
        for call_id in ids:
            if not (len(call_id) == 9 and call_id.isascii() and call_id.isalnum()):
                return web.json_response(
                    {
                        "object": "error",
                        "message": f"Tool call id was {call_id} but must be a-z, A-Z, 0-9, with a length of 9.",
                        "type": "invalid_function_call",
                        "param": None,
                        "code": "3280",
                    },
                    status=400,
                )
    return None


def _azure_problem(request: web.Request) -> web.Response | None:
    if "api-key" not in request.headers or "Authorization" in request.headers:
        message = "Access denied due to invalid subscription key or wrong API endpoint. Make sure to provide a valid key for an active subscription and use a correct regional API endpoint for your resource."
        return web.json_response({"error": {"code": "401", "message": message}}, status=401)
    if "deployment" in request.match_info and not request.query.get("api-version"):
        return web.json_response({"error": {"code": "404", "message": "Resource not found"}}, status=404)
    return None


def _problem(profile: str, body: dict[str, Any]) -> web.Response | None:
    if str(body.get("model", "")).endswith("-400"):
        return _error(400, f"The model `{body['model']}` cannot take this request: 'temperature' is out of range.")
    if profile == "mistral":
        return _mistral_problem(body)
    if profile == "deepseek":
        for message in body["messages"]:
            if (
                message.get("role") == "assistant"
                and message.get("tool_calls")
                and not isinstance(message.get("reasoning_content"), str)
            ):
                return _error(400, "The `reasoning_content` in the thinking mode must be passed back to the API.")
    if profile == "qwen" and body.get("enable_thinking", True) and not body.get("stream"):  # its open models think by default
        return web.json_response(
            {
                "error": {
                    "code": "invalid_parameter_error",
                    "param": None,
                    "message": "parameter.enable_thinking must be set to false for non-streaming calls",
                    "type": "invalid_request_error",
                }
            },
            status=400,
        )
    if profile == "groq":
        for name in _GROQ_REFUSED:
            if name in body:
                return _error(400, f"`{name}` is not supported with this model")
    return None


def _thinks(profile: str, body: dict[str, Any]) -> str | None:
    """The field the profile's thinking comes back in, when it thinks for this request."""
    if profile == "deepseek":
        return "reasoning_content"
    if profile == "qwen" and body.get("enable_thinking") is True:
        return "reasoning_content"
    if profile == "openrouter" and isinstance(body.get("reasoning"), dict) and body["reasoning"].get("effort"):
        return "reasoning"
    if profile in ("xai", "vllm") and body.get("reasoning_effort"):
        return "reasoning_content" if profile == "xai" else "reasoning"
    return None


def _call_id(profile: str) -> str:
    return secrets.token_hex(5)[:9] if profile == "mistral" else "call_" + secrets.token_hex(12)


def _answer(profile: str, body: dict[str, Any]) -> dict[str, Any]:
    """The assistant message (text or a tool call) and its thinking field, if any."""
    message: dict[str, Any] = {"role": "assistant", "content": None}
    last = body["messages"][-1]
    if body.get("tools") and last.get("role") == "user":
        message["tool_calls"] = [
            {"id": _call_id(profile), "type": "function", "function": {"name": "get_weather", "arguments": '{"city": "Paris"}'}}
        ]
    elif last.get("role") == "tool":
        message["content"] = f"The weather in Paris is fine (from {profile})."
    else:
        message["content"] = f"Hello from {profile}!"
    field = _thinks(profile, body)
    if field:
        message[field] = THINKING
    return message


def _usage() -> dict[str, Any]:
    return {"prompt_tokens": 21, "completion_tokens": 9, "total_tokens": 30}


class FakeCompatible:
    """The fake of every OpenAI-compatible profile; `url` + `/{profile}` is a profile's base URL."""

    url = ""  # its base URL, once served on a loopback port

    def __init__(self) -> None:
        self.app = web.Application()
        self.app.router.add_post("/{profile}/chat/completions", self.chat)
        self.app.router.add_post("/{profile}/openai/v1/chat/completions", self.chat)
        self.app.router.add_post("/{profile}/openai/deployments/{deployment}/chat/completions", self.chat)
        self.app.router.add_post("/{profile}/api/chat", self.ollama_chat)
        self.requests: dict[str, list[dict[str, Any]]] = {}  # profile -> the bodies it got, oldest first

    async def chat(self, request: web.Request) -> web.StreamResponse:
        """One chat completion, as the profile of the path answers it."""
        profile = request.match_info["profile"]
        body = orjson.loads(await request.read())
        self.requests.setdefault(profile, []).append(body)
        azure = profile.startswith("azure")
        if azure:
            problem = _azure_problem(request)
            if problem is not None:
                return problem
            body["model"] = request.match_info.get("deployment", body.get("model"))
        problem = _problem(profile, body)
        if problem is not None:
            return problem
        message = _answer(profile, body)
        finish = "tool_calls" if message.get("tool_calls") else "stop"
        base = {"id": "chatcmpl-" + secrets.token_hex(8), "created": int(time.time()), "model": body["model"]}
        filtered = {"content_filter_results": {"hate": {"filtered": False, "severity": "safe"}}} if azure else {}
        if not body.get("stream"):
            answer = {
                **base,
                "object": "chat.completion",
                "choices": [{"index": 0, "message": message, "finish_reason": finish, **filtered}],
                "usage": _usage(),
            }
            if azure:
                answer["prompt_filter_results"] = [{"prompt_index": 0, **filtered}]
            return web.json_response(answer)
        response = web.StreamResponse(headers={"Content-Type": "text/event-stream"})
        await response.prepare(request)
        if azure:  # Azure's first chunk: the prompt's filter results, and no choices
            first = {
                "id": "",
                "object": "",
                "created": 0,
                "model": "",
                "choices": [],
                "prompt_filter_results": [{"prompt_index": 0, **filtered}],
            }
            await response.write(b"data: " + orjson.dumps(first) + b"\n\n")

        async def chunk(delta: dict[str, Any], reason: str | None = None, usage: dict[str, Any] | None = None) -> None:
            data = {**base, "object": "chat.completion.chunk", "choices": [{"index": 0, "delta": delta, "finish_reason": reason}]}
            if usage is not None:
                data["usage"] = usage
            await response.write(b"data: " + orjson.dumps(data) + b"\n\n")

        await chunk({"role": "assistant", "content": ""})
        for field in ("reasoning_content", "reasoning"):
            if message.get(field):
                for piece in (THINKING[:20], THINKING[20:]):
                    await chunk({field: piece})
        if message.get("content"):
            text = message["content"]
            for piece in (text[:8], text[8:]):
                await chunk({"content": piece})
        for i, call in enumerate(message.get("tool_calls") or []):
            await chunk(
                {
                    "tool_calls": [
                        {"index": i, "id": call["id"], "type": "function", "function": {"name": "get_weather", "arguments": ""}}
                    ]
                }
            )
            await chunk({"tool_calls": [{"index": i, "function": {"arguments": call["function"]["arguments"]}}]})
        wants_usage = profile == "mistral" or (body.get("stream_options") or {}).get("include_usage")
        await chunk({}, finish, _usage() if wants_usage else None)
        await response.write(b"data: [DONE]\n\n")
        return response

    async def ollama_chat(self, request: web.Request) -> web.StreamResponse:
        """Ollama's POST /api/chat: a 400 (`{"error": ...}`) for what the real one refuses (arguments
        that are not objects, images that are not base64, `think` to a model that cannot); streamed as
        JSON lines unless `stream` is false."""
        profile = request.match_info["profile"]
        body = orjson.loads(await request.read())
        self.requests.setdefault(profile, []).append(body)
        problem = _ollama_problem(body)
        if problem is not None:
            return web.json_response({"error": problem}, status=400)
        message = _answer(profile, {**body, "messages": body["messages"]})
        message.pop("reasoning_content", None)
        if body.get("think"):
            message["thinking"] = THINKING
        message["content"] = message["content"] or ""
        for call in message.get("tool_calls") or []:
            del call["id"], call["type"]
            call["function"]["arguments"] = orjson.loads(call["function"]["arguments"])
        done = {
            "done": True,
            "done_reason": "stop",
            "total_duration": 1_000_000,
            "prompt_eval_count": 21,
            "eval_count": 9,
        }
        base = {"model": body["model"], "created_at": "2026-11-30T12:00:00.000000Z"}
        if body.get("stream") is False:
            return web.json_response({**base, "message": message, **done})
        response = web.StreamResponse(headers={"Content-Type": "application/x-ndjson"})
        await response.prepare(request)
        pieces: list[dict[str, Any]] = []
        if message.get("thinking"):
            pieces += [{"thinking": THINKING[:20]}, {"thinking": THINKING[20:]}]
        if message["content"]:
            pieces += [{"content": message["content"][:8]}, {"content": message["content"][8:]}]
        if message.get("tool_calls"):
            pieces.append({"tool_calls": message["tool_calls"]})
        lines = [{**base, "message": {"role": "assistant", "content": "", **p}, "done": False} for p in pieces]
        lines.append({**base, "message": {"role": "assistant", "content": ""}, **done})
        blob = b"".join(orjson.dumps(line) + b"\n" for line in lines)
        for cut in range(0, len(blob), 97):  # lines cut anywhere, as TCP may
            await response.write(blob[cut : cut + 97])
        return response


def _ollama_problem(body: dict[str, Any]) -> str | None:
    if str(body.get("model", "")).endswith("-400"):
        return f"model '{body['model']}': 'temperature' is out of range"
    for message in body["messages"]:
        for call in message.get("tool_calls") or []:
            if not isinstance(call["function"]["arguments"], dict):
                return "json: cannot unmarshal string into Go struct field ToolCallFunction.messages.tool_calls.function.arguments of type api.ToolCallFunctionArguments"
        if message.get("role") == "tool" and not message.get("tool_name"):
            return "a tool message must name its tool (tool_name)"
        for image in message.get("images") or []:
            if not isinstance(image, str) or image.startswith(("http", "data:")):
                return "illegal base64 data at input byte 4"
    return None
