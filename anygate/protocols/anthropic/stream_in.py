"""An Anthropic Messages stream (from an upstream) as canonical events."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.chat import FinishReason
from anygate.core.codec import read_events
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.sse import SseDataSplitter
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.protocols.anthropic.messages_response import FINISH_FROM_ANTHROPIC, usage_from_anthropic

_ERROR_KINDS = {
    "invalid_request_error": ErrorKind.INVALID_REQUEST,
    "rate_limit_error": ErrorKind.RATE_LIMIT,
    "overloaded_error": ErrorKind.UNAVAILABLE,
    "timeout_error": ErrorKind.TIMEOUT,
}


class MessagesStreamParser:
    """Reads Anthropic SSE; input usage from `message_start`, cumulative output usage from `message_delta`."""

    def __init__(self) -> None:
        self._sse = SseDataSplitter()
        self._tools: dict[int, int] = {}  # content block index -> canonical tool index
        self._usage: dict[str, Any] = {}
        self._finish: FinishReason = "stop"
        self._stop_sequence: str | None = None
        self.ended = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by `chunk`."""
        return read_events(self._sse.feed(chunk), self._read)

    def _read(self, data: bytes) -> list[StreamEvent]:
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise GatewayError(
                ErrorKind.UPSTREAM, "upstream sent an unreadable stream event", code="upstream_bad_response"
            ) from None
        return self._event(payload) if isinstance(payload, dict) else []

    def close(self) -> list[StreamEvent]:
        """Nothing more; an error when the upstream stopped before `message_stop`."""
        if not self.ended:
            raise GatewayError(
                ErrorKind.UPSTREAM, "upstream ended the stream before it was complete", code="upstream_stream_truncated"
            )
        return []

    def _event(self, payload: dict[str, Any]) -> list[StreamEvent]:
        kind = payload.get("type")
        if kind == "message_start":
            message = payload.get("message") or {}
            self._usage.update(message.get("usage") or {})
            return [StreamStart(str(message.get("id", "")), str(message.get("model", "")), usage_from_anthropic(self._usage))]
        if kind == "content_block_start":
            block = payload.get("content_block") or {}
            if block.get("type") == "tool_use":
                index = self._tools[payload.get("index", 0)] = len(self._tools)
                return [ToolCallStart(index, str(block.get("id")), str(block.get("name")))]
            if block.get("type") == "text" and block.get("text"):
                return [TextDelta(block["text"])]
            return []
        if kind == "content_block_delta":
            return self._delta(payload.get("index", 0), payload.get("delta") or {})
        if kind == "message_delta":
            delta = payload.get("delta") or {}
            self._finish = FINISH_FROM_ANTHROPIC.get(str(delta.get("stop_reason")), "stop")
            self._stop_sequence = delta.get("stop_sequence")
            self._usage.update({k: v for k, v in (payload.get("usage") or {}).items() if v is not None})
            return []
        if kind == "message_stop":
            self.ended = True
            return [StreamEnd(self._finish, usage_from_anthropic(self._usage), self._stop_sequence)]
        if kind == "error":
            error = payload.get("error") or {}
            kind_of = _ERROR_KINDS.get(str(error.get("type")), ErrorKind.UPSTREAM)
            raise GatewayError(kind_of, f"upstream error: {error.get('message')}", code="upstream_error")
        return []

    def _delta(self, block: int, delta: dict[str, Any]) -> list[StreamEvent]:
        kind = delta.get("type")
        if kind == "text_delta":
            return [TextDelta(str(delta.get("text", "")))]
        if kind == "input_json_delta" and delta.get("partial_json") and block in self._tools:
            return [ToolCallDelta(self._tools[block], str(delta["partial_json"]))]
        if kind == "thinking_delta":
            return [ThinkingDelta(str(delta.get("thinking", "")))]
        if kind == "signature_delta":
            return [ThinkingDelta(signature=str(delta.get("signature", "")))]
        return []
