"""The `vllm` provider type: a vLLM server's OpenAI-compatible API (its reasoning parsers answer with
`reasoning_content` or `reasoning`); embeddings, transcriptions and the Responses API as OpenAI has them."""

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
