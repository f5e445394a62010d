"""What an `azure` provider takes: its resource's endpoint (needed), `api_version`, `responses_api`."""

from datetime import date
from typing import Any

from pydantic import field_validator, model_validator

from anygate.providers.openai.settings import OpenAISettings


class AzureSettings(OpenAISettings):
    """An Azure OpenAI resource."""

    api_version: str | None = None  # the deployments API's version (none: the v1 API)

    @field_validator("api_version", mode="before")
    @classmethod
    def _version_as_written(cls, value: Any) -> Any:
        return value.isoformat() if isinstance(value, date) else value  # YAML reads 2024-10-21 as a date

    @model_validator(mode="after")
    def _endpoint_given(self) -> "AzureSettings":
        if not self.base_url:
            raise ValueError(
                "an azure provider needs base_url: its resource's endpoint, e.g. https://my-resource.openai.azure.com"
            )
        return self


SETTINGS = AzureSettings
