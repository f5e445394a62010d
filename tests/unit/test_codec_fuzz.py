"""Whatever JSON a client sends, a codec either reads it or refuses it with a GatewayError (a clean 4xx):
never another exception, which would be a 500."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, cast

from hypothesis import given, settings
from hypothesis import strategies as st

from anygate.core.chat import ChatRequest
from anygate.core.codec import WireCodec
from anygate.core.errors import GatewayError
from anygate.protocols import families
from anygate.protocols.openai.responses_shape import ResponsesShape
from anygate.providers import adapters
from anygate.providers.ollama.chat_wire import OLLAMA_CHAT

CLIENT_WIRES = [wire for family in families() for wire in family.wires]
# the wire formats provider classes speak, variants included (a provider type's `build` is its class),
# and the one a setting chooses (Ollama's native chat)
CLASS_WIRES = (cast(Any, a.build).wire for a in adapters().values() if a.build)
UPSTREAM_WIRES = list({id(w): w for w in (*CLASS_WIRES, OLLAMA_CHAT)}.values())

KEYS = [
    "role",
    "content",
    "type",
    "text",
    "image_url",
    "url",
    "tool_calls",
    "function",
    "name",
    "arguments",
    "id",
    "tool_call_id",
    "source",
    "media_type",
    "data",
    "input",
    "tool_use_id",
    "thinking",
    "signature",
    "parts",
    "inlineData",
    "functionCall",
    "functionResponse",
    "args",
    "response",
    "mimeType",
    "thought",
    "fileData",
    "call_id",
    "output",
    "summary",
    "encrypted_content",
    "format",
    "schema",
    "effort",
]
TOP = [
    "messages",
    "tools",
    "tool_choice",
    "system",
    "contents",
    "systemInstruction",
    "generationConfig",
    "toolConfig",
    "response_format",
    "stop",
    "max_tokens",
    "thinking",
    "output_config",
    "stream_options",
    "parallel_tool_calls",
    "input",
    "instructions",
    "text",
    "reasoning",
    "max_output_tokens",
]
ROLES = st.sampled_from(["user", "assistant", "system", "tool", "model", "developer", 7, None])
TYPES = st.sampled_from(
    ["message", "function_call", "function_call_output", "reasoning", "input_text", "input_image", "json_schema"]
)
leaf = st.one_of(st.none(), st.booleans(), st.integers(-3, 3), st.text(max_size=5), ROLES, TYPES)
json_values = st.recursive(
    leaf,
    lambda inner: st.one_of(st.lists(inner, max_size=3), st.dictionaries(st.sampled_from(KEYS), inner, max_size=4)),
    max_leaves=25,
)
bodies = st.dictionaries(st.sampled_from(TOP), json_values, max_size=5)


@settings(max_examples=300, deadline=None)
@given(bodies, st.sampled_from(CLIENT_WIRES))
def test_any_json_is_read_or_refused_cleanly(body: dict[str, Any], codec: WireCodec) -> None:
    _read_or_refused(codec.parse_request, {"model": "m", "messages": [], **body})


@settings(max_examples=300, deadline=None)
@given(bodies)
def test_any_responses_request_is_read_or_refused_cleanly(body: dict[str, Any]) -> None:
    _read_or_refused(ResponsesShape({"model": "m", **body}, "m").parse_request, {"model": "m", **body})


def _read_or_refused(parse: Callable[[dict[str, Any]], ChatRequest], body: dict[str, Any]) -> None:
    """`body` is read, or refused with a 4xx; what is read can be built for every target, or refused with a 4xx."""
    try:
        request = parse(body)
    except GatewayError as err:
        assert 400 <= err.status < 500
        return
    for target in UPSTREAM_WIRES:
        try:
            target.build_request(request, "upstream")
        except GatewayError as err:
            assert 400 <= err.status < 500
