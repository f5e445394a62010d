"""The Responses API relayed to an upstream that serves it itself (`responses_api: true`): the body
goes with the model id swapped and the stored conversation inlined, the answer's bytes come back as
they are, read on the way for the final response object (to store it) and its usage."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any

import orjson

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.sse import SseDataSplitter, event_data
from anygate.core.usage import Usage, estimate_prompt, tokens
from anygate.metering.record import record_before_end, record_usage
from anygate.protocols.openai.errors import error_object
from anygate.protocols.openai.responses_shape import is_ours
from anygate.providers.base import AnswersResponses, Reply
from anygate.providers.upstream_errors import json_object
from anygate.routing.table import Target
from anygate.server import streaming, web
from anygate.server.call import Call
from anygate.server.dispatch import NativeRoute
from anygate.server.model_names import renamed, renamer
from anygate.store.tables import RESPONSE_ID_LENGTH

FAMILY = "openai-responses"
_ENDINGS = {"response.completed", "response.incomplete", "response.failed"}


def _serves(target: Target) -> bool:
    return isinstance(target.provider, AnswersResponses) and getattr(target.provider.config, "responses_api", False) is True


async def _send(target: Target, body: dict[str, Any], stream: bool, headers: dict[str, str] | None) -> Reply:
    assert isinstance(target.provider, AnswersResponses)
    return await target.provider.send_responses(body, stream, headers)


NATIVE_RESPONSES = NativeRoute(_serves, _send)


def native_input(items: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """The conversation as the upstream may see it: without the ids the gateway gave (which it does
    not know), and without reasoning another upstream produced (which it cannot read)."""
    out = []
    for item in items:
        if not is_ours(item.get("id")):
            out.append(item)
        elif item.get("type") != "reasoning":
            out.append({k: v for k, v in item.items() if k != "id"})
    return out


def responses_usage(response: Any) -> Usage | None:
    """The Usage of a Responses response object, or None when it has none."""
    usage = response.get("usage") if isinstance(response, dict) else None
    if not isinstance(usage, dict):
        return None
    inputs, outputs = usage.get("input_tokens_details"), usage.get("output_tokens_details")
    return Usage(
        input_tokens=tokens(usage.get("input_tokens")),
        output_tokens=tokens(usage.get("output_tokens")),
        cached_tokens=tokens(inputs.get("cached_tokens")) if isinstance(inputs, dict) else 0,
        reasoning_tokens=tokens(outputs.get("reasoning_tokens")) if isinstance(outputs, dict) else 0,
    )


def checked_response(response: Any, upstream: str) -> dict[str, Any]:
    """A native upstream's final response object, as it can be stored and built on (an id that fits the
    store, a list of output items); the upstream's error (502) for anything else."""
    if not isinstance(response, dict) or not isinstance(response.get("id"), str) or not response["id"]:
        problem = "a response without an id"
    elif len(response["id"]) > RESPONSE_ID_LENGTH:
        problem = f"a response id longer than {RESPONSE_ID_LENGTH} characters"
    elif not isinstance(response.get("output", []), list):
        problem = "a response whose output is not a list"
    else:
        return response
    raise GatewayError(ErrorKind.UPSTREAM, f"upstream '{upstream}' sent {problem}", code="upstream_bad_response")


Keep = Callable[[dict[str, Any]], Awaitable[None]]


async def relay_whole(call: Call, target: Target, body: dict[str, Any], raw: bytes, keep: Keep) -> web.Response:
    """Relay a whole response as it came, once it is stored."""
    try:
        response = checked_response(json_object(raw, target.provider.name), target.provider.name)
    except GatewayError as err:
        record_usage(call, FAMILY, target, Usage(), err.status)
        raise
    record_usage(
        call, FAMILY, target, responses_usage(response) or Usage(estimate_prompt(body.get("input")), estimated=True), 200
    )
    await keep(response)
    return web.Response(
        body=renamed(raw, target.public_model, target.model),
        content_type="application/json",
        headers={"x-request-id": call.request_id},
    )


async def relay_stream(
    request: web.Request, call: Call, target: Target, body: dict[str, Any], reply: Reply, keep: Keep
) -> web.StreamResponse:
    """Relay the event stream as it came, event by event; the final response is stored before its
    event is sent, and one that cannot be (see checked_response) ends the stream with an error instead."""
    splitter = SseDataSplitter()
    usage: Usage | None = None
    status = 200
    ended = False
    sequence = 0  # the next event's sequence number
    names = renamer(target.public_model, target.model)

    async def relay(events: list[bytes]) -> None:
        nonlocal usage, status, ended, sequence
        for at, raw in enumerate(events):
            data = event_data(raw)
            try:
                event = orjson.loads(data) if data.startswith(b"{") else None
            except orjson.JSONDecodeError:  # relayed as it came; only what can be read is looked at
                event = None
            if not isinstance(event, dict):
                continue
            kind = event.get("type")
            if kind in _ENDINGS:
                try:
                    final = checked_response(event.get("response"), target.provider.name)
                except GatewayError:
                    await write(events[:at])  # the events before it; the error takes the final's place
                    raise
                ended, usage = True, responses_usage(final)
                status = 502 if kind == "response.failed" else 200
                await keep(final)
                await record_before_end(
                    call, FAMILY, target, usage or Usage(estimate_prompt(body.get("input")), estimated=True), status
                )
            elif kind == "error":
                ended, status = True, 502
            if isinstance(event.get("sequence_number"), int):
                sequence = event["sequence_number"] + 1
        await write(events)

    async def write(events: list[bytes]) -> None:
        if events:
            out = b"\n\n".join(events) + b"\n\n"
            await streaming.write(response, names.events(out) if names else out)

    try:
        response = await streaming.start(request, call)
        try:
            assert reply.chunks is not None
            async for chunk in reply.chunks:
                region = splitter.region(chunk)
                if region:
                    await relay(region.split(b"\n\n"))
            rest = splitter.region(b"\n\n")  # a last event the upstream did not end with a blank line
            if rest:
                await relay([rest])
            if not ended:
                raise GatewayError(
                    ErrorKind.UPSTREAM,
                    f"upstream '{target.provider.name}' ended the stream before it was complete",
                    code="upstream_stream_truncated",
                )
        except GatewayError as err:
            status = err.status
            await streaming.write(response, _error_event(err, sequence))
        except streaming.UPSTREAM_READ_ERRORS as exc:
            broken = streaming.upstream_read_error(call, target.provider.name, exc)
            status = broken.status
            await streaming.write(response, _error_event(broken, sequence))
        await response.write_eof()
    except streaming.ClientGone:
        status = streaming.CLIENT_CLOSED
    finally:
        if not call.recorded:
            record_usage(call, FAMILY, target, usage or Usage(estimate_prompt(body.get("input")), estimated=True), status)
        await reply.close()
    return response


def _error_event(err: GatewayError, sequence: int) -> bytes:
    """The `error` event the Responses API ends a broken stream with."""
    error = error_object(err)
    data = {
        "type": "error",
        "code": error.get("code") or error["type"],
        "message": error["message"],
        "param": error.get("param"),
        "sequence_number": sequence,
    }
    return b"event: error\ndata: " + orjson.dumps(data) + b"\n\n"
