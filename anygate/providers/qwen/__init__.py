"""The `qwen` provider type: Qwen through Alibaba Model Studio's OpenAI-compatible mode. Thinking is
switched on with `enable_thinking` and comes back as `reasoning_content`."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "qwen",
    Profile(
        "https://dashscope-intl.aliyuncs.com/compatible-mode/v1",
        capabilities=frozenset({"embeddings"}),
        effort="enable_thinking",
        drops=frozenset({"store", "metadata", "service_tier"}),
    ),
)
