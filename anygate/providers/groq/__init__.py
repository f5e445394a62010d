"""The `groq` provider type: GroqCloud's OpenAI-compatible API (no logprobs or logit_bias; audio,
files and batches as OpenAI has them)."""

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
