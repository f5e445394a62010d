"""DashScope's error shape: `{"request_id", "code", "message"}` with its own codes."""

from __future__ import annotations

import orjson

from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web

_CODES = {
    ErrorKind.INVALID_REQUEST: "InvalidParameter",
    ErrorKind.AUTHENTICATION: "InvalidApiKey",
    ErrorKind.PERMISSION: "AccessDenied",
    ErrorKind.NOT_FOUND: "NotFound",
    ErrorKind.RATE_LIMIT: "Throttling",
    ErrorKind.UPSTREAM: "InternalError",
    ErrorKind.UNAVAILABLE: "ServiceUnavailable",
    ErrorKind.TIMEOUT: "RequestTimeOut",
    ErrorKind.INTERNAL: "InternalError",
}


def error_response(err: GatewayError, request_id: str) -> web.Response:
    """A DashScope-shaped error."""
    body = {"request_id": request_id, "code": _CODES[err.kind], "message": err.message}
    return web.Response(
        body=orjson.dumps(body),
        status=err.status,
        content_type="application/json",
        headers={**err.headers, "x-request-id": request_id},
    )
