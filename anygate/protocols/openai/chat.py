"""POST /openai/v1/chat/completions: the same-family path, relaying the upstream's answer as it comes."""

from __future__ import annotations

import logging
from typing import Any

import aiohttp
import orjson
from aiohttp import web

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage, estimate_tokens
from anygate.metering.record import record_usage
from anygate.protocols.openai.chat_stream import ChatStreamRelay
from anygate.protocols.openai.errors import stream_error_event
from anygate.protocols.openai.usage import usage_from_openai
from anygate.routing.table import Target
from anygate.server.call import Call
from anygate.server.json_body import read_json_object

FAMILY = "openai_chat"
CLIENT_CLOSED = 499
log = logging.getLogger(__name__)


def _validate(body: dict[str, Any]) -> tuple[str, bool]:
    model = body.get("model")
    if not isinstance(model, str) or not model:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "You must provide a model parameter", param="model")
    messages = body.get("messages")
    if not isinstance(messages, list) or not messages:
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'messages' is required and must be a non-empty array", param="messages")
    stream = body.get("stream", False)
    if not isinstance(stream, bool):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'stream' must be a boolean", param="stream")
    return model, stream


async def chat_completions(request: web.Request, call: Call) -> web.StreamResponse:
    """Forward a chat completion to the model's target, with only the model id (and auth) changed."""
    body = await read_json_object(request)
    model, stream = _validate(body)
    target = call.gateway.models.resolve(model, call.key)
    body["model"] = target.model
    client_wants_usage = False
    if stream:
        options = body.get("stream_options")
        client_wants_usage = isinstance(options, dict) and options.get("include_usage") is True
        if not client_wants_usage:  # ask for usage anyway, for billing; the usage chunk is not relayed
            body["stream_options"] = {**(options if isinstance(options, dict) else {}), "include_usage": True}
    try:
        reply = await target.provider.chat_completions(body, stream)
    except GatewayError as err:
        record_usage(call, FAMILY, target, Usage(), err.status)
        raise
    if reply.chunks is None:
        return _whole(call, target, body, reply.body or b"")
    return await _relay(request, call, target, body, reply.chunks, reply.close, client_wants_usage)


def _prompt_estimate(body: dict[str, Any]) -> int:
    return estimate_tokens(orjson.dumps(body.get("messages")).decode())


def _whole(call: Call, target: Target, body: dict[str, Any], raw: bytes) -> web.Response:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        record_usage(call, FAMILY, target, Usage(), 502)
        raise GatewayError(ErrorKind.UPSTREAM, f"upstream '{target.provider.name}' sent invalid JSON", code="upstream_bad_response") from None
    usage = usage_from_openai(data.get("usage") if isinstance(data, dict) else None)
    if usage is None:
        usage = Usage(_prompt_estimate(body), estimate_tokens(raw.decode(errors="replace")), estimated=True)
    record_usage(call, FAMILY, target, usage, 200)
    return web.Response(body=raw, content_type="application/json", headers={"x-request-id": call.request_id})


async def _relay(request, call, target, body, chunks, close, client_wants_usage) -> web.StreamResponse:  # type: ignore[no-untyped-def]
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "x-request-id": call.request_id}
    )
    await response.prepare(request)
    relay = ChatStreamRelay(client_wants_usage)
    status = 200
    try:
        async for chunk in chunks:
            out = relay.feed(chunk)
            if out:
                await response.write(out)
        tail = relay.finish()
        if tail:
            await response.write(tail)
        if relay.failed:
            status = 502
        elif not relay.done:
            status = 502
            await response.write(stream_error_event(GatewayError(
                ErrorKind.UPSTREAM, f"upstream '{target.provider.name}' ended the stream before it was complete", code="upstream_stream_truncated"
            )))
    except GatewayError as err:
        status = err.status
        await _try_write(response, stream_error_event(err))
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        status = CLIENT_CLOSED
    finally:
        await close()
        usage = relay.usage or Usage(_prompt_estimate(body), (relay.output_chars + 3) // 4, estimated=True)
        record_usage(call, FAMILY, target, usage, status)
    if status != CLIENT_CLOSED:
        await _try_write_eof(response)
    return response


async def _try_write(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        log.debug("client left before the stream's error event")


async def _try_write_eof(response: web.StreamResponse) -> None:
    try:
        await response.write_eof()
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        log.debug("client left before the stream's end")
