"""The mock provider: renders its answers as OpenAI chat completion bodies and SSE streams."""

from __future__ import annotations

import base64
import hashlib
import math
import time
from collections.abc import AsyncIterator
from typing import Any

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.shapes import integer
from anygate.core.usage import estimate_tokens
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.providers.base import PASS_THROUGH_ROUTES, Passage, Reply
from anygate.providers.mock.behaviour import Answer, answer
from anygate.providers.mock.objects import MockObjects
from anygate.providers.mock.passage import serve
from anygate.providers.openai_shapes import embedding_texts, embeddings_response, images_response

_TEXT_PIECE = 12  # characters of text per streamed chunk
_ARGS_PIECE = 8  # characters of tool arguments per streamed chunk
MAX_DIMENSIONS = 3072  # OpenAI's largest embedding
MAX_EMBEDDING_INPUTS = 2048  # OpenAI's limit per request


class MockProvider:
    """An offline provider that needs no key: echoes prompts, makes tool calls, reports usage."""

    wire = OPENAI_CHAT
    passes = PASS_THROUGH_ROUTES

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        self._objects = MockObjects()

    async def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """Answer at once, as a body or as a stream of chunks."""
        result = answer(body)
        model = str(body.get("model"))
        if stream:
            opts = body.get("stream_options")
            usage = isinstance(opts, dict) and opts.get("include_usage") is True
            return Reply(chunks=_stream(result, model, usage))
        return Reply(body=orjson.dumps(_completion(result, model)))

    async def pass_through(self, passage: Passage) -> Reply:
        """OpenAI's audio, moderation, file, batch, assistant and thread routes, answered in process
        (objects kept in this worker's memory)."""
        return await serve(self._objects, passage)

    async def embed(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """Deterministic unit vectors (16 numbers, or `dimensions`) from each text's SHA-256."""
        texts = embedding_texts(body)
        if len(texts) > MAX_EMBEDDING_INPUTS:
            raise GatewayError(ErrorKind.INVALID_REQUEST, f"'input' may hold at most {MAX_EMBEDDING_INPUTS} items", param="input")
        size = integer(body.get("dimensions"), "dimensions") or 16
        if not 1 <= size <= MAX_DIMENSIONS:
            raise GatewayError(
                ErrorKind.INVALID_REQUEST, f"'dimensions' must be between 1 and {MAX_DIMENSIONS}", param="dimensions"
            )
        vectors = [_vector(text, size) for text in texts]
        tokens = sum(estimate_tokens(t) for t in texts)
        return Reply(body=orjson.dumps(embeddings_response(vectors, upstream_model, tokens, body.get("encoding_format"))))

    async def generate_images(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """`n` one-pixel PNGs."""
        if not isinstance(body.get("prompt"), str) or not body["prompt"]:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'prompt' is required", param="prompt")
        count = integer(body.get("n"), "n") or 1
        if not 1 <= count <= 10:
            raise GatewayError(ErrorKind.INVALID_REQUEST, "'n' must be between 1 and 10", param="n")
        return Reply(body=orjson.dumps(images_response([("image/png", _PIXEL)] * count, body.get("response_format"))))


_PIXEL = base64.b64encode(
    bytes.fromhex(
        "89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489"
        "0000000b49444154789c6360000200000500017a5eab3f0000000049454e44ae426082"
    )
).decode()


def _vector(text: str, size: int) -> list[float]:
    seed = hashlib.sha256(text.encode()).digest()
    raw = [(seed[i % 32] ^ (i * 31 % 256)) / 127.5 - 1.0 for i in range(size)]
    norm = math.sqrt(sum(x * x for x in raw)) or 1.0
    return [x / norm for x in raw]


def _usage(result: Answer) -> dict[str, Any]:
    return {
        "prompt_tokens": result.prompt_tokens,
        "completion_tokens": result.completion_tokens,
        "total_tokens": result.prompt_tokens + result.completion_tokens,
        "prompt_tokens_details": {"cached_tokens": 0},
        "completion_tokens_details": {"reasoning_tokens": 0},
    }


def _completion(result: Answer, model: str) -> dict[str, Any]:
    message: dict[str, Any] = {"role": "assistant", "content": result.content, "refusal": None}
    if result.tool_calls:
        message["tool_calls"] = [
            {"id": c.id, "type": "function", "function": {"name": c.name, "arguments": c.arguments}} for c in result.tool_calls
        ]
    return {
        "id": f"chatcmpl-mock{time.time_ns()}",
        "object": "chat.completion",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_mock",
        "choices": [{"index": 0, "message": message, "logprobs": None, "finish_reason": result.finish_reason}],
        "usage": _usage(result),
    }


async def _stream(result: Answer, model: str, include_usage: bool) -> AsyncIterator[bytes]:
    base = {
        "id": f"chatcmpl-mock{time.time_ns()}",
        "object": "chat.completion.chunk",
        "created": int(time.time()),
        "model": model,
        "system_fingerprint": "fp_mock",
    }
    extra = {"usage": None} if include_usage else {}

    def event(delta: dict[str, Any], finish: str | None = None) -> bytes:
        choice = {"index": 0, "delta": delta, "logprobs": None, "finish_reason": finish}
        return b"data: " + orjson.dumps({**base, "choices": [choice], **extra}) + b"\n\n"

    yield event({"role": "assistant", "content": "" if result.content is not None else None, "refusal": None})
    text = result.content or ""
    for i in range(0, len(text), _TEXT_PIECE):
        yield event({"content": text[i : i + _TEXT_PIECE]})
    for index, call in enumerate(result.tool_calls):
        first = {"index": index, "id": call.id, "type": "function", "function": {"name": call.name, "arguments": ""}}
        yield event({"tool_calls": [first]})
        for i in range(0, len(call.arguments), _ARGS_PIECE):
            yield event({"tool_calls": [{"index": index, "function": {"arguments": call.arguments[i : i + _ARGS_PIECE]}}]})
    yield event({}, result.finish_reason)
    if include_usage:
        yield b"data: " + orjson.dumps({**base, "choices": [], "usage": _usage(result)}) + b"\n\n"
    yield b"data: [DONE]\n\n"
