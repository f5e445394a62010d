"""Anthropic Messages requests to and from the canonical ChatRequest."""

from __future__ import annotations

from typing import Any

from anygate.core.chat import (
    ChatRequest,
    Image,
    Message,
    Part,
    Reasoning,
    ResponseFormat,
    Text,
    Thinking,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from anygate.core.errors import ErrorKind, GatewayError

DEFAULT_MAX_TOKENS = 8192  # when the client's family has no required maximum
_EFFORT_BUDGETS = {"minimal": 1024, "low": 2048, "medium": 8192, "high": 24576}


def _invalid(message: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message)


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list):
        raise _invalid(f"{where}.content: Input should be a string or a list of content blocks")
    return content


def _image(block: dict[str, Any], where: str) -> Image:
    source = block.get("source") or {}
    if source.get("type") == "base64":
        return Image(media_type=source.get("media_type"), data=source.get("data"))
    if source.get("type") == "url":
        return Image(url=source.get("url"))
    raise _invalid(f"{where}.source: images must come as base64 or url sources")


def _part(block: Any, where: str, names: dict[str, str]) -> Part:
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        return Text(str(block.get("text", "")))
    if kind == "image":
        return _image(block, where)
    if kind == "tool_use":
        names[str(block.get("id"))] = str(block.get("name"))
        return ToolCall(str(block.get("id")), str(block.get("name")), block.get("input") or {})
    if kind == "tool_result":
        content = block.get("content")
        parts = [_part(b, where, names) for b in _blocks(content, where)] if content is not None else []
        call_id = str(block.get("tool_use_id"))
        return ToolResult(
            call_id,
            [p for p in parts if isinstance(p, Text | Image)],
            name=names.get(call_id),
            is_error=bool(block.get("is_error")),
        )
    if kind == "thinking":
        return Thinking(str(block.get("thinking", "")), signature=block.get("signature"))
    if kind == "redacted_thinking":
        return Thinking(redacted=str(block.get("data", "")))
    raise _invalid(f"{where}: content blocks of type '{kind}' cannot be sent to this model's provider")


def parse_request(body: dict[str, Any]) -> ChatRequest:
    """The canonical form of an Anthropic Messages body (already checked for model, messages, max_tokens)."""
    system = body.get("system")
    system_texts = [system] if isinstance(system, str) else [str(b.get("text", "")) for b in system or [] if isinstance(b, dict)]
    messages: list[Message] = []
    names: dict[str, str] = {}  # tool_use id -> name, for the results (Gemini needs the name)
    for i, msg in enumerate(body["messages"]):
        where = f"messages.{i}"
        role = msg.get("role") if isinstance(msg, dict) else None
        if role not in ("user", "assistant"):
            raise _invalid(f"{where}.role: Input should be 'user' or 'assistant'")
        parts = [_part(b, f"{where}.content.{j}", names) for j, b in enumerate(_blocks(msg.get("content"), where))]
        if messages and messages[-1].role == role:
            messages[-1].parts.extend(parts)
        else:
            messages.append(Message(role, parts))
    thinking = body.get("thinking")
    output: dict[str, Any] = body["output_config"] if isinstance(body.get("output_config"), dict) else {}
    reasoning = None
    if isinstance(thinking, dict) and thinking.get("type") in ("enabled", "adaptive"):
        reasoning = Reasoning(effort=output.get("effort"), budget_tokens=thinking.get("budget_tokens"))
    elif output.get("effort"):
        reasoning = Reasoning(effort=output["effort"])
    fmt = output.get("format")
    response_format = ResponseFormat("json_schema", fmt.get("schema")) if isinstance(fmt, dict) else None
    metadata = body.get("metadata")
    return ChatRequest(
        model=str(body["model"]),
        messages=messages,
        system=[t for t in system_texts if t],
        tools=_tools(body.get("tools")),
        tool_choice=_tool_choice(body.get("tool_choice")),
        max_tokens=body.get("max_tokens"),
        temperature=body.get("temperature"),
        top_p=body.get("top_p"),
        top_k=body.get("top_k"),
        stop=list(body.get("stop_sequences") or []),
        stream=body.get("stream") is True,
        response_format=response_format,
        reasoning=reasoning,
        user=metadata.get("user_id") if isinstance(metadata, dict) else None,
    )


def _tools(tools: Any) -> list[Tool]:
    out = []
    for i, tool in enumerate(tools or []):
        if not isinstance(tool, dict) or tool.get("type") not in (None, "custom") or not tool.get("name"):
            raise _invalid(f"tools.{i}: only custom tools (name, input_schema) can be sent to this model's provider")
        out.append(Tool(tool["name"], tool.get("description"), tool.get("input_schema") or {"type": "object", "properties": {}}))
    return out


def _tool_choice(choice: Any) -> ToolChoice | None:
    if not isinstance(choice, dict):
        return None
    mode = {"auto": "auto", "any": "required", "none": "none", "tool": "tool"}.get(str(choice.get("type")), "auto")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    return ToolChoice(mode, choice.get("name"), parallel)  # type: ignore[arg-type]


def _block(part: Part) -> dict[str, Any] | None:
    if isinstance(part, Text):
        return {"type": "text", "text": part.text} if part.text else None  # Anthropic refuses empty text blocks
    if isinstance(part, Image):
        source = (
            {"type": "url", "url": part.url} if part.url else {"type": "base64", "media_type": part.media_type, "data": part.data}
        )
        return {"type": "image", "source": source}
    if isinstance(part, ToolCall):
        return {"type": "tool_use", "id": part.id, "name": part.name, "input": part.arguments}
    if isinstance(part, ToolResult):
        content = [b for b in (_block(p) for p in part.content) if b]
        result: dict[str, Any] = {"type": "tool_result", "tool_use_id": part.call_id, "content": content}
        if part.is_error:
            result["is_error"] = True
        return result
    if part.redacted is not None:
        return {"type": "redacted_thinking", "data": part.redacted}
    if part.signature:  # unsigned thinking (from another family) cannot be replayed to Anthropic
        return {"type": "thinking", "thinking": part.text, "signature": part.signature}
    return None


def build_request(req: ChatRequest, upstream_model: str) -> dict[str, Any]:
    """An Anthropic Messages body for a canonical request."""
    messages: list[dict[str, Any]] = []
    for msg in req.messages:
        blocks = [b for b in (_block(p) for p in msg.parts) if b]
        if not blocks:
            continue
        if messages and messages[-1]["role"] == msg.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": msg.role, "content": blocks})
    body: dict[str, Any] = {"model": upstream_model, "messages": messages}
    budget = None
    if req.reasoning is not None:
        budget = req.reasoning.budget_tokens or _EFFORT_BUDGETS.get(req.reasoning.effort or "")
    body["max_tokens"] = req.max_tokens or DEFAULT_MAX_TOKENS
    if budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": max(budget, 1024)}
        body["max_tokens"] = max(body["max_tokens"], body["thinking"]["budget_tokens"] + 1024)
    if req.system:
        body["system"] = "\n\n".join(req.system)
    if req.response_format is not None:  # structured outputs; a bare JSON object when no schema is given
        schema = req.response_format.schema or {"type": "object", "additionalProperties": True}
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if req.tools:
        body["tools"] = [
            {"name": t.name, **({"description": t.description} if t.description else {}), "input_schema": t.parameters}
            for t in req.tools
        ]
    choice = req.tool_choice
    if choice is not None and req.tools:
        wire: dict[str, Any] = {"type": {"auto": "auto", "required": "any", "none": "none", "tool": "tool"}[choice.mode]}
        if choice.mode == "tool":
            wire["name"] = choice.name
        if choice.parallel is False and choice.mode != "none":
            wire["disable_parallel_tool_use"] = True
        body["tool_choice"] = wire
    if req.temperature is not None and not budget:  # thinking refuses a temperature other than 1
        body["temperature"] = min(req.temperature, 1.0)  # Anthropic's range is 0-1, OpenAI's 0-2
    optional = {"top_p": req.top_p, "top_k": None if budget else req.top_k}
    body.update({k: v for k, v in optional.items() if v is not None})
    if req.stop:
        body["stop_sequences"] = req.stop
    if req.user:
        body["metadata"] = {"user_id": req.user}
    if req.stream:
        body["stream"] = True
    return body
