"""Gemini's error shape: `{"error": {"code", "message", "status"}}`."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.context_overflow import ContextOverflow
from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web

_STATUS: dict[ErrorKind, str] = {
    ErrorKind.INVALID_REQUEST: "INVALID_ARGUMENT",
    ErrorKind.AUTHENTICATION: "UNAUTHENTICATED",
    ErrorKind.PERMISSION: "PERMISSION_DENIED",
    ErrorKind.NOT_FOUND: "NOT_FOUND",
    ErrorKind.RATE_LIMIT: "RESOURCE_EXHAUSTED",
    ErrorKind.UPSTREAM: "INTERNAL",
    ErrorKind.UNAVAILABLE: "UNAVAILABLE",
    ErrorKind.TIMEOUT: "DEADLINE_EXCEEDED",
    ErrorKind.INTERNAL: "INTERNAL",
}


def error_body(err: GatewayError) -> dict[str, Any]:
    """A Gemini error object."""
    return {"error": {"code": err.status, "message": _message(err), "status": _STATUS[err.kind]}}


def _message(err: GatewayError) -> str:
    """The message, in Gemini's words where clients look for them."""
    if not isinstance(err, ContextOverflow) or "input token count" in err.message.lower():
        return err.message
    if err.tokens and err.limit:
        return f"The input token count ({err.tokens}) exceeds the maximum number of tokens allowed ({err.limit})."
    return f"The input token count exceeds the maximum number of tokens allowed: {err.message}"


def error_response(err: GatewayError, request_id: str) -> web.Response:
    """A whole Gemini-shaped error response."""
    return web.Response(
        body=orjson.dumps(error_body(err)),
        status=err.status,
        content_type="application/json",
        headers={**err.headers, "x-request-id": request_id},
    )


def stream_error_event(err: GatewayError, request_id: str) -> bytes:
    """The SSE event that ends a Gemini stream failing after its first byte."""
    return b"data: " + orjson.dumps(error_body(err)) + b"\r\n\r\n"
