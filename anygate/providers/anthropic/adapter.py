"""Calls to Anthropic's Messages API (or any server that speaks it)."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp

from anygate.config import ProviderConfig
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.providers.base import Reply
from anygate.providers.http import HttpUpstream

DEFAULT_BASE_URL = "https://api.anthropic.com"
API_VERSION = "2023-06-01"


class AnthropicProvider:
    """One configured Anthropic upstream: `x-api-key` and `anthropic-version` on every call."""

    wire = ANTHROPIC

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        headers = {"anthropic-version": API_VERSION, "Accept": "application/json, text/event-stream"}
        if config.api_key:
            headers["x-api-key"] = config.api_key
        self._upstream = HttpUpstream(name, config, http, headers)
        base = (config.base_url or DEFAULT_BASE_URL).rstrip("/")
        self._messages_url = base + "/v1/messages"
        self._count_url = base + "/v1/messages/count_tokens"

    def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Awaitable[Reply]:
        """POST /v1/messages (with the client's `anthropic-beta` flags on the same-family path)."""
        return self._upstream.post(self._messages_url, body, stream, headers)

    async def count_tokens(self, upstream_model: str, body: dict[str, Any], headers: dict[str, str] | None = None) -> Reply:
        """POST /v1/messages/count_tokens for `upstream_model`."""
        return await self._upstream.post(self._count_url, {**body, "model": upstream_model}, False, headers)
