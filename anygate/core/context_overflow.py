"""An upstream refusing a prompt longer than its context window, recognised in any family's words
and told to the client in its own family's words: agent CLIs compact their history when they see
theirs (Codex: the code `context_length_exceeded`; Claude Code: `prompt is too long: N tokens > M
maximum`; Gemini CLI: Gemini's `input token count … exceeds the maximum`), and fail otherwise.
"""

from __future__ import annotations

import re

from anygate.core.errors import ErrorKind, GatewayError

CODE = "context_length_exceeded"
# each upstream family's wording: (pattern, which group is the prompt's tokens, which the limit)
_WORDINGS = (
    (re.compile(r"prompt is too long: (\d+) tokens > (\d+) maximum", re.I), 1, 2),  # Anthropic
    (re.compile(r"input token count \(?(\d+)\)? exceeds the maximum number of tokens allowed \(?(\d+)\)?", re.I), 1, 2),  # Gemini
    (
        re.compile(r"maximum context length is (\d+) tokens.*?(?:resulted in|requested) (\d+) tokens", re.I | re.S),
        2,
        1,
    ),  # OpenAI, vLLM
)
_MARKERS = ("prompt is too long", "maximum context length", "input token count")


class ContextOverflow(GatewayError):
    """The prompt does not fit the model's context window (`tokens` and `limit` when the upstream said)."""

    def __init__(self, message: str, tokens: int | None = None, limit: int | None = None) -> None:
        super().__init__(ErrorKind.INVALID_REQUEST, message, code=CODE)
        self.tokens = tokens
        self.limit = limit


def context_overflow(message: str, code: str | None = None) -> ContextOverflow | None:
    """The ContextOverflow an upstream's error message (or code) tells of, if it does."""
    for pattern, tokens, limit in _WORDINGS:
        found = pattern.search(message)
        if found:
            return ContextOverflow(message, int(found.group(tokens)), int(found.group(limit)))
    lowered = message.lower()
    if code == CODE or any(marker in lowered for marker in _MARKERS):
        return ContextOverflow(message)
    return None
