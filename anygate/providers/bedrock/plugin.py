"""The registration of the `bedrock` provider type (the registry imports this module)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.bedrock.adapter import BedrockProvider

ADAPTER = ProviderAdapter(type="bedrock", build=BedrockProvider, capabilities=frozenset({"chat", "embeddings", "count_tokens"}))
