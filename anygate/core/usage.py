"""Token usage of one call, in the gateway's own terms."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import orjson


@dataclass(slots=True)
class Usage:
    """Tokens of one call; `estimated` when counted locally because the upstream gave none.

    `input_tokens` counts every prompt token, cached or not; `cached_tokens` (read from a cache) and
    `cache_write_tokens` (written to one) are parts of it. `reasoning_tokens` is part of `output_tokens`.
    """

    input_tokens: int = 0
    output_tokens: int = 0
    cached_tokens: int = 0
    estimated: bool = False
    cache_write_tokens: int = 0
    reasoning_tokens: int = 0


def tokens(value: Any) -> int:
    """A token count as an upstream's JSON gives it: a non-negative whole number, 0 for anything else
    (a hostile upstream's string, list or negative count neither breaks the call nor lowers its bill)."""
    if type(value) is int:
        return max(value, 0)
    if type(value) is float and 0 <= value < 2**63:
        return int(value)
    return 0


def estimate_tokens(text: str) -> int:
    """A rough, deterministic token count (about four characters a token) for when no upstream count exists."""
    return (len(text) + 3) // 4 if text else 0


def estimate_prompt(value: Any) -> int:
    """`estimate_tokens` of any JSON value (a body, or its messages) as serialised."""
    return estimate_tokens(orjson.dumps(value).decode())
