"""GET /anthropic/v1/models: Anthropic's list shape, with only the models the caller's key may use."""

from __future__ import annotations

from datetime import UTC, datetime

from aiohttp import web

from anygate.server.call import Call


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    """The models this key may use, as Anthropic lists them (one page holds them all)."""
    gateway = call.gateway
    created = datetime.fromtimestamp(gateway.started_at, UTC).isoformat().replace("+00:00", "Z")
    data = [
        {"type": "model", "id": model, "display_name": model, "created_at": created}
        for model in gateway.models.owners()
        if call.key.allows_model(model)
    ]
    page = {
        "data": data,
        "has_more": False,
        "first_id": data[0]["id"] if data else None,
        "last_id": data[-1]["id"] if data else None,
    }
    return web.json_response(page)
