"""The `openai` provider type: OpenAI and every OpenAI-compatible server (vLLM, Ollama, DeepSeek, …)."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.openai.adapter import OpenAIProvider

ADAPTER = ProviderAdapter(type="openai", build=OpenAIProvider)
