"""The `mock` provider type: offline and deterministic, speaking the OpenAI chat wire format in process."""

from anygate.providers.base import ProviderAdapter
from anygate.providers.mock.adapter import MockProvider

ADAPTER = ProviderAdapter(type="mock", build=MockProvider)
