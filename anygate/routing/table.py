"""The model table: which configured targets serve each public model, and the check of a key's access."""

from __future__ import annotations

from dataclasses import dataclass

from anygate.auth.keys import KeyRecord
from anygate.config import Settings, TargetConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.providers.base import Provider


@dataclass(frozen=True, slots=True)
class Target:
    """One resolved target: the provider object and the upstream's model id, with its prices."""

    public_model: str
    provider: Provider
    model: str
    input_price: float
    output_price: float

    def cost(self, input_tokens: int, output_tokens: int) -> float:
        """The price in USD of the given token counts."""
        return (input_tokens * self.input_price + output_tokens * self.output_price) / 1_000_000


class ModelTable:
    """Resolves a public model id for a key to its targets, in the order they are to be tried."""

    def __init__(self, settings: Settings, providers: dict[str, Provider]) -> None:
        self._targets: dict[str, list[Target]] = {}
        for public, configs in settings.models.items():
            ordered = sorted(configs, key=lambda t: (t.priority, -t.weight))
            self._targets[public] = [_target(public, t, providers) for t in ordered if t.provider in providers]

    def owners(self) -> dict[str, str]:
        """Every public model id (in configuration order) with the provider of its first target."""
        return {model: targets[0].provider.name if targets else "" for model, targets in self._targets.items()}

    def resolve(self, model: str, key: KeyRecord) -> Target:
        """The target to call for `model`: 404 when the model is unknown, 403 when the key may not use it."""
        targets = self._targets.get(model)
        if targets is None:
            raise GatewayError(
                ErrorKind.NOT_FOUND,
                f"The model '{model}' does not exist or is not served here",
                param="model",
                code="model_not_found",
            )
        if not key.allows_model(model):
            raise GatewayError(
                ErrorKind.PERMISSION, f"This API key may not use the model '{model}'", param="model", code="model_not_allowed"
            )
        if not targets:
            raise GatewayError(
                ErrorKind.UNAVAILABLE,
                f"No provider for the model '{model}' is available in this build",
                code="provider_unavailable",
            )
        return targets[0]


def _target(public: str, config: TargetConfig, providers: dict[str, Provider]) -> Target:
    return Target(public, providers[config.provider], config.model, config.input_price or 0.0, config.output_price or 0.0)
