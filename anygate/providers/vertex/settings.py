"""What a `vertex` provider takes: `project` (needed), `location`, `credentials_file`, `publisher`."""

from typing import Literal

from pydantic import model_validator

from anygate.config import ProviderConfig


class VertexSettings(ProviderConfig):
    """One publisher's models in one Google Cloud project and location."""

    project: str  # the Google Cloud project the calls are billed to
    location: str = "us-central1"  # the region (or `global`) whose endpoint serves the models
    credentials_file: str | None = None  # a service account's JSON key; none: Application Default Credentials
    # whose models it serves: none, by each model's id (claude-… is Anthropic's, any other Google's)
    publisher: Literal["google", "anthropic"] | None = None

    @model_validator(mode="after")
    def _no_api_key(self) -> "VertexSettings":
        if self.api_key:
            raise ValueError("a vertex provider signs in with credentials_file or Application Default Credentials, not api_key")
        return self


SETTINGS = VertexSettings
