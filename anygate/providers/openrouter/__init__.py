"""The `openrouter` provider type: OpenRouter, OpenAI-compatible; a reasoning effort goes as its
`reasoning` object, and its answers carry the thinking as `reasoning`. A client of this family may
send OpenRouter's own fields (`provider` routing, `reasoning`, `models`): they are passed as given."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "openrouter", Profile("https://openrouter.ai/api/v1", capabilities=frozenset({"embeddings"}), effort="reasoning_object")
)
