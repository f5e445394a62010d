"""The registration of the `azure` provider type (the registry imports this module)."""

from anygate.providers.azure.adapter import AzureCompatible
from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "azure",
    Profile("", capabilities=frozenset({"embeddings", "images", "responses"}), max_tokens_field="max_completion_tokens"),
    AzureCompatible,
)
