"""The Suno API's error shape: `{code, msg, data: null}`, `code` repeating the HTTP status."""

from __future__ import annotations

import orjson

from anygate.core.errors import GatewayError
from anygate.server import web


def error_response(err: GatewayError, request_id: str) -> web.Response:
    """A Suno-shaped error."""
    body = {"code": err.status, "msg": err.message, "data": None}
    return web.Response(
        body=orjson.dumps(body),
        status=err.status,
        content_type="application/json",
        headers={**err.headers, "x-request-id": request_id},
    )
