"""Gemini's generateContent, streamGenerateContent and countTokens: relayed to Gemini targets, translated to others."""

from __future__ import annotations

from typing import Any

from aiohttp import web

from anygate.core.errors import ErrorKind, GatewayError
from anygate.metering.token_count import count_tokens as count_local
from anygate.protocols.gemini.codec import GEMINI
from anygate.protocols.gemini.request import field
from anygate.providers.gemini.adapter import GeminiProvider
from anygate.routing.table import Target
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.generation import relay_same_family, relay_whole, send, translate
from anygate.server.json_body import read_json_object


async def _prepare(request: web.Request, call: Call) -> tuple[dict[str, Any], Target]:
    body = await read_json_object(request)
    if not isinstance(body.get("contents"), list) or not body["contents"]:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "contents is required and must not be empty")
    model = request.match_info["model"]
    body["model"] = model
    target = call.gateway.models.resolve(model, call.key)
    await admit(call, body)
    return body, target


async def generate_content(request: web.Request, call: Call) -> web.StreamResponse:
    """One whole answer."""
    body, target = await _prepare(request, call)
    if not isinstance(target.provider, GeminiProvider):
        return await translate(request, call, GEMINI, body, target)
    reply = await send(call, GEMINI.name, target, {**body, "model": target.model}, False)
    return relay_whole(call, GEMINI, target, body, reply.body or b"")


async def stream_generate_content(request: web.Request, call: Call) -> web.StreamResponse:
    """A streamed answer: SSE with `alt=sse`, else one JSON array sent in pieces."""
    body, target = await _prepare(request, call)
    body["stream"] = True
    body["json_array"] = request.query.get("alt") != "sse"
    if not isinstance(target.provider, GeminiProvider) or body["json_array"]:
        return await translate(request, call, GEMINI, body, target)  # the gateway asks Gemini upstreams for SSE only
    reply = await send(call, GEMINI.name, target, {**body, "model": target.model}, True)
    return await relay_same_family(request, call, GEMINI, target, reply)


async def count_tokens(request: web.Request, call: Call) -> web.StreamResponse:
    """Count input tokens: by the upstream's own count when it is Gemini, else locally."""
    body = await read_json_object(request)
    model = request.match_info["model"]
    target = call.gateway.models.resolve(model, call.key)
    if isinstance(target.provider, GeminiProvider):
        given = field(body, "generateContentRequest")
        forwarded = {"generateContentRequest": {**given, "model": f"models/{target.model}"}} if isinstance(given, dict) else body
        reply = await target.provider.count_tokens(target.model, forwarded)
        return web.Response(body=reply.body or b"{}", content_type="application/json")
    wrapped = field(body, "generateContentRequest")
    inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else body
    canonical = GEMINI.parse_request({**inner, "model": model})
    return web.json_response({"totalTokens": await count_local(canonical)})
