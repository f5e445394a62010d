"""An Ollama server: OpenAI's chat completions and embeddings under /v1, or, with `native_chat`, its
own /api/chat (whose streams are JSON lines) for chat."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any

import aiohttp

from anygate.config import ProviderConfig
from anygate.providers.base import Reply
from anygate.providers.ollama.chat_wire import OLLAMA_CHAT
from anygate.providers.ollama.settings import OllamaSettings
from anygate.providers.openai.adapter import OpenAICompatible

NDJSON = "application/x-ndjson"


class OllamaCompatible(OpenAICompatible):
    """The calls of one Ollama server."""

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        super().__init__(name, config, http)
        assert isinstance(config, OllamaSettings), "an ollama provider is configured by its own model"
        self._native = config.native_chat
        self._options = {"num_ctx": config.num_ctx} if config.num_ctx else {}
        if self._native:
            self.wire = OLLAMA_CHAT
            self._chat_url = self._base.removesuffix("/v1") + "/api/chat"

    def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Awaitable[Reply]:
        """POST the chat: to /v1/chat/completions as its profile wants it, or to /api/chat as it is."""
        if not self._native:
            return super().send(body, stream, headers)
        if self._options:
            body = {**body, "options": {**self._options, **body.get("options", {})}}
        return self._upstream.post(self._chat_url, body, stream, headers, stream_type=NDJSON)
