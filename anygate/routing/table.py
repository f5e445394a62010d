"""The model table: the targets that serve each public model, in priority tiers, and the order to try them in."""

from __future__ import annotations

import random
from collections.abc import Collection
from dataclasses import dataclass, field
from itertools import groupby

from anygate.auth.keys import KeyRecord
from anygate.config import Settings, TargetConfig
from anygate.core.codec import UpstreamWire
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage
from anygate.providers.base import Provider, SpeaksPerModel
from anygate.routing.breaker import Breaker


@dataclass(frozen=True, slots=True)
class Target:
    """One target: the provider object and the upstream's model id, with its prices (USD per million
    tokens: input, output, and the parts of the input read from and written to a cache), weight and breaker."""

    public_model: str
    provider: Provider
    model: str
    wire: UpstreamWire  # the format its calls are made in (the provider's, or the one it speaks for this model)
    input_price: float
    output_price: float
    weight: float = 1.0
    priority: int = 0
    breaker: Breaker = field(default_factory=Breaker, compare=False)
    cache_read_price: float | None = None  # None: as input
    cache_write_price: float | None = None
    hosted_tools: str = "drop"  # or refuse: what a translated call does with hosted tools the upstream cannot run
    character_price: float | None = None  # USD per million characters of speech made
    minute_price: float | None = None  # USD per minute of audio heard

    def cost(self, usage: Usage) -> float:
        """The price in USD of a call's tokens, cache reads and writes each at their own price."""
        input_price = self.input_price
        cost = usage.input_tokens * input_price + usage.output_tokens * self.output_price
        if usage.cached_tokens and self.cache_read_price is not None:
            cost += usage.cached_tokens * (self.cache_read_price - input_price)
        if usage.cache_write_tokens and self.cache_write_price is not None:
            cost += usage.cache_write_tokens * (self.cache_write_price - input_price)
        return cost / 1_000_000


def _weighted_order(targets: list[Target], rng: random.Random) -> list[Target]:
    """The targets in a random order where heavier ones tend to come first."""
    if len(targets) == 1:
        return targets
    left, order = list(targets), []
    while left:
        pick = rng.choices(range(len(left)), weights=[t.weight for t in left])[0]
        order.append(left.pop(pick))
    return order


class ModelTable:
    """Resolves a public model id for a key to its targets, in the order they are to be tried."""

    def __init__(
        self,
        settings: Settings,
        providers: dict[str, Provider],
        rng: random.Random | None = None,
        task_providers: Collection[str] = (),
    ) -> None:
        self._rng = rng or random.Random()
        self._tiers: dict[str, list[list[Target]]] = {}
        for public, configs in settings.models.items():
            targets = sorted(
                (_target(public, t, providers) for t in configs if t.provider in providers), key=lambda t: t.priority
            )
            self._tiers[public] = [list(tier) for _, tier in groupby(targets, key=lambda t: t.priority)]
        self._task_models = {  # public id -> the type of its first provider
            public: settings.providers[configs[0].provider].type
            for public, configs in settings.models.items()
            if all(t.provider in task_providers for t in configs)
        }

    def owners(self) -> dict[str, str]:
        """Every public model id (in configuration order) with the provider of its first target."""
        return {model: tiers[0][0].provider.name if tiers else "" for model, tiers in self._tiers.items()}

    def targets(self) -> list[Target]:
        """Every target of every model."""
        return [t for tiers in self._tiers.values() for tier in tiers for t in tier]

    def plan(self, model: str, key: KeyRecord) -> list[Target]:
        """The targets to try for `model`, in order: tier by tier, by weight within a tier, skipping
        targets whose breaker is open (they come last, as a last resort). 404 for an unknown model,
        403 when the key may not use it."""
        tiers = self._tiers.get(model)
        check_model(model, key, tiers is not None)
        assert tiers is not None
        if not tiers and model in self._task_models:
            routes = TASK_ROUTES.get(self._task_models[model], "its task routes")
            raise GatewayError(
                ErrorKind.INVALID_REQUEST,
                f"The model '{model}' makes videos, images or music as tasks, not answers here: call it on {routes}",
                param="model",
                code="task_model",
            )
        if not tiers:
            raise GatewayError(
                ErrorKind.UNAVAILABLE,
                f"No provider for the model '{model}' is available in this build",
                code="provider_unavailable",
            )
        ready: list[Target] = []
        resting: list[Target] = []
        for tier in tiers:
            for target in _weighted_order(tier, self._rng):
                (ready if target.breaker.allows() else resting).append(target)
        return ready + resting


# where each task provider's models are called
TASK_ROUTES = {
    "dashscope": "POST /dashscope/v1/services/aigc/video-generation/video-synthesis or …/multimodal-generation/generation (or POST /openai/v1/videos, /openai/v1/images/generations)",
    "kling": "POST /transtreams/kling/v1/videos/{text2video,image2video,omni-video} or /transtreams/kling/v1/images/{generations,omni-image} (or POST /openai/v1/videos)",
    "suno": "POST /suno/generate (and the other /suno routes)",
}


def check_model(model: str, key: KeyRecord, known: bool) -> None:
    """404 for a model not served here, 403 for one the key may not use."""
    if not known:
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


def _target(public: str, config: TargetConfig, providers: dict[str, Provider]) -> Target:
    provider = providers[config.provider]
    return Target(
        public,
        provider,
        config.model,
        provider.wire_for(config.model) if isinstance(provider, SpeaksPerModel) else provider.wire,
        config.input_price or 0.0,
        config.output_price or 0.0,
        config.weight,
        config.priority,
        cache_read_price=config.cache_read_price,
        cache_write_price=config.cache_write_price,
        hosted_tools=config.hosted_tools,
        character_price=config.character_price,
        minute_price=config.minute_price,
    )
