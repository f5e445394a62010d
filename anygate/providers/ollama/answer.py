"""Ollama's /api/chat answers as canonical ones: the whole answer, and the pieces of a streamed one."""

from __future__ import annotations

import secrets
from typing import Any

from anygate.core.chat import ChatResponse, FinishReason, Part, Text, Thinking, ToolCall
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.tool_arguments import parse_arguments
from anygate.core.usage import Usage

FINISH_FROM_OLLAMA: dict[str, FinishReason] = {"stop": "stop", "length": "length"}


def call_id(index: int) -> str:
    """An id for the `index`th tool call of an answer (Ollama gives none; its results name the tool)."""
    return f"call_{index}_{secrets.token_hex(4)}"


def usage_from_ollama(body: dict[str, Any]) -> Usage:
    """The token counts of a finished answer (the prompt's count is left out when it was all cached)."""
    prompt, output = body.get("prompt_eval_count"), body.get("eval_count")
    return Usage(prompt if isinstance(prompt, int) else 0, output if isinstance(output, int) else 0)


def message_parts(message: Any, first_call: int) -> list[Part]:
    """The parts of one (whole, or streamed piece of a) response message; its tool calls numbered from `first_call`."""
    if not isinstance(message, dict):
        return []
    parts: list[Part] = []
    if isinstance(message.get("thinking"), str) and message["thinking"]:
        parts.append(Thinking(message["thinking"]))
    if isinstance(message.get("content"), str) and message["content"]:
        parts.append(Text(message["content"]))
    for i, call in enumerate(message.get("tool_calls") or ()):
        function = call.get("function") if isinstance(call, dict) else None
        if not isinstance(function, dict):
            raise GatewayError(ErrorKind.UPSTREAM, "upstream sent a tool call without a function", code="upstream_bad_response")
        arguments = parse_arguments(function.get("arguments"), f"tool_calls[{i}]")
        parts.append(ToolCall(call_id(first_call + i), str(function.get("name", "")), arguments))
    return parts


def finish_of(body: dict[str, Any], called_tools: bool) -> FinishReason:
    """The canonical finish of a done answer (Ollama says `stop` after tool calls too)."""
    finish = FINISH_FROM_OLLAMA.get(str(body.get("done_reason")), "stop")
    return "tool_calls" if finish == "stop" and called_tools else finish


def parse_response(body: dict[str, Any]) -> ChatResponse:
    """The canonical form of a whole /api/chat answer."""
    if "message" not in body:
        raise GatewayError(ErrorKind.UPSTREAM, "upstream answered without a message", code="upstream_bad_response")
    parts = message_parts(body["message"], 0)
    called = any(isinstance(p, ToolCall) for p in parts)
    return ChatResponse("", str(body.get("model", "")), parts, finish_of(body, called), usage_from_ollama(body))
