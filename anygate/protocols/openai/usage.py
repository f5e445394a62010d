"""Reading OpenAI's `usage` object into the gateway's Usage."""

from __future__ import annotations

from typing import Any

from anygate.core.usage import Usage


def usage_from_openai(data: Any) -> Usage | None:
    """The Usage in an OpenAI `usage` object, or None when there is none."""
    if not isinstance(data, dict):
        return None
    details = data.get("prompt_tokens_details")
    cached = details.get("cached_tokens") if isinstance(details, dict) else 0
    return Usage(
        input_tokens=int(data.get("prompt_tokens") or 0),
        output_tokens=int(data.get("completion_tokens") or 0),
        cached_tokens=int(cached or 0),
    )
