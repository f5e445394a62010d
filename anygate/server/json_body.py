"""Reading a request body as one JSON object, with a 4xx that says what is wrong."""

from __future__ import annotations

import asyncio
from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web

MAX_BODY_BYTES = web.MAX_BODY_BYTES
MAX_DEPTH = 254  # orjson writes at most this many levels: a body the gateway could not send on is refused


async def read_json_object(request: web.Request) -> dict[str, Any]:
    """The request body as a JSON object; GatewayError 400 when it is empty, not JSON, not an object or
    nested too deeply, 413 when it is larger than the gateway takes."""
    try:
        if request.body_complete:  # came with the headers, as most bodies do: nothing to wait for
            raw = await request.read()
        else:
            raw = await asyncio.wait_for(request.read(), request.body_timeout)
    except TimeoutError:
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, "The request body did not arrive in time", status=408, headers={"Connection": "close"}
        ) from None
    except web.BadBody as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"The request body could not be read: {exc}") from None
    except web.BodyTooLarge:
        limit = MAX_BODY_BYTES // (1024 * 1024)
        raise GatewayError(
            ErrorKind.INVALID_REQUEST, f"The request body is larger than the gateway takes ({limit} MB)", status=413
        ) from None
    if not raw.strip():
        raise GatewayError(ErrorKind.INVALID_REQUEST, "The request body is empty; send a JSON object")
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError as exc:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"The request body is not valid JSON: {exc}") from None
    if not isinstance(data, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "The request body must be a JSON object")
    if raw.count(b"[") + raw.count(b"{") > MAX_DEPTH:  # only then can it be too deep to write again
        try:
            orjson.dumps(data)
        except orjson.JSONEncodeError:
            raise GatewayError(
                ErrorKind.INVALID_REQUEST, f"The request body is nested more than {MAX_DEPTH} levels deep"
            ) from None
    return data
