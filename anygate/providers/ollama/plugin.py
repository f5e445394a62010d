"""The registration of the `ollama` provider type (the registry imports this module)."""

from anygate.providers.ollama.adapter import OllamaCompatible
from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "ollama",
    Profile(
        "http://127.0.0.1:11434/v1",
        capabilities=frozenset({"embeddings"}),
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
    OllamaCompatible,
)
