"""The registration of the `deepseek` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "deepseek",
    Profile(
        "https://api.deepseek.com",
        reasoning_replay=True,
        effort="thinking_object",
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
)
