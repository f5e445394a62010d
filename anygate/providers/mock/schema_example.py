"""A small value that satisfies a JSON Schema, for the mock's tool arguments and structured output."""

from __future__ import annotations

from typing import Any

_MAX_DEPTH = 8


def schema_example(schema: Any, depth: int = 0) -> Any:
    """A deterministic example value for `schema` (objects list every property)."""
    if not isinstance(schema, dict) or depth > _MAX_DEPTH:
        return None
    if "const" in schema:
        return schema["const"]
    if isinstance(schema.get("enum"), list) and schema["enum"]:
        return schema["enum"][0]
    for combinator in ("anyOf", "oneOf", "allOf"):
        options = schema.get(combinator)
        if isinstance(options, list) and options:
            return schema_example(options[0], depth + 1)
    kind = schema.get("type")
    if isinstance(kind, list):
        kind = next((k for k in kind if k != "null"), "null")
    if kind == "object" or (kind is None and "properties" in schema):
        props = schema.get("properties")
        if not isinstance(props, dict):
            return {}
        return {name: schema_example(sub, depth + 1) for name, sub in props.items()}
    if kind == "array":
        return [schema_example(schema.get("items"), depth + 1)]
    return {"string": "mock", "integer": 1, "number": 1.5, "boolean": True}.get(str(kind))
