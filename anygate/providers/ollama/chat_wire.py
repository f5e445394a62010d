"""Ollama's own chat API (`POST /api/chat`) as an upstream wire: canonical requests in its shape,
its answers (whole, or a stream of JSON lines) back as canonical ones.

Its differences from OpenAI's chat completions: images are base64 strings beside a message's text;
tool calls carry their arguments as objects and no id (a tool's result names the tool instead);
thinking is asked for with `think` (true, false, or low/medium/high) and comes back as `thinking`;
sampling settings go in `options` (`num_predict` is the output cap); `stream` defaults to true.
"""

from __future__ import annotations

from typing import Any

from anygate.core.chat import ChatRequest, Image, Part, Text, Thinking, ToolCall, ToolResult
from anygate.core.codec import UpstreamWire
from anygate.core.reasoning import effort_for_budget
from anygate.core.usage import Usage
from anygate.protocols.openai.chat_request import function_tools
from anygate.providers.ollama.answer import parse_response, usage_from_ollama
from anygate.providers.ollama.stream import OllamaStreamParser

# an effort as `think` takes it (Ollama's levels are low, medium and high; `none` turns thinking off)
_THINK: dict[str, bool | str] = {
    "none": False,
    "minimal": "low",
    "low": "low",
    "medium": "medium",
    "high": "high",
    "xhigh": "high",
}


def _think(req: ChatRequest) -> bool | str | None:
    reasoning = req.reasoning
    if reasoning is None:
        return None
    effort = reasoning.effort or (effort_for_budget(reasoning.budget_tokens) if reasoning.budget_tokens else None)
    if effort is not None:
        return _THINK.get(effort, "medium")
    return True if reasoning.show else None


def _text(parts: list[Part]) -> str:
    return "".join(p.text for p in parts if isinstance(p, Text))


def _images(parts: list[Part]) -> list[str]:
    return [p.data for p in parts if isinstance(p, Image) and p.data]


def _messages(req: ChatRequest) -> list[dict[str, Any]]:
    out: list[dict[str, Any]] = [{"role": "system", "content": text} for text in req.system]
    names: dict[str, str] = {}  # tool call id -> tool name, for the results that do not say
    for msg in req.messages:
        if msg.role == "system":
            out.append({"role": "system", "content": _text(msg.parts)})
            continue
        if msg.role == "assistant":
            entry: dict[str, Any] = {"role": "assistant", "content": _text(msg.parts)}
            thinking = "".join(p.text for p in msg.parts if isinstance(p, Thinking))
            if thinking:
                entry["thinking"] = thinking
            calls = [p for p in msg.parts if isinstance(p, ToolCall)]
            if calls:
                names.update((c.id, c.name) for c in calls)
                entry["tool_calls"] = [{"function": {"name": c.name, "arguments": c.arguments}} for c in calls]
            out.append(entry)
            continue
        results = [p for p in msg.parts if isinstance(p, ToolResult)]
        for result in results:
            name = result.name or names.get(result.call_id, "")
            out.append({"role": "tool", "content": _text(list(result.content)), "tool_name": name})
        rest: list[Part] = [p for p in msg.parts if isinstance(p, Text | Image)]
        rest += [image for r in results for image in r.content if isinstance(image, Image)]  # tool messages carry text only
        if rest:
            user: dict[str, Any] = {"role": "user", "content": _text(rest)}
            if images := _images(rest):
                user["images"] = images
            out.append(user)
    return out


def build_request(req: ChatRequest, upstream_model: str) -> dict[str, Any]:
    """An /api/chat body for a canonical request (images already inline: the wire takes no URLs)."""
    body: dict[str, Any] = {"model": upstream_model, "messages": _messages(req), "stream": req.stream}
    choice = req.tool_choice
    if req.tools and not (choice is not None and choice.mode == "none"):  # the API has no tool_choice
        body["tools"] = function_tools(req.tools)
    options = {
        "num_predict": req.max_tokens,
        "temperature": req.temperature,
        "top_p": req.top_p,
        "top_k": req.top_k,
        "seed": req.seed,
        "stop": req.stop or None,
    }
    if chosen := {k: v for k, v in options.items() if v is not None}:
        body["options"] = chosen
    fmt = req.response_format
    if fmt is not None:
        body["format"] = fmt.schema if fmt.type == "json_schema" and fmt.schema else "json"
    think = _think(req)
    if think is not None:
        body["think"] = think
    return body


def _response_usage(body: dict[str, Any]) -> Usage | None:
    return usage_from_ollama(body) if "eval_count" in body else None


OLLAMA_CHAT = UpstreamWire(
    name="ollama_chat",
    build_request=build_request,
    parse_response=parse_response,
    stream_parser=OllamaStreamParser,
    response_usage=_response_usage,
    inline_images=True,
)
