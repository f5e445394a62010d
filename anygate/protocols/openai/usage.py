"""Reading OpenAI's `usage` object into the gateway's Usage."""

from __future__ import annotations

from typing import Any

from anygate.core.usage import Usage, tokens


def usage_from_openai(data: Any) -> Usage | None:
    """The Usage in an OpenAI `usage` object, or None when there is none."""
    if not isinstance(data, dict):
        return None
    prompt = data.get("prompt_tokens_details")
    completion = data.get("completion_tokens_details")
    return Usage(
        input_tokens=tokens(data.get("prompt_tokens")),
        output_tokens=tokens(data.get("completion_tokens")),
        cached_tokens=tokens(prompt.get("cached_tokens")) if isinstance(prompt, dict) else 0,
        reasoning_tokens=tokens(completion.get("reasoning_tokens")) if isinstance(completion, dict) else 0,
    )


def usage_to_openai(usage: Usage) -> dict[str, Any]:
    """An OpenAI `usage` object."""
    return {
        "prompt_tokens": usage.input_tokens,
        "completion_tokens": usage.output_tokens,
        "total_tokens": usage.input_tokens + usage.output_tokens,
        "prompt_tokens_details": {"cached_tokens": usage.cached_tokens},
        "completion_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
    }
