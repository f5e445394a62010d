"""The `gemini` provider type: Google's Generative Language API."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.gemini.adapter import GeminiProvider

ADAPTER = ProviderAdapter(type="gemini", build=GeminiProvider)
