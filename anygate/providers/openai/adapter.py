"""Calls to an OpenAI-compatible upstream: the body goes as its profile wants it, the answer comes back
as bytes. What a provider type serves besides chat completions (embeddings, images, pass-through
routes, the Responses API) is in its profile, and its class has exactly those methods, so that the
routes that ask for a capability find it only where the profile says it is."""

from __future__ import annotations

from collections.abc import Awaitable
from typing import Any
from urllib.parse import urlencode

import aiohttp
import orjson

from anygate.config import ProviderConfig
from anygate.core.codec import UpstreamWire
from anygate.protocols.openai.codec import OPENAI_CHAT, OPENAI_CHAT_REPLAYING_REASONING
from anygate.providers.base import PASS_THROUGH_ROUTES, Passage, ProviderAdapter, Reply
from anygate.providers.http import HttpUpstream
from anygate.providers.multipart import form_body
from anygate.providers.openai.profile import OPENAI, Capability, Profile, adapt


class OpenAICompatible:
    """One configured OpenAI-compatible upstream: chat completions."""

    wire: UpstreamWire = OPENAI_CHAT
    profile: Profile = OPENAI

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession) -> None:
        self.name = name
        self.config = config
        key = config.api_key
        auth = self._auth(key) if key and key.lower() != "none" else {}
        self._upstream = HttpUpstream(name, config, http, {"Accept": "application/json, text/event-stream", **auth})
        self._base = (config.base_url or self.profile.base_url).rstrip("/")
        self._chat_url = self._base + "/chat/completions"
        self._adapts = self.profile.adapts

    def _auth(self, key: str) -> dict[str, str]:
        """The header that carries the upstream's key."""
        return {"Authorization": f"Bearer {key}"}

    def _url(self, path: str, upstream_model: str) -> str:
        """Where a call of `path` (chat/completions, embeddings, …) for `upstream_model` goes."""
        return f"{self._base}/{path}"

    def send(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Awaitable[Reply]:
        """POST /chat/completions, the body as this upstream takes it."""
        return self._upstream.post(self._chat_url, adapt(self.profile, body) if self._adapts else body, stream, headers)


class _Embeddings(OpenAICompatible):
    async def embed(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """POST /embeddings with the model swapped."""
        return await self._upstream.post(self._url("embeddings", upstream_model), {**body, "model": upstream_model}, False)


class _Images(OpenAICompatible):
    async def generate_images(self, body: dict[str, Any], upstream_model: str) -> Reply:
        """POST /images/generations with the model swapped."""
        return await self._upstream.post(
            self._url("images/generations", upstream_model), {**body, "model": upstream_model}, False
        )


class _PassThrough(OpenAICompatible):
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


class _Responses(OpenAICompatible):
    async def send_responses(self, body: dict[str, Any], stream: bool, headers: dict[str, str] | None = None) -> Reply:
        """POST /responses, for an upstream configured with `responses_api: true`."""
        return await self._upstream.post(self._url("responses", str(body.get("model", ""))), body, stream, headers)


_MIXINS: dict[Capability, type[OpenAICompatible]] = {"embeddings": _Embeddings, "images": _Images, "responses": _Responses}


def provider_class(type_name: str, profile: Profile, base: type[OpenAICompatible] = OpenAICompatible) -> type[OpenAICompatible]:
    """The class of a provider type with this profile: chat completions (as `base` makes them) and the
    profile's capabilities."""
    passes = profile.capabilities & PASS_THROUGH_ROUTES
    mixins = tuple(_MIXINS[c] for c in sorted(profile.capabilities) if c in _MIXINS) + ((_PassThrough,) if passes else ())
    bases = ((base,) if base is not OpenAICompatible else ()) + mixins or (OpenAICompatible,)  # a subclass of base comes first
    wire = OPENAI_CHAT_REPLAYING_REASONING if profile.reasoning_replay else OPENAI_CHAT
    attributes = {"profile": profile, "wire": wire, "passes": passes, "__doc__": f"One configured `{type_name}` upstream."}
    return type(f"{type_name.title()}Provider", bases, attributes)


def compatible(type_name: str, profile: Profile, base: type[OpenAICompatible] = OpenAICompatible) -> ProviderAdapter:
    """The registration of an OpenAI-compatible provider type: its name, its profile, and the class
    that makes its calls when they differ from OpenAI's in more than the body (Azure's URLs)."""
    return ProviderAdapter(
        type=type_name, build=provider_class(type_name, profile, base), capabilities=frozenset({"chat", *profile.capabilities})
    )
