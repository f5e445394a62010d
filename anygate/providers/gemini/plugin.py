"""The registration of the `gemini` provider type (the registry imports this module)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.gemini.adapter import GeminiProvider

ADAPTER = ProviderAdapter(type="gemini", build=GeminiProvider, capabilities=frozenset({"chat", "embeddings", "count_tokens"}))
