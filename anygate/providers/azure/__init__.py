"""The `azure` provider type: Azure OpenAI. `base_url` is the resource's endpoint
(https://my-resource.openai.azure.com); `api_version` picks the deployments API (the model is the
deployment's name), else the v1 API. Chat, embeddings, images and the Responses API."""

from anygate.providers.azure.adapter import AzureCompatible
from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import Profile

ADAPTER = compatible(
    "azure",
    Profile("", capabilities=frozenset({"embeddings", "images", "responses"}), max_tokens_field="max_completion_tokens"),
    AzureCompatible,
)
