"""Canonical events as a Gemini stream (to a client): SSE with `alt=sse`, else one JSON array sent in pieces.

Gemini sends function calls whole, so a call's arguments are gathered and sent when the call is complete.
"""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.errors import GatewayError
from anygate.core.stream import (
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextRun,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
)
from anygate.core.tool_arguments import parse_arguments
from anygate.protocols.gemini.errors import error_body
from anygate.protocols.gemini.response import FINISH_TO_GEMINI, usage_to_gemini


class GeminiStreamWriter:
    """Writes GenerateContentResponse chunks; the last carries finishReason and usageMetadata."""

    def __init__(self, model: str, request_id: str, sse: bool = True) -> None:
        self._model = model
        self._id = request_id
        self._sse = sse
        self._first = True
        self._calls: dict[int, dict[str, Any]] = {}
        self.content_type = "text/event-stream" if sse else "application/json"

    def _chunk(self, parts: list[dict[str, Any]], extra: dict[str, Any] | None = None) -> bytes:
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": parts}, "index": 0}
        body: dict[str, Any] = {"candidates": [candidate], "modelVersion": self._model, "responseId": self._id}
        if extra:
            candidate.update(extra.get("candidate", {}))
            body.update(extra.get("body", {}))
        return self._frame(body)

    def _frame(self, body: dict[str, Any]) -> bytes:
        data = orjson.dumps(body)
        if self._sse:
            return b"data: " + data + b"\r\n\r\n"
        prefix = b"[" if self._first else b",\r\n"
        self._first = False
        return prefix + data

    def _flush_calls(self) -> list[dict[str, Any]]:
        parts = []
        for call in self._calls.values():
            part: dict[str, Any] = {
                "functionCall": {"id": call["id"], "name": call["name"], "args": parse_arguments(call["args"], "tool call")}
            }
            if call["signature"]:
                part["thoughtSignature"] = call["signature"]
            parts.append(part)
        self._calls.clear()
        return parts

    def write(self, event: StreamEvent) -> bytes:
        """The chunks for one event."""
        if isinstance(event, TextRun):
            return b"".join([self.write(delta) for delta in event.deltas()])
        if isinstance(event, StreamStart):
            return b""
        if isinstance(event, ToolCallStart):
            self._calls[event.index] = {"id": event.id, "name": event.name, "args": "", "signature": event.signature}
            return b""
        if isinstance(event, ToolCallDelta):
            if event.index in self._calls:
                self._calls[event.index]["args"] += event.arguments
            return b""
        calls = self._flush_calls()
        if isinstance(event, TextDelta):
            return self._chunk([*calls, {"text": event.text}])
        if isinstance(event, ThinkingDelta):
            thought: dict[str, Any] = {"text": event.text, "thought": True}
            if event.signature:
                thought["thoughtSignature"] = event.signature
            return self._chunk([*calls, thought])
        assert isinstance(event, StreamEnd)
        extra = {
            "candidate": {"finishReason": FINISH_TO_GEMINI[event.finish]},
            "body": {"usageMetadata": usage_to_gemini(event.usage)},
        }
        return self._chunk(calls, extra) + (b"" if self._sse else b"]")

    def error(self, err: GatewayError) -> bytes:
        """The error as the stream's last element."""
        body = error_body(err)
        return self._frame(body) + (b"" if self._sse else b"]")
