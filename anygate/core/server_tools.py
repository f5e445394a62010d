"""Hosted tools that more than one family's provider runs itself, by what they do: the client offers
one in its family's terms, and an upstream that has its own runs that one instead.

| capability     | Responses                      | Anthropic          | Gemini          |
|----------------|--------------------------------|--------------------|-----------------|
| web_search     | web_search, web_search_preview | web_search_*       | googleSearch    |
| code_execution | code_interpreter               | code_execution_*   | codeExecution   |
| web_fetch      | —                              | web_fetch_*        | urlContext      |

Codex's `web_search` with `external_web_access: false` (cached pages only) is not a live search.
"""

from __future__ import annotations

from typing import Any

_BY_TYPE = {
    "web_search": "web_search",
    "web_search_preview": "web_search",
    "code_interpreter": "code_execution",
    "googleSearch": "web_search",
    "google_search": "web_search",
    "codeExecution": "code_execution",
    "code_execution": "code_execution",
    "urlContext": "web_fetch",
    "url_context": "web_fetch",
}
_ANTHROPIC_PREFIXES = {"web_search_": "web_search", "code_execution_": "code_execution", "web_fetch_": "web_fetch"}


def capability(kind: str, spec: dict[str, Any] | None = None) -> str | None:
    """What a hosted tool type does, if another family's provider can do it too."""
    if spec is not None and spec.get("external_web_access") is False:
        return None
    for prefix, name in _ANTHROPIC_PREFIXES.items():
        if kind.startswith(prefix) and kind[len(prefix) :].isdigit():
            return name
    return _BY_TYPE.get(kind)


def server_tools(hosted: list[tuple[str, dict[str, Any]]]) -> dict[str, str]:
    """The capabilities among a request's hosted tools (type, spec), each with the client's tool type."""
    found: dict[str, str] = {}
    for kind, spec in hosted:
        name = capability(kind, spec)
        if name is not None:
            found.setdefault(name, kind)
    return found
