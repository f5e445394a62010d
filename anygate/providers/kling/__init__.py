"""The `kling` provider type: Kling's own API (video and image tasks)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.kling.adapter import KlingProvider

ADAPTER = ProviderAdapter(type="kling", build_tasks=KlingProvider)
