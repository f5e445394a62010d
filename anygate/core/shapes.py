"""Checking the JSON shapes a client sent, so that a wrong shape is a 400 that names the field."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError


def _wrong(where: str, what: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"{where} must be {what}", param=where)


def objects(value: Any, where: str) -> list[dict[str, Any]]:
    """`value` as a list of objects (None is an empty list)."""
    if value is None:
        return []
    if not isinstance(value, list):
        raise _wrong(where, "an array of objects")
    for item in value:  # a loop, not all() over a generator: this runs for every request
        if not isinstance(item, dict):
            raise _wrong(where, "an array of objects")
    return value


def obj(value: Any, where: str) -> dict[str, Any]:
    """`value` as an object (None is an empty one)."""
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise _wrong(where, "an object")
    return value


def strings(value: Any, where: str) -> list[str]:
    """`value` as a list of strings: one string, or an array of them (None is an empty list)."""
    if value is None:
        return []
    if isinstance(value, str):
        return [value]
    if not isinstance(value, list) or not all(isinstance(v, str) for v in value):
        raise _wrong(where, "a string or an array of strings")
    return value


def number(value: Any, where: str) -> float | None:
    """`value` as a number, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int | float):
        raise _wrong(where, "a number")
    return value


def integer(value: Any, where: str) -> int | None:
    """`value` as an integer, or None."""
    if value is None:
        return None
    if isinstance(value, bool) or not isinstance(value, int):
        raise _wrong(where, "an integer")
    return value
