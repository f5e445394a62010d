"""How an OpenAI-compatible upstream differs from OpenAI's own API, as data: each provider type of the
family (DeepSeek, Mistral, Groq, vLLM, …) is one Profile, and `adapt` makes a chat completions body
(the client's own, or one translated from another family) into what that upstream accepts."""

from __future__ import annotations

import base64
import hashlib
import re
from collections.abc import Mapping
from dataclasses import dataclass, field
from typing import Any, Literal

# what an upstream serves besides chat completions: embeddings, images, the Responses API, and the
# OpenAI routes passed through as they are (PASS_THROUGH_ROUTES)
Capability = Literal["embeddings", "images", "responses", "audio", "moderations", "files", "batches", "assistants", "threads"]
# how a wanted reasoning effort is sent: as OpenAI's `reasoning_effort`, as OpenRouter's `reasoning`
# object, as Qwen's `enable_thinking`, as DeepSeek's `thinking` object, or not at all
EffortStyle = Literal["reasoning_effort", "reasoning_object", "enable_thinking", "thinking_object", "drop"]
_ALNUM9 = re.compile(r"[A-Za-z0-9]{9}")


@dataclass(frozen=True, slots=True)
class Profile:
    """The quirks of one OpenAI-compatible upstream; the defaults are OpenAI's own behaviour."""

    base_url: str  # where the upstream is when the configuration gives no base_url
    capabilities: frozenset[Capability] = frozenset()  # what it serves besides chat completions
    max_tokens_field: Literal["max_tokens", "max_completion_tokens"] = "max_tokens"  # where the output cap goes
    renames: Mapping[str, str] = field(default_factory=dict)  # request fields it knows by another name
    drops: frozenset[str] = frozenset()  # request fields it refuses
    tool_choice: Mapping[str, str] = field(default_factory=dict)  # `tool_choice` words it spells otherwise
    tool_call_ids: Literal["any", "alnum9"] = "any"  # the ids it accepts for tool calls it did not make
    reasoning_replay: bool = False  # an assistant turn with tool calls must bring its `reasoning_content` back
    thinking_streams_only: bool = False  # `enable_thinking` must be false on a whole (non-streamed) call (Qwen)
    effort: EffortStyle = "reasoning_effort"

    @property
    def adapts(self) -> bool:
        """Whether a body needs changing at all before it goes to this upstream."""
        return self != Profile(self.base_url, self.capabilities, max_tokens_field="max_completion_tokens")


OPENAI = Profile(
    "https://api.openai.com/v1",
    frozenset({"embeddings", "images", "responses", "audio", "moderations", "files", "batches", "assistants", "threads"}),
    max_tokens_field="max_completion_tokens",
)


def short_id(call_id: str) -> str:
    """`call_id` as nine letters and digits (kept when it is such already): the same id gives the same
    short id in the assistant's tool call and in the tool's result, with no state kept."""
    if _ALNUM9.fullmatch(call_id):
        return call_id
    digest = base64.b64encode(hashlib.sha256(call_id.encode()).digest()).decode()
    return re.sub(r"[^A-Za-z0-9]", "", digest)[:9]


def _effort(profile: Profile, body: dict[str, Any]) -> None:
    effort = body.pop("reasoning_effort", None)
    if effort is None:
        return
    if profile.effort == "reasoning_effort":
        body["reasoning_effort"] = effort
    elif profile.effort == "reasoning_object":
        body.setdefault("reasoning", {"effort": effort})
    elif profile.effort == "drop":
        return
    elif profile.effort == "enable_thinking":
        body.setdefault("enable_thinking", effort != "none")
    else:
        body.setdefault("thinking", {"type": "disabled" if effort == "none" else "enabled"})


def _message(profile: Profile, message: Any) -> Any:
    if not isinstance(message, dict):
        return message
    role = message.get("role")
    if role == "assistant" and isinstance(message.get("tool_calls"), list):
        message = dict(message)
        if profile.tool_call_ids == "alnum9":
            message["tool_calls"] = [
                {**c, "id": short_id(c["id"])} if isinstance(c, dict) and isinstance(c.get("id"), str) else c
                for c in message["tool_calls"]
            ]
        if profile.reasoning_replay and not isinstance(message.get("reasoning_content"), str):
            message["reasoning_content"] = ""  # required on such turns; the thinking was not kept
    elif role == "tool" and profile.tool_call_ids == "alnum9" and isinstance(message.get("tool_call_id"), str):
        message = {**message, "tool_call_id": short_id(message["tool_call_id"])}
    return message


def adapt(profile: Profile, body: dict[str, Any]) -> dict[str, Any]:
    """A chat completions body as this upstream takes it (a new dict; `body` is left as it was)."""
    out = dict(body)
    if profile.max_tokens_field == "max_tokens" and "max_completion_tokens" in out:
        cap = out.pop("max_completion_tokens")
        out.setdefault("max_tokens", cap)
    for name, theirs in profile.renames.items():
        if name in out:
            value = out.pop(name)
            out.setdefault(theirs, value)
    for name in profile.drops:
        out.pop(name, None)
    choice = out.get("tool_choice")
    if isinstance(choice, str) and choice in profile.tool_choice:
        out["tool_choice"] = profile.tool_choice[choice]
    _effort(profile, out)
    if profile.thinking_streams_only and not out.get("stream") and "enable_thinking" not in body:
        out["enable_thinking"] = False  # its own default is true, which it refuses on a whole answer
    messages = out.get("messages")
    if (profile.tool_call_ids != "any" or profile.reasoning_replay) and isinstance(messages, list):
        out["messages"] = [_message(profile, m) for m in messages]
    return out
