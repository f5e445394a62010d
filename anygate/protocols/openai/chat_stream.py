"""Relaying an OpenAI chat completion stream event by event, capturing usage on the way.

Events are passed on as the upstream sent them, whole; only the usage-only chunk is dropped when the
gateway asked for it on the client's behalf. Chunks are parsed only when they may carry usage or an
error; the common chunk costs a few byte searches.
"""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.usage import Usage
from anygate.protocols.openai.usage import usage_from_openai

_TEXT_FIELDS = (b'"content":"', b'"arguments":"')
_SPACED_TEXT_FIELDS = (b'"content": "', b'"arguments": "')


class ChatStreamRelay:
    """Splits an SSE byte stream into events, decides what to pass on, and notes usage and the end."""

    def __init__(self, client_wants_usage: bool) -> None:
        self._client_wants_usage = client_wants_usage
        self._buffer = b""
        self.output_chars = 0
        self.usage: Usage | None = None
        self.done = False
        self.failed = False

    def feed(self, chunk: bytes) -> bytes:
        """The complete events of `chunk` (with what was buffered) that go to the client."""
        if not self._buffer and chunk.endswith(b"\n\n") and not _special(chunk):
            self.output_chars += _text_chars(chunk)  # the common case: whole plain events, passed on as they are
            if chunk.endswith(b"[DONE]\n\n"):
                self.done = True
            return chunk
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
        self.output_chars += _text_chars(data)
        if not _special(data):
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


def _special(data: bytes) -> bool:
    """Whether `data` may hold something to look at: a usage object or an error."""
    return b'"usage":{' in data or b'"error"' in data or b'"usage": {' in data


def _text_chars(data: bytes) -> int:
    """Characters of text and tool arguments in `data`, roughly (escapes count double): for estimates."""
    total = 0
    for name in _TEXT_FIELDS if b'": "' not in data else _TEXT_FIELDS + _SPACED_TEXT_FIELDS:
        at = data.find(name)
        while at >= 0:
            start = at + len(name)
            close = data.find(b'"', start)
            if close < 0:
                break
            total += close - start
            at = data.find(name, close)
    return total


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
