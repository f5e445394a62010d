"""What a `vllm` provider takes beyond every provider's keys: `responses_api`, as an `openai` one."""

from anygate.providers.openai.settings import OpenAISettings

SETTINGS = OpenAISettings
