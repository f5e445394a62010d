"""An Anthropic Messages stream (from an upstream) as canonical events."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.chat import FinishReason
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.sse import event_object, unreadable_event
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.text_shape import ShapedStreamParser, learn
from anygate.protocols.anthropic.messages_response import FINISH_FROM_ANTHROPIC, usage_from_anthropic

_ERROR_KINDS = {
    "invalid_request_error": ErrorKind.INVALID_REQUEST,
    "rate_limit_error": ErrorKind.RATE_LIMIT,
    "overloaded_error": ErrorKind.UNAVAILABLE,
    "timeout_error": ErrorKind.TIMEOUT,
}


class MessagesStreamParser(ShapedStreamParser):
    """Reads Anthropic SSE; input usage from `message_start`, cumulative output usage from `message_delta`.
    Learns the shape of a block's text deltas, to read the like of them quickly."""

    keeps_empty_text = True

    def __init__(self) -> None:
        super().__init__()
        self._shape_block: object = None  # the block whose first text delta the text shape was learned from
        self._tools: dict[int, int] = {}  # content block index -> canonical tool index
        self._usage: dict[str, Any] = {}
        self._finish: FinishReason = "stop"
        self._stop_sequence: str | None = None
        self.ended = False

    def _read(self, data: bytes, event: bytes | None) -> list[StreamEvent]:
        try:
            payload = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise unreadable_event() from None
        if not isinstance(payload, dict):
            return []
        events = self._event(payload)
        if event is not None and payload.get("type") == "content_block_delta" and payload.get("index") != self._shape_block:
            self._learn_text(event, data, payload, events)
        return events

    def _learn_text(self, event: bytes, data: bytes, payload: dict[str, Any], events: list[StreamEvent]) -> None:
        """From the first plain text delta of a block (tried once a block), the shape of the block's next ones."""
        delta = payload.get("delta")
        if isinstance(delta, dict) and delta.keys() == {"type", "text"} and len(events) == 1 and type(events[0]) is TextDelta:
            self._shape_block = payload.get("index")
            self._text_shape = learn(event, data, b'"text"', events[0].text, {**payload, "delta": {**delta, "text": ""}})

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
            message = event_object(payload.get("message"))
            self._usage.update(message.get("usage") or {})
            return [StreamStart(str(message.get("id", "")), str(message.get("model", "")), usage_from_anthropic(self._usage))]
        if kind == "content_block_start":
            block = event_object(payload.get("content_block"))
            if block.get("type") == "tool_use":
                index = self._tools[_index(payload)] = len(self._tools)
                return [ToolCallStart(index, str(block.get("id")), str(block.get("name")))]
            if block.get("type") == "text" and block.get("text"):
                return [TextDelta(block["text"])]
            return []
        if kind == "content_block_delta":
            return self._delta(_index(payload), event_object(payload.get("delta")))
        if kind == "message_delta":
            delta = event_object(payload.get("delta"))
            self._finish = FINISH_FROM_ANTHROPIC.get(str(delta.get("stop_reason")), "stop")
            self._stop_sequence = delta.get("stop_sequence")
            self._usage.update({k: v for k, v in event_object(payload.get("usage")).items() if v is not None})
            return []
        if kind == "message_stop":
            self.ended = True
            return [StreamEnd(self._finish, usage_from_anthropic(self._usage), self._stop_sequence)]
        if kind == "error":
            error = event_object(payload.get("error"))
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


def _index(payload: dict[str, Any]) -> int:
    """A content block's index; an upstream error when it is not a number."""
    index = payload.get("index", 0)
    if not isinstance(index, int):
        raise unreadable_event()
    return index
