"""Gemini generateContent requests to and from the canonical ChatRequest.

Gemini's calls may lack ids (older models): ids are made up in order, and a functionResponse without
one answers the latest call of its name. A functionResponse needs the name, found from the call's id.
"""

from __future__ import annotations

import re
from typing import Any, Literal

import orjson

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
    system_texts,
)
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.reasoning import effort_name, gemini_thinking
from anygate.core.server_tools import server_tools
from anygate.core.shapes import integer, number, obj, objects, strings

_UPPER = re.compile(r"([A-Z])")


def field(obj: Any, name: str) -> Any:
    """`obj[name]` by its camelCase name or its snake_case one: Gemini's API takes both, and SDKs send either."""
    if not isinstance(obj, dict):
        return None
    value = obj.get(name)
    return value if value is not None else obj.get(_UPPER.sub(r"_\1", name).lower())


def _invalid(message: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message)


def _texts(content: Any) -> list[str]:
    parts = field(content, "parts")
    return [str(p["text"]) for p in parts or [] if isinstance(p, dict) and isinstance(p.get("text"), str)]


def _part(part: Any, where: str, calls: dict[str, str], names: dict[str, str]) -> Part:
    if not isinstance(part, dict):
        raise _invalid(f"{where}: a part must be an object")
    if isinstance(part.get("text"), str):
        if part.get("thought"):
            signature = field(part, "thoughtSignature")
            return Thinking(part["text"], signature=signature if isinstance(signature, str) else None)
        return Text(part["text"])
    inline, file = field(part, "inlineData"), field(part, "fileData")
    if isinstance(inline, dict) and isinstance(inline.get("data"), str):
        return Image(media_type=str(field(inline, "mimeType") or "application/octet-stream"), data=inline["data"])
    if isinstance(file, dict) and isinstance(field(file, "fileUri"), str):
        return Image(media_type=str(field(file, "mimeType") or "application/octet-stream"), url=field(file, "fileUri"))
    call, answer = field(part, "functionCall"), field(part, "functionResponse")
    if isinstance(call, dict):
        name = str(call.get("name", ""))
        call_id = str(call.get("id") or f"call_{len(names)}")
        calls[name], names[call_id] = call_id, name
        signature = field(part, "thoughtSignature")
        args = obj(call.get("args"), f"{where}.functionCall.args")
        return ToolCall(call_id, name, args, signature if isinstance(signature, str) else None)
    if isinstance(answer, dict):
        name = str(answer.get("name", ""))
        call_id = str(answer.get("id") or calls.get(name) or name)
        response = obj(answer.get("response"), f"{where}.functionResponse.response")
        return ToolResult(call_id, [Text(orjson.dumps(response).decode())], name=name)
    raise _invalid(f"{where}: this kind of part cannot be sent to this model's provider")


def parse_request(body: dict[str, Any]) -> ChatRequest:
    """The canonical form of a Gemini generateContent body.

    What Gemini puts in the URL comes in as extra keys the route adds: `model`, `stream` (for
    streamGenerateContent) and `json_array` (a stream without `alt=sse`).
    """
    contents = objects(body.get("contents"), "contents")
    if not contents:
        raise _invalid("contents is required and must not be empty")
    calls: dict[str, str] = {}
    names: dict[str, str] = {}
    messages: list[Message] = []
    dropped: list[tuple[str, dict[str, Any]]] = []
    for i, content in enumerate(contents):
        role: Literal["user", "assistant"] = "assistant" if content.get("role") == "model" else "user"
        parts = [
            _part(p, f"contents[{i}].parts[{j}]", calls, names)
            for j, p in enumerate(objects(field(content, "parts"), f"contents[{i}].parts"))
        ]
        add_turn(messages, role, parts)
    config = obj(field(body, "generationConfig"), "generationConfig")
    if (integer(field(config, "candidateCount"), "generationConfig.candidateCount") or 1) > 1:
        raise _invalid("generationConfig.candidateCount greater than 1 cannot be served by this model's provider")
    if set(strings(field(config, "responseModalities"), "generationConfig.responseModalities") or ["TEXT"]) - {"TEXT", "text"}:
        raise _invalid("generationConfig.responseModalities other than TEXT cannot be served by this model's provider")
    return ChatRequest(
        model=str(body.get("model", "")),
        messages=messages,
        stream=body.get("stream") is True,
        stream_json_array=body.get("json_array") is True,
        system=_texts(field(body, "systemInstruction")),
        tools=_tools(objects(body.get("tools"), "tools"), dropped),
        tool_choice=_tool_choice(field(body, "toolConfig")),
        max_tokens=integer(field(config, "maxOutputTokens"), "generationConfig.maxOutputTokens"),
        temperature=number(config.get("temperature"), "generationConfig.temperature"),
        top_p=number(field(config, "topP"), "generationConfig.topP"),
        top_k=integer(field(config, "topK"), "generationConfig.topK"),
        stop=strings(field(config, "stopSequences"), "generationConfig.stopSequences"),
        seed=integer(config.get("seed"), "generationConfig.seed"),
        response_format=_response_format(config),
        reasoning=_reasoning(field(config, "thinkingConfig")),
        hosted_tools=[kind for kind, _ in dropped],
        server_tools=server_tools(dropped),
    )


def _tools(tools: list[dict[str, Any]], dropped: list[tuple[str, dict[str, Any]]]) -> list[Tool]:
    """Function declarations as tools; Gemini's built-in tools (googleSearch, codeExecution, urlContext,
    …), which run at Google, go to `dropped` (Gemini CLI's web search is a call with googleSearch alone)."""
    out = []
    for i, tool in enumerate(tools):
        if not tool:
            raise _invalid(f"tools[{i}]: a tool must name functionDeclarations or a built-in tool")
        declarations = field(tool, "functionDeclarations")
        built_in = {k: v for k, v in tool.items() if k not in ("functionDeclarations", "function_declarations")}
        dropped.extend((kind, spec if isinstance(spec, dict) else {}) for kind, spec in built_in.items())
        for j, fn in enumerate(objects(declarations, f"tools[{i}].functionDeclarations")):
            where = f"tools[{i}].functionDeclarations[{j}]"
            schema = obj(field(fn, "parametersJsonSchema") or fn.get("parameters"), where) or {"type": "object", "properties": {}}
            description = fn.get("description") if isinstance(fn.get("description"), str) else None
            out.append(Tool(str(fn.get("name")), description, _lower_types(schema)))
    return out


def _lower_types(schema: Any) -> Any:
    """Gemini's OpenAPI-style schemas spell types in capitals (STRING); JSON Schema wants them lower."""
    if isinstance(schema, dict):
        return {k: (v.lower() if k == "type" and isinstance(v, str) else _lower_types(v)) for k, v in schema.items()}
    if isinstance(schema, list):
        return [_lower_types(v) for v in schema]
    return schema


def _tool_choice(config: Any) -> ToolChoice | None:
    calling = field(config, "functionCallingConfig")
    if not isinstance(calling, dict):
        return None
    mode = str(calling.get("mode") or "AUTO").upper()
    allowed = strings(field(calling, "allowedFunctionNames"), "toolConfig.functionCallingConfig.allowedFunctionNames")
    if mode in ("ANY", "VALIDATED") and len(allowed) == 1:
        return ToolChoice("tool", allowed[0])
    return ToolChoice({"NONE": "none", "ANY": "required"}.get(mode, "auto"))  # type: ignore[arg-type]


def _response_format(config: dict[str, Any]) -> ResponseFormat | None:
    if field(config, "responseMimeType") != "application/json":
        return None
    schema = obj(field(config, "responseJsonSchema") or field(config, "responseSchema"), "generationConfig.responseJsonSchema")
    return ResponseFormat("json_schema", _lower_types(schema)) if schema else ResponseFormat("json_object")


def _reasoning(thinking: Any) -> Reasoning | None:
    if not isinstance(thinking, dict):
        return None
    budget = integer(field(thinking, "thinkingBudget"), "generationConfig.thinkingConfig.thinkingBudget")
    effort = effort_name(field(thinking, "thinkingLevel"))
    show = field(thinking, "includeThoughts") is True
    if budget == 0 or (budget is None and effort is None and not show):
        return None  # thinking off, or nothing asked of it
    return Reasoning(effort=effort, budget_tokens=budget if budget and budget > 0 else None, show=show)  # -1: dynamic


def _build_part(part: Part, names: dict[str, str]) -> dict[str, Any] | None:
    if isinstance(part, Text):
        return {"text": part.text} if part.text else None
    if isinstance(part, Image):
        if part.data is not None:
            return {"inlineData": {"mimeType": part.media_type or "image/png", "data": part.data}}
        return {"fileData": {"mimeType": part.media_type or "image/*", "fileUri": part.url}}
    if isinstance(part, ToolCall):
        names[part.id] = part.name
        built: dict[str, Any] = {"functionCall": {"id": part.id, "name": part.name, "args": part.arguments}}
        if part.signature:
            built["thoughtSignature"] = part.signature
        return built
    if isinstance(part, ToolResult):
        text = "".join(p.text for p in part.content if isinstance(p, Text))
        try:
            response = orjson.loads(text) if text else {}
        except orjson.JSONDecodeError:
            response = None
        if not isinstance(response, dict):
            response = {"result": text}
        name = part.name or names.get(part.call_id, part.call_id)
        return {"functionResponse": {"id": part.call_id, "name": name, "response": response}}
    if part.signature and part.text:  # only signed thoughts can be replayed
        return {"text": part.text, "thought": True, "thoughtSignature": part.signature}
    return None


_BUILT_IN = {"web_search": "googleSearch", "code_execution": "codeExecution", "web_fetch": "urlContext"}


def runs(req: ChatRequest) -> list[str]:
    """The capabilities of the request's server tools a Gemini upstream runs itself (googleSearch,
    codeExecution, urlContext); Gemini models before 3 refuse them beside function declarations, so
    only a request without function tools gets them."""
    return [] if req.tools else [c for c in req.server_tools if c in _BUILT_IN]


def build_request(req: ChatRequest, upstream_model: str) -> dict[str, Any]:
    """A Gemini generateContent body for a canonical request; `model` is taken out for the URL by the caller."""
    names: dict[str, str] = {}
    contents: list[dict[str, Any]] = []
    for msg in req.messages:
        if msg.role == "system":
            continue  # in systemInstruction, below
        parts = [p for p in (_build_part(part, names) for part in msg.parts) if p]
        role = "model" if msg.role == "assistant" else "user"
        if parts and contents and contents[-1]["role"] == role:  # turns a system message stood between
            contents[-1]["parts"].extend(parts)
        elif parts:
            contents.append({"role": role, "parts": parts})
    body: dict[str, Any] = {"model": upstream_model, "contents": contents}
    system = system_texts(req)
    if system:
        body["systemInstruction"] = {"parts": [{"text": t} for t in system]}
    if req.tools:
        declarations = [
            {"name": t.name, **({"description": t.description} if t.description else {}), "parametersJsonSchema": t.parameters}
            for t in req.tools
        ]
        body["tools"] = [{"functionDeclarations": declarations}]
    if req.tool_choice is not None and req.tools:
        choice = req.tool_choice
        calling: dict[str, Any] = {"mode": {"auto": "AUTO", "none": "NONE", "required": "ANY", "tool": "ANY"}[choice.mode]}
        if choice.mode == "tool" and choice.name:
            calling["allowedFunctionNames"] = [choice.name]
        body["toolConfig"] = {"functionCallingConfig": calling}
    config: dict[str, Any] = {}
    optional = {
        "maxOutputTokens": req.max_tokens,
        "temperature": req.temperature,
        "topP": req.top_p,
        "topK": req.top_k,
        "seed": req.seed,
    }
    config.update({k: v for k, v in optional.items() if v is not None})
    if req.stop:
        config["stopSequences"] = req.stop
    if req.response_format is not None:
        config["responseMimeType"] = "application/json"
        if req.response_format.schema:
            config["responseJsonSchema"] = req.response_format.schema
    for served in runs(req):
        body.setdefault("tools", []).append({_BUILT_IN[served]: {}})
    thinking = gemini_thinking(req.reasoning) if req.reasoning is not None else None
    if thinking:
        config["thinkingConfig"] = thinking
    if config:
        body["generationConfig"] = config
    return body
