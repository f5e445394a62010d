"""OpenAI's error shape: `{"error": {"message", "type", "param", "code"}}`, also as an in-stream event."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.context_overflow import ContextOverflow
from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web

_TYPES: dict[ErrorKind, tuple[str, str | None]] = {
    ErrorKind.INVALID_REQUEST: ("invalid_request_error", None),
    ErrorKind.AUTHENTICATION: ("invalid_request_error", "invalid_api_key"),
    ErrorKind.PERMISSION: ("permission_error", None),
    ErrorKind.NOT_FOUND: ("invalid_request_error", None),
    ErrorKind.RATE_LIMIT: ("rate_limit_error", "rate_limit_exceeded"),
    ErrorKind.UPSTREAM: ("server_error", None),
    ErrorKind.UNAVAILABLE: ("server_error", None),
    ErrorKind.TIMEOUT: ("server_error", None),
    ErrorKind.INTERNAL: ("server_error", None),
}


def error_object(err: GatewayError) -> dict[str, Any]:
    """The `error` object of an OpenAI error body."""
    kind, code = _TYPES[err.kind]
    return {"message": _message(err), "type": kind, "param": err.param, "code": err.code or code}


def _message(err: GatewayError) -> str:
    """The message, in OpenAI's words where clients look for them."""
    if not isinstance(err, ContextOverflow) or "maximum context length" in err.message:
        return err.message
    if err.tokens and err.limit:
        return (
            f"This model's maximum context length is {err.limit} tokens. However, your messages resulted in {err.tokens} tokens."
        )
    return f"This model's maximum context length was exceeded: {err.message}"


def error_response(err: GatewayError, request_id: str) -> web.Response:
    """A whole OpenAI-shaped error response."""
    return web.Response(
        body=orjson.dumps({"error": error_object(err)}),
        status=err.status,
        content_type="application/json",
        headers={**err.headers, "x-request-id": request_id},
    )


def stream_error_event(err: GatewayError) -> bytes:
    """The final SSE event of a chat stream that failed after its first byte."""
    return b"data: " + orjson.dumps({"error": error_object(err)}) + b"\n\n"
