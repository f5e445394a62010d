"""The `azure` provider type: Azure OpenAI. `base_url` is the resource's endpoint
(https://my-resource.openai.azure.com); `api_version` picks the deployments API (the model is the
deployment's name), else the v1 API. Chat, embeddings, images and the Responses API."""
