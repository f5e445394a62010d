"""Authenticating a request against the key cache."""

from __future__ import annotations

import hmac
import time

from anygate.auth.cache import KeyCache
from anygate.auth.extract import key_from_request
from anygate.auth.keys import KeyRecord
from anygate.core.errors import ErrorKind, GatewayError
from anygate.server import web


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


ADMIN = KeyRecord("admin", "admin", "", None, None, None, None, None, 0.0, None)  # the caller of an admin route


def authenticate_admin(request: web.Request, admin_key: str | None) -> KeyRecord:
    """ADMIN when the request carries the configured admin key; 404 when there is none, 401 otherwise."""
    if not admin_key:
        raise GatewayError(
            ErrorKind.NOT_FOUND,
            (
                "The admin API is disabled: give the gateway an admin key (admin_key: ${ANYGATE_ADMIN_KEY} in its configuration file, "
                "or the ANYGATE_ADMIN_KEY environment variable when it runs on the built-in default) and restart it"
            ),
        )
    given = key_from_request(request)
    if not given or not hmac.compare_digest(given.encode(), admin_key.encode()):
        raise GatewayError(ErrorKind.AUTHENTICATION, "Invalid admin key")
    return ADMIN
