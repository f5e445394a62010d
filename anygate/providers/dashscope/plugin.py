"""The registration of the `dashscope` provider type (the registry imports this module)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.dashscope.adapter import DashScopeProvider

ADAPTER = ProviderAdapter(
    type="dashscope",
    build_tasks=DashScopeProvider,
    capabilities=frozenset({"images", "videos", *(f"task:{kind}" for kind in DashScopeProvider.kinds)}),
)
