"""Canonical events as an OpenAI chat completion stream (to a client)."""

from __future__ import annotations

import time
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
from anygate.protocols.openai.chat_response import FINISH_TO_OPENAI, completion_id
from anygate.protocols.openai.errors import stream_error_event
from anygate.protocols.openai.usage import usage_to_openai


class ChatStreamWriter:
    """Writes `chat.completion.chunk` events: the role first, tool calls by index, usage and [DONE] last."""

    content_type = "text/event-stream"

    def __init__(self, model: str, request_id: str, include_usage: bool = False) -> None:
        self._model = model
        self._id = completion_id(request_id)
        self._created = int(time.time())
        self._include_usage = include_usage
        self._started = False
        # the bulk of a stream, byte for byte what _chunk makes of a text delta, built without the dicts:
        # these around the text as a JSON string
        before, _, self._text_after = self._chunk({"content": ""}).partition(b'"content":""')
        self._text_before = before + b'"content":'

    def _chunk(self, delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return self._data({"choices": [choice], **({"usage": None} if self._include_usage else {})})

    def _data(self, fields: dict[str, Any]) -> bytes:
        chunk = {"id": self._id, "object": "chat.completion.chunk", "created": self._created, "model": self._model, **fields}
        return b"data: " + orjson.dumps(chunk) + b"\n\n"

    def write(self, event: StreamEvent) -> bytes:
        """The chunks for one event."""
        if type(event) is TextDelta and self._started:
            return self._text_before + (event.json or orjson.dumps(event.text)) + self._text_after
        if type(event) is TextRun:
            if self._started:  # each string between the chunk's head and tail, in one join
                return self._text_before + (self._text_after + self._text_before).join(event.strings) + self._text_after
            return b"".join([self.write(delta) for delta in event.deltas()])
        head = b""
        if not self._started:
            self._started = True
            head = self._chunk({"role": "assistant", "content": ""})
        if isinstance(event, StreamStart):
            return head
        if isinstance(event, TextDelta):
            return head + self._chunk({"content": event.text})
        if isinstance(event, ThinkingDelta):
            return head + (self._chunk({"reasoning_content": event.text}) if event.text else b"")
        if isinstance(event, ToolCallStart):
            call = {"index": event.index, "id": event.id, "type": "function", "function": {"name": event.name, "arguments": ""}}
            return head + self._chunk({"tool_calls": [call]})
        if isinstance(event, ToolCallDelta):
            return head + self._chunk({"tool_calls": [{"index": event.index, "function": {"arguments": event.arguments}}]})
        assert isinstance(event, StreamEnd)
        out = head + self._chunk({}, FINISH_TO_OPENAI[event.finish])
        if self._include_usage:
            out += self._data({"choices": [], "usage": usage_to_openai(event.usage)})
        return out + b"data: [DONE]\n\n"

    def error(self, err: GatewayError) -> bytes:
        """A final `data: {"error": …}` event."""
        return stream_error_event(err)
