"""Tool-call arguments: JSON strings on some wires, objects on others."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError


def parse_arguments(raw: Any, where: str) -> dict[str, Any]:
    """The arguments as an object; an empty string means none; anything else not an object is a 400."""
    if isinstance(raw, dict):
        return raw
    if raw is None or (isinstance(raw, str) and not raw.strip()):
        return {}
    try:
        value = orjson.loads(raw)
    except (orjson.JSONDecodeError, TypeError):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"{where}: tool call arguments are not valid JSON", param=where) from None
    if not isinstance(value, dict):
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"{where}: tool call arguments must be a JSON object", param=where)
    return value


def dump_arguments(arguments: dict[str, Any]) -> str:
    """The arguments as a compact JSON string."""
    return orjson.dumps(arguments).decode()
