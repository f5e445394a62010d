"""The `fireworks` provider type: Fireworks AI's OpenAI-compatible inference API, with embeddings."""

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
