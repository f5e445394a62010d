"""Anthropic Messages responses to and from the canonical ChatResponse."""

from __future__ import annotations

import random
from typing import Any

from anygate.core.chat import ChatResponse, FinishReason, Part, Text, Thinking, ToolCall
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage, tokens

FINISH_FROM_ANTHROPIC: dict[str, FinishReason] = {
    "end_turn": "stop",
    "pause_turn": "stop",
    "stop_sequence": "stop_sequence",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "tool_use": "tool_calls",
    "refusal": "content_filter",
}
FINISH_TO_ANTHROPIC: dict[FinishReason, str] = {
    "stop": "end_turn",
    "stop_sequence": "stop_sequence",
    "length": "max_tokens",
    "tool_calls": "tool_use",
    "content_filter": "refusal",
}


def usage_from_anthropic(data: Any) -> Usage:
    """Anthropic's usage, with cache reads and writes counted into the input as the canonical form has it."""
    if not isinstance(data, dict):
        return Usage()
    read = tokens(data.get("cache_read_input_tokens"))
    write = tokens(data.get("cache_creation_input_tokens"))
    return Usage(
        input_tokens=tokens(data.get("input_tokens")) + read + write,
        output_tokens=tokens(data.get("output_tokens")),
        cached_tokens=read,
        cache_write_tokens=write,
    )


def usage_to_anthropic(usage: Usage) -> dict[str, Any]:
    """Anthropic's usage object: `input_tokens` excludes cache reads and writes."""
    return {
        "input_tokens": max(usage.input_tokens - usage.cached_tokens - usage.cache_write_tokens, 0),
        "output_tokens": usage.output_tokens,
        "cache_creation_input_tokens": usage.cache_write_tokens,
        "cache_read_input_tokens": usage.cached_tokens,
    }


def parse_response(body: dict[str, Any]) -> ChatResponse:
    """The canonical form of an Anthropic message."""
    content = body.get("content")
    if not isinstance(content, list):
        raise GatewayError(ErrorKind.UPSTREAM, "upstream answered without content", code="upstream_bad_response")
    parts: list[Part] = []
    for block in content:
        kind = block.get("type")
        if kind == "text":
            parts.append(Text(str(block.get("text", ""))))
        elif kind == "tool_use":
            parts.append(ToolCall(str(block.get("id")), str(block.get("name")), block.get("input") or {}))
        elif kind == "thinking":
            parts.append(Thinking(str(block.get("thinking", "")), signature=block.get("signature")))
        elif kind == "redacted_thinking":
            parts.append(Thinking(redacted=str(block.get("data", ""))))
    finish = FINISH_FROM_ANTHROPIC.get(str(body.get("stop_reason")), "stop")
    return ChatResponse(
        str(body.get("id", "")),
        str(body.get("model", "")),
        parts,
        finish,
        usage_from_anthropic(body.get("usage")),
        body.get("stop_sequence"),
    )


def message_id(upstream_id: str) -> str:
    """An Anthropic-style id, keeping the upstream's when it already is one. It names a message, guards
    nothing: drawn from the fast generator, not the operating system's (a system call each)."""
    return upstream_id if upstream_id.startswith("msg_") else f"msg_{random.getrandbits(96):024x}"


def content_block(part: Part) -> dict[str, Any] | None:
    """One response content block."""
    if isinstance(part, Text):
        return {"type": "text", "text": part.text}
    if isinstance(part, ToolCall):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments}
    if isinstance(part, Thinking):
        if part.redacted is not None:
            return {"type": "redacted_thinking", "data": part.redacted}
        return {"type": "thinking", "thinking": part.text, "signature": part.signature or ""}
    return None


def build_response(resp: ChatResponse, model: str, request_id: str) -> dict[str, Any]:
    """An Anthropic message body for a canonical response."""
    return {
        "id": message_id(resp.id),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": [b for b in (content_block(p) for p in resp.parts) if b],
        "stop_reason": FINISH_TO_ANTHROPIC[resp.finish],
        "stop_sequence": resp.stop_sequence,
        "usage": usage_to_anthropic(resp.usage),
    }
