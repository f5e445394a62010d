"""OpenAI Responses API answers built from canonical ones: the whole response object, or its event
stream (`response.created` … `response.completed`, each event numbered by `sequence_number`).

One ResponsesShape serves one request: it knows the response id and the request's settings that
the response object repeats, and keeps the final object for storage once it is built.
"""

from __future__ import annotations

import secrets
import time
from typing import Any

import orjson

from anygate.core.chat import ChatRequest, ChatResponse, FinishReason, Part, Text, Thinking, ToolCall
from anygate.core.errors import GatewayError
from anygate.core.shapes import objects
from anygate.core.stream import (
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextRun,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
)
from anygate.core.tool_arguments import parse_arguments
from anygate.core.usage import Usage
from anygate.protocols.openai.errors import error_object
from anygate.protocols.openai.responses_request import parse_request
from anygate.protocols.openai.responses_tools import ResponsesTools


def new_id(prefix: str) -> str:
    """A fresh id in OpenAI's style (`resp_…`, `msg_…`, `fc_…`, `rs_…`), marked as the gateway's by
    an `ag` after the prefix (OpenAI's own ids are hexadecimal)."""
    return f"{prefix}_ag{secrets.token_hex(24)}"


def is_ours(item_id: Any) -> bool:
    """Whether an item id was made by new_id."""
    return isinstance(item_id, str) and item_id.partition("_")[2].startswith("ag")


def usage_object(usage: Usage) -> dict[str, Any]:
    """A Responses `usage` object."""
    return {
        "input_tokens": usage.input_tokens,
        "input_tokens_details": {"cached_tokens": usage.cached_tokens},
        "output_tokens": usage.output_tokens,
        "output_tokens_details": {"reasoning_tokens": usage.reasoning_tokens},
        "total_tokens": usage.input_tokens + usage.output_tokens,
    }


def _message(item_id: str, text: str, status: str = "completed") -> dict[str, Any]:
    content = [{"type": "output_text", "text": text, "annotations": []}] if status == "completed" else []
    return {"type": "message", "id": item_id, "status": status, "role": "assistant", "content": content}


def _reasoning(item_id: str, text: str, signature: str | None) -> dict[str, Any]:
    item: dict[str, Any] = {
        "type": "reasoning",
        "id": item_id,
        "summary": [{"type": "summary_text", "text": text}] if text else [],
    }
    if signature:
        item["encrypted_content"] = signature  # what the upstream needs to see this reasoning again
    return item


def output_items(parts: list[Part], tools: ResponsesTools) -> list[dict[str, Any]]:
    """The `output` items of canonical answer parts: runs of text become one message, calls the items
    of their tools' kinds."""
    items: list[dict[str, Any]] = []
    text: list[str] = []
    for part in parts:
        if isinstance(part, Text):
            text.append(part.text)
            continue
        if text:
            items.append(_message(new_id("msg"), "".join(text)))
            text = []
        if isinstance(part, ToolCall):
            items.append(tools.call_item(part, new_id(_CALL_PREFIXES[tools.kind(part.name)])))
        elif isinstance(part, Thinking) and (part.text or part.signature):
            items.append(_reasoning(new_id("rs"), part.text, part.signature))
    if text:
        items.append(_message(new_id("msg"), "".join(text)))
    return items


_CALL_PREFIXES = {"function": "fc", "custom": "ctc", "local_shell": "lsh", "shell": "sh", "apply_patch": "apc"}


def _status(finish: FinishReason) -> tuple[str, dict[str, Any] | None]:
    if finish == "length":
        return "incomplete", {"reason": "max_output_tokens"}
    if finish == "content_filter":
        return "incomplete", {"reason": "content_filter"}
    return "completed", None


class ResponsesShape:
    """The response object of one Responses request, whole or streamed."""

    name = "openai-responses"

    def __init__(self, body: dict[str, Any], model: str) -> None:
        self.id = new_id("resp")
        self.final: dict[str, Any] | None = None
        self._body = body
        self._model = model
        self._created = int(time.time())
        self._tools: ResponsesTools | None = None

    @property
    def tools(self) -> ResponsesTools:
        """The request's tools, as they went upstream and as their calls come back."""
        if self._tools is None:
            self._tools = ResponsesTools(objects(self._body.get("tools"), "tools"))
        return self._tools

    def frame(self, status: str) -> dict[str, Any]:
        """The response object without its output: what the request set, and the status."""
        body = self._body
        reasoning: dict[str, Any] = body["reasoning"] if isinstance(body.get("reasoning"), dict) else {}
        return {
            "id": self.id,
            "object": "response",
            "created_at": self._created,
            "status": status,
            "background": False,
            "error": None,
            "incomplete_details": None,
            "instructions": body.get("instructions"),
            "max_output_tokens": body.get("max_output_tokens"),
            "metadata": body.get("metadata") or {},
            "model": self._model,
            "output": [],
            "parallel_tool_calls": body.get("parallel_tool_calls", True),
            "previous_response_id": body.get("previous_response_id"),
            "reasoning": {"effort": reasoning.get("effort"), "summary": reasoning.get("summary")},
            "store": body.get("store", True),
            "temperature": body.get("temperature", 1.0),
            "text": body.get("text") or {"format": {"type": "text"}},
            "tool_choice": body.get("tool_choice", "auto"),
            "tools": body.get("tools") or [],
            "top_p": body.get("top_p", 1.0),
            "truncation": body.get("truncation", "disabled"),
            "usage": None,
            "user": body.get("user"),
        }

    def finish(self, output: list[dict[str, Any]], finish: FinishReason, usage: Usage) -> dict[str, Any]:
        """The final response object; kept as `final`."""
        status, incomplete = _status(finish)
        self.final = {**self.frame(status), "incomplete_details": incomplete, "output": output, "usage": usage_object(usage)}
        return self.final

    def fail(self, err: GatewayError, output: list[dict[str, Any]]) -> dict[str, Any]:
        """The response object of a response that failed part-way; kept as `final`."""
        error = error_object(err)
        self.final = {
            **self.frame("failed"),
            "output": output,
            "error": {"code": error.get("code") or error["type"], "message": error["message"]},
        }
        return self.final

    # The client side of a wire format (core.codec.StreamingClientCodec), for the hub.

    def parse_request(self, body: dict[str, Any]) -> ChatRequest:
        """The canonical form of the request (its `input` already expanded); its tools are kept for the answer."""
        self._tools = ResponsesTools(objects(body.get("tools"), "tools"))
        return parse_request(body, self._tools)

    def build_response(self, answer: ChatResponse, _model: str, _request_id: str) -> dict[str, Any]:
        """The whole response object of a canonical answer."""
        return self.finish(output_items(answer.parts, self.tools), answer.finish, answer.usage)

    def stream_writer(self, _req: ChatRequest, _model: str, _request_id: str) -> ResponsesStreamWriter:
        """The writer of this response's event stream."""
        return ResponsesStreamWriter(self)


class ResponsesStreamWriter:
    """Canonical stream events to Responses events, items opened and closed in order."""

    content_type = "text/event-stream"

    def __init__(self, shape: ResponsesShape) -> None:
        self._shape = shape
        self._sequence = 0
        self._started = False
        self._output: list[dict[str, Any]] = []
        self._open: dict[str, Any] | None = None  # the item being streamed
        self._text: list[str] = []  # its text, summary or arguments so far
        self._signature: str | None = None
        self._call_name = ""  # the open call's tool, as the upstream named it
        self._calls: dict[int, int] = {}  # canonical tool-call index -> output index
        self._input: Usage | None = None

    def _event(self, kind: str, **fields: Any) -> bytes:
        data = {"type": kind, "sequence_number": self._sequence, **fields}
        self._sequence += 1
        return b"event: " + kind.encode() + b"\ndata: " + orjson.dumps(data) + b"\n\n"

    def _start(self) -> bytes:
        if self._started:
            return b""
        self._started = True
        frame = self._shape.frame("in_progress")
        return self._event("response.created", response=frame) + self._event("response.in_progress", response=frame)

    def write(self, event: StreamEvent) -> bytes:
        if isinstance(event, TextRun):
            return b"".join([self.write(delta) for delta in event.deltas()])
        out = self._start()
        if isinstance(event, StreamStart):
            self._input = event.usage
        elif isinstance(event, TextDelta):
            if not event.text:
                return out
            if self._open is None or self._open["type"] != "message":
                out += self._close() + self._open_message()
            self._text.append(event.text)
            out += self._event("response.output_text.delta", **self._at(), content_index=0, delta=event.text, logprobs=[])
        elif isinstance(event, ThinkingDelta):
            if self._open is None or self._open["type"] != "reasoning":
                out += self._close() + self._open_reasoning()
            if event.text:
                self._text.append(event.text)
                out += self._event("response.reasoning_summary_text.delta", **self._at(), summary_index=0, delta=event.text)
            if event.signature:
                self._signature = event.signature
        elif isinstance(event, ToolCallStart):
            out += self._close()
            kind = self._shape.tools.kind(event.name)
            item = self._shape.tools.call_item(ToolCall(event.id, event.name, {}), new_id(_CALL_PREFIXES[kind]), "in_progress")
            item.update({"arguments": ""} if kind == "function" else {"input": ""} if kind == "custom" else {})
            self._call_name = event.name
            self._calls[event.index] = len(self._output)
            out += self._open_item(item)
        elif isinstance(event, ToolCallDelta):
            if self._open is not None and self._calls.get(event.index) == len(self._output) and event.arguments:
                self._text.append(event.arguments)
                if self._open["type"] == "function_call":  # other kinds' input is known whole only at the end
                    out += self._event("response.function_call_arguments.delta", **self._at(), delta=event.arguments)
        elif isinstance(event, StreamEnd):
            out += self._close()
            usage = event.usage
            if self._input is not None and not usage.input_tokens:
                usage.input_tokens = self._input.input_tokens
            final = self._shape.finish(self._output, event.finish, usage)
            kind = "response.completed" if final["status"] == "completed" else "response.incomplete"
            out += self._event(kind, response=final)
        return out

    def error(self, err: GatewayError) -> bytes:
        out = self._start() + self._close()
        return out + self._event("response.failed", response=self._shape.fail(err, self._output))

    def _call_done(self, item: dict[str, Any], arguments: str) -> dict[str, Any]:
        """The finished item of a streamed call, from its arguments as the upstream streamed them."""
        tools, name = self._shape.tools, self._call_name
        if item["type"] == "function_call":  # relayed as streamed, even if not valid JSON
            return {**tools.call_item(ToolCall(item["call_id"], name, {}), item["id"]), "arguments": arguments or "{}"}
        try:
            parsed = parse_arguments(arguments, "arguments")
        except GatewayError:
            parsed = {"input": arguments}
        return tools.call_item(ToolCall(item["call_id"], name, parsed), item["id"])

    def _at(self) -> dict[str, Any]:
        assert self._open is not None
        return {"item_id": self._open["id"], "output_index": len(self._output)}

    def _open_item(self, item: dict[str, Any]) -> bytes:
        self._open, self._text, self._signature = item, [], None
        return self._event("response.output_item.added", output_index=len(self._output), item=item)

    def _open_message(self) -> bytes:
        out = self._open_item(_message(new_id("msg"), "", status="in_progress"))
        part = {"type": "output_text", "text": "", "annotations": []}
        return out + self._event("response.content_part.added", **self._at(), content_index=0, part=part)

    def _open_reasoning(self) -> bytes:
        out = self._open_item({"type": "reasoning", "id": new_id("rs"), "summary": []})
        part = {"type": "summary_text", "text": ""}
        return out + self._event("response.reasoning_summary_part.added", **self._at(), summary_index=0, part=part)

    def _close(self) -> bytes:
        """The closing events of the open item, which joins the output."""
        item = self._open
        if item is None:
            return b""
        text = "".join(self._text)
        at = self._at()
        out = b""
        if item["type"] == "message":
            part = {"type": "output_text", "text": text, "annotations": []}
            out += self._event("response.output_text.done", **at, content_index=0, text=text, logprobs=[])
            out += self._event("response.content_part.done", **at, content_index=0, part=part)
            done = _message(item["id"], text)
        elif item["type"] == "reasoning":
            part = {"type": "summary_text", "text": text}
            out += self._event("response.reasoning_summary_text.done", **at, summary_index=0, text=text)
            out += self._event("response.reasoning_summary_part.done", **at, summary_index=0, part=part)
            done = _reasoning(item["id"], text, self._signature)
        else:
            done = self._call_done(item, text)
            if done["type"] == "function_call":
                out += self._event("response.function_call_arguments.done", **at, name=done["name"], arguments=done["arguments"])
            elif done["type"] == "custom_tool_call":
                out += self._event("response.custom_tool_call_input.delta", **at, delta=done["input"])
                out += self._event("response.custom_tool_call_input.done", **at, input=done["input"])
        out += self._event("response.output_item.done", output_index=at["output_index"], item=done)
        self._output.append(done)
        self._open = None
        return out
