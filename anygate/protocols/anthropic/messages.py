"""POST /anthropic/v1/messages and /count_tokens: relayed to Anthropic targets, translated to others."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.metering.token_count import count_tokens as count_local
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.providers.base import CountsTokens
from anygate.routing.table import Target
from anygate.server import web
from anygate.server.admission import admit
from anygate.server.call import Call
from anygate.server.dispatch import Generation, obtain
from anygate.server.generation import relay_same_family, relay_whole, translate_reply
from anygate.server.json_body import read_json_object

_FORWARDED_HEADERS = ("anthropic-beta",)


def _invalid(message: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, message)


def _validate(body: dict[str, Any], counting: bool = False) -> str:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise _invalid("model: Field required")
    messages = body.get("messages")
    if not isinstance(messages, list):
        raise _invalid("messages: Field required")
    if not counting and not messages:
        raise _invalid("messages: at least one message is required")
    if not counting and (not isinstance(body.get("max_tokens"), int) or isinstance(body.get("max_tokens"), bool)):
        raise _invalid("max_tokens: Field required")
    if not isinstance(body.get("stream", False), bool):
        raise _invalid("stream: Input should be a valid boolean")
    return model


def _forwarded(request: web.Request) -> dict[str, str]:
    return {name: request.headers[name] for name in _FORWARDED_HEADERS if name in request.headers}


async def messages(request: web.Request, call: Call) -> web.StreamResponse:
    """Create a message, streamed with stream:true."""
    body = await read_json_object(request)
    model = _validate(body)
    plan = call.gateway.models.plan(model, call.key)
    stream = body.get("stream") is True

    def same_family(target: Target) -> dict[str, Any]:
        return {**body, "model": target.model}

    generation = Generation(call, ANTHROPIC, body, stream, same_family, _forwarded(request))
    await generation.admit(plan)
    target, reply = await obtain(generation, plan)
    if not generation.relays(target):
        return await translate_reply(request, generation, target, reply)
    if reply.chunks is not None:
        return await relay_same_family(request, call, ANTHROPIC, target, body, reply)
    return relay_whole(call, ANTHROPIC, target, body, reply.body or b"")


async def count_tokens(request: web.Request, call: Call) -> web.StreamResponse:
    """Count a request's input tokens: by the upstream's own count when it is Anthropic, else locally."""
    body = await read_json_object(request)
    model = _validate(body, counting=True)
    target = call.gateway.models.plan(model, call.key)[0]
    await admit(call, body, free=True)  # free, but not unlimited: it counts against the key's request limits
    provider = target.provider
    if isinstance(provider, CountsTokens) and target.wire is ANTHROPIC:
        reply = await provider.count_tokens(target.model, body, _forwarded(request))
        return web.Response(body=reply.body or b"{}", content_type="application/json")
    canonical = ANTHROPIC.parse_request({**body, "max_tokens": 1})
    return web.json_response({"input_tokens": await count_local(canonical)})
