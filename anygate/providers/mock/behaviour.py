"""What the mock model answers: an echo of the prompt, a tool call when asked, JSON when asked."""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import estimate_tokens
from anygate.providers.mock.schema_example import schema_example

IMAGE_TOKENS = 85
MAX_OUTPUT_TOKENS = 4096  # like a real model, the mock stops there: an echo of 10 MB must not hold the worker


@dataclass(slots=True)
class ToolCall:
    """One tool call the mock makes."""

    id: str
    name: str
    arguments: str


@dataclass(slots=True)
class Answer:
    """The mock's whole answer to one request."""

    content: str | None
    tool_calls: list[ToolCall] = field(default_factory=list)
    finish_reason: str = "stop"
    prompt_tokens: int = 0
    completion_tokens: int = 0


def _text_of(content: Any) -> tuple[str, int]:
    """The text of a message's content and the number of images in it."""
    if isinstance(content, str):
        return content, 0
    if not isinstance(content, list):
        return "", 0
    texts, images = [], 0
    for part in content:
        if isinstance(part, dict):
            if part.get("type") == "text" and isinstance(part.get("text"), str):
                texts.append(part["text"])
            elif part.get("type") == "image_url":
                images += 1
    return " ".join(texts), images


def _check_messages(messages: Any) -> list[dict[str, Any]]:
    if not isinstance(messages, list) or not messages:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'messages' must be a non-empty array", param="messages")
    for i, message in enumerate(messages):
        if not isinstance(message, dict) or message.get("role") not in ("system", "developer", "user", "assistant", "tool"):
            raise GatewayError(
                ErrorKind.INVALID_REQUEST,
                f"messages[{i}] must be an object with a role of system, developer, user, assistant or tool",
                param=f"messages[{i}]",
            )
    return messages


def _tool_calls(body: dict[str, Any], prompt: str) -> list[ToolCall]:
    tools = [t["function"] for t in body.get("tools") or [] if isinstance(t, dict) and isinstance(t.get("function"), dict)]
    for index, tool in enumerate(tools):  # as OpenAI refuses it
        if not isinstance(tool.get("name"), str):
            raise GatewayError(
                ErrorKind.INVALID_REQUEST, f"tools[{index}].function.name must be a string", param=f"tools[{index}].function.name"
            )
    choice = body.get("tool_choice", "auto")
    if not tools or choice == "none":
        return []
    if isinstance(choice, dict):
        function = choice.get("function")
        wanted = function.get("name") if isinstance(function, dict) else None
        chosen = [t for t in tools if t.get("name") == wanted]
    else:
        chosen = [t for t in tools if t.get("name") and t["name"] in prompt]
        if not chosen and choice == "required":
            chosen = tools[:1]
    return [
        ToolCall(f"call_mock_{i}", str(t.get("name")), orjson.dumps(schema_example(t.get("parameters")) or {}).decode())
        for i, t in enumerate(chosen)
    ]


def _limit(body: dict[str, Any]) -> int | None:
    for name in ("max_completion_tokens", "max_tokens"):
        value = body.get(name)
        if isinstance(value, int) and value > 0:
            return value
    return None


def _stops(body: dict[str, Any]) -> list[str]:
    stop = body.get("stop")
    if isinstance(stop, str):
        return [stop]
    return [s for s in stop if isinstance(s, str) and s] if isinstance(stop, list) else []


def answer(body: dict[str, Any]) -> Answer:
    """The mock's deterministic answer to a chat completion request."""
    messages = _check_messages(body.get("messages"))
    prompt_tokens, images = 0, 0
    for message in messages:
        text, count = _text_of(message.get("content"))
        prompt_tokens += estimate_tokens(text) + IMAGE_TOKENS * count + 3
        images += count
    last = messages[-1]
    text, last_images = _text_of(last.get("content"))
    if last.get("role") == "tool":
        return _finish(body, f"Tool result received: {text}", prompt_tokens)
    calls = _tool_calls(body, text)
    if calls:
        out = sum(estimate_tokens(c.name + c.arguments) for c in calls)
        return Answer(None, calls, "tool_calls", prompt_tokens, out)
    fmt = body.get("response_format")
    if isinstance(fmt, dict) and fmt.get("type") == "json_schema":
        spec = fmt.get("json_schema")
        schema = spec.get("schema") if isinstance(spec, dict) else None
        return _finish(body, orjson.dumps(schema_example(schema)).decode(), prompt_tokens)
    if isinstance(fmt, dict) and fmt.get("type") == "json_object":
        return _finish(body, orjson.dumps({"echo": text}).decode(), prompt_tokens)
    if last_images:
        text = f"{text} [{last_images} image{'s' if last_images > 1 else ''}]".strip()
    return _finish(body, text, prompt_tokens)


def _finish(body: dict[str, Any], content: str, prompt_tokens: int) -> Answer:
    reason = "stop"
    for stop in _stops(body):
        cut = content.find(stop)
        if cut >= 0:
            content = content[:cut]
    limit = min(_limit(body) or MAX_OUTPUT_TOKENS, MAX_OUTPUT_TOKENS)
    if estimate_tokens(content) > limit:
        content, reason = content[: limit * 4], "length"
    return Answer(content, [], reason, prompt_tokens, estimate_tokens(content))
