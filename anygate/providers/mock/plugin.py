"""The registration of the `mock` provider type (the registry imports this module)."""

from anygate.providers.base import PASS_THROUGH_ROUTES, ProviderAdapter
from anygate.providers.mock.adapter import MockProvider

ADAPTER = ProviderAdapter(
    type="mock", build=MockProvider, capabilities=frozenset({"chat", "embeddings", "images", *PASS_THROUGH_ROUTES})
)
