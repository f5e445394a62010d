"""OpenAI chat completion responses to and from the canonical ChatResponse."""

from __future__ import annotations

import time
from typing import Any

from anygate.core.chat import ChatResponse, FinishReason, Part, Text, Thinking, ToolCall
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.tool_arguments import dump_arguments, parse_arguments
from anygate.core.usage import Usage
from anygate.protocols.openai.usage import usage_from_openai, usage_to_openai

FINISH_FROM_OPENAI: dict[str, FinishReason] = {
    "stop": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "function_call": "tool_calls",
    "content_filter": "content_filter",
}
FINISH_TO_OPENAI: dict[FinishReason, str] = {
    "stop": "stop",
    "stop_sequence": "stop",
    "length": "length",
    "tool_calls": "tool_calls",
    "content_filter": "content_filter",
}


def parse_response(body: dict[str, Any]) -> ChatResponse:
    """The canonical form of an OpenAI chat completion."""
    choices = body.get("choices")
    if not isinstance(choices, list) or not choices or not isinstance(choices[0], dict):
        raise GatewayError(ErrorKind.UPSTREAM, "upstream answered without choices", code="upstream_bad_response")
    message = choices[0].get("message") or {}
    parts: list[Part] = []
    reasoning = message.get("reasoning_content") or message.get("reasoning")
    if isinstance(reasoning, str) and reasoning:
        parts.append(Thinking(reasoning))
    for key in ("content", "refusal"):
        if isinstance(message.get(key), str) and message[key]:
            parts.append(Text(message[key]))
    for i, call in enumerate(message.get("tool_calls") or []):
        function = call.get("function") or {}
        parts.append(
            ToolCall(
                str(call.get("id")), str(function.get("name")), parse_arguments(function.get("arguments"), f"tool_calls[{i}]")
            )
        )
    finish = FINISH_FROM_OPENAI.get(str(choices[0].get("finish_reason")), "stop")
    if finish == "stop" and any(isinstance(p, ToolCall) for p in parts):
        finish = "tool_calls"
    return ChatResponse(
        str(body.get("id", "")), str(body.get("model", "")), parts, finish, usage_from_openai(body.get("usage")) or Usage()
    )


def completion_id(upstream_id: str) -> str:
    """An OpenAI-style id, keeping the upstream's when it already is one."""
    return upstream_id if upstream_id.startswith("chatcmpl-") else f"chatcmpl-{upstream_id or time.time_ns()}"


def build_response(resp: ChatResponse, model: str, request_id: str) -> dict[str, Any]:
    """An OpenAI chat completion body for a canonical response."""
    text = "".join(p.text for p in resp.parts if isinstance(p, Text))
    calls = [p for p in resp.parts if isinstance(p, ToolCall)]
    thinking = "".join(p.text for p in resp.parts if isinstance(p, Thinking))
    message: dict[str, Any] = {"role": "assistant", "content": text or None, "refusal": None}
    if thinking:
        message["reasoning_content"] = thinking
    if calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": dump_arguments(c.arguments)}}
            for c in calls
        ]
    return {
        "id": completion_id(resp.id),
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": FINISH_TO_OPENAI[resp.finish]}],
        "usage": usage_to_openai(resp.usage),
    }
