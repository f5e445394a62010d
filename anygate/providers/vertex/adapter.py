"""Calls to Vertex AI: `…/projects/{project}/locations/{location}/publishers/{publisher}/models/{model}:{method}`.

Gemini models take Gemini's body at generateContent / streamGenerateContent (SSE), embeddings at
predict; Claude takes Anthropic's Messages body at rawPredict / streamRawPredict, with its model in the
URL and `anthropic_version: vertex-2023-10-16` in the body. Every call carries the OAuth token."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.codec import UpstreamWire
from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.core.shapes import integer
from anygate.core.usage import estimate_tokens
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.protocols.gemini.codec import GEMINI
from anygate.providers.base import Reply
from anygate.providers.http import HttpUpstream
from anygate.providers.openai_shapes import embedding_texts, embeddings_response
from anygate.providers.vertex.credentials import GoogleToken
from anygate.providers.vertex.settings import VertexSettings

ANTHROPIC_VERSION = "vertex-2023-10-16"


def endpoint(location: str) -> str:
    """The API host of a location (`global` has one of its own)."""
    return "https://aiplatform.googleapis.com" if location == "global" else f"https://{location}-aiplatform.googleapis.com"


def _with_roles(contents: Any) -> Any:
    """Gemini contents with a role on each (the Gemini API takes none as the user's; Vertex does not)."""
    if not isinstance(contents, list) or all(not isinstance(c, dict) or "role" in c for c in contents):
        return contents
    return [{"role": "user", **c} if isinstance(c, dict) and "role" not in c else c for c in contents]


class VertexProvider:
    """The models of one Google Cloud project and location on Vertex AI: Gemini's and Claude's."""

    wire: UpstreamWire = GEMINI

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        assert isinstance(config, VertexSettings), "a vertex provider is configured by its own model"
        self.name = name
        self.config: ProviderConfig = config
        self._publisher = config.publisher
        self._token = GoogleToken(name, config.credentials_file)
        self._upstream = HttpUpstream(name, config, http, {"Accept": "application/json, text/event-stream"})
        base = (config.base_url or endpoint(config.location)).rstrip("/")
        project, location = quote(config.project, safe=""), quote(config.location, safe="")
        self._publishers = f"{base}/v1/projects/{project}/locations/{location}/publishers/"

    def _claude(self, model: str) -> bool:
        """Whether `model` is Anthropic's (by the configured publisher, else by its id)."""
        return self._publisher == "anthropic" if self._publisher else model.startswith("claude")

    def wire_for(self, upstream_model: str) -> UpstreamWire:
        """Anthropic's Messages format for Claude, Gemini's for the rest."""
        return ANTHROPIC if self._claude(upstream_model) else GEMINI

    def _url(self, model: str, method: str, claude: bool) -> str:
        return f"{self._publishers}{'anthropic' if claude else 'google'}/models/{quote(model, safe='')}:{method}"

    async def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """The model's generation method, its body as the publisher's API takes it."""
        auth = await self._token.header()
        model = str(body.get("model", ""))
        if self._claude(model):
            payload = {k: v for k, v in body.items() if k != "model"} | {"anthropic_version": ANTHROPIC_VERSION}
            url = self._url(model, "streamRawPredict" if stream else "rawPredict", True)
        else:
            payload = {k: v for k, v in body.items() if k not in ("model", "stream", "json_array")}
            payload["contents"] = _with_roles(payload.get("contents"))
            url = self._url(model, "streamGenerateContent?alt=sse" if stream else "generateContent", False)
        return await self._upstream.post(url, payload, stream, {**auth, **headers} if headers else auth)

    async def count_tokens(self, upstream_model: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        """The publisher's token count: Claude's count-tokens model, or Gemini's countTokens."""
        auth = await self._token.header()
        if self._claude(upstream_model):
            payload = {**body, "model": upstream_model, "anthropic_version": ANTHROPIC_VERSION}
            url = self._url("count-tokens", "rawPredict", True)
        else:
            given = body.get("generateContentRequest")
            request = {k: v for k, v in given.items() if k != "model"} if isinstance(given, dict) else body
            payload = {**request, "contents": _with_roles(request.get("contents"))}
            url = self._url(upstream_model, "countTokens", False)
        return await self._upstream.post(url, payload, False, {**auth, **headers} if headers else auth)

    async def embed(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """An OpenAI embeddings body through a Gemini embedding model's predict, answered in OpenAI's shape."""
        if self._claude(upstream_model):
            raise invalid_request(f"'{upstream_model}' (Claude on Vertex) makes no embeddings", "model")
        texts = embedding_texts(body)
        dimensions = integer(body.get("dimensions"), "dimensions")
        payload: dict[str, Any] = {"instances": [{"content": t} for t in texts]}
        if dimensions:
            payload["parameters"] = {"outputDimensionality": dimensions}
        reply = await self._upstream.post(self._url(upstream_model, "predict", False), payload, False, await self._token.header())
        try:
            predictions = orjson.loads(reply.body or b"")["predictions"]
            vectors = [[float(x) for x in p["embeddings"]["values"]] for p in predictions]
            counted = [p["embeddings"].get("statistics", {}).get("token_count") for p in predictions]
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError, AttributeError):
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' sent no embeddings", code="upstream_bad_response"
            ) from None
        tokens = sum(int(c) if isinstance(c, int | float) else estimate_tokens(t) for c, t in zip(counted, texts, strict=False))
        return Reply(body=orjson.dumps(embeddings_response(vectors, upstream_model, tokens, body.get("encoding_format"))))
