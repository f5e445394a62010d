"""Relaying an OpenAI chat completion stream event by event, capturing usage on the way.

Events are passed on as the upstream sent them, whole; only the usage-only chunk is dropped when the
gateway asked for it on the client's behalf. Chunks are parsed only when they may carry usage or an
error; a run of plain events costs a few byte searches, however many events it holds.
"""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.byte_search import count, find
from anygate.core.sse import MAX_EVENT_BYTES, event_too_long
from anygate.core.usage import Usage
from anygate.protocols.openai.usage import usage_from_openai

_SPECIAL_MARKERS = (b'"usage":{', b'"usage": {', b'"error"')


class ChatStreamRelay:
    """Splits an SSE byte stream into events, decides what to pass on, and notes usage and the end."""

    def __init__(self, client_wants_usage: bool) -> None:
        self._client_wants_usage = client_wants_usage
        self._buffer = b""
        self.events = 0
        self.usage: Usage | None = None
        self.done = False
        self.failed = False

    def estimated_output_tokens(self) -> int:
        """Output tokens when the upstream sent no usage: OpenAI-style streams carry about one token per
        content chunk, so the count of events less the role, finish and [DONE] ones."""
        return max(self.events - 3, 0)

    def feed(self, chunk: bytes) -> bytes:
        """The complete events of `chunk` (with what was buffered) that go to the client; a GatewayError
        when an event goes on past MAX_EVENT_BYTES.

        Runs of plain events pass on as one block; only an event that may carry usage or an error
        is parsed, on its own.
        """
        buffer = self._buffer + chunk if self._buffer else chunk
        if buffer.find(b"\r") >= 0:  # not `in`, which costs a TypeError made and dropped (see core/sse.py)
            buffer = buffer.replace(b"\r\n", b"\n")
        complete = buffer.rfind(b"\n\n") + 2
        if complete < 2:
            if len(buffer) > MAX_EVENT_BYTES:
                raise event_too_long()
            self._buffer = buffer
            return b""
        self._buffer = buffer[complete:]
        if len(self._buffer) > MAX_EVENT_BYTES:
            raise event_too_long()
        self.events += count(buffer, b"\n\n", 0, complete)
        if buffer.endswith(b"[DONE]\n\n", 0, complete):
            self.done = True
        marker = _next_special(buffer, 0, complete)
        if marker < 0:
            return buffer[:complete] if self._buffer else buffer
        out = []
        start = 0
        while marker >= 0:
            separator = buffer.rfind(b"\n\n", start, marker)
            event_start = separator + 2 if separator >= 0 else start
            event_end = find(buffer, b"\n\n", marker, complete) + 2
            out.append(buffer[start:event_start])
            event = buffer[event_start:event_end]
            if self._keep(event):
                out.append(event)
            start = event_end
            marker = _next_special(buffer, start, complete)
        out.append(buffer[start:complete])
        return b"".join(out)

    def finish(self) -> bytes:
        """Whatever the upstream left unterminated, as a final event."""
        rest, self._buffer = self._buffer.strip(), b""
        return self.feed(rest + b"\n\n") if rest else b""

    def _keep(self, event: bytes) -> bool:
        data = _data_of(event)
        if data is None:
            return True
        parsed = _parse(data)
        if parsed is None:
            return True
        if "error" in parsed:
            self.failed = True
        if isinstance(parsed.get("usage"), dict):
            self.usage = usage_from_openai(parsed["usage"])
            if parsed.get("choices") == [] and not self._client_wants_usage:
                return False
        return True


def _next_special(buffer: bytes, start: int, end: int) -> int:
    """Where the next usage object or error starts in buffer[start:end], or -1."""
    first = -1
    for marker in _SPECIAL_MARKERS:
        at = find(buffer, marker, start, end)
        if at >= 0 and (first < 0 or at < first):
            first = at
    return first


def _data_of(event: bytes) -> bytes | None:
    if event.startswith(b"data:") and event.count(b"\n") == 2:
        return event[5:].strip()
    lines = [line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def _parse(data: bytes) -> dict[str, Any] | None:
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
