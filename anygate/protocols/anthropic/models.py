"""GET /anthropic/v1/models and /anthropic/v1/models/{model_id}: Anthropic's model objects and pages
(`limit`, `after_id`, `before_id`), for the models the caller's key may use on the Messages API
(task models, which it cannot call, are left out)."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.routing.catalogue import ModelInfo, catalogue, find_model
from anygate.server import web
from anygate.server.call import Call

DEFAULT_LIMIT = 20
MAX_LIMIT = 1000


def _model(info: ModelInfo) -> dict[str, Any]:
    return {"type": "model", "id": info.id, "display_name": info.display_name, "created_at": info.created_at}


def _limit(value: str | None) -> int:
    if value is None:
        return DEFAULT_LIMIT
    if not value.isdigit() or not 1 <= int(value) <= MAX_LIMIT:
        raise invalid_request(f"limit: Input should be an integer from 1 to {MAX_LIMIT}", "limit")
    return int(value)


def _index(ids: list[str], value: str, name: str) -> int:
    if value not in ids:
        raise invalid_request(f"{name}: no model with id '{value}' in this list", name)
    return ids.index(value)


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    """A page of the models this key may use, as Anthropic pages them."""
    models = [info for info in catalogue(call.gateway, call.key) if not info.tasks]
    ids = [info.id for info in models]
    limit = _limit(request.query.get("limit"))
    if (before := request.query.get("before_id")) is not None:
        end = _index(ids, before, "before_id")
        start = max(end - limit, 0)
        more = start > 0
    else:
        after = request.query.get("after_id")
        start = _index(ids, after, "after_id") + 1 if after is not None else 0
        end = min(start + limit, len(models))
        more = end < len(models)
    data = [_model(info) for info in models[start:end]]
    return web.json_response(
        {"data": data, "has_more": more, "first_id": data[0]["id"] if data else None, "last_id": data[-1]["id"] if data else None}
    )


async def retrieve_model(request: web.Request, call: Call) -> web.StreamResponse:
    """One model this key may use on the Messages API; 404 in Anthropic's shape for any other."""
    info = find_model(call.gateway, call.key, request.match_info["model_id"])
    if info.tasks:
        raise GatewayError(ErrorKind.NOT_FOUND, f"model: {info.id} is a task model, not one for the Messages API", param="model")
    return web.json_response(_model(info))
