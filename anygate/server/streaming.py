"""Writing a stream to the client, telling a client that left apart from an upstream that failed."""

from __future__ import annotations

import asyncio
import time
from collections.abc import Awaitable, Callable

import aiohttp

from anygate.core.errors import ErrorKind, GatewayError
from anygate.providers.upstream_errors import timed_out, unreachable
from anygate.server import web
from anygate.server.call import Call

CLIENT_CLOSED = 499  # the status recorded for a call whose client went away
WATCH_SECONDS = 0.5  # how often a stream looks whether its client is still there
_abandoning: set[asyncio.Future[None]] = set()  # upstream streams being closed for a client that left


class ClientGone(Exception):
    """The client closed its connection while the stream was being written."""


async def write(response: web.StreamResponse, data: bytes) -> None:
    """Write to the client; ClientGone when it has left."""
    try:
        await response.write(data)
    except ConnectionResetError:
        raise ClientGone from None


async def start(request: web.Request, call: Call, content_type: str = "text/event-stream") -> web.StreamResponse:
    """Send the headers of a stream (counted as active until the request ends)."""
    headers = {"Content-Type": content_type, "Cache-Control": "no-cache", "x-request-id": call.request_id}
    response = web.StreamResponse(headers=headers)
    try:
        await response.prepare(request)
    except ConnectionResetError:
        raise ClientGone from None
    call.first_byte_seconds = time.time() - call.started
    call.gateway.metrics.stream_started(call.family, call.first_byte_seconds)
    call.streaming = True
    call.client = request
    call.gateway.streams.add(call)
    return response


class StreamWatch:
    """Looks every WATCH_SECONDS whether the clients of the streams being relayed are still there: one
    that left while the upstream was silent would otherwise be noticed only when the upstream next
    speaks (minutes, for a model that thinks). Its upstream stream is closed, which ends the relay as a
    499. One look at every stream, rather than a timer per stream."""

    def __init__(self, streams: set[Call]) -> None:
        self._streams = streams
        self._timer: asyncio.TimerHandle | None = None

    def start(self) -> None:
        """Start looking."""
        self._timer = asyncio.get_running_loop().call_later(WATCH_SECONDS, self._look)

    def stop(self) -> None:
        """Stop looking."""
        if self._timer is not None:
            self._timer.cancel()

    def _look(self) -> None:
        gone = [call for call in self._streams if call.client is not None and _left(call.client)]
        for call in gone:
            abandon, call.abandon = call.abandon, None  # once
            if abandon is not None and not call.done:
                _abandon(abandon)
        self.start()


def _left(request: web.Request) -> bool:
    transport = request.transport
    return transport is None or transport.is_closing()


def _abandon(abandon: Callable[[], Awaitable[None]]) -> None:
    task: asyncio.Future[None] = asyncio.ensure_future(abandon())
    _abandoning.add(task)
    task.add_done_callback(_abandoning.discard)


def upstream_read_error(call: Call, provider: str, exc: BaseException) -> GatewayError:
    """The error for a failure while reading an upstream's stream (or its cut, at the end of a shutdown's grace)."""
    if call.gateway.stopping:
        return GatewayError(
            ErrorKind.UNAVAILABLE, "The gateway is shutting down and its grace period for streams has ended; the stream was cut"
        )
    return timed_out(provider) if isinstance(exc, asyncio.TimeoutError) else unreachable(provider, type(exc).__name__)


def cut_all(calls: set[Call]) -> None:
    """Close the upstream of every stream still being relayed (the end of a shutdown's grace): each
    relay then ends its stream with its family's error event, and records the call as a 503."""
    for call in list(calls):
        if call.abandon is not None and not call.done:
            _abandon(call.abandon)


UPSTREAM_READ_ERRORS = (aiohttp.ClientError, asyncio.TimeoutError)
