"""Canonical events as an Anthropic Messages stream (to a client), with blocks opened and closed in order."""

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
from anygate.core.usage import Usage
from anygate.protocols.anthropic.errors import stream_error_event
from anygate.protocols.anthropic.messages_response import FINISH_TO_ANTHROPIC, message_id, usage_to_anthropic


def _event(name: str, data: dict[str, Any]) -> bytes:
    return b"event: " + name.encode() + b"\ndata: " + orjson.dumps({"type": name, **data}) + b"\n\n"


# the bulk of a stream, byte for byte what _event makes of a text delta, built without the dicts: this,
# the text as a JSON string, then _TEXT_DELTA_END
_TEXT_DELTA = b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":'
_TEXT_DELTA_END = b"}}\n\n"
# and the other events every text stream has, likewise
_TEXT_BLOCK_START = (
    b'event: content_block_start\ndata: {"type":"content_block_start","index":%d,"content_block":{"type":"text","text":""}}\n\n'
)
_BLOCK_STOP = b'event: content_block_stop\ndata: {"type":"content_block_stop","index":%d}\n\n'
_MESSAGE_STOP = _event("message_stop", {})


class MessagesStreamWriter:
    """Writes `message_start`, then each content block (start, deltas, stop), then `message_delta` and `message_stop`."""

    content_type = "text/event-stream"

    def __init__(self, model: str, request_id: str) -> None:
        self._model = model
        self._request_id = request_id
        self._started = False
        self._block = -1
        self._open: str | None = None
        self._text_delta = b""  # the head of a text delta in the open block, when that block is text
        self._tool_blocks: dict[int, int] = {}

    def write(self, event: StreamEvent) -> bytes:
        """The SSE events for one canonical event."""
        if type(event) is TextDelta and self._text_delta:
            return self._text_delta + (event.json or orjson.dumps(event.text)) + _TEXT_DELTA_END
        if type(event) is TextRun:
            if self._text_delta:  # each string between the head and the end, in one join
                return self._text_delta + (_TEXT_DELTA_END + self._text_delta).join(event.strings) + _TEXT_DELTA_END
            return b"".join([self.write(delta) for delta in event.deltas()])
        out = b"" if self._started or isinstance(event, StreamStart) else self._start(StreamStart("", self._model))
        if isinstance(event, StreamStart):
            return out + self._start(event)
        if isinstance(event, TextDelta):
            out += self._ensure("text", {"type": "text", "text": ""})
            return out + self._text_delta + (event.json or orjson.dumps(event.text)) + _TEXT_DELTA_END
        if isinstance(event, ThinkingDelta):
            out += self._ensure("thinking", {"type": "thinking", "thinking": "", "signature": ""})
            if event.text:
                out += self._delta({"type": "thinking_delta", "thinking": event.text})
            if event.signature:
                out += self._delta({"type": "signature_delta", "signature": event.signature})
            return out
        if isinstance(event, ToolCallStart):
            out += self._close()
            out += self._open_block("tool", {"type": "tool_use", "id": event.id, "name": event.name, "input": {}})
            self._tool_blocks[event.index] = self._block
            return out
        if isinstance(event, ToolCallDelta):
            block = self._tool_blocks.get(event.index, self._block)
            return out + _event(
                "content_block_delta", {"index": block, "delta": {"type": "input_json_delta", "partial_json": event.arguments}}
            )
        assert isinstance(event, StreamEnd)
        usage = usage_to_anthropic(event.usage)
        delta = {"stop_reason": FINISH_TO_ANTHROPIC[event.finish], "stop_sequence": event.stop_sequence}
        return out + self._close() + _event("message_delta", {"delta": delta, "usage": usage}) + _MESSAGE_STOP

    def error(self, err: GatewayError) -> bytes:
        """An `event: error` ending the stream."""
        return stream_error_event(err, self._request_id)

    def _start(self, event: StreamStart) -> bytes:
        self._started = True
        usage = usage_to_anthropic(event.usage or Usage())
        message: dict[str, Any] = {
            "id": message_id(event.id),
            "type": "message",
            "role": "assistant",
            "model": self._model,
            "content": [],
            "stop_reason": None,
            "stop_sequence": None,
            "usage": usage,
        }
        return _event("message_start", {"message": message})

    def _ensure(self, kind: str, block: dict[str, Any]) -> bytes:
        return b"" if self._open == kind else self._close() + self._open_block(kind, block)

    def _open_block(self, kind: str, block: dict[str, Any]) -> bytes:
        self._block += 1
        self._open = kind
        if kind == "text":
            self._text_delta = _TEXT_DELTA % self._block
            return _TEXT_BLOCK_START % self._block
        self._text_delta = b""
        return _event("content_block_start", {"index": self._block, "content_block": block})

    def _delta(self, delta: dict[str, Any]) -> bytes:
        return _event("content_block_delta", {"index": self._block, "delta": delta})

    def _close(self) -> bytes:
        if self._open is None:
            return b""
        self._open = None
        self._text_delta = b""
        return _BLOCK_STOP % self._block
