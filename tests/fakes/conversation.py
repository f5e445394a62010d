"""The answers of the cloud fakes (Vertex, Bedrock) in Anthropic's and Gemini's wire formats, written
by hand from those APIs' documented shapes (never with the gateway's own codecs): a tool call when
tools are offered and the user has just spoken, a final text once the tool's result is in, and
thinking first when the request asks for it. Usage is always 21 tokens in, 9 out."""

from __future__ import annotations

import re
import secrets
from typing import Any

import orjson

THINKING = "The user wants the weather, so I call the tool."
SIGNATURE = "Y2xvdWQtZmFrZS10aG91Z2h0LXNpZ25hdHVyZQ=="  # base64, as both APIs send signatures
IN, OUT = 21, 9


def final_text(profile: str) -> str:
    return f"The weather in Paris is fine (from {profile})."


# Anthropic Messages


def claude_problem(body: dict[str, Any]) -> str | None:
    """What the Messages API refuses in `body` (a 400's message), if anything."""
    thinking = body.get("thinking") or {}
    if thinking.get("type") == "enabled" and not body.get("max_tokens", 0) > thinking.get("budget_tokens", 0):
        return "`max_tokens` must be greater than `thinking.budget_tokens`"
    for message in body.get("messages", []):
        if message.get("role") not in ("user", "assistant"):
            return f'messages: Unexpected role "{message.get("role")}"'
    return None


def claude_blocks(profile: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The content blocks of the answer to a Messages body."""
    last = body["messages"][-1]
    content = last["content"] if isinstance(last["content"], list) else [{"type": "text", "text": last["content"]}]
    blocks: list[dict[str, Any]] = []
    if (body.get("thinking") or {}).get("type") == "enabled":
        blocks.append({"type": "thinking", "thinking": THINKING, "signature": SIGNATURE})
    if any(b.get("type") == "tool_result" for b in content):
        blocks.append({"type": "text", "text": final_text(profile)})
    elif body.get("tools"):
        call = {"type": "tool_use", "id": "toolu_" + secrets.token_hex(8), "name": "get_weather", "input": {"city": "Paris"}}
        blocks.append(call)
    else:
        blocks.append({"type": "text", "text": f"Hello from {profile}!"})
    return blocks


def claude_message(model: str, blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A whole Messages answer."""
    stop = "tool_use" if blocks[-1]["type"] == "tool_use" else "end_turn"
    usage = {"input_tokens": IN, "output_tokens": OUT, "cache_creation_input_tokens": 0, "cache_read_input_tokens": 0}
    return {
        "id": "msg_cloud_" + secrets.token_hex(6),
        "type": "message",
        "role": "assistant",
        "model": model,
        "content": blocks,
        "stop_reason": stop,
        "stop_sequence": None,
        "usage": usage,
    }


def claude_events(model: str, blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The (event, data) pairs of the same answer streamed."""
    whole = claude_message(model, blocks)
    start = {**whole, "content": [], "stop_reason": None, "usage": {**whole["usage"], "output_tokens": 1}}
    events: list[tuple[str, dict[str, Any]]] = [("message_start", {"type": "message_start", "message": start})]
    for index, block in enumerate(blocks):
        empty = {"thinking": {**block, "thinking": "", "signature": ""}, "text": {**block, "text": ""}}
        opened = empty.get(block["type"], {**block, "input": {}})
        events.append(("content_block_start", {"type": "content_block_start", "index": index, "content_block": opened}))
        if block["type"] == "thinking":
            deltas = [{"type": "thinking_delta", "thinking": p} for p in (THINKING[:20], THINKING[20:])]
            deltas.append({"type": "signature_delta", "signature": SIGNATURE})
        elif block["type"] == "text":
            deltas = [{"type": "text_delta", "text": p} for p in (block["text"][:8], block["text"][8:])]
        else:
            raw = orjson.dumps(block["input"]).decode()
            deltas = [{"type": "input_json_delta", "partial_json": p} for p in (raw[:5], raw[5:])]
        events += [("content_block_delta", {"type": "content_block_delta", "index": index, "delta": d}) for d in deltas]
        events.append(("content_block_stop", {"type": "content_block_stop", "index": index}))
    delta = {"stop_reason": whole["stop_reason"], "stop_sequence": None}
    events.append(("message_delta", {"type": "message_delta", "delta": delta, "usage": {"output_tokens": OUT}}))
    events.append(("message_stop", {"type": "message_stop"}))
    return events


# Gemini generateContent


def gemini_problem(body: dict[str, Any]) -> str | None:
    """What Vertex's generateContent refuses in `body`, if anything."""
    for content in body.get("contents", []):
        if content.get("role") not in ("user", "model"):
            return "Please use a valid role: user, model."
    return None


def proto_field(message: Any, camel: str) -> Any:
    """A field of a Google API JSON message under either of the names proto3 JSON takes (lowerCamel, snake)."""
    if not isinstance(message, dict):
        return None
    snake = "".join(f"_{c.lower()}" if c.isupper() else c for c in camel)
    return message.get(camel, message.get(snake))


def gemini_shows_thoughts(body: dict[str, Any]) -> bool:
    """Whether a generateContent body asks to see the model's thoughts."""
    return proto_field(proto_field(proto_field(body, "generationConfig"), "thinkingConfig"), "includeThoughts") is True


def gemini_parts(profile: str, body: dict[str, Any]) -> list[dict[str, Any]]:
    """The parts of the answer to a generateContent body."""
    last = body["contents"][-1]["parts"]
    parts: list[dict[str, Any]] = []
    if gemini_shows_thoughts(body):
        parts.append({"text": THINKING, "thought": True})
    if any(proto_field(p, "functionResponse") for p in last):
        parts.append({"text": final_text(profile)})
    elif body.get("tools"):
        parts.append({"functionCall": {"name": "get_weather", "args": {"city": "Paris"}}, "thoughtSignature": SIGNATURE})
    else:
        parts.append({"text": f"Hello from {profile}!"})
    return parts


def gemini_chunks(model: str, parts: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The answer as stream chunks, one part each, the last with the finish and the usage."""
    usage = {"promptTokenCount": IN, "candidatesTokenCount": OUT, "totalTokenCount": IN + OUT}
    chunks = []
    for i, part in enumerate(parts):
        candidate: dict[str, Any] = {"content": {"role": "model", "parts": [part]}, "index": 0}
        chunk: dict[str, Any] = {"candidates": [candidate], "modelVersion": model, "responseId": "cloudResp01"}
        if i == len(parts) - 1:
            candidate["finishReason"] = "STOP"
            chunk["usageMetadata"] = usage
        chunks.append(chunk)
    return chunks


def gemini_whole(model: str, parts: list[dict[str, Any]]) -> dict[str, Any]:
    """The whole answer."""
    last = gemini_chunks(model, parts)[-1]
    return {**last, "candidates": [{**last["candidates"][0], "content": {"role": "model", "parts": parts}}]}


# Bedrock Converse

_CONVERSE_FIELDS = {
    "messages",
    "system",
    "inferenceConfig",
    "toolConfig",
    "guardrailConfig",
    "additionalModelRequestFields",
    "additionalModelResponseFieldPaths",
    "promptVariables",
    "requestMetadata",
    "performanceConfig",
    "serviceTier",
    "outputConfig",
}


def converse_problem(body: dict[str, Any]) -> str | None:
    """What Converse refuses in `body` (a ValidationException's message), if anything."""
    if extra := set(body) - _CONVERSE_FIELDS:
        return f"Malformed input request: extraneous key [{sorted(extra)[0]}] is not permitted"
    messages = body.get("messages") or []
    if not messages or messages[0].get("role") != "user":
        return "A conversation must start with a user message. Try again with a conversation that starts with a user message."
    tools_used = False
    for i, message in enumerate(messages):
        if i and message["role"] == messages[i - 1]["role"]:
            return "A conversation must alternate between user and assistant roles."
        for j, block in enumerate(message["content"]):
            if len(block) != 1:
                return f"messages.{i}.content.{j}: a content block has exactly one member"
            if "text" in block and not block["text"].strip():
                return f"The text field in the ContentBlock object at messages.{i}.content.{j} is blank."
            use = block.get("toolUse") or block.get("toolResult")
            if use is not None:
                tools_used = True
                if not re.fullmatch(r"[a-zA-Z0-9_.:-]{1,64}", use["toolUseId"]):
                    return f"messages.{i}.content.{j}.toolUseId: failed to satisfy constraint"
    if tools_used and not body.get("toolConfig"):
        return "The toolConfig field must be defined when using toolUse and toolResult content blocks."
    return None


def converse_blocks(profile: str, body: dict[str, Any], thinks: bool) -> list[dict[str, Any]]:
    """The content blocks of the answer to a Converse body (`thinks`: the model reasons when asked)."""
    last = body["messages"][-1]["content"]
    blocks: list[dict[str, Any]] = []
    config = (body.get("additionalModelRequestFields") or {}).get("reasoningConfig") or {}
    if thinks and config.get("type") == "enabled":
        blocks.append({"reasoningContent": {"reasoningText": {"text": THINKING}}})
    if any("toolResult" in b for b in last):
        blocks.append({"text": final_text(profile)})
    elif body.get("toolConfig"):
        blocks.append(
            {"toolUse": {"toolUseId": "tooluse_" + secrets.token_hex(8), "name": "get_weather", "input": {"city": "Paris"}}}
        )
    else:
        blocks.append({"text": f"Hello from {profile}!"})
    return blocks


def converse_answer(blocks: list[dict[str, Any]]) -> dict[str, Any]:
    """A whole Converse answer."""
    stop = "tool_use" if "toolUse" in blocks[-1] else "end_turn"
    usage = {"inputTokens": IN, "outputTokens": OUT, "totalTokens": IN + OUT}
    return {
        "output": {"message": {"role": "assistant", "content": blocks}},
        "stopReason": stop,
        "usage": usage,
        "metrics": {"latencyMs": 120},
    }


def converse_events(blocks: list[dict[str, Any]]) -> list[tuple[str, dict[str, Any]]]:
    """The (event type, payload) pairs of the same answer streamed by ConverseStream."""
    whole = converse_answer(blocks)
    events: list[tuple[str, dict[str, Any]]] = [("messageStart", {"role": "assistant"})]
    for index, block in enumerate(blocks):
        if "reasoningContent" in block:
            deltas = [{"reasoningContent": {"text": p}} for p in (THINKING[:20], THINKING[20:])]
        elif "text" in block:
            deltas = [{"text": p} for p in (block["text"][:8], block["text"][8:])]
        else:
            use = block["toolUse"]
            start = {"toolUse": {"toolUseId": use["toolUseId"], "name": use["name"]}}
            events.append(("contentBlockStart", {"start": start, "contentBlockIndex": index}))
            raw = orjson.dumps(use["input"]).decode()
            deltas = [{"toolUse": {"input": p}} for p in (raw[:5], raw[5:])]
        events += [("contentBlockDelta", {"delta": d, "contentBlockIndex": index}) for d in deltas]
        events.append(("contentBlockStop", {"contentBlockIndex": index}))
    events.append(("messageStop", {"stopReason": whole["stopReason"]}))
    events.append(("metadata", {"usage": whole["usage"], "metrics": {"latencyMs": 120}}))
    return events
