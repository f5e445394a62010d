"""The targets of task models: a task is pinned to one target, the first of the best tier by weight."""

from __future__ import annotations

import random
from collections.abc import Mapping
from dataclasses import dataclass, field, replace

from anygate.auth.keys import KeyRecord
from anygate.config import Settings
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage
from anygate.routing.table import check_model
from anygate.tasks.contract import TaskProvider


@dataclass(frozen=True, slots=True)
class TaskTarget:
    """One target of a task model: the provider, the upstream model id, the price per task and the task
    kinds it serves."""

    public_model: str
    provider: TaskProvider
    model: str
    price: float
    weight: float
    priority: int
    kinds: frozenset[str]
    route_prices: Mapping[str, float] = field(default_factory=dict)

    def cost(self, _usage: Usage) -> float:
        """A task's price, whatever its size."""
        return self.price

    def priced_for(self, kind: str, otherwise: float | None = None) -> TaskTarget:
        """This target at the price of `kind` (its route price, else `otherwise`, else the task price)."""
        price = self.route_prices.get(kind, self.price if otherwise is None else otherwise)
        return self if price == self.price else replace(self, price=price)


class TaskModels:
    """Resolves a public task model id, for a key, to the target that runs its tasks."""

    def __init__(self, settings: Settings, providers: dict[str, TaskProvider], rng: random.Random | None = None) -> None:
        self._rng = rng or random.Random()
        self._providers = providers
        self._targets = {
            public: [
                TaskTarget(
                    public,
                    providers[t.provider],
                    t.model,
                    t.task_price or 0.0,
                    t.weight,
                    t.priority,
                    providers[t.provider].kinds.intersection(t.tasks) if t.tasks is not None else providers[t.provider].kinds,
                    t.route_prices or {},
                )
                for t in configs
                if t.provider in providers
            ]
            for public, configs in settings.models.items()
            if any(t.provider in providers for t in configs)
        }

    def runs_on(self, provider: str) -> bool:
        """True when this provider was built to run tasks."""
        return provider in self._providers

    def resolve(self, model: str, key: KeyRecord, *kinds: str) -> TaskTarget:
        """The target for a new task of one of `kinds`; 404/403 as for any model, 400 when none takes them."""
        targets = self._targets.get(model)
        check_model(model, key, targets is not None)
        able = [t for t in targets or [] if t.kinds.intersection(kinds)]
        if not able:
            raise GatewayError(
                ErrorKind.INVALID_REQUEST, f"The model '{model}' does not run '{' or '.join(kinds)}' tasks", param="model"
            )
        best = min(t.priority for t in able)
        tier = [t for t in able if t.priority == best]
        pick = self._rng.choices(tier, weights=[t.weight for t in tier])[0]
        return pick.priced_for(next(kind for kind in kinds if kind in pick.kinds))

    def kinds(self, model: str) -> list[str]:
        """The task kinds `model` serves (none: not a task model)."""
        return sorted({kind for t in self._targets.get(model, []) for kind in t.kinds})

    def runs(self, model: str, kind: str) -> bool:
        """Whether `model` is a task model with a target that runs `kind`."""
        return any(kind in t.kinds for t in self._targets.get(model, []))

    def default(self, key: KeyRecord, kind: str) -> TaskTarget:
        """The target of the first configured model that runs `kind` and that the key may use (for
        requests that name no model); 400 when there is none."""
        for model, targets in self._targets.items():
            if key.allows_model(model) and any(kind in t.kinds for t in targets):
                return self.resolve(model, key, kind)
        raise GatewayError(ErrorKind.INVALID_REQUEST, f"No model here runs '{kind}' tasks for this key", param="model")

    def provider_names(self) -> list[str]:
        """The task providers this instance has configured."""
        return list(self._providers)

    def provider(self, name: str) -> TaskProvider | None:
        """The task provider called `name`, for polling."""
        return self._providers.get(name)
