"""AWS's event-stream framing (application/vnd.amazon.eventstream), read incrementally with botocore's
decoder (which checks each message's length and CRCs): the events of Bedrock's streams, and its
in-stream exceptions as the gateway's errors."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError, kind_for_status
from anygate.core.sse import unreadable_event

CONTENT_TYPE = "application/vnd.amazon.eventstream"
# an in-stream exception's type -> the HTTP status Bedrock gives the same error outside a stream
_EXCEPTION_STATUS = {
    "throttlingException": 429,
    "validationException": 400,
    "serviceUnavailableException": 503,
    "modelTimeoutException": 504,
    "internalServerException": 502,
    "modelStreamErrorException": 502,
}


class EventStreamReader:
    """Bytes in, (event type, JSON payload) pairs out; an exception message raises its GatewayError."""

    def __init__(self) -> None:
        from botocore.eventstream import EventStreamBuffer

        self._buffer = EventStreamBuffer()

    def feed(self, chunk: bytes) -> list[tuple[str, dict[str, Any]]]:
        """The events `chunk` completes."""
        from botocore.eventstream import ParserError

        self._buffer.add_data(chunk)
        events: list[tuple[str, dict[str, Any]]] = []
        try:
            for message in self._buffer:
                events.append(_event(message.headers, message.payload))
        except ParserError as exc:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream sent a broken event stream ({type(exc).__name__})", code="upstream_bad_response"
            ) from None
        return events


def _event(headers: dict[str, Any], payload: bytes) -> tuple[str, dict[str, Any]]:
    try:
        data = orjson.loads(payload) if payload else {}
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise unreadable_event()
    if headers.get(":message-type") == "event":
        return str(headers.get(":event-type", "")), data
    kind = str(headers.get(":exception-type") or headers.get(":error-code") or "error")
    message = data.get("message") or data.get("Message") or headers.get(":error-message") or kind
    status = _EXCEPTION_STATUS.get(kind, 502)
    code = "upstream_error" if status >= 500 else None  # a 400 is the request's; a 429 is retried by its status
    raise GatewayError(kind_for_status(status), f"upstream error: {kind}: {message}", status=status, code=code)
