"""The `qwen` provider type: Qwen through Alibaba Model Studio's OpenAI-compatible mode. Thinking is
switched on with `enable_thinking` and comes back as `reasoning_content`; a whole (non-streamed) call
must have it off (the open Qwen3 models think by default and refuse it there), so it is sent off."""

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
