"""GET /openai/v1/models and /openai/v1/models/{model}: OpenAI's model objects, with AnyInt's fields
beside them (`display_name`, `type`, `created_at`; `has_more`, `first_id`, `last_id` on the list), only
for models the caller's key may use. A task model also names its task kinds."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.routing.catalogue import ModelInfo, catalogue, find_model
from anygate.server import web
from anygate.server.call import Call


def _model(info: ModelInfo) -> dict[str, Any]:
    entry: dict[str, Any] = {
        "id": info.id,
        "object": "model",
        "created": info.created,
        "owned_by": info.owned_by,
        "display_name": info.display_name,
        "type": "model",
        "created_at": info.created_at,
    }
    if info.tasks:
        entry["tasks"] = list(info.tasks)
    return entry


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    """The models this key may use, as OpenAI lists them (one page holds them all)."""
    data = [_model(info) for info in catalogue(call.gateway, call.key)]
    page = {
        "object": "list",
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
    return web.Response(body=orjson.dumps(page), content_type="application/json")


async def retrieve_model(request: web.Request, call: Call) -> web.StreamResponse:
    """One model this key may use; 404 in OpenAI's shape for any other."""
    return web.Response(
        body=orjson.dumps(_model(find_model(call.gateway, call.key, request.match_info["model"]))),
        content_type="application/json",
    )
