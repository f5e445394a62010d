"""The registration of the `vllm` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "vllm",
    Profile(
        "http://127.0.0.1:8000/v1",
        capabilities=frozenset({"embeddings", "audio", "responses"}),
        max_tokens_field="max_completion_tokens",
    ),
)
