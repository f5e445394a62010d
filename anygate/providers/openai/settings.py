"""What an `openai` provider takes beyond every provider's keys."""

from anygate.config import ProviderConfig


class OpenAISettings(ProviderConfig):
    """An OpenAI-API upstream that may serve the Responses API itself."""

    responses_api: bool = False  # serves the Responses API itself (else Responses calls are translated to chat)


SETTINGS = OpenAISettings
