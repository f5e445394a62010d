"""The registration of the `openrouter` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "openrouter", Profile("https://openrouter.ai/api/v1", capabilities=frozenset({"embeddings"}), effort="reasoning_object")
)
