"""The registration of the `vertex` provider type (the registry imports this module)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.vertex.adapter import VertexProvider

ADAPTER = ProviderAdapter(type="vertex", build=VertexProvider, capabilities=frozenset({"chat", "embeddings", "count_tokens"}))
