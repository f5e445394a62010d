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
    add_turn,
    system_message,
    system_texts,
)
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.reasoning import anthropic_budget, effort_name
from anygate.core.server_tools import server_tools
from anygate.core.shapes import integer, number, obj, objects, strings
from anygate.protocols.anthropic.client_tools import client_tool

DEFAULT_MAX_TOKENS = 8192  # when the client's family has no required maximum


# Claude Code's first system block: meant for Anthropic, and different on every call (an upstream's
# prompt cache would never hit if it went along)
_BILLING_LINE = "x-anthropic-billing-header:"


def _invalid(message: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message)


def _blocks(content: Any, where: str) -> list[dict[str, Any]]:
    if isinstance(content, str):
        return [{"type": "text", "text": content}]
    if not isinstance(content, list) or not all(isinstance(b, dict) for b in content):
        raise _invalid(f"{where}.content: Input should be a string or a list of content blocks")
    return content


def _image(block: dict[str, Any], where: str) -> Image:
    source = obj(block.get("source"), f"{where}.source")
    if source.get("type") == "base64" and isinstance(source.get("data"), str):
        return Image(media_type=str(source.get("media_type") or "image/png"), data=source["data"])
    if source.get("type") == "url" and isinstance(source.get("url"), str):
        return Image(url=source["url"])
    raise _invalid(f"{where}.source: images must come as base64 or url sources")


def _part(block: Any, where: str, names: dict[str, str]) -> Part | None:
    """The canonical part of a content block; None for the results of server tools, which ran at
    Anthropic and cannot be replayed elsewhere (their findings are in the text that follows)."""
    kind = block.get("type") if isinstance(block, dict) else None
    if kind == "text":
        return Text(str(block.get("text", "")))
    if kind == "document":
        return _document(block, where)
    if kind == "search_result":
        texts = [str(b.get("text", "")) for b in objects(block.get("content"), f"{where}.content")]
        return Text("\n".join([str(block.get("title", "")), *texts, str(block.get("source", ""))]).strip())
    if kind == "tool_reference":  # Claude Code's tool search naming a deferred tool, which went up with the others
        return Text(f"Tool loaded: {block.get('tool_name')}")
    if kind in ("server_tool_use", "mcp_tool_use", "mcp_tool_result") or (
        isinstance(kind, str) and kind.endswith("_tool_result")
    ):
        return None
    if kind == "image":
        return _image(block, where)
    if kind == "tool_use":
        names[str(block.get("id"))] = str(block.get("name"))
        return ToolCall(str(block.get("id")), str(block.get("name")), obj(block.get("input"), f"{where}.input"))
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
        signature = block.get("signature")
        return Thinking(str(block.get("thinking", "")), signature=signature if isinstance(signature, str) else None)
    if kind == "redacted_thinking":
        return Thinking(redacted=str(block.get("data", "")))
    raise _invalid(f"{where}: content blocks of type '{kind}' cannot be sent to this model's provider")


def _document(block: dict[str, Any], where: str) -> Text:
    """A document whose text can go anywhere: plain text, or content blocks of text."""
    source = obj(block.get("source"), f"{where}.source")
    title = f"{block['title']}\n\n" if isinstance(block.get("title"), str) else ""
    if source.get("type") == "text" and isinstance(source.get("data"), str):
        return Text(title + source["data"])
    if source.get("type") == "content":
        texts = [str(b.get("text", "")) for b in _blocks(source.get("content"), f"{where}.source") if b.get("type") == "text"]
        return Text(title + "\n".join(texts))
    raise _invalid(f"{where}.source: only text documents can be sent to this model's provider, not '{source.get('type')}' ones")


def parse_request(body: dict[str, Any]) -> ChatRequest:
    """The canonical form of an Anthropic Messages body (already checked for model, messages, max_tokens).

    Absent fields are tested inline rather than through the shape checks: each Python call costs a
    translated request ~1K instructions, and most bodies carry only a few of the fields."""
    get = body.get
    system = get("system")
    if system is None or isinstance(system, str):
        system_prompt = [] if system is None else [system]
    else:
        system_prompt = [str(b.get("text", "")) for b in objects(system, "system")]
    messages = _messages(objects(get("messages"), "messages"), system_prompt)
    reasoning, response_format = _output(get("thinking"), get("output_config"))
    metadata = get("metadata")
    user = None if metadata is None else obj(metadata, "metadata").get("user_id")
    dropped: list[tuple[str, dict[str, Any]]] = []
    tools = [] if (wire_tools := get("tools")) is None else _tools(objects(wire_tools, "tools"), dropped)
    choice = None if (wire_choice := get("tool_choice")) is None else _tool_choice(obj(wire_choice, "tool_choice"))
    if choice is not None and choice.mode == "tool" and choice.name not in {t.name for t in tools}:
        raise _invalid(f"tool_choice.name: '{choice.name}' is not a tool this model's provider can run")
    system = [t for t in system_prompt if t and not t.startswith(_BILLING_LINE)]
    # made of its positional fields, then filled in: a keyword argument to a class costs ~500 instructions
    req = ChatRequest(str(body["model"]), messages, system, tools)
    req.tool_choice = choice
    req.max_tokens = integer(get("max_tokens"), "max_tokens")
    if (temperature := get("temperature")) is not None:
        req.temperature = number(temperature, "temperature")
    if (top_p := get("top_p")) is not None:
        req.top_p = number(top_p, "top_p")
    if (top_k := get("top_k")) is not None:
        req.top_k = integer(top_k, "top_k")
    if (stop := get("stop_sequences")) is not None:
        req.stop = strings(stop, "stop_sequences")
    req.stream = get("stream") is True
    req.response_format, req.reasoning = response_format, reasoning
    req.user = user if isinstance(user, str) else None
    if dropped:
        req.hosted_tools = [kind for kind, _ in dropped]
        req.server_tools = server_tools(dropped)
    return req


def _messages(wire: list[dict[str, Any]], system_prompt: list[str]) -> list[Message]:
    """The turns of `messages`; system messages between them join `system_prompt` or stay turns."""
    messages: list[Message] = []
    names: dict[str, str] = {}  # tool_use id -> name, for the results (Gemini needs the name)
    for i, msg in enumerate(wire):
        role = msg.get("role")
        if role not in ("user", "assistant", "system"):
            raise _invalid(
                f'messages.{i}.role: Unexpected role "{role}". The Messages API accepts a top-level `system` parameter, '
                "and 'user', 'assistant' or 'system' as an input message role."
            )
        content = msg.get("content")
        if isinstance(content, str):  # the common case, whose one block is plain text
            parts: list[Part] = [Text(content)]
        else:
            where = f"messages.{i}"
            parts = [p for j, b in enumerate(_blocks(content, where)) if (p := _part(b, f"{where}.content.{j}", names))]
        if role == "system":  # Claude Code's mid-conversation system messages (anthropic-beta mid-conversation-system-*)
            system_message(messages, system_prompt, [p.text for p in parts if isinstance(p, Text)])
        else:
            add_turn(messages, role, parts)
    return messages


def _output(thinking: Any, output: Any) -> tuple[Reasoning | None, ResponseFormat | None]:
    """The reasoning asked for by `thinking` and `output_config.effort`, and `output_config.format`."""
    if thinking is None and output is None:
        return None, None
    thinking = obj(thinking, "thinking")
    output = obj(output, "output_config")
    effort = effort_name(output.get("effort"))
    reasoning = None
    if thinking.get("type") in ("enabled", "adaptive"):
        budget = integer(thinking.get("budget_tokens"), "thinking.budget_tokens")
        reasoning = Reasoning(effort=effort, budget_tokens=budget, show=thinking.get("display") != "omitted")
    elif effort:
        reasoning = Reasoning(effort=effort)
    fmt = obj(output.get("format"), "output_config.format")
    response_format = (
        ResponseFormat("json_schema", obj(fmt.get("schema"), "output_config.format.schema") or None) if fmt else None
    )
    return reasoning, response_format


def _tools(tools: list[dict[str, Any]], dropped: list[tuple[str, dict[str, Any]]]) -> list[Tool]:
    """Custom tools as they are, Anthropic's client tools (bash, text editor, memory) with the schemas
    Anthropic publishes for them; server tools, which run at Anthropic, go to `dropped`."""
    out = []
    for i, tool in enumerate(tools):
        kind = tool.get("type")
        if kind in (None, "custom"):
            if not isinstance(tool.get("name"), str):
                raise _invalid(f"tools.{i}.name: Field required")
            schema = obj(tool.get("input_schema"), f"tools.{i}.input_schema") or {"type": "object", "properties": {}}
            description = tool.get("description") if isinstance(tool.get("description"), str) else None
            out.append(Tool(tool["name"], description, schema))
        elif isinstance(kind, str) and (client := client_tool(kind, tool.get("name"))):
            out.append(client)
        elif isinstance(kind, str):
            dropped.append((kind, tool))
        else:
            raise _invalid(f"tools.{i}.type: Input should be a string")
    return out


def _tool_choice(choice: dict[str, Any]) -> ToolChoice | None:
    if not choice:
        return None
    mode = {"auto": "auto", "any": "required", "none": "none", "tool": "tool"}.get(str(choice.get("type")), "auto")
    name = choice.get("name") if isinstance(choice.get("name"), str) else None
    if mode == "tool" and name is None:
        raise _invalid("tool_choice.name: Field required")
    parallel = False if choice.get("disable_parallel_tool_use") else None
    return ToolChoice(mode, name, parallel)  # type: ignore[arg-type]


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


# Anthropic's own server tools, by capability: the tool, and the beta flag it needs (if any)
SERVER_TOOLS: dict[str, tuple[dict[str, str], str | None]] = {
    "web_search": ({"type": "web_search_20250305", "name": "web_search"}, None),
    "code_execution": ({"type": "code_execution_20250825", "name": "code_execution"}, "code-execution-2025-08-25"),
    "web_fetch": ({"type": "web_fetch_20250910", "name": "web_fetch"}, "web-fetch-2025-09-10"),
}


def runs(req: ChatRequest) -> list[str]:
    """The capabilities of the request's server tools an Anthropic upstream runs itself (all of them)."""
    return [c for c in req.server_tools if c in SERVER_TOOLS]


def request_headers(req: ChatRequest) -> dict[str, str]:
    """The beta flags the server tools of a translated request need."""
    flags = [flag for c in runs(req) if (flag := SERVER_TOOLS[c][1])]
    return {"anthropic-beta": ",".join(flags)} if flags else {}


def build_request(req: ChatRequest, upstream_model: str) -> dict[str, Any]:
    """An Anthropic Messages body for a canonical request."""
    messages: list[dict[str, Any]] = []
    for msg in req.messages:
        blocks = [b for b in (_block(p) for p in msg.parts) if b] if msg.role != "system" else []
        if not blocks:
            continue
        if messages and messages[-1]["role"] == msg.role:
            messages[-1]["content"].extend(blocks)
        else:
            messages.append({"role": msg.role, "content": blocks})
    body: dict[str, Any] = {"model": upstream_model, "messages": messages}
    budget = anthropic_budget(req.reasoning) if req.reasoning is not None else None
    body["max_tokens"] = req.max_tokens or DEFAULT_MAX_TOKENS
    if budget:
        body["thinking"] = {"type": "enabled", "budget_tokens": budget}
        body["max_tokens"] = max(body["max_tokens"], body["thinking"]["budget_tokens"] + 1024)
    system = system_texts(req)
    if system:
        body["system"] = "\n\n".join(system)
    if req.response_format is not None:  # structured outputs; a bare JSON object when no schema is given
        schema = req.response_format.schema or {"type": "object", "additionalProperties": True}
        body["output_config"] = {"format": {"type": "json_schema", "schema": schema}}
    if req.tools:
        body["tools"] = [
            {"name": t.name, **({"description": t.description} if t.description else {}), "input_schema": t.parameters}
            for t in req.tools
        ]
    for served in runs(req):
        body.setdefault("tools", []).append(dict(SERVER_TOOLS[served][0]))
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
