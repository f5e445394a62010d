"""Calls to the Gemini API: the model goes in the URL, streams are asked for as SSE."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.shapes import integer
from anygate.core.usage import estimate_tokens
from anygate.protocols.gemini.codec import GEMINI
from anygate.providers.base import Reply
from anygate.providers.http import HttpUpstream
from anygate.providers.openai_shapes import embedding_texts, embeddings_response

DEFAULT_BASE_URL = "https://generativelanguage.googleapis.com"
API_VERSION = "v1beta"


class GeminiProvider:
    """One configured Gemini upstream: `x-goog-api-key` on every call."""

    wire = GEMINI

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        headers = {"x-goog-api-key": config.api_key} if config.api_key else {}
        self._upstream = HttpUpstream(name, config, http, headers)
        self._base = (config.base_url or DEFAULT_BASE_URL).rstrip("/") + f"/{API_VERSION}/models/"

    def _url(self, model: str, action: str) -> str:
        return f"{self._base}{quote(model, safe='')}:{action}"

    def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Awaitable[Reply]:
        """generateContent, or streamGenerateContent with alt=sse; the body's `model` goes in the URL."""
        payload = {k: v for k, v in body.items() if k not in ("model", "stream", "json_array")}
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return self._upstream.post(self._url(str(body["model"]), action), payload, stream, headers)

    async def count_tokens(self, upstream_model: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        """countTokens of `upstream_model` (a `generateContentRequest` in the body names it too)."""
        given = body.get("generateContentRequest")
        if isinstance(given, dict):
            body = {"generateContentRequest": {**given, "model": f"models/{upstream_model}"}}
        return await self._upstream.post(self._url(upstream_model, "countTokens"), body, False, headers)

    async def embed(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """An OpenAI embeddings body through batchEmbedContents, answered in OpenAI's shape."""
        texts = embedding_texts(body)
        dimensions = integer(body.get("dimensions"), "dimensions")
        extra = {"outputDimensionality": dimensions} if dimensions else {}
        requests = [{"model": f"models/{upstream_model}", "content": {"parts": [{"text": t}]}, **extra} for t in texts]
        reply = await self._upstream.post(self._url(upstream_model, "batchEmbedContents"), {"requests": requests}, False)
        try:
            found = orjson.loads(reply.body or b"")["embeddings"]
            vectors = [[float(x) for x in e["values"]] for e in found]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' sent no embeddings", code="upstream_bad_response"
            ) from None
        tokens = sum(estimate_tokens(t) for t in texts)  # batchEmbedContents reports no usage
        return Reply(body=orjson.dumps(embeddings_response(vectors, upstream_model, tokens, body.get("encoding_format"))))
