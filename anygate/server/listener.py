"""The listening socket, with the bounds aiohttp's server does not have: at most `max_connections` open
at once (a connection past it is answered 503 and closed), and a connection whose first request's
headers are not in within `header_timeout_seconds` is answered 408 and closed. With the body timeout
(`server.json_body`) and aiohttp's keep-alive timeout, no connection can be held open by a client that
sends slowly or not at all."""

from __future__ import annotations

import asyncio
import logging
import resource
from typing import Any

from aiohttp import web

from anygate.config import ServerConfig

log = logging.getLogger(__name__)
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
_LATE = b"HTTP/1.1 408 Request Timeout\r\nConnection: close\r\nContent-Length: 0\r\n\r\n"
_RESERVED_FILES = 256  # descriptors kept for the database, upstream connections and logs


def connection_cap(configured: int | None) -> int:
    """The most connections to hold open: as configured, else what the process's file limit leaves."""
    if configured is not None:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(64, min(soft - _RESERVED_FILES, 10_000)) if soft != resource.RLIM_INFINITY else 10_000


class _Guarded(asyncio.Protocol):
    """aiohttp's protocol for one connection until its first request's headers are in: refused when the
    server holds too many connections, closed when the headers are late. Then it hands the transport to
    aiohttp's protocol itself, so that the rest of the connection costs nothing here."""

    __slots__ = ("_header_timeout", "_inner", "_tail", "_timer", "_transport")

    def __init__(self, inner: Any, header_timeout: float) -> None:
        self._inner = inner
        self._header_timeout = header_timeout
        self._timer: asyncio.TimerHandle | None = None
        self._tail = b""
        self._transport: Any = None

    def connection_made(self, transport: Any) -> None:  # asyncio's or uvloop's transport
        self._transport = transport
        self._timer = asyncio.get_running_loop().call_later(self._header_timeout, self._too_slow)
        self._inner.connection_made(transport)

    def _too_slow(self) -> None:
        self._timer = None
        if not self._transport.is_closing():
            self._transport.write(_LATE)
            self._transport.close()

    def data_received(self, data: bytes) -> None:
        self._tail = self._tail[-3:] + data
        if self._timer is not None and b"\r\n\r\n" in self._tail:  # the headers are in: aiohttp's own timeouts take over
            self._timer.cancel()
            self._timer = None
            self._transport.set_protocol(self._inner)
        self._inner.data_received(data)

    def eof_received(self) -> bool | None:
        return self._inner.eof_received()  # type: ignore[no-any-return]

    def connection_lost(self, exc: Exception | None) -> None:
        if self._timer is not None:
            self._timer.cancel()
        self._inner.connection_lost(exc)

    def pause_writing(self) -> None:
        self._inner.pause_writing()

    def resume_writing(self) -> None:
        self._inner.resume_writing()


class _Busy(asyncio.Protocol):
    """A connection past the cap: answered 503 and closed."""

    def connection_made(self, transport: Any) -> None:
        transport.write(_BUSY)
        transport.close()


class GuardedSite(web.BaseSite):
    """A TCP site whose connections are counted and timed (see the module's docstring)."""

    def __init__(self, runner: web.BaseRunner, host: str, port: int, reuse_port: bool, settings: ServerConfig) -> None:
        super().__init__(runner, backlog=1024)
        self._host, self._port, self._reuse_port = host, port, reuse_port
        self._cap = connection_cap(settings.max_connections)
        self._header_timeout = settings.header_timeout_seconds
        self._warned = False

    @property
    def name(self) -> str:
        return f"http://{self._host}:{self._port}"

    async def start(self) -> None:
        await super().start()
        server = self._runner.server
        assert server is not None

        def protocol() -> asyncio.Protocol:
            if len(server.connections) < self._cap:
                self._warned = False
                return _Guarded(server(), self._header_timeout)
            if not self._warned:
                self._warned = True
                log.error("%d connections are open, the most allowed (server.max_connections): new ones get a 503", self._cap)
            return _Busy()

        self._server = await asyncio.get_running_loop().create_server(
            protocol, self._host, self._port, backlog=self._backlog, reuse_address=True, reuse_port=self._reuse_port or None
        )
