"""Gemini generateContent responses to and from the canonical ChatResponse."""

from __future__ import annotations

import secrets
from typing import Any

from anygate.core.chat import ChatResponse, FinishReason, Part, Text, Thinking, ToolCall
from anygate.core.usage import Usage, tokens

_FILTERED = {
    "SAFETY",
    "RECITATION",
    "BLOCKLIST",
    "PROHIBITED_CONTENT",
    "SPII",
    "IMAGE_SAFETY",
    "IMAGE_PROHIBITED_CONTENT",
    "IMAGE_RECITATION",
}
FINISH_TO_GEMINI: dict[FinishReason, str] = {
    "stop": "STOP",
    "stop_sequence": "STOP",
    "tool_calls": "STOP",  # Gemini has no tool-call reason: a tool turn ends with STOP
    "length": "MAX_TOKENS",
    "content_filter": "SAFETY",
}


def finish_from_gemini(reason: Any, has_calls: bool) -> FinishReason:
    """The canonical finish reason; STOP with a function call in the turn is a tool-call finish."""
    if reason == "MAX_TOKENS":
        return "length"
    if reason in _FILTERED:
        return "content_filter"
    return "tool_calls" if has_calls else "stop"


def usage_from_gemini(data: Any) -> Usage:
    """Gemini's usageMetadata: thoughts count as output (and as reasoning), tool-use prompts as input."""
    if not isinstance(data, dict):
        return Usage()
    thoughts = tokens(data.get("thoughtsTokenCount"))
    return Usage(
        input_tokens=tokens(data.get("promptTokenCount")) + tokens(data.get("toolUsePromptTokenCount")),
        output_tokens=tokens(data.get("candidatesTokenCount")) + thoughts,
        cached_tokens=tokens(data.get("cachedContentTokenCount")),
        reasoning_tokens=thoughts,
    )


def usage_to_gemini(usage: Usage) -> dict[str, Any]:
    """A Gemini usageMetadata object."""
    data = {
        "promptTokenCount": usage.input_tokens,
        "candidatesTokenCount": usage.output_tokens - usage.reasoning_tokens,
        "totalTokenCount": usage.input_tokens + usage.output_tokens,
    }
    if usage.reasoning_tokens:
        data["thoughtsTokenCount"] = usage.reasoning_tokens
    if usage.cached_tokens:
        data["cachedContentTokenCount"] = usage.cached_tokens
    return data


def parts_from_gemini(parts: Any, first_call: int = 0) -> list[Part]:
    """Canonical parts of a Gemini content's parts; calls without ids get ids numbered from `first_call`."""
    out: list[Part] = []
    for part in parts if isinstance(parts, list) else ():
        if not isinstance(part, dict):
            continue
        if isinstance(part.get("text"), str):
            out.append(
                Thinking(part["text"], signature=part.get("thoughtSignature")) if part.get("thought") else Text(part["text"])
            )
        elif isinstance(part.get("functionCall"), dict):
            call = part["functionCall"]
            call_id = str(
                call.get("id") or f"call_{first_call + sum(isinstance(p, ToolCall) for p in out)}_{secrets.token_hex(4)}"
            )
            out.append(ToolCall(call_id, str(call.get("name", "")), call.get("args") or {}, part.get("thoughtSignature")))
    return out


def parse_response(body: dict[str, Any]) -> ChatResponse:
    """The canonical form of a Gemini response (a blocked prompt is an empty, filtered answer)."""
    candidates = body.get("candidates") or []
    candidate = candidates[0] if candidates and isinstance(candidates[0], dict) else {}
    parts = parts_from_gemini((candidate.get("content") or {}).get("parts"))
    has_calls = any(isinstance(p, ToolCall) for p in parts)
    blocked = not candidates and (body.get("promptFeedback") or {}).get("blockReason")
    finish: FinishReason = "content_filter" if blocked else finish_from_gemini(candidate.get("finishReason"), has_calls)
    return ChatResponse(
        str(body.get("responseId", "")),
        str(body.get("modelVersion", "")),
        parts,
        finish,
        usage_from_gemini(body.get("usageMetadata")),
    )


def part_to_gemini(part: Part) -> dict[str, Any] | None:
    """One response part."""
    if isinstance(part, Text):
        return {"text": part.text}
    if isinstance(part, Thinking):
        thought: dict[str, Any] = {"text": part.text, "thought": True}
        if part.signature:
            thought["thoughtSignature"] = part.signature
        return thought
    if isinstance(part, ToolCall):
        call: dict[str, Any] = {"functionCall": {"id": part.id, "name": part.name, "args": part.arguments}}
        if part.signature:
            call["thoughtSignature"] = part.signature
        return call
    return None


def build_response(resp: ChatResponse, model: str, request_id: str) -> dict[str, Any]:
    """A Gemini response body for a canonical response."""
    parts = [p for p in (part_to_gemini(part) for part in resp.parts) if p]
    return {
        "candidates": [{"content": {"role": "model", "parts": parts}, "finishReason": FINISH_TO_GEMINI[resp.finish], "index": 0}],
        "usageMetadata": usage_to_gemini(resp.usage),
        "modelVersion": model,
        "responseId": resp.id or request_id,
    }
