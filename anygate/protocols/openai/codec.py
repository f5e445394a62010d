"""The OpenAI chat completions wire format as a codec of the hub."""

from dataclasses import replace
from typing import Any

from anygate.core.chat import ChatRequest
from anygate.core.codec import WireCodec
from anygate.core.errors import GatewayError
from anygate.core.usage import Usage
from anygate.protocols.openai.chat_request import build_request, parse_request
from anygate.protocols.openai.chat_response import build_response, parse_response
from anygate.protocols.openai.chat_stream_in import ChatStreamParser
from anygate.protocols.openai.chat_stream_out import ChatStreamWriter
from anygate.protocols.openai.errors import stream_error_event
from anygate.protocols.openai.usage import usage_from_openai


def _writer(req: ChatRequest, model: str, request_id: str) -> ChatStreamWriter:
    return ChatStreamWriter(model, request_id, include_usage=req.stream_usage)


def _stream_error(err: GatewayError, request_id: str) -> bytes:
    return stream_error_event(err)


def _usage(body: dict[str, Any]) -> Usage | None:
    return usage_from_openai(body.get("usage"))


OPENAI_CHAT = WireCodec(
    name="openai_chat",
    build_request=build_request,
    parse_response=parse_response,
    stream_parser=ChatStreamParser,
    response_usage=_usage,
    parse_request=parse_request,
    build_response=build_response,
    stream_writer=_writer,
    stream_error=_stream_error,
)

# The same format for upstreams that want an assistant turn with tool calls to bring its thinking back
# as `reasoning_content` (DeepSeek): a client of this family is still relayed to them as it is.
OPENAI_CHAT_REPLAYING_REASONING = replace(
    OPENAI_CHAT, build_request=lambda req, model: build_request(req, model, "reasoning_content")
)
