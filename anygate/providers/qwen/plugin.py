"""The registration of the `qwen` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "qwen",
    Profile(
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        capabilities=frozenset({"embeddings"}),
        effort="enable_thinking",
        thinking_streams_only=True,
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
)
