"""Calls to Bedrock's runtime: `POST /model/{modelId}/{action}` under `bedrock-runtime.{region}.amazonaws.com`.

Claude (a model id, inference profile or ARN naming `anthropic.claude`) takes Anthropic's Messages body
at invoke / invoke-with-response-stream, without `model` and `stream`, with `anthropic_version:
bedrock-2023-05-31` and the client's beta flags as `anthropic_beta`; its stream's event-stream chunks
carry Anthropic's events, turned back into Anthropic's SSE here so that the rest of the gateway reads
(or relays) them as Anthropic's own. Every other model goes through converse / converse-stream."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.codec import UpstreamWire
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.shapes import integer
from anygate.core.usage import estimate_tokens
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.providers.base import Reply
from anygate.providers.bedrock.converse import BEDROCK_CONVERSE
from anygate.providers.bedrock.embeddings import COHERE_BATCH, cohere_body, cohere_vectors, family_of, titan_body, titan_vector
from anygate.providers.bedrock.eventstream import CONTENT_TYPE, EventStreamReader
from anygate.providers.bedrock.settings import BedrockSettings
from anygate.providers.bedrock.signing import AwsSigner
from anygate.providers.http import HttpUpstream
from anygate.providers.openai_shapes import embedding_texts, embeddings_response

ANTHROPIC_VERSION = "bedrock-2023-05-31"


def is_claude(model: str) -> bool:
    """Whether a Bedrock model id (or inference profile id, or ARN) is one of Anthropic's Claude models."""
    return "anthropic.claude" in model


def foundation_model(model: str) -> str:
    """The foundation model of a cross-region inference profile id (`us.anthropic.claude-…` is
    `anthropic.claude-…`); any other id as it is."""
    prefix, _, rest = model.rsplit("/", 1)[-1].partition(".")  # an ARN's last part is the profile's id
    return rest if prefix in ("us", "eu", "apac", "global", "us-gov", "jp", "au", "ca") and "." in rest else f"{prefix}.{rest}"


async def anthropic_sse(chunks: AsyncIterator[bytes]) -> AsyncIterator[bytes]:
    """InvokeModelWithResponseStream's event stream as Anthropic's SSE: each `chunk` event's bytes are
    one Anthropic event; an exception raises its GatewayError."""
    reader = EventStreamReader()
    async for chunk in chunks:
        out = b""
        for kind, data in reader.feed(chunk):
            if kind != "chunk":
                continue
            try:
                event = orjson.loads(base64.b64decode(data.get("bytes", "")))
            except (ValueError, orjson.JSONDecodeError):
                raise GatewayError(
                    ErrorKind.UPSTREAM, "upstream sent an unreadable chunk", code="upstream_bad_response"
                ) from None
            name = event.get("type", "message") if isinstance(event, dict) else "message"
            out += b"event: " + str(name).encode() + b"\ndata: " + orjson.dumps(event) + b"\n\n"
        if out:
            yield out


class BedrockProvider:
    """The models of one AWS account and region on Bedrock."""

    wire: UpstreamWire = BEDROCK_CONVERSE

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        assert isinstance(config, BedrockSettings), "a bedrock provider is configured by its own model"
        self.name = name
        self.config: ProviderConfig = config
        self._signer = AwsSigner(name, config)
        self._upstream = HttpUpstream(name, config, http, {"Accept": "application/json"})
        self._base = (config.base_url or f"https://bedrock-runtime.{self._signer.region}.amazonaws.com").rstrip("/")

    def wire_for(self, upstream_model: str) -> UpstreamWire:
        """Anthropic's Messages format for Claude, Converse for the rest."""
        return ANTHROPIC if is_claude(upstream_model) else BEDROCK_CONVERSE

    async def count_tokens(self, upstream_model: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        """Claude's count of a Messages body through CountTokens (for the foundation model an inference
        profile names), answered in Anthropic's shape."""
        counted = {"max_tokens": 1, **{k: v for k, v in body.items() if k != "model"}, "anthropic_version": ANTHROPIC_VERSION}
        payload = {"input": {"invokeModel": {"body": base64.b64encode(orjson.dumps(counted)).decode()}}}
        raw = (await self._post(foundation_model(upstream_model), "count-tokens", payload, False)).body or b""
        try:
            tokens = int(orjson.loads(raw)["inputTokens"])
        except (orjson.JSONDecodeError, KeyError, TypeError, ValueError):
            raise GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{self.name}' sent no count", code="upstream_bad_response"
            ) from None
        return Reply(body=orjson.dumps({"input_tokens": tokens}))

    async def _post(self, model: str, action: str, payload: dict[str, Any], stream: bool) -> Reply:
        """One signed call of `action` on `model`."""
        url = f"{self._base}/model/{quote(model, safe=':')}/{action}"
        data = orjson.dumps(payload)
        return await self._upstream.post_signed(url, data, stream, await self._signer.headers(url, data), CONTENT_TYPE)

    async def _invoke(self, model: str, payload: dict[str, Any]) -> bytes:
        """One InvokeModel call, answered whole."""
        return (await self._post(model, "invoke", payload, False)).body or b""

    async def embed(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """An OpenAI embeddings body through Titan (a call per text, eight at a time) or Cohere (96
        texts a call), answered in OpenAI's shape."""
        family = family_of(upstream_model)
        texts = embedding_texts(body)
        dimensions = integer(body.get("dimensions"), "dimensions")
        vectors: list[list[float]] = []
        tokens = 0
        if family == "titan":
            for start in range(0, len(texts), 8):
                batch = texts[start : start + 8]
                answers = await asyncio.gather(*(self._invoke(upstream_model, titan_body(t, dimensions)) for t in batch))
                for text, raw in zip(batch, answers, strict=True):
                    vector, counted = titan_vector(raw, self.name)
                    vectors.append(vector)
                    tokens += counted if counted is not None else estimate_tokens(text)
        else:
            for start in range(0, len(texts), COHERE_BATCH):
                batch = texts[start : start + COHERE_BATCH]
                vectors += cohere_vectors(
                    await self._invoke(upstream_model, cohere_body(batch, dimensions, upstream_model)), self.name
                )
            tokens = sum(estimate_tokens(t) for t in texts)  # Cohere's answer counts none
        if len(vectors) != len(texts):
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"upstream '{self.name}' sent {len(vectors)} embeddings for {len(texts)} texts",
                code="upstream_bad_response",
            )
        return Reply(body=orjson.dumps(embeddings_response(vectors, upstream_model, tokens, body.get("encoding_format"))))

    async def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """The model's invoke (Claude) or converse call, signed."""
        model = str(body.get("model", ""))
        claude = is_claude(model)
        payload = {k: v for k, v in body.items() if k not in ("model", "stream")}
        if claude:
            payload["anthropic_version"] = ANTHROPIC_VERSION
            betas = (headers or {}).get("anthropic-beta")
            if betas:
                payload["anthropic_beta"] = [b.strip() for b in betas.split(",") if b.strip()]
            action = "invoke-with-response-stream" if stream else "invoke"
        else:
            action = "converse-stream" if stream else "converse"
        reply = await self._post(model, action, payload, stream)
        if reply.chunks is not None and claude:
            reply.chunks = anthropic_sse(reply.chunks)
        return reply
