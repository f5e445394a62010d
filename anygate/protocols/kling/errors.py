"""Kling's error shape: the envelope `{code, message, request_id, data: null}` with Kling's codes."""

from __future__ import annotations

import orjson

from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web

_CODES = {
    ErrorKind.INVALID_REQUEST: 1201,
    ErrorKind.AUTHENTICATION: 1000,
    ErrorKind.PERMISSION: 1103,
    ErrorKind.NOT_FOUND: 1203,
    ErrorKind.RATE_LIMIT: 1302,
    ErrorKind.UPSTREAM: 5000,
    ErrorKind.UNAVAILABLE: 5001,
    ErrorKind.TIMEOUT: 5002,
    ErrorKind.INTERNAL: 5000,
}


def error_response(err: GatewayError, request_id: str) -> web.Response:
    """A Kling-shaped error."""
    body = {"code": _CODES[err.kind], "message": err.message, "request_id": request_id, "data": None}
    return web.Response(
        body=orjson.dumps(body),
        status=err.status,
        content_type="application/json",
        headers={**err.headers, "x-request-id": request_id},
    )
