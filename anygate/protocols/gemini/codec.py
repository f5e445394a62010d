"""The Gemini generateContent wire format as a codec of the hub."""

from typing import Any

from anygate.core.chat import ChatRequest
from anygate.core.codec import WireCodec
from anygate.core.usage import Usage
from anygate.protocols.gemini.errors import stream_error_event
from anygate.protocols.gemini.request import build_request, parse_request, runs
from anygate.protocols.gemini.response import build_response, parse_response, usage_from_gemini
from anygate.protocols.gemini.stream_in import GeminiStreamParser
from anygate.protocols.gemini.stream_out import GeminiStreamWriter


def _writer(req: ChatRequest, model: str, request_id: str) -> GeminiStreamWriter:
    return GeminiStreamWriter(model, request_id, sse=not req.stream_json_array)


def _usage(body: dict[str, Any]) -> Usage | None:
    return usage_from_gemini(body["usageMetadata"]) if isinstance(body.get("usageMetadata"), dict) else None


GEMINI = WireCodec(
    name="gemini",
    build_request=build_request,
    parse_response=parse_response,
    stream_parser=GeminiStreamParser,
    response_usage=_usage,
    inline_images=True,
    runs=runs,
    parse_request=parse_request,
    build_response=build_response,
    stream_writer=_writer,
    stream_error=stream_error_event,
)
