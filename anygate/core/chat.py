"""The canonical chat request and response that every family's codec reads and writes.

Tool results travel in user messages (as Anthropic and Gemini carry them); the system prompt is
kept apart from the turns, except for system messages a client puts between turns (kept where they
were for families that take them, hoisted by `system_texts` for those that do not); tool-call
arguments are parsed objects, never JSON strings.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Literal

from anygate.core.usage import Usage

FinishReason = Literal["stop", "length", "tool_calls", "content_filter", "stop_sequence"]


@dataclass(slots=True)
class Text:
    """Plain text."""

    text: str


@dataclass(slots=True)
class Image:
    """An image, inline (base64 `data` with its media type) or by `url`."""

    media_type: str | None = None
    data: str | None = None
    url: str | None = None


@dataclass(slots=True)
class ToolCall:
    """The model calling a tool; `signature` is Gemini's thought signature, to be replayed with the call."""

    id: str
    name: str
    arguments: dict[str, Any]
    signature: str | None = None


@dataclass(slots=True)
class ToolResult:
    """What a tool returned, sent back by the client."""

    call_id: str
    content: list[Text | Image]
    name: str | None = None
    is_error: bool = False


@dataclass(slots=True)
class Thinking:
    """Reasoning the model showed, with the signature needed to replay it (or redacted data)."""

    text: str = ""
    signature: str | None = None
    redacted: str | None = None


Part = Text | Image | ToolCall | ToolResult | Thinking


Role = Literal["user", "assistant", "system"]


@dataclass(slots=True)
class Message:
    """One turn: the user's (text, images, tool results), the assistant's (text, thinking, tool calls),
    or a system message given between turns (text)."""

    role: Role
    parts: list[Part]


@dataclass(slots=True)
class Tool:
    """A function the model may call, with its JSON Schema."""

    name: str
    description: str | None = None
    parameters: dict[str, Any] = field(default_factory=lambda: {"type": "object", "properties": {}})


@dataclass(slots=True)
class ToolChoice:
    """Whether and which tools the model must call."""

    mode: Literal["auto", "none", "required", "tool"] = "auto"
    name: str | None = None
    parallel: bool | None = None


@dataclass(slots=True)
class ResponseFormat:
    """Structured output: any JSON object, or one that matches `schema`."""

    type: Literal["json_object", "json_schema"]
    schema: dict[str, Any] | None = None
    name: str | None = None
    strict: bool | None = None


@dataclass(slots=True)
class Reasoning:
    """How much the model should think (an effort level, a token budget, or both; neither: the model's
    default), and whether the client asked to see the thoughts. See core/reasoning.py for the tables."""

    effort: str | None = None
    budget_tokens: int | None = None
    show: bool = False


@dataclass(slots=True)
class ChatRequest:
    """One generation request, whatever family it came in."""

    model: str
    messages: list[Message]
    system: list[str] = field(default_factory=list)
    tools: list[Tool] = field(default_factory=list)
    tool_choice: ToolChoice | None = None
    max_tokens: int | None = None
    temperature: float | None = None
    top_p: float | None = None
    top_k: int | None = None
    stop: list[str] = field(default_factory=list)
    seed: int | None = None
    stream: bool = False
    stream_usage: bool = False  # the client asked for usage in the stream (OpenAI's include_usage)
    stream_json_array: bool = False  # the client wants one JSON array sent in pieces (Gemini without alt=sse)
    response_format: ResponseFormat | None = None
    reasoning: Reasoning | None = None
    user: str | None = None
    hosted_tools: list[str] = field(
        default_factory=list
    )  # hosted tools offered (their types), which run at the client's provider
    server_tools: dict[str, str] = field(default_factory=dict)  # those other providers run too: capability -> the client's type


@dataclass(slots=True)
class ChatResponse:
    """One complete answer."""

    id: str
    model: str
    parts: list[Part]
    finish: FinishReason
    usage: Usage
    stop_sequence: str | None = None


def add_turn(messages: list[Message], role: Role, parts: list[Part]) -> None:
    """Append `parts` as a turn of `role`, joining the previous turn when it has the same role."""
    if messages and messages[-1].role == role:
        messages[-1].parts.extend(parts)
    else:
        messages.append(Message(role, parts))


def system_texts(req: ChatRequest) -> list[str]:
    """The system prompt with the system messages given between turns appended in order, for the
    families whose only place for instructions is one system field (Anthropic, Gemini)."""
    later = [p.text for m in req.messages if m.role == "system" for p in m.parts if isinstance(p, Text) and p.text]
    return req.system + later if later else req.system


def system_message(messages: list[Message], system: list[str], texts: list[str]) -> None:
    """System or developer text from the client: the system prompt while no turn has been taken,
    a system message at that point after."""
    texts = [t for t in texts if t]
    if not messages:
        system.extend(texts)
    elif texts:
        add_turn(messages, "system", [Text(t) for t in texts])
