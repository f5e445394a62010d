"""POST /openai/v1/chat/completions: relayed as it comes to OpenAI-compatible targets, translated to others."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.usage import Usage, estimate_prompt
from anygate.metering.record import record_before_end, record_usage
from anygate.protocols.openai.chat_stream import ChatStreamRelay
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.protocols.openai.errors import stream_error_event
from anygate.protocols.openai.file_refs import check_files, parts_files
from anygate.providers.base import Reply
from anygate.routing.table import Target
from anygate.server import streaming, web
from anygate.server.call import Call
from anygate.server.dispatch import Generation, obtain
from anygate.server.generation import relay_whole, translate_reply
from anygate.server.json_body import read_json_object
from anygate.server.model_names import renamer

FAMILY = OPENAI_CHAT.name


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
    """Forward a chat completion with only the model id (and auth) changed, or translate it."""
    body = await read_json_object(request)
    model, stream = _validate(body)
    plan = call.gateway.models.plan(model, call.key)
    if files := parts_files(body.get("messages"), "content"):
        await check_files(call, files)
    client_wants_usage = False
    relayed = body
    if stream:
        options = body.get("stream_options")
        client_wants_usage = isinstance(options, dict) and options.get("include_usage") is True
        if not client_wants_usage:  # ask for usage anyway, for billing; the usage chunk is not relayed
            relayed = {**body, "stream_options": {**(options if isinstance(options, dict) else {}), "include_usage": True}}

    def same_family(target: Target) -> dict[str, Any]:
        return {**relayed, "model": target.model}

    generation = Generation(call, OPENAI_CHAT, body, stream, same_family)
    await generation.admit(plan)
    target, reply = await obtain(generation, plan)
    if not generation.relays(target):
        return await translate_reply(request, generation, target, reply)
    if reply.chunks is None:
        return relay_whole(call, OPENAI_CHAT, target, body, reply.body or b"")
    return await _relay(request, call, target, body, reply, client_wants_usage)


async def _relay(
    request: web.Request, call: Call, target: Target, body: dict[str, Any], reply: Reply, client_wants_usage: bool
) -> web.StreamResponse:
    relay = ChatStreamRelay(client_wants_usage)
    chunks = reply.chunks
    assert chunks is not None
    status = 200
    names = renamer(target.public_model, target.model)
    try:
        response = await streaming.start(request, call)
        try:
            async for chunk in chunks:
                out = relay.feed(chunk)
                if names and out:
                    out = names.events(out)
                if relay.done and not call.recorded and not relay.failed:
                    await record_before_end(call, FAMILY, target, _billed(relay, body), 200)
                if out:
                    await streaming.write(response, out)
            tail = relay.finish()
            if names:
                tail = names.events(tail)
            if tail:
                await streaming.write(response, tail)
            if relay.failed or not relay.done:
                status = 502
            if not relay.failed and not relay.done:
                truncated = GatewayError(
                    ErrorKind.UPSTREAM,
                    f"upstream '{target.provider.name}' ended the stream before it was complete",
                    code="upstream_stream_truncated",
                )
                await streaming.write(response, stream_error_event(truncated))
        except GatewayError as failed:  # an event too long to keep
            status = failed.status
            await streaming.write(response, stream_error_event(failed))
        except streaming.UPSTREAM_READ_ERRORS as exc:
            err = streaming.upstream_read_error(call, target.provider.name, exc)
            status = err.status
            await streaming.write(response, stream_error_event(err))
        await response.write_eof()
    except streaming.ClientGone:
        status = streaming.CLIENT_CLOSED
    finally:  # recorded before anything else is awaited, so that even a cancelled handler leaves its record
        if not call.recorded:
            record_usage(call, FAMILY, target, _billed(relay, body), status)
        await reply.close()
    return response


def _billed(relay: ChatStreamRelay, body: dict[str, Any]) -> Usage:
    """The upstream's usage, or else the prompt and the events streamed, estimated."""
    return relay.usage or Usage(estimate_prompt(body.get("messages")), relay.estimated_output_tokens(), estimated=True)
