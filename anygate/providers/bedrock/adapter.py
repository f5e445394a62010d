"""Calls to Bedrock's runtime: `POST /model/{modelId}/{action}` under `bedrock-runtime.{region}.amazonaws.com`.

Claude (a model id, inference profile or ARN naming `anthropic.claude`) takes Anthropic's Messages body
at invoke / invoke-with-response-stream, without `model` and `stream`, with `anthropic_version:
bedrock-2023-05-31` and the client's beta flags as `anthropic_beta`; its stream's event-stream chunks
carry Anthropic's events, turned back into Anthropic's SSE here so that the rest of the gateway reads
(or relays) them as Anthropic's own. Every other model goes through converse / converse-stream."""

from __future__ import annotations

import base64
from collections.abc import AsyncIterator
from typing import Any
from urllib.parse import quote

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.codec import UpstreamWire
from anygate.core.errors import ErrorKind, GatewayError
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.providers.base import Reply
from anygate.providers.bedrock.converse import BEDROCK_CONVERSE
from anygate.providers.bedrock.eventstream import CONTENT_TYPE, EventStreamReader
from anygate.providers.bedrock.settings import BedrockSettings
from anygate.providers.bedrock.signing import AwsSigner
from anygate.providers.http import HttpUpstream

ANTHROPIC_VERSION = "bedrock-2023-05-31"


def is_claude(model: str) -> bool:
    """Whether a Bedrock model id (or inference profile id, or ARN) is one of Anthropic's Claude models."""
    return "anthropic.claude" in model


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

    async def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """The model's invoke (Claude) or converse call, signed."""
        model = str(body.get("model", ""))
        payload = {k: v for k, v in body.items() if k not in ("model", "stream")}
        if is_claude(model):
            payload["anthropic_version"] = ANTHROPIC_VERSION
            betas = (headers or {}).get("anthropic-beta")
            if betas:
                payload["anthropic_beta"] = [b.strip() for b in betas.split(",") if b.strip()]
            action = "invoke-with-response-stream" if stream else "invoke"
        else:
            action = "converse-stream" if stream else "converse"
        url = f"{self._base}/model/{quote(model, safe=':')}/{action}"
        data = orjson.dumps(payload)
        auth = await self._signer.headers(url, data)
        reply = await self._upstream.post_signed(url, data, stream, auth, CONTENT_TYPE)
        if reply.chunks is not None and is_claude(model):
            reply.chunks = anthropic_sse(reply.chunks)
        return reply
