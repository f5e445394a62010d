"""Answering the client: relaying a same-family answer as it came, or translating another family's
answer back into the client's, whole or as a stream."""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from typing import Any, cast

import orjson

from anygate.core.chat import Thinking
from anygate.core.codec import StreamBroken, StreamingClientCodec, WireCodec
from anygate.core.errors import GatewayError
from anygate.core.stream import StreamEnd, StreamEvent, TextDelta, TextRun, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.usage import Usage, estimate_prompt, estimate_tokens
from anygate.metering.record import record_before_end, record_failure, record_usage
from anygate.providers.base import Reply
from anygate.providers.upstream_errors import json_object
from anygate.routing.table import Target
from anygate.server import replay, streaming, web
from anygate.server.call import Call
from anygate.server.dispatch import Generation
from anygate.server.model_names import renamed, renamer


def relay_whole(call: Call, wire: WireCodec, target: Target, body: dict[str, Any], raw: bytes) -> web.Response:
    """Relay a same-family whole answer as it came, recording its usage (estimated when it has none)."""
    try:
        data = json_object(raw, target.provider.name)
    except GatewayError as err:
        record_failure(call, wire.name, target, err)
        raise
    usage = wire.response_usage(data) or Usage(
        estimate_prompt(body), estimate_tokens(raw.decode(errors="replace")), estimated=True
    )
    record_usage(call, wire.name, target, usage, 200)
    headers = {"x-request-id": call.request_id, "request-id": call.request_id}
    return web.Response(body=renamed(raw, target.public_model, target.model), content_type="application/json", headers=headers)


async def translate_reply(
    request: web.Request,
    generation: Generation,
    target: Target,
    reply: Reply,
    before_end: Callable[[], Awaitable[None]] | None = None,
) -> web.StreamResponse:
    """Answer in the client's family from a target that speaks another one, whole or streamed;
    `before_end` is awaited before the events that end a stream are written (so that what the client
    sees as finished is, for instance, already stored)."""
    call, client, body = generation.call, generation.client, generation.body
    canonical = await generation.canonical()
    upstream = target.wire
    public_model = target.public_model
    if reply.chunks is None:
        try:
            answer = upstream.parse_response(json_object(reply.body or b"", target.provider.name))
        except GatewayError as err:
            record_failure(call, client.name, target, err)
            raise
        record_usage(call, client.name, target, answer.usage, 200)
        await replay.share(call, call.gateway.replay.remember(answer))
        whole = client.build_response(answer, public_model, call.request_id)
        return web.Response(body=orjson.dumps(whole), content_type="application/json", headers={"x-request-id": call.request_id})
    parser = upstream.stream_parser()
    writer = cast(StreamingClientCodec, client).stream_writer(canonical, public_model, call.request_id)  # see Generation
    tally = _Tally()
    status = 200
    try:
        response = await streaming.start(request, call, writer.content_type)
        try:
            assert reply.chunks is not None
            async for chunk in reply.chunks:
                events = parser.feed(chunk)
                ended = tally.take(events)
                out = b"".join([writer.write(e) for e in events])
                if ended:
                    await _before_end(call, tally, before_end)
                    await record_before_end(call, client.name, target, tally.billed(body), 200)
                if out:
                    await streaming.write(response, out)
            tail = parser.close()
            if tail:
                ended = tally.take(tail)
                out = b"".join(writer.write(e) for e in tail)
                if ended:
                    await _before_end(call, tally, before_end)
                    await record_before_end(call, client.name, target, tally.billed(body), 200)
                await streaming.write(response, out)
        except GatewayError as err:
            status = err.status
            before = err.before if isinstance(err, StreamBroken) else []  # what the failing chunk carried first
            tally.take(before)
            await streaming.write(response, b"".join(writer.write(e) for e in before) + writer.error(err))
        except streaming.UPSTREAM_READ_ERRORS as exc:
            broken = streaming.upstream_read_error(call, target.provider.name, exc)
            status = broken.status
            await streaming.write(response, writer.error(broken))
        await response.write_eof()
    except streaming.ClientGone:
        status = streaming.CLIENT_CLOSED
    finally:
        if not call.recorded:
            record_usage(call, client.name, target, tally.billed(body), status)
        await reply.close()
    return response


async def _before_end(call: Call, tally: _Tally, before_end: Callable[[], Awaitable[None]] | None) -> None:
    """What must be done before the client sees the stream end: the turn's replay entries kept and
    shared (the client's next turn may reach another worker), then the caller's own step."""
    if tally.calls:
        await replay.share(call, call.gateway.replay.remember_turn(tally.calls, tally.leading_thinking))
    if before_end is not None:
        await before_end()


class _Tally:
    """What a translated stream has carried so far: its usage, its pieces, and the tool calls and
    thinking to remember for the next turn."""

    __slots__ = ("calls", "leading_thinking", "pieces", "thinking", "usage")

    def __init__(self) -> None:
        self.thinking: list[Thinking] = []
        self.leading_thinking: list[Thinking] = []  # the thinking before the first tool call
        self.calls: list[tuple[str, str | None]] = []  # (id, signature) of each tool call
        self.pieces = 0
        self.usage: Usage | None = None

    def billed(self, body: Any) -> Usage:
        """The usage to bill: the upstream's, or else the prompt and the pieces streamed, counted locally."""
        return self.usage or Usage(estimate_prompt(body), self.pieces, estimated=True)

    def take(self, events: list[StreamEvent]) -> bool:
        """Count `events` in; True when they end the answer."""
        ended = False
        for event in events:
            if type(event) is TextDelta or type(event) is ToolCallDelta:
                self.pieces += 1
            elif type(event) is TextRun:
                self.pieces += len(event.strings)
            elif isinstance(event, StreamEnd):
                self.usage = event.usage
                ended = True
            elif isinstance(event, ThinkingDelta):
                _gather_thinking(self.thinking, event)
            elif isinstance(event, ToolCallStart):
                if not self.calls:
                    self.leading_thinking = list(self.thinking)
                self.calls.append((event.id, event.signature))
        return ended


def _gather_thinking(thinking: list[Thinking], delta: ThinkingDelta) -> None:
    """Rebuild streamed thinking blocks: text adds to the open block, a signature closes it."""
    if not thinking or thinking[-1].signature:
        thinking.append(Thinking())
    thinking[-1].text += delta.text
    if delta.signature:
        thinking[-1].signature = delta.signature


async def relay_same_family(
    request: web.Request, call: Call, wire: WireCodec, target: Target, body: dict[str, Any], reply: Reply
) -> web.StreamResponse:
    """Relay a same-family stream byte for byte, reading a copy for usage and a clean end; a stream cut
    before the upstream's usage is billed for its prompt and what it carried, estimated."""
    parser = wire.stream_parser()
    usage: Usage | None = None
    pieces = 0
    status = 200
    watching = True  # until the upstream's own error event, which is relayed as it came
    names = renamer(target.public_model, target.model)
    try:
        response = await streaming.start(request, call)
        try:
            assert reply.chunks is not None
            async for chunk in reply.chunks:
                if watching:
                    try:
                        for event in parser.feed(chunk):
                            if type(event) is TextDelta or type(event) is ToolCallDelta:
                                pieces += 1
                            elif type(event) is TextRun:
                                pieces += len(event.strings)
                            elif isinstance(event, StreamEnd):
                                usage = event.usage
                                await record_before_end(
                                    call, wire.name, target, usage or Usage(estimate_prompt(body), pieces, estimated=True), 200
                                )
                    except GatewayError as err:
                        watching, status = False, err.status
                await streaming.write(response, names.feed(chunk) if names else chunk)
            if names:
                await streaming.write(response, names.close())
            if watching:
                parser.close()
        except GatewayError as err:
            status = err.status
            await streaming.write(response, wire.stream_error(err, call.request_id))
        except streaming.UPSTREAM_READ_ERRORS as exc:
            broken = streaming.upstream_read_error(call, target.provider.name, exc)
            status = broken.status
            await streaming.write(response, wire.stream_error(broken, call.request_id))
        await response.write_eof()
    except streaming.ClientGone:
        status = streaming.CLIENT_CLOSED
    finally:
        if not call.recorded:
            record_usage(call, wire.name, target, usage or Usage(estimate_prompt(body), pieces, estimated=True), status)
        await reply.close()
    return response
