"""A Gemini stream (`alt=sse`, from an upstream) as canonical events: each event is a whole response chunk."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.chat import Text, Thinking, ToolCall
from anygate.core.codec import read_events
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.sse import SseDataSplitter, event_object, unreadable_event
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.tool_arguments import dump_arguments
from anygate.core.usage import Usage
from anygate.protocols.gemini.response import finish_from_gemini, parts_from_gemini, usage_from_gemini


class GeminiStreamParser:
    """Function calls arrive whole: each becomes a start and one delta with all its arguments."""

    def __init__(self) -> None:
        self._sse = SseDataSplitter()
        self._started = False
        self._calls = 0
        self._finish: Any = None
        self._usage = Usage()

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by `chunk`."""
        return read_events(self._sse.feed(chunk), self._event)

    def close(self) -> list[StreamEvent]:
        """The StreamEnd: Gemini streams simply stop after the chunk with the finish reason."""
        events = read_events(self._sse.flush(), self._event)
        if self._finish is None:
            raise GatewayError(
                ErrorKind.UPSTREAM, "upstream ended the stream before it was complete", code="upstream_stream_truncated"
            )
        return [*events, StreamEnd(finish_from_gemini(self._finish, self._calls > 0), self._usage)]

    def _event(self, data: bytes) -> list[StreamEvent]:
        try:
            chunk: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise unreadable_event() from None
        if isinstance(chunk, list) and chunk:
            chunk = chunk[0]
        if not isinstance(chunk, dict):
            return []
        if isinstance(chunk.get("error"), dict):
            raise GatewayError(ErrorKind.UPSTREAM, f"upstream error: {chunk['error'].get('message')}", code="upstream_error")
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart(str(chunk.get("responseId", "")), str(chunk.get("modelVersion", ""))))
        if chunk.get("usageMetadata"):
            self._usage = usage_from_gemini(chunk["usageMetadata"])
        candidates = chunk.get("candidates") or []
        feedback = event_object(chunk.get("promptFeedback"))
        if not isinstance(candidates, list):
            raise unreadable_event()
        if not candidates and feedback.get("blockReason"):
            self._finish = "SAFETY"
        for candidate in candidates[:1]:
            if not isinstance(candidate, dict):
                raise unreadable_event()
            for part in parts_from_gemini(event_object(candidate.get("content")).get("parts"), self._calls):
                if isinstance(part, ToolCall):
                    events.append(ToolCallStart(self._calls, part.id, part.name, part.signature))
                    events.append(ToolCallDelta(self._calls, dump_arguments(part.arguments)))
                    self._calls += 1
                elif isinstance(part, Thinking):
                    events.append(ThinkingDelta(part.text, part.signature))
                elif isinstance(part, Text):
                    events.append(TextDelta(part.text))
            finish = candidate.get("finishReason")
            if finish:
                self._finish = finish if isinstance(finish, str) else "OTHER"
        return events
