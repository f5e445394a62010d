"""GET /gemini/{v1beta,v1}/models and …/models/{model}: Gemini's model objects, for the models the
caller's key may use with generateContent (task models, which it cannot call, are left out)."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.routing.catalogue import ModelInfo, catalogue, find_model
from anygate.server import web
from anygate.server.call import Call

_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


def _model(info: ModelInfo) -> dict[str, Any]:
    return {
        "name": f"models/{info.id}",
        "version": "001",
        "displayName": info.display_name,
        "description": f"{info.display_name} via anygate",
        "supportedGenerationMethods": _METHODS,
    }


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    """The models this key may use, as Gemini lists them (one page holds them all)."""
    return web.json_response({"models": [_model(info) for info in catalogue(call.gateway, call.key) if not info.tasks]})


async def retrieve_model(request: web.Request, call: Call) -> web.StreamResponse:
    """One model this key may use with generateContent; 404 in Gemini's shape for any other."""
    info = find_model(call.gateway, call.key, request.match_info["model"].removeprefix("models/"))
    if info.tasks:
        raise GatewayError(ErrorKind.NOT_FOUND, f"models/{info.id} is a task model, not one for generateContent", param="model")
    return web.json_response(_model(info))
