"""Azure OpenAI: OpenAI's API under a resource's endpoint, with the key in an `api-key` header. With
`api_version` in the configuration, each call goes to its deployment's URL (the target's model is the
deployment's name) with that version; without, to the v1 API under `/openai/v1`, as OpenAI's own."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import quote

import aiohttp

from anygate.config import ProviderConfig
from anygate.providers.azure.settings import AzureSettings
from anygate.providers.base import Reply
from anygate.providers.openai.adapter import OpenAICompatible
from anygate.providers.openai.profile import adapt


class AzureCompatible(OpenAICompatible):
    """The calls of one Azure OpenAI resource."""

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        super().__init__(name, config, http)
        assert isinstance(config, AzureSettings), "an azure provider is configured by its own model"
        self._version = quote(config.api_version, safe="") if config.api_version else None
        if self._version is None and not self._base.endswith("/openai/v1"):
            self._base += "/openai/v1"
        self._chat_url = self._base + "/chat/completions"

    def _auth(self, key: str) -> dict[str, str]:
        return {"api-key": key}

    def _url(self, path: str, upstream_model: str) -> str:
        if self._version is None:
            return f"{self._base}/{path}"
        if path == "responses":  # the Responses API is the resource's, not a deployment's
            return f"{self._base}/openai/responses?api-version={self._version}"
        return f"{self._base}/openai/deployments/{quote(upstream_model, safe='')}/{path}?api-version={self._version}"

    def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Awaitable[Reply]:
        """POST chat/completions, at the deployment's URL when the API is versioned."""
        url = self._chat_url if self._version is None else self._url("chat/completions", str(body.get("model", "")))
        return self._upstream.post(url, adapt(self.profile, body) if self._adapts else body, stream, headers)
