"""The Anthropic Messages wire format as a codec of the hub."""

from typing import Any

from anygate.core.chat import ChatRequest
from anygate.core.codec import WireCodec
from anygate.core.usage import Usage
from anygate.protocols.anthropic.errors import stream_error_event
from anygate.protocols.anthropic.messages_request import build_request, parse_request, request_headers, runs
from anygate.protocols.anthropic.messages_response import build_response, parse_response, usage_from_anthropic
from anygate.protocols.anthropic.stream_in import MessagesStreamParser
from anygate.protocols.anthropic.stream_out import MessagesStreamWriter


def _writer(req: ChatRequest, model: str, request_id: str) -> MessagesStreamWriter:
    return MessagesStreamWriter(model, request_id)


def _usage(body: dict[str, Any]) -> Usage | None:
    return usage_from_anthropic(body["usage"]) if isinstance(body.get("usage"), dict) else None


ANTHROPIC = WireCodec(
    name="anthropic",
    build_request=build_request,
    parse_response=parse_response,
    stream_parser=MessagesStreamParser,
    response_usage=_usage,
    runs=runs,
    request_headers=request_headers,
    parse_request=parse_request,
    build_response=build_response,
    stream_writer=_writer,
    stream_error=stream_error_event,
)
