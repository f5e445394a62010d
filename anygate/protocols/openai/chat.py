"""POST /openai/v1/chat/completions: the same-family path, relaying the upstream's answer as it comes."""

from __future__ import annotations

import asyncio
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
from anygate.providers.base import Reply
from anygate.providers.upstream_errors import timed_out, unreachable
from anygate.routing.table import Target
from anygate.server.call import Call
from anygate.server.json_body import read_json_object

FAMILY = "openai_chat"
CLIENT_CLOSED = 499


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
    return await _relay(request, call, target, body, reply, client_wants_usage)


def _prompt_estimate(body: dict[str, Any]) -> int:
    return estimate_tokens(orjson.dumps(body.get("messages")).decode())


def _whole(call: Call, target: Target, body: dict[str, Any], raw: bytes) -> web.Response:
    try:
        data = orjson.loads(raw)
    except orjson.JSONDecodeError:
        record_usage(call, FAMILY, target, Usage(), 502)
        raise GatewayError(
            ErrorKind.UPSTREAM, f"upstream '{target.provider.name}' sent invalid JSON", code="upstream_bad_response"
        ) from None
    usage = usage_from_openai(data.get("usage") if isinstance(data, dict) else None)
    if usage is None:
        usage = Usage(_prompt_estimate(body), estimate_tokens(raw.decode(errors="replace")), estimated=True)
    record_usage(call, FAMILY, target, usage, 200)
    return web.Response(body=raw, content_type="application/json", headers={"x-request-id": call.request_id})


class _ClientGone(Exception):
    """The client closed its connection while the stream was being written."""


async def _write(response: web.StreamResponse, data: bytes) -> None:
    try:
        await response.write(data)
    except (ConnectionResetError, aiohttp.ClientConnectionResetError):
        raise _ClientGone from None


async def _relay(
    request: web.Request,
    call: Call,
    target: Target,
    body: dict[str, Any],
    reply: Reply,
    client_wants_usage: bool,
) -> web.StreamResponse:
    response = web.StreamResponse(
        headers={"Content-Type": "text/event-stream", "Cache-Control": "no-cache", "x-request-id": call.request_id}
    )
    await response.prepare(request)
    relay = ChatStreamRelay(client_wants_usage)
    chunks = reply.chunks
    assert chunks is not None
    status = 200
    try:
        try:
            async for chunk in chunks:
                out = relay.feed(chunk)
                if out:
                    await _write(response, out)
            tail = relay.finish()
            if tail:
                await _write(response, tail)
            if relay.failed or not relay.done:
                status = 502
            if not relay.failed and not relay.done:
                await _write(
                    response,
                    stream_error_event(
                        GatewayError(
                            ErrorKind.UPSTREAM,
                            f"upstream '{target.provider.name}' ended the stream before it was complete",
                            code="upstream_stream_truncated",
                        )
                    ),
                )
        except (TimeoutError, aiohttp.ClientError) as exc:
            name = target.provider.name
            err = timed_out(name) if isinstance(exc, asyncio.TimeoutError) else unreachable(name, type(exc).__name__)
            status = err.status
            await _write(response, stream_error_event(err))
        await response.write_eof()
    except _ClientGone:
        status = CLIENT_CLOSED
    finally:  # recorded before anything else is awaited, so that even a cancelled handler leaves its record
        usage = relay.usage or Usage(_prompt_estimate(body), relay.estimated_output_tokens(), estimated=True)
        record_usage(call, FAMILY, target, usage, status)
        await reply.close()
    return response
