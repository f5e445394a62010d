"""The `deepseek` provider type: DeepSeek's OpenAI-compatible API. Its thinking comes back as
`reasoning_content`, and an assistant turn that called tools must bring it back in later requests."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "deepseek",
    Profile(
        "https://api.deepseek.com",
        reasoning_replay=True,
        effort="thinking_object",
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
)
