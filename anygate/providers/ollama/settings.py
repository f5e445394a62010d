"""What an `ollama` provider takes beyond every provider's keys: `native_chat` and `num_ctx`."""

from pydantic import Field, model_validator

from anygate.config import ProviderConfig


class OllamaSettings(ProviderConfig):
    """An Ollama server: chat through its OpenAI-compatible /v1, or through its own /api/chat."""

    native_chat: bool = False  # chat goes to /api/chat (beside base_url's /v1), which takes `think` and `options`
    num_ctx: int | None = Field(default=None, gt=0)  # the context window to load models with (native_chat only)

    @model_validator(mode="after")
    def _context_needs_native(self) -> "OllamaSettings":
        if self.num_ctx is not None and not self.native_chat:
            raise ValueError("num_ctx needs native_chat: true (Ollama's /v1 API takes no options)")
        return self


SETTINGS = OllamaSettings
