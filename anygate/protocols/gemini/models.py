"""GET /gemini/{v1beta,v1}/models: Gemini's list shape, with only the models the caller's key may use."""

from __future__ import annotations

from aiohttp import web

from anygate.server.call import Call

_METHODS = ["generateContent", "streamGenerateContent", "countTokens"]


async def list_models(request: web.Request, call: Call) -> web.StreamResponse:
    """The models this key may use, as Gemini lists them (one page holds them all)."""
    models = [
        {
            "name": f"models/{model}",
            "version": "001",
            "displayName": model,
            "description": f"{model} via anygate ({owner})",
            "supportedGenerationMethods": _METHODS,
        }
        for model, owner in call.gateway.models.owners().items()
        if call.key.allows_model(model)
    ]
    return web.json_response({"models": models})
