"""GET /admin/v1/providers: every configured provider, its targets and their circuit breakers."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from anygate.server.call import Call


async def list_providers(_: web.Request, call: Call) -> web.Response:
    """The providers in configuration order; each target with its public model and breaker state."""
    gateway = call.gateway
    targets: dict[str, list[dict[str, Any]]] = {}
    for target in gateway.models.targets():
        targets.setdefault(target.provider.name, []).append(
            {
                "model": target.public_model,
                "upstream_model": target.model,
                "priority": target.priority,
                "weight": target.weight,
                "breaker": {"state": target.breaker.state.value, "failures": target.breaker.failures},
            }
        )
    data = [
        {
            "name": name,
            "type": config.type,
            "available": name in gateway.providers,
            "targets": targets.get(name, []),
        }
        for name, config in gateway.settings.providers.items()
    ]
    return web.json_response({"object": "list", "data": data})
