"""OpenAI chat completion requests to and from the canonical ChatRequest."""

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
)
from anygate.core.data_url import make_data_url, split_data_url
from anygate.core.errors import invalid_request
from anygate.core.reasoning import effort_name, openai_effort
from anygate.core.shapes import integer, number, obj, objects, strings
from anygate.core.tool_arguments import dump_arguments, parse_arguments


def _refuse_untranslatable(body: dict[str, Any]) -> None:
    """A 400 naming the field when the request asks for what a translated upstream cannot give."""
    if isinstance(body.get("n"), int) and body["n"] > 1:
        raise invalid_request("'n' greater than 1 cannot be served by this model's provider", "n")
    if body.get("logprobs") or body.get("top_logprobs"):
        raise invalid_request("'logprobs' cannot be served by this model's provider", "logprobs")
    if body.get("audio") or "audio" in (body.get("modalities") or []):
        raise invalid_request("audio output cannot be served by this model's provider", "modalities")


def _content_parts(content: Any, where: str) -> list[Text | Image]:
    if content is None:
        return []
    if isinstance(content, str):
        return [Text(content)] if content else []
    if not isinstance(content, list):
        raise invalid_request(f"{where}.content must be a string or an array of parts", where)
    parts: list[Text | Image] = []
    for i, part in enumerate(content):
        kind = part.get("type") if isinstance(part, dict) else None
        if kind == "text":
            parts.append(Text(str(part.get("text", ""))))
        elif kind == "image_url":
            image = part.get("image_url")
            url = image.get("url") if isinstance(image, dict) else image
            if not isinstance(url, str):
                raise invalid_request(f"{where}.content[{i}].image_url.url is required", where)
            inline = split_data_url(url)
            parts.append(Image(media_type=inline[0], data=inline[1]) if inline else Image(url=url))
        elif kind == "refusal":
            parts.append(Text(str(part.get("refusal", ""))))
        else:
            raise invalid_request(f"{where}.content[{i}]: parts of type '{kind}' cannot be sent to this model's provider", where)
    return parts


def parse_request(body: dict[str, Any]) -> ChatRequest:
    """The canonical form of an OpenAI chat completion body (already checked for model and messages)."""
    _refuse_untranslatable(body)
    system: list[str] = []
    messages: list[Message] = []
    names: dict[str, str] = {}
    for i, msg in enumerate(objects(body.get("messages"), "messages")):
        where = f"messages[{i}]"
        role = msg.get("role")
        if role in ("system", "developer"):
            system_message(messages, system, [p.text for p in _content_parts(msg.get("content"), where) if isinstance(p, Text)])
        elif role == "user":
            add_turn(messages, "user", list(_content_parts(msg.get("content"), where)))
        elif role == "assistant":
            parts: list[Part] = list(_content_parts(msg.get("content"), where))
            reasoning = msg.get("reasoning_content")
            if isinstance(reasoning, str) and reasoning:
                parts.insert(0, Thinking(reasoning))
            for j, call in enumerate(objects(msg.get("tool_calls"), f"{where}.tool_calls")):
                function = obj(call.get("function"), f"{where}.tool_calls[{j}].function")
                name = str(function.get("name", ""))
                names[str(call.get("id"))] = name
                parts.append(
                    ToolCall(str(call.get("id")), name, parse_arguments(function.get("arguments"), f"{where}.tool_calls[{j}]"))
                )
            add_turn(messages, "assistant", parts)
        elif role == "tool":
            call_id = str(msg.get("tool_call_id", ""))
            result = ToolResult(call_id, _content_parts(msg.get("content"), where), name=names.get(call_id))
            add_turn(messages, "user", [result])
        else:
            raise invalid_request(f"{where}.role must be system, developer, user, assistant or tool", f"{where}.role")
    return ChatRequest(
        model=str(body["model"]),
        messages=messages,
        system=system,
        tools=_tools(objects(body.get("tools"), "tools")),
        tool_choice=_tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls")),
        max_tokens=integer(body.get("max_completion_tokens"), "max_completion_tokens")
        or integer(body.get("max_tokens"), "max_tokens"),
        temperature=number(body.get("temperature"), "temperature"),
        top_p=number(body.get("top_p"), "top_p"),
        stop=strings(body.get("stop"), "stop"),
        seed=integer(body.get("seed"), "seed"),
        stream=body.get("stream") is True,
        stream_usage=isinstance(body.get("stream_options"), dict) and body["stream_options"].get("include_usage") is True,
        response_format=_response_format(body.get("response_format")),
        reasoning=Reasoning(effort=effort_name(body["reasoning_effort"]), show=True) if body.get("reasoning_effort") else None,
        user=body["user"] if isinstance(body.get("user"), str) else None,
    )


def _tools(tools: list[dict[str, Any]]) -> list[Tool]:
    out = []
    for i, tool in enumerate(tools):
        function = tool.get("function")
        if tool.get("type") != "function" or not isinstance(function, dict) or not isinstance(function.get("name"), str):
            raise invalid_request(f"tools[{i}] must be a function tool with a name", f"tools[{i}]")
        out.append(function_tool(function, f"tools[{i}].function"))
    return out


def function_tool(spec: dict[str, Any], where: str) -> Tool:
    """A Tool from an OpenAI function spec (`name`, `description`, `parameters`); the name is checked."""
    parameters = obj(spec.get("parameters"), f"{where}.parameters") or {"type": "object", "properties": {}}
    description = spec.get("description") if isinstance(spec.get("description"), str) else None
    return Tool(spec["name"], description, parameters)


def _tool_choice(choice: Any, parallel: Any) -> ToolChoice | None:
    if choice is None and parallel is None:
        return None
    result = ToolChoice(parallel=parallel if isinstance(parallel, bool) else None)
    if choice in ("auto", "none", "required"):
        result.mode = choice
    elif isinstance(choice, dict):
        name = obj(choice.get("function"), "tool_choice.function").get("name")
        if not isinstance(name, str):
            raise invalid_request("tool_choice.function.name is required", "tool_choice")
        result.mode, result.name = "tool", name
    elif choice is not None:
        raise invalid_request("tool_choice must be none, auto, required or a function", "tool_choice")
    return result


def _response_format(fmt: Any) -> ResponseFormat | None:
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        return ResponseFormat("json_object")
    return schema_format(obj(fmt.get("json_schema"), "response_format.json_schema"), "response_format.json_schema")


def schema_format(spec: dict[str, Any], where: str) -> ResponseFormat:
    """A json_schema ResponseFormat from an OpenAI spec (`schema`, `name`, `strict`)."""
    schema = obj(spec.get("schema"), f"{where}.schema") or None
    name = spec.get("name") if isinstance(spec.get("name"), str) else None
    return ResponseFormat("json_schema", schema, name, spec.get("strict") if isinstance(spec.get("strict"), bool) else None)


def _user_content(parts: list[Part]) -> str | list[dict[str, Any]]:
    if len(parts) == 1 and isinstance(text := parts[0], Text):
        return text.text
    out: list[dict[str, Any]] = []
    for part in parts:
        if isinstance(part, Text):
            out.append({"type": "text", "text": part.text})
        elif isinstance(part, Image):
            url = part.url or make_data_url(part.media_type, part.data or "")
            out.append({"type": "image_url", "image_url": {"url": url}})
    return out


def _result_text(result: ToolResult) -> str:
    return "\n".join(p.text for p in result.content if isinstance(p, Text))


def build_messages(req: ChatRequest, reasoning_field: str | None = None) -> list[dict[str, Any]]:
    """The OpenAI `messages` array of a canonical request; with `reasoning_field`, an assistant turn
    that called tools carries its thinking back under that name (DeepSeek's `reasoning_content`)."""
    out: list[dict[str, Any]] = [{"role": "system", "content": text} for text in req.system]
    for msg in req.messages:
        if msg.role == "system":
            out.extend({"role": "system", "content": p.text} for p in msg.parts if isinstance(p, Text))
            continue
        if msg.role == "assistant":
            text = "".join(p.text for p in msg.parts if isinstance(p, Text))
            calls = [p for p in msg.parts if isinstance(p, ToolCall)]
            entry: dict[str, Any] = {"role": "assistant", "content": text or None}
            if calls:
                entry["tool_calls"] = [
                    {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": dump_arguments(c.arguments)}}
                    for c in calls
                ]
                if reasoning_field is not None:
                    entry[reasoning_field] = "".join(p.text for p in msg.parts if isinstance(p, Thinking))
            out.append(entry)
            continue
        rest: list[Part] = []
        images: list[Part] = []  # those of the tool results, which tool messages cannot carry
        for part in msg.parts:
            if isinstance(part, ToolResult):
                out.append({"role": "tool", "tool_call_id": part.call_id, "content": _result_text(part)})
                images += [img for img in part.content if isinstance(img, Image)]
            elif isinstance(part, Text | Image):
                rest.append(part)
        rest += images
        if rest:
            out.append({"role": "user", "content": _user_content(rest)})
    return out


def function_tools(tools: list[Tool]) -> list[dict[str, Any]]:
    """Tools as OpenAI's chat completions declares them (and the APIs that copied it, as Ollama's)."""
    return [
        {
            "type": "function",
            "function": {"name": t.name, **({"description": t.description} if t.description else {}), "parameters": t.parameters},
        }
        for t in tools
    ]


def build_request(req: ChatRequest, upstream_model: str, reasoning_field: str | None = None) -> dict[str, Any]:
    """An OpenAI chat completion body for a canonical request (see build_messages for `reasoning_field`)."""
    body: dict[str, Any] = {"model": upstream_model, "messages": build_messages(req, reasoning_field)}
    if req.tools:
        body["tools"] = function_tools(req.tools)
    choice = req.tool_choice
    if choice is not None and req.tools:  # OpenAI refuses tool_choice without tools
        if choice.mode == "tool":
            body["tool_choice"] = {"type": "function", "function": {"name": choice.name}}
        else:
            body["tool_choice"] = choice.mode
        if choice.parallel is not None:
            body["parallel_tool_calls"] = choice.parallel
    if req.max_tokens is not None:
        body["max_completion_tokens"] = req.max_tokens
    if req.temperature is not None:
        body["temperature"] = req.temperature
    if req.top_p is not None:
        body["top_p"] = req.top_p
    if req.seed is not None:
        body["seed"] = req.seed
    if req.user is not None:
        body["user"] = req.user
    if req.stop:
        body["stop"] = req.stop
    if req.response_format is not None:
        fmt = req.response_format
        if fmt.type == "json_object" or fmt.schema is None:
            body["response_format"] = {"type": "json_object"}
        else:
            spec: dict[str, Any] = {"name": fmt.name or "response", "schema": fmt.schema}
            if fmt.strict is not None:
                spec["strict"] = fmt.strict
            body["response_format"] = {"type": "json_schema", "json_schema": spec}
    effort = openai_effort(req.reasoning) if req.reasoning is not None else None
    if effort:
        body["reasoning_effort"] = effort
    if req.stream:
        body["stream"] = True
        body["stream_options"] = {"include_usage": True}
    return body
