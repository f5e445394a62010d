"""The registration of the `kling` provider type (the registry imports this module)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.kling.adapter import KlingProvider

ADAPTER = ProviderAdapter(
    type="kling",
    build_tasks=KlingProvider,
    capabilities=frozenset({"images", "videos", *(f"task:{kind}" for kind in KlingProvider.kinds)}),
)
