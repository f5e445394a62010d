"""Bedrock's Converse API as an upstream wire: one request shape for every model on Bedrock (Nova,
Llama, Mistral, DeepSeek, …), its answer and its event stream (ConverseStream).

Its differences from the others: content is a list of single-key blocks (`text`, `image` with its
bytes, `toolUse`, `toolResult`, `reasoningContent`); the system prompt is a list of text blocks; the
sampling settings are `inferenceConfig`; a conversation that holds tool blocks must declare its
tools; a tool-use id is at most 64 of `[a-zA-Z0-9_.:-]`; `inputTokens` leaves out the cached ones.
"""

from __future__ import annotations

import hashlib
import re
from typing import Any

import orjson

from anygate.core.chat import (
    ChatRequest,
    ChatResponse,
    FinishReason,
    Image,
    Message,
    Part,
    Text,
    Thinking,
    ToolCall,
    ToolResult,
    system_texts,
)
from anygate.core.codec import UpstreamWire
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.reasoning import effort_for_budget
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.usage import Usage
from anygate.providers.bedrock.eventstream import EventStreamReader

FINISH: dict[str, FinishReason] = {
    "end_turn": "stop",
    "stop_sequence": "stop_sequence",
    "tool_use": "tool_calls",
    "max_tokens": "length",
    "model_context_window_exceeded": "length",
    "guardrail_intervened": "content_filter",
    "content_filtered": "content_filter",
}
_ID = re.compile(r"[a-zA-Z0-9_.:-]{1,64}")
_FORMATS = {"image/png": "png", "image/jpeg": "jpeg", "image/jpg": "jpeg", "image/gif": "gif", "image/webp": "webp"}
_EFFORTS = {"minimal": "low", "low": "low", "medium": "medium", "high": "high", "xhigh": "high"}  # Nova's levels


def tool_use_id(call_id: str) -> str:
    """`call_id` as Bedrock takes a tool-use id: kept when it fits, else a short digest of it (the same
    for the call and its result)."""
    if _ID.fullmatch(call_id):
        return call_id
    return "tooluse_" + hashlib.sha256(call_id.encode()).hexdigest()[:24]


def _image(image: Image) -> dict[str, Any]:
    media = (image.media_type or "image/png").lower()
    if media not in _FORMATS:
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"images of type {media} cannot be sent to this model's provider")
    return {"image": {"format": _FORMATS[media], "source": {"bytes": image.data or ""}}}


def _result(result: ToolResult) -> dict[str, Any]:
    content: list[dict[str, Any]] = [
        {"text": p.text} if isinstance(p, Text) else _image(p) for p in result.content if not isinstance(p, Text) or p.text
    ]
    block: dict[str, Any] = {"toolUseId": tool_use_id(result.call_id), "content": content or [{"text": ""}]}
    if result.is_error:
        block["status"] = "error"
    return {"toolResult": block}


def _blocks(message: Message) -> list[dict[str, Any]]:
    blocks: list[dict[str, Any]] = []
    for part in message.parts:
        if isinstance(part, Text):
            if part.text:
                blocks.append({"text": part.text})
        elif isinstance(part, Image):
            blocks.append(_image(part))
        elif isinstance(part, ToolCall):
            blocks.append({"toolUse": {"toolUseId": tool_use_id(part.id), "name": part.name, "input": part.arguments}})
        elif isinstance(part, ToolResult):
            blocks.append(_result(part))
        elif part.redacted:
            blocks.append({"reasoningContent": {"redactedContent": part.redacted}})
        elif part.signature:  # thinking goes back only with the signature that vouches for it
            blocks.append({"reasoningContent": {"reasoningText": {"text": part.text, "signature": part.signature}}})
    return blocks


def _tools(req: ChatRequest, messages: list[dict[str, Any]]) -> dict[str, Any] | None:
    """The toolConfig: the request's tools, or (for a conversation that holds tool blocks but offers no
    tools, which Converse refuses) the tools named in it, with an open schema."""
    choice = req.tool_choice
    specs = [
        {
            "toolSpec": {
                "name": t.name,
                **({"description": t.description} if t.description else {}),
                "inputSchema": {"json": t.parameters},
            }
        }
        for t in req.tools
    ]
    if not specs:
        used = {b["toolUse"]["name"] for m in messages for b in m["content"] if "toolUse" in b}
        specs = [{"toolSpec": {"name": n, "inputSchema": {"json": {"type": "object", "properties": {}}}}} for n in sorted(used)]
        choice = None
    if not specs:
        return None
    config: dict[str, Any] = {"tools": specs}
    if choice is not None and choice.mode == "required":
        config["toolChoice"] = {"any": {}}
    elif choice is not None and choice.mode == "tool" and choice.name:
        config["toolChoice"] = {"tool": {"name": choice.name}}
    return config


def build_request(req: ChatRequest, upstream_model: str) -> dict[str, Any]:
    """A Converse body for a canonical request (the model goes in the URL; images are inline)."""
    messages: list[dict[str, Any]] = []
    for message in req.messages:
        if message.role == "system" or not (blocks := _blocks(message)):
            continue  # system messages are hoisted into `system`
        if messages and messages[-1]["role"] == message.role:  # turns must alternate
            messages[-1]["content"] += blocks
        else:
            messages.append({"role": message.role, "content": blocks})
    body: dict[str, Any] = {"model": upstream_model, "messages": messages}
    if system := [{"text": t} for t in system_texts(req) if t]:
        body["system"] = system
    inference = {
        "maxTokens": req.max_tokens,
        "temperature": req.temperature,
        "topP": req.top_p,
        "stopSequences": req.stop or None,
    }
    if chosen := {k: v for k, v in inference.items() if v is not None}:
        body["inferenceConfig"] = chosen
    refused = req.tool_choice is not None and req.tool_choice.mode == "none" and not _holds_tools(messages)
    if not refused and (config := _tools(req, messages)):  # no tools offered is how Converse says none
        body["toolConfig"] = config
    fmt = req.response_format
    if fmt is not None and fmt.type == "json_schema" and fmt.schema:
        schema = {"schema": orjson.dumps(fmt.schema).decode(), "name": fmt.name or "response"}
        body["outputConfig"] = {"textFormat": {"type": "json_schema", "structure": {"jsonSchema": schema}}}
    if effort := _effort(req):
        body["additionalModelRequestFields"] = {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": effort}}
    if req.stream:
        body["stream"] = True
    return body


def _holds_tools(messages: list[dict[str, Any]]) -> bool:
    return any("toolUse" in b or "toolResult" in b for m in messages for b in m["content"])


def _effort(req: ChatRequest) -> str | None:
    """Nova's `maxReasoningEffort` for a request that asks for thinking (other Converse models reason
    without being asked, or not at all)."""
    reasoning = req.reasoning
    if reasoning is None or reasoning.effort == "none" or "nova" not in req.model.lower():
        return None
    effort = reasoning.effort or (effort_for_budget(reasoning.budget_tokens) if reasoning.budget_tokens else "medium")
    return _EFFORTS.get(effort, "medium")


def usage_from_bedrock(usage: Any) -> Usage:
    """Bedrock's TokenUsage as canonical usage (every prompt token in `input_tokens`)."""
    if not isinstance(usage, dict):
        return Usage()
    read, written = int(usage.get("cacheReadInputTokens") or 0), int(usage.get("cacheWriteInputTokens") or 0)
    return Usage(int(usage.get("inputTokens") or 0) + read + written, int(usage.get("outputTokens") or 0), read, False, written)


def _parts(content: Any) -> list[Part]:
    parts: list[Part] = []
    for block in content if isinstance(content, list) else ():
        if not isinstance(block, dict):
            continue
        if isinstance(block.get("text"), str) and block["text"]:
            parts.append(Text(block["text"]))
        elif isinstance(block.get("toolUse"), dict):
            use = block["toolUse"]
            arguments = use.get("input") if isinstance(use.get("input"), dict) else {}
            parts.append(ToolCall(str(use.get("toolUseId", "")), str(use.get("name", "")), arguments))
        elif isinstance(block.get("reasoningContent"), dict):
            reasoning = block["reasoningContent"]
            said = reasoning.get("reasoningText") if isinstance(reasoning.get("reasoningText"), dict) else {}
            parts.append(Thinking(str(said.get("text", "")), said.get("signature"), reasoning.get("redactedContent")))
    return parts


def parse_response(body: dict[str, Any]) -> ChatResponse:
    """The canonical form of a Converse answer."""
    output = body.get("output")
    message = output.get("message") if isinstance(output, dict) else None
    if not isinstance(message, dict):
        raise GatewayError(ErrorKind.UPSTREAM, "upstream answered without a message", code="upstream_bad_response")
    finish = FINISH.get(str(body.get("stopReason")), "stop")
    return ChatResponse("", "", _parts(message.get("content")), finish, usage_from_bedrock(body.get("usage")))


def _response_usage(body: dict[str, Any]) -> Usage | None:
    return usage_from_bedrock(body["usage"]) if isinstance(body.get("usage"), dict) else None


class ConverseStreamParser:
    """ConverseStream's events as canonical ones: tool calls numbered in order, the end with the usage
    of the `metadata` event that follows `messageStop`."""

    def __init__(self) -> None:
        self._reader = EventStreamReader()
        self._calls: dict[int, int] = {}  # content block index -> tool call index
        self._finish: FinishReason | None = None
        self._ended = False

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by `chunk`; an in-stream exception raises its GatewayError."""
        events: list[StreamEvent] = []
        for kind, data in self._reader.feed(chunk):
            events.extend(self._event(kind, data))
        return events

    def close(self) -> list[StreamEvent]:
        """The end, when the stream stopped after messageStop without its metadata; else an error."""
        if self._ended:
            return []
        if self._finish is None:
            raise GatewayError(
                ErrorKind.UPSTREAM, "upstream ended the stream before it was complete", code="upstream_stream_truncated"
            )
        self._ended = True
        return [StreamEnd(self._finish, Usage())]

    def _event(self, kind: str, data: dict[str, Any]) -> list[StreamEvent]:
        if kind == "messageStart":
            return [StreamStart("", "")]
        if kind == "contentBlockStart":
            use = (data.get("start") or {}).get("toolUse")
            if isinstance(use, dict):
                index = self._calls[int(data.get("contentBlockIndex", 0))] = len(self._calls)
                return [ToolCallStart(index, str(use.get("toolUseId", "")), str(use.get("name", "")))]
            return []
        if kind == "contentBlockDelta":
            return self._delta(int(data.get("contentBlockIndex", 0)), data.get("delta") or {})
        if kind == "messageStop":
            self._finish = FINISH.get(str(data.get("stopReason")), "stop")
            return []
        if kind == "metadata" and not self._ended:
            self._ended = True
            return [StreamEnd(self._finish or "stop", usage_from_bedrock(data.get("usage")))]
        return []

    def _delta(self, block: int, delta: dict[str, Any]) -> list[StreamEvent]:
        if isinstance(delta.get("text"), str):
            return [TextDelta(delta["text"])] if delta["text"] else []
        if isinstance(delta.get("toolUse"), dict) and block in self._calls:
            given = delta["toolUse"].get("input")
            return [ToolCallDelta(self._calls[block], given)] if isinstance(given, str) and given else []
        reasoning = delta.get("reasoningContent")
        if isinstance(reasoning, dict):
            if isinstance(reasoning.get("text"), str) and reasoning["text"]:
                return [ThinkingDelta(reasoning["text"])]
            if isinstance(reasoning.get("signature"), str):
                return [ThinkingDelta(signature=reasoning["signature"])]
        return []


BEDROCK_CONVERSE = UpstreamWire(
    name="bedrock_converse",
    build_request=build_request,
    parse_response=parse_response,
    stream_parser=ConverseStreamParser,
    response_usage=_response_usage,
    inline_images=True,
)
