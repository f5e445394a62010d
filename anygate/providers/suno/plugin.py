"""The registration of the `suno` provider type (the registry imports this module)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.suno.adapter import SunoProvider

ADAPTER = ProviderAdapter(
    type="suno", build_tasks=SunoProvider, capabilities=frozenset(f"task:{kind}" for kind in SunoProvider.kinds)
)
