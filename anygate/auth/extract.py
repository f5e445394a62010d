"""Finding the caller's key in any of the four accepted places."""

from __future__ import annotations

from anygate.server import web


def key_from_request(request: web.Request) -> str | None:
    """The API key from `Authorization: Bearer`, `x-api-key`, `x-goog-api-key` or `?key=`, in that order."""
    headers = request.headers
    auth = headers.get("Authorization")
    if auth:
        scheme, _, value = auth.partition(" ")
        if scheme.lower() == "bearer" and value.strip():
            return value.strip()
    for name in ("x-api-key", "x-goog-api-key"):
        other = headers.get(name)
        if other:
            return other.strip()
    return request.query.get("key") or None
