"""Bare pass-through proxies built from the candidate HTTP layers, to measure each before choosing one
(issue 20): the same work as bare_proxy.py (read the body, POST it upstream on a pooled keep-alive
connection, answer with the upstream's body, or relay its event stream as it comes), no logic.

    python bench/candidates.py SERVER CLIENT UPSTREAM PORT [--loop asyncio|uvloop]

SERVER: `aiohttp` (aiohttp.web), `protocol` (an asyncio.Protocol with httptools' C parser, keep-alive,
requests answered in order). CLIENT: `aiohttp` (a pooled ClientSession), `protocol` (a pool of
keep-alive connections, each an asyncio.Protocol with httptools' response parser). granian's RSGI
server runs the `rsgi_app` below: `granian --interface rsgi bench.candidates:rsgi_app` with
CANDIDATE_UPSTREAM set. Measurement tools only: not hardened, not used by the gateway.
"""

from __future__ import annotations

import asyncio
import os
import sys
from collections import deque
from collections.abc import AsyncIterator, Callable
from typing import Any
from urllib.parse import urlsplit

import httptools

UPSTREAM_HEADERS = {"Content-Type": "application/json", "Authorization": "Bearer x"}

# an upstream answer: (status, content type, whole body or None, chunks of a stream or None)
Answer = tuple[int, str, bytes | None, AsyncIterator[bytes] | None]


class _AiohttpClient:
    def __init__(self, upstream: str) -> None:
        import aiohttp

        self._base = upstream
        self._session = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=0))

    async def post(self, path: str, body: bytes) -> Answer:
        resp = await self._session.post(self._base + path, data=body, headers=UPSTREAM_HEADERS)
        if resp.content_type == "text/event-stream":

            async def chunks() -> AsyncIterator[bytes]:
                async for chunk in resp.content.iter_any():
                    yield chunk
                resp.release()

            return resp.status, resp.content_type, None, chunks()
        data = await resp.read()
        resp.release()
        return resp.status, resp.content_type, data, None


class _UpstreamConnection(asyncio.Protocol):
    """One keep-alive connection to the upstream; one request at a time."""

    def __init__(self) -> None:
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.content_type = ""
        self.stream: asyncio.Queue[bytes | None] | None = None
        self.body: list[bytes] = []
        self.headers_done: asyncio.Future[None] | None = None
        self.done: asyncio.Future[None] | None = None
        self.reusable = True

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.parser.feed_data(data)

    def connection_lost(self, exc: Exception | None) -> None:
        self.reusable = False
        for future in (self.headers_done, self.done):
            if future is not None and not future.done():
                future.set_exception(ConnectionError("upstream closed"))
        if self.stream is not None:
            self.stream.put_nowait(None)

    def on_header(self, name: bytes, value: bytes) -> None:
        if name.lower() == b"content-type":
            self.content_type = value.decode().split(";")[0].strip()

    def on_headers_complete(self) -> None:
        if self.content_type == "text/event-stream":
            self.stream = asyncio.Queue()
        assert self.headers_done is not None
        self.headers_done.set_result(None)

    def on_body(self, body: bytes) -> None:
        if self.stream is not None:
            self.stream.put_nowait(body)
        else:
            self.body.append(body)

    def on_message_complete(self) -> None:
        self.reusable = self.parser.should_keep_alive()
        if self.stream is not None:
            self.stream.put_nowait(None)
        assert self.done is not None
        self.done.set_result(None)


class _ProtocolClient:
    def __init__(self, upstream: str) -> None:
        parts = urlsplit(upstream)
        self._host, self._port = parts.hostname or "127.0.0.1", parts.port or 80
        self._prefix = parts.path.rstrip("/")
        self._idle: deque[_UpstreamConnection] = deque()

    async def post(self, path: str, body: bytes) -> Answer:
        conn = self._idle.pop() if self._idle else None
        if conn is None or conn.transport is None or conn.transport.is_closing():
            loop = asyncio.get_running_loop()
            _, conn = await loop.create_connection(_UpstreamConnection, self._host, self._port)
        loop = asyncio.get_running_loop()
        conn.parser = httptools.HttpResponseParser(conn)
        conn.content_type, conn.stream, conn.body = "", None, []
        conn.headers_done, conn.done = loop.create_future(), loop.create_future()
        head = (
            f"POST {self._prefix}{path} HTTP/1.1\r\nHost: {self._host}:{self._port}\r\nContent-Type: application/json\r\n"
            f"Authorization: Bearer x\r\nContent-Length: {len(body)}\r\n\r\n"
        ).encode()
        assert conn.transport is not None
        conn.transport.write(head + body)
        await conn.headers_done
        status = conn.parser.get_status_code()
        if conn.stream is not None:
            queue = conn.stream

            async def chunks() -> AsyncIterator[bytes]:
                while (chunk := await queue.get()) is not None:
                    yield chunk
                self._release(conn)

            return status, conn.content_type, None, chunks()
        await conn.done
        self._release(conn)
        return status, conn.content_type, b"".join(conn.body), None

    def _release(self, conn: _UpstreamConnection) -> None:
        if conn.reusable and conn.transport is not None and not conn.transport.is_closing():
            self._idle.append(conn)


def client(kind: str, upstream: str) -> _AiohttpClient | _ProtocolClient:
    """The candidate upstream client of `kind`."""
    return _AiohttpClient(upstream) if kind == "aiohttp" else _ProtocolClient(upstream)


# servers


def run_aiohttp(make_client: Callable[[], Any], port: int) -> None:
    """aiohttp.web in front of the client."""
    from aiohttp import web

    async def on_startup(app: web.Application) -> None:
        app["client"] = make_client()

    async def handle(request: web.Request) -> web.StreamResponse:
        status, content_type, data, chunks = await request.app["client"].post(request.path, await request.read())
        if chunks is None:
            return web.Response(body=data, status=status, content_type=content_type)
        resp = web.StreamResponse(status=status, headers={"Content-Type": content_type})
        await resp.prepare(request)
        async for chunk in chunks:
            await resp.write(chunk)
        await resp.write_eof()
        return resp

    app = web.Application()
    app.on_startup.append(on_startup)
    app.router.add_post("/{tail:.*}", handle)
    web.run_app(app, host="127.0.0.1", port=port, print=None, access_log=None)


class _ServerConnection(asyncio.Protocol):
    """One client connection: requests parsed by httptools, answered one after another."""

    def __init__(self, upstream: Any) -> None:
        self.upstream = upstream
        self.parser = httptools.HttpRequestParser(self)
        self.transport: asyncio.Transport | None = None
        self.url = b""
        self.body: list[bytes] = []
        self.queue: deque[tuple[bytes, bytes, bool]] = deque()
        self.busy = False

    def connection_made(self, transport: Any) -> None:
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError:
            assert self.transport is not None
            self.transport.write(b"HTTP/1.1 400 Bad Request\r\nContent-Length: 0\r\nConnection: close\r\n\r\n")
            self.transport.close()

    def on_message_begin(self) -> None:
        self.url, self.body = b"", []

    def on_url(self, url: bytes) -> None:
        self.url += url

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        self.queue.append((self.url, b"".join(self.body), self.parser.should_keep_alive()))
        if not self.busy:
            self.busy = True
            asyncio.get_running_loop().create_task(self._answer_all())

    async def _answer_all(self) -> None:
        transport = self.transport
        assert transport is not None
        while self.queue:
            url, body, keep_alive = self.queue.popleft()
            status, content_type, data, chunks = await self.upstream.post(url.decode(), body)
            if chunks is None:
                assert data is not None
                transport.write(
                    f"HTTP/1.1 {status} OK\r\nContent-Type: {content_type}\r\nContent-Length: {len(data)}\r\n\r\n".encode() + data
                )
            else:
                transport.write(
                    f"HTTP/1.1 {status} OK\r\nContent-Type: {content_type}\r\nTransfer-Encoding: chunked\r\n\r\n".encode()
                )
                async for chunk in chunks:
                    transport.write(b"%x\r\n%b\r\n" % (len(chunk), chunk))
                transport.write(b"0\r\n\r\n")
            if not keep_alive:
                transport.close()
                return
        self.busy = False


def run_protocol(make_client: Callable[[], Any], port: int) -> None:
    """The asyncio.Protocol server in front of the client."""

    async def main() -> None:
        upstream = make_client()
        server = await asyncio.get_running_loop().create_server(
            lambda: _ServerConnection(upstream), "127.0.0.1", port, backlog=4096
        )
        await server.serve_forever()

    asyncio.run(main())


# granian's RSGI interface: the upstream from CANDIDATE_UPSTREAM, the client from CANDIDATE_CLIENT

_rsgi_client: Any = None


async def rsgi_app(scope: Any, protocol: Any) -> None:
    """One request under granian: its body to the upstream, the answer back whole or streamed."""
    global _rsgi_client
    if _rsgi_client is None:
        _rsgi_client = client(os.environ.get("CANDIDATE_CLIENT", "aiohttp"), os.environ["CANDIDATE_UPSTREAM"])
    status, content_type, data, chunks = await _rsgi_client.post(scope.path, await protocol())
    if chunks is None:
        protocol.response_bytes(status, [("content-type", content_type)], data)
        return
    transport = protocol.response_stream(status, [("content-type", content_type)])
    async for chunk in chunks:
        await transport.send_bytes(chunk)


def main(argv: list[str]) -> None:
    """SERVER CLIENT UPSTREAM PORT [--loop asyncio|uvloop]."""
    server, kind, upstream, port = argv[1], argv[2], argv[3], int(argv[4])
    if "--loop" not in argv or argv[argv.index("--loop") + 1] == "uvloop":
        import uvloop

        uvloop.install()
    runners: dict[str, Callable[[Callable[[], Any], int], None]] = {"aiohttp": run_aiohttp, "protocol": run_protocol}
    runners[server](lambda: client(kind, upstream), port)


if __name__ == "__main__":
    main(sys.argv)
