"""Calls to an OpenAI-compatible upstream: the body goes as given, the answer comes back as bytes."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.providers.base import Passage, Reply
from anygate.providers.http import HttpUpstream
from anygate.providers.multipart import form_body

DEFAULT_BASE_URL = "https://api.openai.com/v1"


class OpenAIProvider:
    """One configured OpenAI-compatible upstream."""

    wire = OPENAI_CHAT

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        key = config.api_key
        auth = {"Authorization": f"Bearer {key}"} if key and key.lower() != "none" else {}
        self._upstream = HttpUpstream(name, config, http, {"Accept": "application/json, text/event-stream", **auth})
        base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._base = base
        self._chat_url = base + "/chat/completions"
        self._responses_url = base + "/responses"
        self._embeddings_url = base + "/embeddings"
        self._images_url = base + "/images/generations"

    def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Awaitable[Reply]:
        """POST /chat/completions."""
        return self._upstream.post(self._chat_url, body, stream, headers)

    async def send_responses(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """POST /responses, for an upstream configured with `responses_api: true`."""
        return await self._upstream.post(self._responses_url, body, stream, headers)

    async def embed(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """POST /embeddings with the model swapped."""
        return await self._upstream.post(self._embeddings_url, {**body, "model": upstream_model}, False)

    async def generate_images(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """POST /images/generations with the model swapped."""
        return await self._upstream.post(self._images_url, {**body, "model": upstream_model}, False)

    async def pass_through(self, passage: Passage) -> Reply:
        """The call at the same path under this upstream's base, its body as JSON or multipart."""
        url = self._base + passage.path + ("?" + urlencode(passage.query) if passage.query else "")
        headers = dict(passage.headers)
        data: Any = None
        if passage.json is not None:
            data = orjson.dumps(passage.json)
        elif passage.upload is not None:
            headers["Content-Type"], data = form_body(passage.upload)
        return await self._upstream.pass_through(passage.method, url, data, headers)
