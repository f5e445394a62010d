"""The registration of the `anthropic` provider type (the registry imports this module)."""

from anygate.providers.anthropic.adapter import AnthropicProvider
from anygate.providers.base import ProviderAdapter

ADAPTER = ProviderAdapter(type="anthropic", build=AnthropicProvider, capabilities=frozenset({"chat", "count_tokens"}))
