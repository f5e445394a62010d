"""What a `kling` provider takes beyond every provider's keys: Kling's own key pair."""

from anygate.config import ProviderConfig


class KlingSettings(ProviderConfig):
    """Kling: a Bearer `api_key`, or `access_key` + `secret_key`, which sign a JWT per call."""

    access_key: str | None = None
    secret_key: str | None = None

    def secrets(self) -> list[str | None]:
        """The Bearer key and the key pair."""
        return [self.api_key, self.access_key, self.secret_key]


SETTINGS = KlingSettings
