"""An OpenAI chat completion stream (from an upstream) as canonical events."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.chat import FinishReason
from anygate.core.codec import read_events
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.sse import event_object, unreadable_event
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.text_shape import ShapedStreamParser, TextShape, learn
from anygate.core.usage import Usage
from anygate.protocols.openai.chat_response import FINISH_FROM_OPENAI
from anygate.protocols.openai.usage import usage_from_openai


class ChatStreamParser(ShapedStreamParser):
    """Reads SSE chunks; numbers tool calls in order of appearance, whatever indices the upstream uses.
    Learns the shape of the first chunk that carries only text, to read the like of it quickly."""

    def __init__(self) -> None:
        super().__init__()
        self._started = False
        self._tools: dict[int, int] = {}  # the upstream's index -> canonical index of its latest call
        self._ids: dict[int, str | None] = {}
        self._ids_seen: list[str | None] = []
        self._finish: FinishReason | None = None
        self._usage = Usage()
        self._ended = False

    def close(self) -> list[StreamEvent]:
        """A final StreamEnd when the upstream finished its answer but did not send [DONE]."""
        events = read_events(self._sse.flush(), lambda data: self._read(data, None))
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

    def _read(self, data: bytes, event: bytes | None) -> list[StreamEvent]:
        if data == b"[DONE]":
            return [] if self._ended else [self._end()]
        try:
            chunk: Any = orjson.loads(data)
        except orjson.JSONDecodeError:
            raise unreadable_event() from None
        if not isinstance(chunk, dict):
            return []
        if "error" in chunk:
            error = chunk["error"] if isinstance(chunk["error"], dict) else {"message": str(chunk["error"])}
            raise GatewayError(ErrorKind.UPSTREAM, f"upstream error: {error.get('message')}", code="upstream_error")
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart(str(chunk.get("id", "")), str(chunk.get("model", ""))))
        elif self._text_shape is None and event is not None:
            self._text_shape = _plain_text_shape(event, data, chunk)
        usage = chunk.get("usage")
        if usage is not None:
            self._usage = usage_from_openai(usage) or self._usage
        choices = chunk.get("choices")
        if not choices:
            return events
        if not isinstance(choices, list):
            raise unreadable_event()
        for choice in choices:
            if not isinstance(choice, dict):
                raise unreadable_event()
            delta = event_object(choice.get("delta"))
            if delta:
                reasoning = delta.get("reasoning_content") or delta.get("reasoning")
                if reasoning and isinstance(reasoning, str):
                    events.append(ThinkingDelta(reasoning))
                content = delta.get("content")
                if content and isinstance(content, str):
                    events.append(TextDelta(content))
                calls = delta.get("tool_calls")
                if calls:
                    if not isinstance(calls, list):
                        raise unreadable_event()
                    for call in calls:
                        events.extend(self._tool_delta(call))
            finish = choice.get("finish_reason")
            if finish:
                self._finish = FINISH_FROM_OPENAI.get(finish, "stop") if isinstance(finish, str) else "stop"
        return events

    def _tool_delta(self, call: Any) -> list[StreamEvent]:
        function = (call.get("function") or {}) if isinstance(call, dict) else None
        wire_index = call.get("index", 0) if isinstance(call, dict) else None
        if not isinstance(function, dict) or not isinstance(wire_index, int):
            raise unreadable_event()
        call_id = call.get("id")
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


def _plain_text_shape(event: bytes, data: bytes, chunk: dict[str, Any]) -> TextShape | None:
    """The shape of the `event` of a chunk (`data`) that carries only text (one choice, no finish, no
    usage), for reading the next such events."""
    choices = chunk.get("choices")
    if chunk.get("usage") is not None or not isinstance(choices, list) or len(choices) != 1:
        return None
    choice = choices[0]
    delta = choice.get("delta") if isinstance(choice, dict) else None
    if not isinstance(delta, dict) or delta.keys() != {"content"} or not delta["content"] or choice.get("finish_reason"):
        return None
    return learn(event, data, b'"content"', delta["content"], {**chunk, "choices": [{**choice, "delta": {"content": ""}}]})
