"""The `dashscope` provider type: Alibaba Model Studio's native API (images, video tasks)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.dashscope.adapter import DashScopeProvider

ADAPTER = ProviderAdapter(type="dashscope", build_tasks=DashScopeProvider)
