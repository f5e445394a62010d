"""Anthropic's error shape: `{"type": "error", "error": {"type", "message"}}`, also as an `event: error`."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.context_overflow import ContextOverflow
from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web

_TYPES: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "invalid_request_error",
    ErrorKind.AUTHENTICATION: "authentication_error",
    ErrorKind.PERMISSION: "permission_error",
    ErrorKind.NOT_FOUND: "not_found_error",
    ErrorKind.RATE_LIMIT: "rate_limit_error",
    ErrorKind.UPSTREAM: "api_error",
    ErrorKind.UNAVAILABLE: "overloaded_error",
    ErrorKind.TIMEOUT: "timeout_error",
    ErrorKind.INTERNAL: "api_error",
}


def error_body(err: GatewayError, request_id: str) -> dict[str, Any]:
    """An Anthropic error object."""
    return {"type": "error", "error": {"type": _TYPES[err.kind], "message": _message(err)}, "request_id": request_id}


def _message(err: GatewayError) -> str:
    """The message, in Anthropic's words where clients look for them."""
    if not isinstance(err, ContextOverflow) or err.message.startswith("prompt is too long"):
        return err.message
    if err.tokens and err.limit:
        return f"prompt is too long: {err.tokens} tokens > {err.limit} maximum"
    return f"prompt is too long: {err.message}"


def error_response(err: GatewayError, request_id: str) -> web.Response:
    """A whole Anthropic-shaped error response."""
    return web.Response(
        body=orjson.dumps(error_body(err, request_id)),
        status=err.status,
        content_type="application/json",
        headers={**err.headers, "request-id": request_id, "x-request-id": request_id},
    )


def stream_error_event(err: GatewayError, request_id: str) -> bytes:
    """The `event: error` that ends a stream failing after its first byte."""
    return b"event: error\ndata: " + orjson.dumps(error_body(err, request_id)) + b"\n\n"
