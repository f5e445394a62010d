"""The registration of the `xai` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "xai",
    Profile("https://api.x.ai/v1", capabilities=frozenset({"images"}), drops=frozenset({"store", "metadata", "service_tier"})),
)
