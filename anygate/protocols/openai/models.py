"""GET /openai/v1/models: the OpenAI list shape, with only the models the caller's key may use."""

from __future__ import annotations

import orjson
from aiohttp import web

from anygate.server.call import Call


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    """The models this key may use, as OpenAI lists them."""
    gateway = call.gateway
    data = [
        {"id": model, "object": "model", "created": gateway.started_at, "owned_by": owner}
        for model, owner in gateway.models.owners().items()
        if call.key.allows_model(model)
    ]
    return web.Response(body=orjson.dumps({"object": "list", "data": data}), content_type="application/json")
