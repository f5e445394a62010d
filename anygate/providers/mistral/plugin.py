"""The registration of the `mistral` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "mistral",
    Profile(
        "https://api.mistral.ai/v1",
        capabilities=frozenset({"embeddings"}),
        renames={"seed": "random_seed"},
        drops=frozenset(
            {
                "stream_options",
                "user",
                "metadata",
                "store",
                "service_tier",
                "logprobs",
                "top_logprobs",
                "logit_bias",
                "modalities",
                "audio",
            }
        ),
        tool_choice={"required": "any"},
        tool_call_ids="alnum9",
        effort="drop",
    ),
)
