"""Reading a request body as one JSON object, with a 400 that says what is wrong."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from anygate.core.errors import ErrorKind, GatewayError


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; GatewayError 400 when it is empty, not JSON or not an object."""
    raw = await request.read()
    if not raw.strip():
        raise GatewayError(ErrorKind.INVALID_REQUEST, "The request body is empty; send a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object")
    return data
