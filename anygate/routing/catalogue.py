"""The models a key may use, as every family's models routes list and retrieve them: the public id,
the name to show, the kind of upstream that serves it (never the operator's provider names) and the
task kinds of a task model."""

from __future__ import annotations

from dataclasses import dataclass
from datetime import UTC, datetime
from typing import TYPE_CHECKING

from anygate.auth.keys import KeyRecord
from anygate.core.errors import ErrorKind, GatewayError

if TYPE_CHECKING:
    from anygate.server.gateway import Gateway


@dataclass(frozen=True, slots=True)
class ModelInfo:
    """One public model as the models routes show it."""

    id: str
    display_name: str
    owned_by: str  # the type of the provider of its first target: openai, anthropic, gemini, kling, mock, …
    tasks: tuple[str, ...]  # the task kinds it serves; none for a model of the generation routes
    created: int  # Unix seconds: the model's configured created_at, else when this gateway started

    @property
    def created_at(self) -> str:
        """`created` as RFC 3339, the way Anthropic's API (and AnyInt's list) spell it."""
        return datetime.fromtimestamp(self.created, UTC).isoformat().replace("+00:00", "Z")


def catalogue(gateway: Gateway, key: KeyRecord) -> list[ModelInfo]:
    """The models `key` may use, in configuration order."""
    settings = gateway.settings
    models = []
    for model in gateway.models.owners():
        if not key.allows_model(model):
            continue
        first = settings.models[model][0]
        kind = settings.providers[first.provider].type
        created = _seconds(first.created_at) if first.created_at is not None else gateway.started_at
        models.append(ModelInfo(model, first.display_name or model, kind, tuple(gateway.tasks.models.kinds(model)), created))
    return models


def _seconds(moment: datetime) -> int:
    """Unix seconds of a configured moment (a date or time without a zone is UTC)."""
    return int((moment if moment.tzinfo is not None else moment.replace(tzinfo=UTC)).timestamp())


def find_model(gateway: Gateway, key: KeyRecord, model: str) -> ModelInfo:
    """One model `key` may use; 404 for any other (a model the key may not use is not shown to exist)."""
    for info in catalogue(gateway, key):
        if info.id == model:
            return info
    raise GatewayError(
        ErrorKind.NOT_FOUND,
        f"The model '{model}' does not exist or you do not have access to it.",
        param="model",
        code="model_not_found",
    )
