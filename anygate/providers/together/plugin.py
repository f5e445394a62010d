"""The registration of the `together` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "together",
    Profile(
        "https://api.together.xyz/v1",
        capabilities=frozenset({"embeddings", "images"}),
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
)
