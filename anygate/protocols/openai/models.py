"""GET /openai/v1/models: the OpenAI list shape, with only the models the caller's key may use."""

from __future__ import annotations

from typing import Any

import orjson
from aiohttp import web

from anygate.server.call import Call


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    """The models this key may use, as OpenAI lists them; a task model also names its task kinds."""
    gateway = call.gateway
    data: list[dict[str, Any]] = []
    for model, owner in gateway.models.owners().items():
        if not call.key.allows_model(model):
            continue
        entry: dict[str, Any] = {"id": model, "object": "model", "created": gateway.started_at, "owned_by": owner}
        if task := gateway.tasks.models.describe(model):
            entry["owned_by"], entry["tasks"] = task
        data.append(entry)
    return web.Response(body=orjson.dumps({"object": "list", "data": data}), content_type="application/json")
