"""An OpenAI chat completion stream (from an upstream) as canonical events."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.chat import FinishReason
from anygate.core.codec import read_events
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.sse import SseDataSplitter
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.usage import Usage
from anygate.protocols.openai.chat_response import FINISH_FROM_OPENAI
from anygate.protocols.openai.usage import usage_from_openai


class ChatStreamParser:
    """Reads SSE chunks; numbers tool calls in order of appearance, whatever indices the upstream uses."""

    def __init__(self) -> None:
        self._sse = SseDataSplitter()
        self._started = False
        self._tools: dict[int, int] = {}  # the upstream's index -> canonical index of its latest call
        self._ids: dict[int, str | None] = {}
        self._ids_seen: list[str | None] = []
        self._finish: FinishReason | None = None
        self._usage = Usage()
        self._ended = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by `chunk`."""
        return read_events(self._sse.feed(chunk), self._event)

    def close(self) -> list[StreamEvent]:
        """A final StreamEnd when the upstream finished its answer but did not send [DONE]."""
        events = read_events(self._sse.flush(), self._event)
        if not self._ended:
            if self._finish is None:
                raise GatewayError(
                    ErrorKind.UPSTREAM, "upstream ended the stream before it was complete", code="upstream_stream_truncated"
                )
            events.append(self._end())
        return events

    def _end(self) -> StreamEnd:
        self._ended = True
        finish = self._finish or "stop"
        if finish == "stop" and self._tools:
            finish = "tool_calls"
        return StreamEnd(finish, self._usage)

    def _event(self, data: bytes) -> list[StreamEvent]:
        if data == b"[DONE]":
            return [] if self._ended else [self._end()]
        try:
            chunk: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise GatewayError(
                ErrorKind.UPSTREAM, "upstream sent an unreadable stream event", code="upstream_bad_response"
            ) from None
        if not isinstance(chunk, dict):
            return []
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            raise GatewayError(ErrorKind.UPSTREAM, f"upstream error: {error.get('message')}", code="upstream_error")
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart(str(chunk.get("id", "")), str(chunk.get("model", ""))))
        if chunk.get("usage") is not None:
            self._usage = usage_from_openai(chunk["usage"]) or self._usage
        for choice in chunk.get("choices") or ():
            delta = choice.get("delta") or {}
            reasoning = delta.get("reasoning_content") or delta.get("reasoning")
            if reasoning and isinstance(reasoning, str):
                events.append(ThinkingDelta(reasoning))
            content = delta.get("content")
            if content and isinstance(content, str):
                events.append(TextDelta(content))
            for call in delta.get("tool_calls") or ():
                events.extend(self._tool_delta(call))
            finish = choice.get("finish_reason")
            if finish:
                self._finish = FINISH_FROM_OPENAI.get(finish, "stop")
        return events

    def _tool_delta(self, call: dict[str, Any]) -> list[StreamEvent]:
        wire_index = call.get("index", 0)
        call_id = call.get("id")
        function = call.get("function") or {}
        events: list[StreamEvent] = []
        # A new call: an index not seen yet, or (servers that put every call at index 0) a new id.
        if wire_index not in self._tools or (call_id and call_id != self._ids.get(wire_index)):
            index = self._tools[wire_index] = len(self._ids_seen)
            self._ids[wire_index] = call_id
            self._ids_seen.append(call_id)
            events.append(ToolCallStart(index, str(call_id or f"call_{index}"), str(function.get("name", ""))))
        arguments = function.get("arguments")
        if isinstance(arguments, str) and arguments:
            events.append(ToolCallDelta(self._tools[wire_index], arguments))
        return events
