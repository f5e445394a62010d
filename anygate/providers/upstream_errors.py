"""Turning an upstream's failure into the gateway's error, without leaking the upstream's credentials."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.context_overflow import context_overflow
from anygate.core.errors import ErrorKind, GatewayError, kind_for_status

_MAX_MESSAGE = 1000


def _message_of(body: bytes) -> tuple[str | None, str | None]:
    """The message and code of an upstream's error body, as far as it has them."""
    try:
        data: Any = orjson.loads(body)
    except orjson.JSONDecodeError:
        return None, None
    if isinstance(data, list) and data:  # Gemini wraps errors in a one-element array on some paths
        data = data[0]
    if not isinstance(data, dict):
        return None, None
    error = data.get("error", data)
    if isinstance(error, str):
        return error, None
    if isinstance(error, dict):
        message = error.get("message") or error.get("msg")
        code = error.get("code")
        return (str(message) if message else None), (code if isinstance(code, str) else None)
    return None, None


def upstream_error(provider: str, status: int, body: bytes, secrets: tuple[str, ...] = ()) -> GatewayError:
    """The GatewayError for an upstream's non-2xx answer.

    The upstream's 4xx that are the request's fault are passed on with their message; failures of the
    upstream itself (5xx, and its 408 and 424) become 502/503/504; an upstream refusing the gateway's own credentials is a 502.
    """
    if status in (401, 403):
        return GatewayError(
            ErrorKind.UPSTREAM,
            f"upstream '{provider}' refused the gateway's credentials (HTTP {status}); check the provider's credentials (its api_key, or its cloud's keys and permissions)",
            status=502,
            code="upstream_auth_failed",
        )
    message, code = _message_of(body)
    for secret in secrets:
        if message and secret:
            message = message.replace(secret, "***")
    if status >= 500 or status in (408, 424):  # an upstream's own timeout (408), a model that failed (Bedrock's 424)
        kind = ErrorKind.TIMEOUT if status == 408 else kind_for_status(status)
        mapped = {503: 503, 529: 503, 504: 504, 408: 504}.get(status, 502)
        detail = f": {message[:_MAX_MESSAGE]}" if message else ""
        return GatewayError(
            kind, f"upstream '{provider}' failed with HTTP {status}{detail}", status=mapped, code="upstream_error"
        )
    text = message[:_MAX_MESSAGE] if message else f"upstream '{provider}' rejected the request with HTTP {status}"
    if status == 400 and message and (overflow := context_overflow(text, code)):
        return overflow
    return GatewayError(kind_for_status(status), text, status=status)


def unreachable(provider: str, reason: str) -> GatewayError:
    """The error for an upstream that could not be reached or broke the connection."""
    return GatewayError(ErrorKind.UPSTREAM, f"upstream '{provider}' is unreachable: {reason}", code="upstream_unreachable")


def timed_out(provider: str) -> GatewayError:
    """The error for an upstream that did not answer in time."""
    return GatewayError(ErrorKind.TIMEOUT, f"upstream '{provider}' did not answer in time", code="upstream_timeout")


def json_object(raw: bytes, provider: str) -> dict[str, Any]:
    """An upstream's answer as a JSON object; a 502 `upstream_bad_response` when it is not one."""
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        data = None
    if not isinstance(data, dict):
        raise GatewayError(ErrorKind.UPSTREAM, f"upstream '{provider}' sent invalid JSON", code="upstream_bad_response")
    return data
