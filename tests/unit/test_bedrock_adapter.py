"""The parts of the Bedrock provider that need no network: model ids, the Claude stream's event-stream
chunks turned into Anthropic's SSE, and the embedding models' bodies and answers."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator

import orjson
import pytest

from anygate.core.errors import GatewayError
from anygate.providers.bedrock.adapter import anthropic_sse, foundation_model, is_claude
from anygate.providers.bedrock.embeddings import cohere_body, cohere_vectors, family_of, titan_body, titan_vector
from tests.fakes.eventstream import event, exception


def test_model_ids() -> None:
    assert foundation_model("us.anthropic.claude-sonnet-4-5-20250929-v1:0") == "anthropic.claude-sonnet-4-5-20250929-v1:0"
    assert foundation_model("global.anthropic.claude-opus-4-1") == "anthropic.claude-opus-4-1"
    assert foundation_model("anthropic.claude-3-haiku-20240307-v1:0") == "anthropic.claude-3-haiku-20240307-v1:0"
    arn = "arn:aws:bedrock:us-east-1:123456789012:inference-profile/eu.anthropic.claude-3-7-sonnet"
    assert foundation_model(arn) == "anthropic.claude-3-7-sonnet"
    assert is_claude("eu.anthropic.claude-3-7-sonnet") and not is_claude("us.amazon.nova-pro-v1:0")


async def _chunks(*pieces: bytes) -> AsyncIterator[bytes]:
    for piece in pieces:
        yield piece


def _chunk(data: dict[str, object]) -> bytes:
    return event("chunk", {"bytes": base64.b64encode(orjson.dumps(data)).decode()})


async def test_claudes_stream_becomes_anthropic_sse() -> None:
    start = {"type": "message_start", "message": {"id": "m1"}}
    delta = {"type": "content_block_delta", "index": 0, "delta": {"type": "text_delta", "text": "Hi"}}
    blob = _chunk(start) + _chunk(delta)
    out = [piece async for piece in anthropic_sse(_chunks(blob[:7], blob[7:40], blob[40:]))]
    assert b"".join(out) == (
        b"event: message_start\ndata: "
        + orjson.dumps(start)
        + b"\n\nevent: content_block_delta\ndata: "
        + orjson.dumps(delta)
        + b"\n\n"
    )
    with pytest.raises(GatewayError) as throttled:
        async for _ in anthropic_sse(_chunks(_chunk(start) + exception("throttlingException", "slow down"))):
            pass
    assert throttled.value.status == 429 and "throttlingException: slow down" in throttled.value.message
    with pytest.raises(GatewayError, match="unreadable chunk"):
        async for _ in anthropic_sse(_chunks(event("chunk", {"bytes": "not base64 json"}))):
            pass


def test_embedding_models() -> None:
    assert family_of("amazon.titan-embed-text-v2:0") == "titan" and family_of("cohere.embed-multilingual-v3") == "cohere"
    with pytest.raises(GatewayError, match="not an embedding model"):
        family_of("meta.llama3")
    assert titan_body("a", None) == {"inputText": "a"} and titan_body("a", 256) == {"inputText": "a", "dimensions": 256}
    assert cohere_body(["a"], 256, "cohere.embed-english-v3") == {
        "texts": ["a"],
        "input_type": "search_document",
        "embedding_types": ["float"],
    }
    assert cohere_body(["a"], 256, "cohere.embed-v4:0")["output_dimension"] == 256
    assert titan_vector(b'{"embedding":[1,2],"inputTextTokenCount":4}', "b") == ([1.0, 2.0], 4)
    assert titan_vector(b'{"embedding":[1]}', "b") == ([1.0], None)
    assert cohere_vectors(b'{"embeddings":[[1,2]]}', "b") == [[1.0, 2.0]]
    assert cohere_vectors(b'{"embeddings":{"float":[[3]]}}', "b") == [[3.0]]
    for broken in (b"{}", b"nope", b'{"embeddings":{"int8":[[1]]}}'):
        with pytest.raises(GatewayError, match="sent no embeddings"):
            cohere_vectors(broken, "b")
