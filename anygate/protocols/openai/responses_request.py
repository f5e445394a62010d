"""OpenAI Responses API requests to the canonical ChatRequest.

`input` is a string or a list of items: messages (input_text / input_image / output_text parts),
function, custom and local shell calls with their outputs, and reasoning items (responses_tools.py
says how each kind of tool goes to an upstream that is not the Responses API). The conversation of `previous_response_id`
is expanded into `input` before this parser sees the body.
"""

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
    ToolCall,
    ToolChoice,
    ToolResult,
    add_turn,
    system_message,
)
from anygate.core.data_url import split_data_url
from anygate.core.errors import invalid_request
from anygate.core.reasoning import effort_name
from anygate.core.shapes import integer, number, obj, objects
from anygate.core.tool_arguments import parse_arguments
from anygate.protocols.openai.chat_request import schema_format
from anygate.protocols.openai.responses_tools import ResponsesTools, call_arguments, result_text, upstream_name


def input_items(value: Any) -> list[dict[str, Any]]:
    """The `input` of a Responses body as a list of items (a string is one user message)."""
    if isinstance(value, str):
        return [{"type": "message", "role": "user", "content": [{"type": "input_text", "text": value}]}]
    if isinstance(value, list):
        return objects(value, "input")
    raise invalid_request("'input' must be a string or an array of input items", "input")


def _parts(content: Any, where: str) -> list[Text | Image]:
    if isinstance(content, str):
        return [Text(content)] if content else []
    parts: list[Text | Image] = []
    for i, part in enumerate(objects(content, f"{where}.content")):
        kind = part.get("type")
        if kind in ("input_text", "output_text", "text"):
            parts.append(Text(str(part.get("text", ""))))
        elif kind == "refusal":
            parts.append(Text(str(part.get("refusal", ""))))
        elif kind == "input_image":
            url = part.get("image_url")
            if not isinstance(url, str) or not url:
                raise invalid_request(f"{where}.content[{i}].image_url is required (file ids cannot be resolved here)", where)
            inline = split_data_url(url)
            parts.append(Image(media_type=inline[0], data=inline[1]) if inline else Image(url=url))
        else:
            raise invalid_request(f"{where}.content[{i}]: parts of type '{kind}' cannot be sent to this model's provider", where)
    return parts


def _reasoning_item(item: dict[str, Any]) -> Thinking:
    summary = "".join(str(s.get("text", "")) for s in objects(item.get("summary"), "reasoning.summary"))
    encrypted = item.get("encrypted_content")
    return Thinking(summary, signature=encrypted if isinstance(encrypted, str) and encrypted else None)


_CALLS = ("function_call", "custom_tool_call", "local_shell_call", "shell_call", "apply_patch_call")
_OUTPUTS = (
    "function_call_output",
    "custom_tool_call_output",
    "local_shell_call_output",
    "shell_call_output",
    "apply_patch_call_output",
)
# calls that ran at OpenAI: their results are already in the conversation's text, and nothing can replay them
_HOSTED_CALLS = (
    "web_search_call",
    "file_search_call",
    "code_interpreter_call",
    "image_generation_call",
    "mcp_call",
    "mcp_list_tools",
)


def _call(item: dict[str, Any], kind: str, where: str) -> ToolCall:
    """The canonical call of a replayed function_call, custom_tool_call or local_shell_call item."""
    call_id = item.get("call_id")
    name = item.get("name") if kind in ("function_call", "custom_tool_call") else kind.removesuffix("_call")
    if not isinstance(call_id, str) or not isinstance(name, str):
        raise invalid_request(f"{where}: a {kind} needs call_id and name", where)
    namespace = item.get("namespace") if isinstance(item.get("namespace"), str) else None
    if kind == "custom_tool_call":
        arguments: dict[str, Any] = {"input": str(item.get("input") or "")}
    elif kind == "function_call":
        arguments = parse_arguments(item.get("arguments"), where)
    else:
        arguments = call_arguments(item)
    return ToolCall(call_id, upstream_name(name, namespace), arguments)


def conversation(items: list[dict[str, Any]], system: list[str]) -> list[Message]:
    """The canonical turns of a list of input items; system and developer messages go to `system`."""
    messages: list[Message] = []
    names: dict[str, str] = {}
    for i, item in enumerate(items):
        where = f"input[{i}]"
        kind = item.get("type", "message")
        if kind == "message":
            role = item.get("role")
            parts: list[Part] = list(_parts(item.get("content"), where))
            if role in ("system", "developer"):
                system_message(messages, system, [p.text for p in parts if isinstance(p, Text)])
            elif role in ("user", "assistant"):
                add_turn(messages, role, parts)
            else:
                raise invalid_request(f"{where}.role must be user, assistant, system or developer", f"{where}.role")
        elif kind in _CALLS:
            call = _call(item, kind, where)
            names[call.id] = call.name
            add_turn(messages, "assistant", [call])
        elif kind in _OUTPUTS:
            call_id = item.get("call_id") or (item.get("id") if kind == "local_shell_call_output" else None)
            if not isinstance(call_id, str):
                raise invalid_request(f"{where}: a {kind} needs call_id", where)
            output = item.get("output")
            if kind in ("shell_call_output", "apply_patch_call_output"):
                content: list[Text | Image] = [Text(result_text(item))]
            else:
                content = _parts(output, where) if isinstance(output, list) else [Text(str(output or ""))]
            add_turn(messages, "user", [ToolResult(call_id, content, name=names.get(call_id))])
        elif kind == "reasoning":
            add_turn(messages, "assistant", [_reasoning_item(item)])
        elif kind not in _HOSTED_CALLS:
            raise invalid_request(f"{where}: items of type '{kind}' cannot be sent to this model's provider", where)
    return messages


def _tool_choice(choice: Any, parallel: Any, tools: ResponsesTools) -> ToolChoice | None:
    if choice is None and parallel is None:
        return None
    result = ToolChoice(parallel=parallel if isinstance(parallel, bool) else None)
    forced = tools.check_choice(choice)
    if choice in ("auto", "none", "required"):
        result.mode = choice
    elif forced is not None:
        result.mode, result.name = "tool", forced
    elif isinstance(choice, dict) and choice.get("type") == "allowed_tools":
        result.mode = "required" if choice.get("mode") == "required" else "auto"
    elif choice is not None:
        raise invalid_request("tool_choice must be none, auto, required or a tool", "tool_choice")
    return result


def _text_format(text: Any) -> ResponseFormat | None:
    fmt = obj(text, "text").get("format")
    if not isinstance(fmt, dict) or fmt.get("type") in (None, "text"):
        return None
    if fmt.get("type") == "json_object":
        return ResponseFormat("json_object")
    if fmt.get("type") != "json_schema":
        raise invalid_request("text.format.type must be text, json_object or json_schema", "text.format")
    return schema_format(fmt, "text.format")


def parse_request(body: dict[str, Any], tools: ResponsesTools) -> ChatRequest:
    """The canonical form of a Responses body (model checked, `input` already expanded) whose tools
    `tools` has read."""
    system: list[str] = []
    instructions = body.get("instructions")
    if isinstance(instructions, str) and instructions:
        system.append(instructions)
    messages = conversation(input_items(body.get("input", [])), system)
    reasoning = obj(body.get("reasoning"), "reasoning")
    effort = effort_name(reasoning.get("effort"))
    show = reasoning.get("summary") not in (None, "none")
    return ChatRequest(
        model=str(body["model"]),
        messages=messages,
        system=system,
        tools=tools.tools,
        tool_choice=_tool_choice(body.get("tool_choice"), body.get("parallel_tool_calls"), tools),
        max_tokens=integer(body.get("max_output_tokens"), "max_output_tokens"),
        temperature=number(body.get("temperature"), "temperature"),
        top_p=number(body.get("top_p"), "top_p"),
        stream=body.get("stream") is True,
        stream_usage=True,
        response_format=_text_format(body.get("text")),
        reasoning=Reasoning(effort=effort, show=show) if effort != "none" and (effort or show) else None,
        user=body["user"] if isinstance(body.get("user"), str) else None,
        hosted_tools=tools.dropped,
        server_tools=tools.server_tools,
    )
