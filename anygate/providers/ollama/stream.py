"""A streamed /api/chat answer (one JSON object per line) as canonical events.

Each line carries a piece of the message: thinking, text, or whole tool calls (never split across
lines); the last has `done: true` with the finish and the token counts. An error part-way is a line
`{"error": "..."}`.
"""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.chat import Text, Thinking, ToolCall
from anygate.core.codec import read_events
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.tool_arguments import dump_arguments
from anygate.providers.ollama.answer import finish_of, message_parts, usage_from_ollama

_LINE_LIMIT = 16 * 1024 * 1024  # the longest line kept waiting for its end (an image's base64 is the largest)


def _bad(message: str) -> GatewayError:
    return GatewayError(ErrorKind.UPSTREAM, f"upstream {message}", code="upstream_bad_response")


class OllamaStreamParser:
    """Reads NDJSON chunks into canonical events, numbering tool calls in order of appearance."""

    def __init__(self) -> None:
        self._buffer = b""
        self._started = False
        self._calls = 0
        self._ended = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by `chunk`."""
        *lines, self._buffer = (self._buffer + chunk).split(b"\n")
        if len(self._buffer) > _LINE_LIMIT:
            raise _bad(f"sent a stream line longer than {_LINE_LIMIT // 2**20} MB")
        return read_events([line for line in lines if line.strip()], self._line)

    def close(self) -> list[StreamEvent]:
        """The events of a last line the stream ended without terminating; an answer never done is an error."""
        rest, self._buffer = self._buffer.strip(), b""
        events = read_events([rest] if rest else [], self._line)
        if not self._ended:
            raise GatewayError(
                ErrorKind.UPSTREAM, "upstream ended the stream before it was complete", code="upstream_stream_truncated"
            )
        return events

    def _line(self, line: bytes) -> list[StreamEvent]:
        try:
            piece: Any = orjson.loads(line)
        except orjson.JSONDecodeError:
            raise _bad("sent an unreadable stream line") from None
        if not isinstance(piece, dict):
            raise _bad("sent a stream line that is not an object")
        if "error" in piece:
            raise GatewayError(ErrorKind.UPSTREAM, f"upstream error: {piece['error']}", code="upstream_error")
        events: list[StreamEvent] = []
        if not self._started:
            self._started = True
            events.append(StreamStart("", str(piece.get("model", ""))))
        for part in message_parts(piece.get("message"), self._calls):
            match part:
                case Thinking(text=text):
                    events.append(ThinkingDelta(text))
                case Text(text=text):
                    events.append(TextDelta(text))
                case ToolCall():
                    events += [
                        ToolCallStart(self._calls, part.id, part.name),
                        ToolCallDelta(self._calls, dump_arguments(part.arguments)),
                    ]
                    self._calls += 1
        if piece.get("done") is True and not self._ended:
            self._ended = True
            events.append(StreamEnd(finish_of(piece, self._calls > 0), usage_from_ollama(piece)))
        return events
