"""Relaying an OpenAI chat completion stream event by event, capturing usage on the way.

Events are passed on as the upstream sent them, whole; only the usage-only chunk is dropped when the
gateway asked for it on the client's behalf. Chunks are not parsed unless they carry usage or an error.
"""

from __future__ import annotations

import orjson

from anygate.core.usage import Usage
from anygate.protocols.openai.usage import usage_from_openai

_NULL_USAGE = (b'"usage":null', b'"usage": null')
_TEXT_FIELDS = (b'"content":"', b'"arguments":"', b'"content": "', b'"arguments": "')


class ChatStreamRelay:
    """Splits an SSE byte stream into events, decides what to pass on, and notes usage and the end."""

    def __init__(self, client_wants_usage: bool) -> None:
        self._client_wants_usage = client_wants_usage
        self._buffer = b""
        self.usage: Usage | None = None
        self.done = False
        self.failed = False
        self.output_chars = 0

    def feed(self, chunk: bytes) -> bytes:
        """The complete events of `chunk` (with what was buffered) that go to the client."""
        buffer = self._buffer + chunk
        if b"\r" in buffer:
            buffer = buffer.replace(b"\r\n", b"\n")
        out = []
        start = 0
        while (end := buffer.find(b"\n\n", start)) >= 0:
            event = buffer[start : end + 2]
            start = end + 2
            if self._keep(event):
                out.append(event)
        self._buffer = buffer[start:]
        return b"".join(out)

    def finish(self) -> bytes:
        """Whatever the upstream left unterminated, as a final event."""
        rest, self._buffer = self._buffer.strip(), b""
        if rest and self._keep(rest + b"\n\n"):
            return rest + b"\n\n"
        return b""

    def _keep(self, event: bytes) -> bool:
        data = _data_of(event)
        if data is None:
            return True
        if data == b"[DONE]":
            self.done = True
            return True
        if b'"usage"' in data and not any(n in data for n in _NULL_USAGE):
            parsed = _parse(data)
            if parsed is not None:
                self.usage = usage_from_openai(parsed.get("usage")) or self.usage
                if parsed.get("choices") == [] and not self._client_wants_usage:
                    return False
        if b'"error"' in data:
            parsed = _parse(data)
            if parsed is not None and "error" in parsed:
                self.failed = True
        for name in _TEXT_FIELDS:
            at = data.find(name)
            if at >= 0:
                close = data.find(b'"', at + len(name))
                self.output_chars += max(close - at - len(name), 0)
        return True


def _data_of(event: bytes) -> bytes | None:
    if event.startswith(b"data:") and event.count(b"\n") == 2:
        return event[5:].strip()
    lines = [line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:")]
    return b"\n".join(lines) if lines else None


def _parse(data: bytes) -> dict | None:  # type: ignore[type-arg]
    try:
        parsed = orjson.loads(data)
    except orjson.JSONDecodeError:
        return None
    return parsed if isinstance(parsed, dict) else None
