"""The registration of the `fireworks` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "fireworks",
    Profile(
        "https://api.fireworks.ai/inference/v1",
        capabilities=frozenset({"embeddings"}),
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
)
