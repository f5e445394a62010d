"""Gemini's generateContent, streamGenerateContent and countTokens: relayed to Gemini targets, translated to others."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.metering.token_count import count_tokens as count_local
from anygate.protocols.gemini.codec import GEMINI
from anygate.protocols.gemini.request import field
from anygate.providers.base import CountsTokens, Reply
from anygate.routing.table import Target
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.dispatch import Generation, obtain
from anygate.server.generation import relay_same_family, relay_whole, translate_reply
from anygate.server.json_body import read_json_object


async def _start(request: web.Request, call: Call, stream: bool) -> tuple[Generation, Target, Reply]:
    """Read and admit the call, and get an answer from the first target that gives one."""
    body = await read_json_object(request)
    if not isinstance(body.get("contents"), list) or not body["contents"]:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "contents is required and must not be empty")
    model = request.match_info["model"]
    plan = call.gateway.models.plan(model, call.key)
    json_array = stream and request.query.get("alt") != "sse"
    body = {**body, "model": model, "stream": stream, "json_array": json_array}

    def same_family(target: Target) -> dict[str, Any]:
        return {**body, "model": target.model}

    # the gateway asks Gemini upstreams for SSE only, so a JSON-array stream is always rebuilt
    generation = Generation(call, GEMINI, body, stream, None if json_array else same_family)
    await generation.admit(plan)
    target, reply = await obtain(generation, plan)
    return generation, target, reply


async def generate_content(request: web.Request, call: Call) -> web.StreamResponse:
    """One whole answer."""
    generation, target, reply = await _start(request, call, False)
    if not generation.relays(target):
        return await translate_reply(request, generation, target, reply)
    return relay_whole(call, GEMINI, target, generation.body, reply.body or b"")


async def stream_generate_content(request: web.Request, call: Call) -> web.StreamResponse:
    """A streamed answer: SSE with `alt=sse`, else one JSON array sent in pieces."""
    generation, target, reply = await _start(request, call, True)
    if not generation.relays(target):
        return await translate_reply(request, generation, target, reply)
    return await relay_same_family(request, call, GEMINI, target, generation.body, reply)


async def count_tokens(request: web.Request, call: Call) -> web.StreamResponse:
    """Count input tokens: by the upstream's own count when it is Gemini, else locally."""
    body = await read_json_object(request)
    model = request.match_info["model"]
    target = call.gateway.models.plan(model, call.key)[0]
    await admit(call, body, free=True)  # free, but not unlimited: it counts against the key's request limits
    if isinstance(target.provider, CountsTokens) and target.wire is GEMINI:
        given = field(body, "generateContentRequest")  # the SDKs send it camelCase or snake_case
        reply = await target.provider.count_tokens(
            target.model, {"generateContentRequest": given} if isinstance(given, dict) else body
        )
        return web.Response(body=reply.body or b"{}", content_type="application/json")
    wrapped = field(body, "generateContentRequest")
    inner: dict[str, Any] = wrapped if isinstance(wrapped, dict) else body
    canonical = GEMINI.parse_request({**inner, "model": model})
    return web.json_response({"totalTokens": await count_local(canonical)})
