"""The listening socket and its connections: at most `max_connections` open at once (a connection past
it is answered 503 and closed); a connection that takes longer than `header_timeout_seconds` to send a
request's headers is answered 408 and closed, and one idle between requests for KEEPALIVE_SECONDS is
closed. With the body timeout (server/json_body.py), no client that sends slowly or not at all can
hold a connection. The deadlines are looked at by one sweep a second, not a timer per request."""

from __future__ import annotations

import asyncio
import logging
import resource
import time
from email.utils import formatdate
from typing import Any

from anygate.config import ServerConfig
from anygate.server.connection import HttpConnection
from anygate.server.web import Handler

log = logging.getLogger(__name__)
KEEPALIVE_SECONDS = 75.0
_BUSY = b"HTTP/1.1 503 Service Unavailable\r\nServer: anygate\r\nConnection: close\r\nRetry-After: 1\r\nContent-Length: 0\r\n\r\n"
_RESERVED_FILES = 256  # descriptors kept for the database, upstream connections and logs


def connection_cap(configured: int | None) -> int:
    """The most connections to hold open: as configured, else what the process's file limit leaves."""
    if configured is not None:
        return configured
    soft, _ = resource.getrlimit(resource.RLIMIT_NOFILE)
    return max(64, min(soft - _RESERVED_FILES, 10_000)) if soft != resource.RLIM_INFINITY else 10_000


class _Busy(asyncio.Protocol):
    """A connection past the cap: answered 503 and closed."""

    def connection_made(self, transport: Any) -> None:
        transport.write(_BUSY)
        transport.close()


class HttpServer:
    """The gateway's HTTP/1.1 server: `handler` answers each request."""

    def __init__(self, handler: Handler, settings: ServerConfig) -> None:
        self.handler = handler
        self.header_timeout = settings.header_timeout_seconds
        self.body_timeout = settings.body_timeout_seconds
        self.keepalive_timeout = KEEPALIVE_SECONDS
        self.connections: set[HttpConnection] = set()
        self.stopping = False
        self.standing = b""  # the headers of every response: Server and Date (renewed by the sweep)
        self.port = 0
        self._cap = connection_cap(settings.max_connections)
        self._warned = False
        self._listener: asyncio.Server | None = None
        self._sweeper: asyncio.TimerHandle | None = None
        self._sweep_every = min(1.0, self.header_timeout / 4)

    async def start(self, host: str, port: int, reuse_port: bool = False) -> None:
        """Listen on host:port (sharing the port with other workers when `reuse_port`)."""
        self._sweep()
        self._listener = await asyncio.get_running_loop().create_server(
            self._protocol, host, port, backlog=1024, reuse_address=True, reuse_port=reuse_port or None
        )
        self.port = int(self._listener.sockets[0].getsockname()[1])  # the one chosen, when started on port 0

    def _protocol(self) -> asyncio.Protocol:
        if len(self.connections) < self._cap:
            self._warned = False
            return HttpConnection(self)
        if not self._warned:
            self._warned = True
            log.error("%d connections are open, the most allowed (server.max_connections): new ones get a 503", self._cap)
        return _Busy()

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        now = loop.time()
        self.standing = b"Server: anygate\r\nDate: %b\r\n" % formatdate(time.time(), usegmt=True).encode()
        for connection in [c for c in self.connections if c.deadline is not None and c.deadline <= now]:
            connection.expire()
        self._sweeper = loop.call_later(self._sweep_every, self._sweep)

    def stop_listening(self) -> None:
        """Take no new connections, and close those waiting between requests (a shutdown's first step)."""
        self.stopping = True
        if self._listener is not None:
            self._listener.close()
        for connection in list(self.connections):
            if connection.task is None:
                connection.close()

    async def finish(self, grace: float) -> None:
        """Wait up to `grace` seconds for the requests in flight, cancel those still running, close everything."""
        tasks = [c.task for c in self.connections if c.task is not None]
        if tasks:
            _, late = await asyncio.wait(tasks, timeout=grace)
            for task in late:
                task.cancel()
            if late:
                await asyncio.wait(late, timeout=5)
        for connection in list(self.connections):
            connection.close()
        if self._sweeper is not None:
            self._sweeper.cancel()
        if self._listener is not None:
            await self._listener.wait_closed()
