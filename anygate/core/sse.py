"""Server-sent events: the data payloads of a byte stream's complete events."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError

MAX_EVENT_BYTES = 16 * 1024 * 1024  # the longest event kept waiting for its end (an image's base64 is the largest)


def event_too_long() -> GatewayError:
    """The error for an upstream whose event goes on past MAX_EVENT_BYTES without ending."""
    return GatewayError(
        ErrorKind.UPSTREAM,
        f"upstream sent a stream event longer than {MAX_EVENT_BYTES // 2**20} MB",
        code="upstream_bad_response",
    )


def unreadable_event() -> GatewayError:
    """The error for an upstream's stream event that is not JSON, or not of its family's shape."""
    return GatewayError(ErrorKind.UPSTREAM, "upstream sent an unreadable stream event", code="upstream_bad_response")


def event_object(value: Any) -> dict[str, Any]:
    """A stream event's field that is to be an object: {} when it is missing or empty, an upstream
    error (unreadable_event) when it is anything but an object."""
    if not value:
        return {}
    if not isinstance(value, dict):
        raise unreadable_event()
    return value


def event_data(event: bytes) -> bytes:
    """The `data:` payload of one event (its data lines joined), empty when it has none."""
    # `find`, not `in`: `in` first reads its operand as a byte's number, and makes and drops a TypeError
    if event.startswith(b"data:") and event.find(b"\n") < 0:  # the usual event: one data line
        return event[5:].strip()
    return b"\n".join(line[5:].strip() for line in event.split(b"\n") if line.startswith(b"data:"))


class SseDataSplitter:
    """Buffers a stream's bytes and hands out its complete events, or the `data:` payload of each."""

    def __init__(self) -> None:
        self._buffer = b""

    def feed(self, chunk: bytes) -> list[bytes]:
        """The payloads of the events `chunk` completes (events without data are skipped)."""
        complete = self.region(chunk)
        if complete is None:
            return []
        events = complete.split(b"\n\n")
        if complete.count(b"\n") == 2 * len(events) - 2:  # events of one line each (most streams): read inline
            return [data for event in events if event.startswith(b"data:") and (data := event[5:].strip())]
        return [data for event in events if (data := event_data(event))]

    def flush(self) -> list[bytes]:
        """The payload of a last event that the stream ended without terminating."""
        rest, self._buffer = self._buffer.strip(), b""
        data = event_data(rest) if rest else b""
        return [data] if data else []

    def region(self, chunk: bytes) -> bytes | None:
        """The complete events that `chunk` ends, as they came (but for line ends, made `\\n`) and
        separated by blank lines, the rest kept for the next; None when it ends none."""
        buffer = self._buffer + chunk
        if buffer.find(b"\r") >= 0:
            buffer = buffer.replace(b"\r\n", b"\n")
        end = buffer.rfind(b"\n\n")
        complete, self._buffer = (buffer[:end], buffer[end + 2 :]) if end >= 0 else (None, buffer)
        if len(self._buffer) > MAX_EVENT_BYTES:
            raise event_too_long()
        return complete
