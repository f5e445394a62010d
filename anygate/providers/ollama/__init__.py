"""The `ollama` provider type: an Ollama server's OpenAI-compatible API under /v1 (thinking models
answer with `reasoning`), with embeddings."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "ollama",
    Profile(
        "http://127.0.0.1:11434/v1",
        capabilities=frozenset({"embeddings"}),
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
)
