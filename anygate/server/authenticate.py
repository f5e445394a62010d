"""Authenticating a request against the key cache."""

from __future__ import annotations

import time

from aiohttp import web

from anygate.auth.cache import KeyCache
from anygate.auth.extract import key_from_request
from anygate.auth.keys import KeyRecord
from anygate.core.errors import ErrorKind, GatewayError


async def authenticate(request: web.Request, keys: KeyCache) -> KeyRecord:
    """The caller's key record; GatewayError 401 when the key is missing, unknown, revoked or expired."""
    key = key_from_request(request)
    if not key:
        raise GatewayError(
            ErrorKind.AUTHENTICATION,
            "Missing API key: send it as 'Authorization: Bearer <key>', 'x-api-key', 'x-goog-api-key' or '?key='",
        )
    record = await keys.lookup(key)
    if record is None:
        raise GatewayError(ErrorKind.AUTHENTICATION, "Invalid API key")
    if record.revoked_at is not None:
        raise GatewayError(ErrorKind.AUTHENTICATION, "This API key has been revoked")
    if record.is_expired(time.time()):
        raise GatewayError(ErrorKind.AUTHENTICATION, "This API key has expired")
    return record
