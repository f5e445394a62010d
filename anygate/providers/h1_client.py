"""The upstream calls of the hot path over HTTP/1.1 on `asyncio.Protocol` connections, each response
parsed by httptools (llhttp, in C): kept-alive connections pooled per host, TLS with the system's
trust store, bounded waits (connect, headers, between chunks, a whole call's deadline) and bounded
buffering (reading pauses while a slow reader has 1 MB waiting).

aiohttp's client made the bare pass-through proxy 2.5x slower than this (bench/RESULTS.md, issue 20).
Its errors are aiohttp's (`ClientOSError`, `ServerDisconnectedError`, `ClientPayloadError`) and
`TimeoutError`, so that callers treat both clients alike. Requests carry their whole body (JSON);
streamed uploads stay on aiohttp's client (providers/http.py's pass-through).
"""

from __future__ import annotations

import asyncio
import ssl
import time
import weakref
from collections import deque
from collections.abc import Callable
from typing import Any

import httptools
from aiohttp import ClientOSError, ClientPayloadError, ServerDisconnectedError
from yarl import URL

_HIGH_WATER = 1 << 20  # bytes buffered for a reader before reading from the upstream pauses
_IDLE_SECONDS = 15.0  # a kept-alive connection unused this long is not reused (the server may have closed it)
MAX_HEAD_BYTES = 64 * 1024  # an upstream's status line and headers (aiohttp's client takes 8 KB a line)
_tls: ssl.SSLContext | None = None
_pools: weakref.WeakSet[H1Pool] = weakref.WeakSet()


def _tls_context() -> ssl.SSLContext:
    global _tls
    if _tls is None:
        _tls = ssl.create_default_context()
    return _tls


class H1Response:
    """One upstream answer: its status and headers once they are in, then its body, whole or in
    chunks as they arrive. `release()` when done with it (its connection is reused when the answer was
    read to its end), `close()` to abandon it."""

    def __init__(self, connection: _Connection, deadline: float | None) -> None:
        self._connection = connection
        self._deadline = deadline
        self.status = 0
        self.content_type = ""  # the body's media type, without its parameters, once the headers are in
        self._raw_headers: dict[bytes, bytes] = {}  # as the upstream spelled them (httptools adds them)
        self._headers: dict[str, str] | None = None
        self._chunks: deque[bytes] = deque()
        self._buffered = 0
        self._paused = False
        self._headers_in = False
        self._done = False
        self._keep_alive = False
        self._error: Exception | None = None
        self._waiter: asyncio.Future[None] | None = None

    @property
    def headers(self) -> dict[str, str]:
        """Every header by its lower-case name, decoded when first asked for: the hot path reads one or two
        of them (`header`), and a decode costs as much as a header. A repeated one is its last value; one
        sent in two spellings, the last value of the spelling first seen later (`_raw_headers` keys by
        spelling: A: 1, a: 2, A: 3 reads as 2)."""
        if self._headers is None:
            self._headers = {n.decode("latin-1").lower(): v.decode("latin-1") for n, v in self._raw_headers.items()}
        return self._headers

    def header(self, name: bytes) -> str | None:
        """One header's value by its lower-case name, or None; a repeated one as in `headers`."""
        found = None
        for spelled, value in self._raw_headers.items():
            if spelled.lower() == name:
                found = value
        return None if found is None else found.decode("latin-1")

    @property
    def complete(self) -> bool:
        """Whether the whole body has been received."""
        return self._done

    # fed by the connection

    def _headers_complete(self, status: int) -> None:
        self.status = status
        content_type = self.header(b"content-type")
        if content_type:
            self.content_type = content_type.split(";", 1)[0].strip().lower()
        self._headers_in = True
        self._wake()

    def _body(self, data: bytes) -> None:
        self._chunks.append(data)
        self._buffered += len(data)
        if self._buffered > _HIGH_WATER and not self._paused:
            self._paused = True
            self._connection.pause()
        self._wake()

    def _complete(self, keep_alive: bool) -> None:
        self._done, self._keep_alive = True, keep_alive
        self._wake()

    def _lost(self, exc: Exception | None) -> None:
        if self._done:
            return
        if self._headers_in and exc is None and self._ends_at_close():
            self._complete(False)  # a body whose end is the connection's
            return
        self._error = ServerDisconnectedError() if exc is None else ClientOSError(str(exc))
        self._wake()

    def _failed(self, exc: Exception) -> None:
        self._error = exc
        self._wake()

    def _ends_at_close(self) -> bool:
        return self.header(b"content-length") is None and "chunked" not in (self.header(b"transfer-encoding") or "")

    def _wake(self) -> None:
        waiter = self._waiter
        if waiter is not None and not waiter.done():
            waiter.set_result(None)

    # read by the caller

    async def _wait(self, timeout: float | None) -> None:
        """Until something more has happened; TimeoutError after `timeout` (or at the deadline)."""
        if self._error is not None:
            raise self._error
        if self._deadline is not None:
            left = self._deadline - time.monotonic()
            timeout = left if timeout is None else min(timeout, left)
        loop = asyncio.get_running_loop()
        waiter = self._waiter = loop.create_future()
        timer = loop.call_later(max(timeout, 0.0), _expire, waiter) if timeout is not None else None
        try:
            await waiter  # a timer and a future: a fraction of what asyncio.timeout costs a wait
        finally:
            self._waiter = None
            if timer is not None:
                timer.cancel()
                if waiter.done() and not waiter.cancelled():
                    waiter.exception()  # read, even when a cancellation came first: never reported as lost
        if self._error is not None:
            raise self._error

    async def start(self, timeout: float | None) -> None:
        """Wait for the status and headers."""
        while not self._headers_in:
            await self._wait(timeout)

    def _take(self) -> bytes:
        data = self._chunks[0] if len(self._chunks) == 1 else b"".join(self._chunks)
        self._chunks.clear()
        self._buffered = 0
        if self._paused:
            self._paused = False
            self._connection.resume()
        return data

    async def read(self, limit: int, timeout: float | None) -> bytes | None:
        """The whole body (each wait for more bounded by `timeout`), or None as soon as it passes `limit`
        bytes (never a truncated body)."""
        length = self.header(b"content-length")
        if length is not None and length.isdigit() and int(length) > limit:
            return None
        parts: list[bytes] = []
        size = 0
        while True:
            if self._chunks:
                data = self._take()
                size += len(data)
                if size > limit:
                    return None
                parts.append(data)
            elif self._done:  # llhttp ends a 204's or 304's message at its headers
                return b"".join(parts)
            else:
                await self._wait(timeout)

    async def chunk(self, timeout: float | None) -> bytes:
        """What has arrived since the last call, waiting at most `timeout` for something; b"" at the end."""
        while not self._chunks:
            if self._done:
                return b""
            await self._wait(timeout)
        return self._take()

    def chunks(self, idle: float | None, first: bytes = b"") -> Chunks:
        """The rest of the body as it arrives (after `first`, a chunk already read), each wait at most
        `idle` seconds."""
        return Chunks(self, idle, first)

    def release(self) -> None:
        """Give the connection back when the answer was read to its end; close it otherwise."""
        if self._done and self._keep_alive and self._error is None:
            self._connection.give_back()
        else:
            self._connection.close()

    def close(self) -> None:
        """Abandon the answer: its connection is closed."""
        self._connection.close()


class Chunks:
    """A body's chunks as they arrive: an iterator class rather than an async generator, which would
    cost each stream the event loop's generator bookkeeping (a weak set entry and a finalizer)."""

    __slots__ = ("_response", "_idle", "_first")

    def __init__(self, response: H1Response, idle: float | None, first: bytes) -> None:
        self._response = response
        self._idle = idle
        self._first = first

    def __aiter__(self) -> Chunks:
        return self

    async def __anext__(self) -> bytes:
        if self._first:
            data, self._first = self._first, b""
            return data
        data = await self._response.chunk(self._idle)
        if not data:
            raise StopAsyncIteration
        return data


def _expire(waiter: asyncio.Future[None]) -> None:
    if not waiter.done():
        waiter.set_exception(TimeoutError())


class _Connection(asyncio.Protocol):
    """One connection to an upstream, carrying one request at a time."""

    def __init__(self, pool: H1Pool, key: tuple[str, str, int]) -> None:
        self._pool = pool
        self._key = key
        self.transport: asyncio.Transport | None = None
        self.response: H1Response | None = None
        self.parser: Any = None
        self.on_header: Callable[[bytes, bytes], None] | None = None  # httptools' callback, set by send()
        self._head_bytes = 0  # of the response, while its headers are not all in
        self.closed = False
        self.idle_since = 0.0

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        response = self.response
        if response is None:  # nothing was asked: a server that talks out of turn is not reused
            self.close()
            return
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as exc:
            response._failed(ClientPayloadError(f"the upstream's answer is not valid HTTP ({exc})"))
            self.close()
            return
        if not response._headers_in:
            self._head_bytes += len(data)
            if self._head_bytes > MAX_HEAD_BYTES:
                response._failed(
                    ClientPayloadError(f"the upstream's headers are longer than the gateway takes ({MAX_HEAD_BYTES} bytes)")
                )
                self.close()

    def eof_received(self) -> bool:
        return False  # close the transport: connection_lost follows

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        if self.response is not None:
            self.response._lost(exc)

    # httptools' callbacks (and on_header, set by send())
    def on_headers_complete(self) -> None:
        assert self.response is not None
        self.response._headers_complete(self.parser.get_status_code())

    def on_body(self, body: bytes) -> None:
        assert self.response is not None
        self.response._body(body)

    def on_message_complete(self) -> None:
        assert self.response is not None
        self.response._complete(self.parser.should_keep_alive())

    # used by the response and the pool
    def send(self, request: bytes, deadline: float | None) -> H1Response:
        """Write a request; its response, to be waited on."""
        assert self.transport is not None
        response = self.response = H1Response(self, deadline)
        self.on_header = response._raw_headers.__setitem__  # httptools calls it for each header: no Python frame
        self._head_bytes = 0
        self.parser = httptools.HttpResponseParser(self)
        self.transport.write(request)
        return self.response

    def pause(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.pause_reading()

    def resume(self) -> None:
        if self.transport is not None and not self.closed:
            self.transport.resume_reading()

    def give_back(self) -> None:
        self.response = None
        self.idle_since = time.monotonic()
        self._pool._idle.setdefault(self._key, deque()).append(self)

    def close(self) -> None:
        self.closed = True
        if self.transport is not None:
            self.transport.close()

    def usable(self, now: float) -> bool:
        return (
            not self.closed
            and self.transport is not None
            and not self.transport.is_closing()
            and now - self.idle_since < _IDLE_SECONDS
        )


class H1Pool:
    """Kept-alive connections by (scheme, host, port), made as needed."""

    def __init__(self) -> None:
        self._idle: dict[tuple[str, str, int], deque[_Connection]] = {}
        _pools.add(self)

    async def request(
        self,
        method: str,
        url: str | URL,
        headers: dict[str, str],
        body: bytes | None,
        connect_timeout: float | None,
        deadline: float | None = None,
    ) -> H1Response:
        """Send a request on a pooled connection (or a new one, within `connect_timeout`); its response,
        whose headers are yet to be waited for (`start`). `deadline` (monotonic) bounds the whole call."""
        target = url if isinstance(url, URL) else URL(url)
        scheme, host = target.scheme, target.raw_host or ""
        port = target.port or (443 if scheme == "https" else 80)
        key = (scheme, host, port)
        lines = [f"{method} {target.raw_path_qs} HTTP/1.1", f"Host: {host if target.is_default_port() else f'{host}:{port}'}"]
        for name, value in headers.items():
            if "\r" in value or "\n" in value or "\r" in name or "\n" in name:
                raise ValueError(f"header {name!r} holds a line break")
            lines.append(f"{name}: {value}")
        if body is not None:
            lines.append(f"Content-Length: {len(body)}")
        head = ("\r\n".join(lines) + "\r\n\r\n").encode("latin-1")
        connection = self._reused(key)
        if connection is None:
            connection = await self._connect(key, connect_timeout)
        return connection.send(head + body if body else head, deadline)

    def _reused(self, key: tuple[str, str, int]) -> _Connection | None:
        idle = self._idle.get(key)
        now = time.monotonic()
        while idle:
            connection = idle.pop()
            if connection.usable(now):
                return connection
            connection.close()
        return None

    async def _connect(self, key: tuple[str, str, int], timeout: float | None) -> _Connection:
        scheme, host, port = key
        loop = asyncio.get_running_loop()
        tls = _tls_context() if scheme == "https" else None
        try:
            async with asyncio.timeout(timeout):
                _, connection = await loop.create_connection(
                    lambda: _Connection(self, key), host, port, ssl=tls, server_hostname=host if tls else None
                )
        except OSError as exc:
            raise ClientOSError(exc.errno, f"cannot connect to {host}:{port}: {exc.strerror or exc}") from None
        return connection

    def close(self) -> None:
        """Close every idle connection."""
        for idle in self._idle.values():
            while idle:
                idle.pop().close()


def close_pools() -> None:
    """Close the idle connections of every pool (at the gateway's shutdown)."""
    for pool in list(_pools):
        pool.close()
