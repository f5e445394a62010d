"""The registration of the `groq` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "groq",
    Profile(
        "https://api.groq.com/openai/v1",
        capabilities=frozenset({"audio", "files", "batches"}),
        max_tokens_field="max_completion_tokens",
        drops=frozenset({"logprobs", "top_logprobs", "logit_bias", "store", "metadata", "service_tier", "modalities", "audio"}),
    ),
)
