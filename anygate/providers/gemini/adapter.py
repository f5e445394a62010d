"""Calls to the Gemini API: the model goes in the URL, streams are asked for as SSE."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

import aiohttp

from anygate.config import ProviderConfig
from anygate.protocols.gemini.codec import GEMINI
from anygate.providers.base import Reply
from anygate.providers.http import HttpUpstream

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

    async def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """generateContent, or streamGenerateContent with alt=sse; the body's `model` goes in the URL."""
        payload = {k: v for k, v in body.items() if k not in ("model", "stream", "json_array")}
        action = "streamGenerateContent?alt=sse" if stream else "generateContent"
        return await self._upstream.post(self._url(str(body["model"]), action), payload, stream, headers)

    async def count_tokens(self, model: str, body: dict[str, Any]) -> Reply:
        """countTokens."""
        return await self._upstream.post(self._url(model, "countTokens"), body, False)
