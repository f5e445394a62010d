"""The `anthropic` provider type: Anthropic's Messages API."""

from anygate.providers.anthropic.adapter import AnthropicProvider
from anygate.providers.base import ProviderAdapter

ADAPTER = ProviderAdapter(type="anthropic", build=AnthropicProvider)
