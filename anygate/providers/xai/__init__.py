"""The `xai` provider type: xAI's Grok API, OpenAI-compatible (its reasoning models answer with
`reasoning_content`); it draws images too."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "xai",
    Profile("https://api.x.ai/v1", capabilities=frozenset({"images"}), drops=frozenset({"store", "metadata", "service_tier"})),
)
