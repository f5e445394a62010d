"""One client connection of the gateway's HTTP/1.1 server: an asyncio.Protocol around httptools' parser
(llhttp, Node's). Requests on a connection are answered one at a time, in order (pipelined ones wait,
with reading paused); a response goes out as one write; what a stream writes in one turn of the event
loop (its head, chunks that came together, its end) goes out as one write at the end of that turn.

Bounds: the request line (MAX_LINE_BYTES, else 414), each header and all of them (MAX_FIELD_BYTES,
MAX_HEADER_BYTES, MAX_HEADERS, else 431), the time to send a request's headers and to keep an idle
connection open (the server's sweep, listener.py); malformed input is a 400 and the connection closes.
A handler is not cancelled when its client leaves (it sees the closed transport)."""

from __future__ import annotations

import asyncio
import contextlib
import logging
from collections import deque
from http import HTTPStatus
from typing import TYPE_CHECKING, Any

import httptools
from multidict import CIMultiDict

from anygate.server.web import BadBody, Request, Response, StreamResponse, header_block

if TYPE_CHECKING:
    from anygate.server.listener import HttpServer

log = logging.getLogger(__name__)
MAX_LINE_BYTES = 8190
MAX_FIELD_BYTES = 8190
MAX_HEADER_BYTES = 64 * 1024
MAX_HEADERS = 128
_WHOLE_WRITE = 64 * 1024  # a body past this goes out beside its head rather than copied onto it
_REASONS = {status.value: status.phrase for status in HTTPStatus}
_CONTINUE = b"HTTP/1.1 100 Continue\r\n\r\n"


class _Refused(Exception):
    """A request the connection answers itself, then closes: too long, or malformed."""

    def __init__(self, status: int, message: str) -> None:
        super().__init__(message)
        self.status = status


def _origin_form(url: bytes) -> bytes:
    """The path and query of a request target in absolute form (`http://host/path?query`, as proxies send it)."""
    try:
        parsed = httptools.parse_url(url)
    except httptools.HttpParserInvalidURLError:
        raise _Refused(400, "Malformed request: the request target is not a path or an absolute URL") from None
    return (parsed.path or b"/") + (b"?" + parsed.query if parsed.query else b"")


class HttpConnection(asyncio.Protocol):
    """The server side of one client connection."""

    __slots__ = (
        "server",
        "transport",
        "keep_alive",
        "writing_paused",
        "deadline",
        "_reading_paused",
        "_answers_late",
        "_parser",
        "_url",
        "_headers",
        "_header_bytes",
        "_in_headers",
        "_receiving",
        "_current",
        "_pending",
        "_drain",
        "_refusal",
        "_task",
        "_held",
        "_held_bytes",
        "_flush_due",
    )

    def __init__(self, server: HttpServer) -> None:
        self.server = server
        self.transport: asyncio.Transport | None = None
        self.keep_alive = True
        self.writing_paused = False
        self.deadline: float | None = None  # when the wait for headers (or the idle keep-alive) ends
        self._reading_paused = False
        self._answers_late = False  # at the deadline: a 408 (headers too slow), or a silent close (idle)
        self._parser = httptools.HttpRequestParser(self)
        self._url = b""
        self._headers: list[tuple[str, str]] = []
        self._header_bytes = 0
        self._in_headers = False
        self._receiving: Request | None = None  # the request whose body is being parsed
        self._current: Request | None = None  # the request being answered
        self._pending: deque[Request] = deque()  # pipelined requests, waiting their turn
        self._drain: asyncio.Future[None] | None = None
        self._refusal: _Refused | None = None  # malformed input that came while a request was answered
        self._task: asyncio.Task[None] | None = None  # the answer being made
        self._held: list[bytes] = []  # written by a stream in this turn of the loop, sent at its end
        self._held_bytes = 0
        self._flush_due = False

    # asyncio's protocol
    def connection_made(self, transport: Any) -> None:  # asyncio's or uvloop's transport
        self.transport = transport
        self.server.connections.add(self)
        self._wait_for_headers()

    def data_received(self, data: bytes) -> None:
        if self.deadline is not None and not self._answers_late:
            self.deadline = None  # the idle keep-alive ended
        try:
            self._parser.feed_data(data)
        except httptools.HttpParserUpgrade:  # no protocol is switched to: answered as HTTP/1.1, then closed
            self.keep_alive = False
            self.pause_reading()
        except httptools.HttpParserError as exc:
            refused = exc.__context__ if isinstance(exc.__context__, _Refused) else _Refused(400, f"Malformed request: {exc}")
            if self._receiving is not None:  # in a body: its handler (running or waiting its turn) reads the failure
                self._receiving.fail(BadBody(str(refused)))
                self._receiving = None
                self.keep_alive = False
                self.pause_reading()
            else:
                self._refuse(refused)
            return
        if self._in_headers and self.deadline is None and self._current is None:
            self._wait_for_headers()

    def eof_received(self) -> bool | None:
        return None  # the client is done sending: the transport closes

    def connection_lost(self, exc: Exception | None) -> None:
        self.server.connections.discard(self)
        self.transport = None
        self._held.clear()
        gone = ConnectionResetError("the client closed the connection")
        for request in (self._receiving, self._current, *self._pending):
            if request is not None:
                request.fail(gone)
        self._pending.clear()
        self._wake_drain(gone)

    def pause_writing(self) -> None:
        self.writing_paused = True

    def resume_writing(self) -> None:
        self.writing_paused = False
        self._wake_drain(None)

    # flow control, also as aiohttp's StreamReader asks for it
    @property
    def connected(self) -> bool:
        return self.transport is not None

    def pause_reading(self) -> None:
        if not self._reading_paused and self.transport is not None:
            self._reading_paused = True
            self.transport.pause_reading()

    def resume_reading(self, resume_parser: bool = True) -> None:
        if self._reading_paused and self.transport is not None and not self._pending:
            self._reading_paused = False
            self.transport.resume_reading()

    # httptools' callbacks
    def on_message_begin(self) -> None:
        self._url = b""
        self._headers = []
        self._header_bytes = 0
        self._in_headers = True

    def on_url(self, url: bytes) -> None:
        self._url += url
        if len(self._url) > MAX_LINE_BYTES:
            raise _Refused(414, f"The request's URL is longer than the gateway takes ({MAX_LINE_BYTES} bytes)")

    def on_header(self, name: bytes, value: bytes) -> None:
        self._header_bytes += len(name) + len(value)
        if len(value) > MAX_FIELD_BYTES or self._header_bytes > MAX_HEADER_BYTES or len(self._headers) >= MAX_HEADERS:
            raise _Refused(
                431,
                f"The request's headers are larger than the gateway takes ({MAX_HEADERS} headers, "
                f"{MAX_FIELD_BYTES} bytes each, {MAX_HEADER_BYTES} bytes in all)",
            )
        self._headers.append((name.decode("latin-1"), value.decode("utf-8", "surrogateescape")))

    def on_headers_complete(self) -> None:
        parser = self._parser
        self._in_headers = False
        self.deadline = None
        self._answers_late = False
        version = (1, 1) if parser.get_http_version() == "1.1" else (1, 0)
        target = self._url if self._url.startswith(b"/") else _origin_form(self._url)
        request = Request(
            self,
            parser.get_method().decode("latin-1"),
            target.decode("utf-8", "replace"),
            CIMultiDict(self._headers),
            version,
            self.server.body_timeout,
            parser.should_keep_alive(),
        )
        self._receiving = request
        if self._current is None:
            self._answer(request)
        else:
            self._pending.append(request)
            self.pause_reading()

    def on_body(self, body: bytes) -> None:
        assert self._receiving is not None
        self._receiving.feed(body)

    def on_message_complete(self) -> None:
        assert self._receiving is not None
        self._receiving.feed_eof()
        self._receiving = None

    # answering
    def _answer(self, request: Request) -> None:
        self._current = request
        if not request.body_complete and request.headers.get("Expect", "").lower() == "100-continue":
            self.write(_CONTINUE)
        self._task = asyncio.get_running_loop().create_task(self._respond(request))

    async def _respond(self, request: Request) -> None:
        try:
            response = await self.server.handler(request)
        except asyncio.CancelledError:  # a shutdown's grace ran out
            self.close()
            raise
        except Exception:
            log.exception("unhandled error answering %s %s", request.method, request.path)
            response = Response(status=500, text="Internal gateway error")
        if self.transport is None:
            return
        try:
            if not response.prepared:
                self._send(request, response)
            elif not response.ended:  # a stream its handler left unfinished cannot be delimited now
                self.keep_alive = False
        except ConnectionResetError:  # the client left (or the handler closed the connection) first
            self.close()
            return
        self._finished(request)

    def _send(self, request: Request, response: StreamResponse) -> None:
        try:
            self.write_whole(request, response)
        except ValueError:  # a header that would break the head
            log.exception("a response to %s %s could not be written", request.method, request.path)
            self.write_whole(request, Response(status=500, text="Internal gateway error"))

    def _finished(self, request: Request) -> None:
        self._current = self._task = None
        if not (self.keep_alive and request.keep_alive and request.body_complete) or self.server.stopping:
            self.close()
        elif self._refusal is not None:
            self._refuse(self._refusal)
        elif self._pending:
            self._answer(self._pending.popleft())
        else:
            if self._in_headers:
                self._wait_for_headers()
            else:
                self.deadline = asyncio.get_running_loop().time() + self.server.keepalive_timeout
            self.resume_reading()

    def _standing(self, request: Request, response: StreamResponse) -> bytes:
        """The headers every response has, and whether the connection stays open after it."""
        asked = response.headers.pop("Connection", "").lower()
        if asked == "close" or not request.keep_alive or not request.body_complete or self.server.stopping:
            self.keep_alive = False
        if not self.keep_alive:
            return self.server.standing + b"Connection: close\r\n"
        if request.version < (1, 1):
            return self.server.standing + b"Connection: keep-alive\r\n"
        return self.server.standing

    def write_whole(self, request: Request, response: StreamResponse) -> None:
        """Write a response with its length (no body to a HEAD; none either for a stream never started)."""
        body = response.body if isinstance(response, Response) else b""
        standing = self._standing(request, response) + b"Content-Length: %d\r\n" % len(body)
        head = header_block(response.status, _REASONS.get(response.status, "Unknown"), response.headers.items(), standing)
        if request.method == "HEAD" or not body:
            self.write(head)
        elif len(body) > _WHOLE_WRITE:
            self.write(head)
            self.write(body)
        else:
            self.write(head + body)

    def write_head(self, request: Request, response: StreamResponse) -> None:
        """Write the head of a stream."""
        standing = self._standing(request, response)
        head = header_block(response.status, _REASONS.get(response.status, "Unknown"), response.headers.items(), standing)
        self.write_soon(head)

    def write(self, data: bytes) -> None:
        """Send bytes now, after any held back; ConnectionResetError when the client has gone."""
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the client closed the connection")
        if self._held:
            data = b"".join((*self._held, data))
            self._held.clear()
            self._held_bytes = 0
        transport.write(data)

    def write_soon(self, data: bytes) -> None:
        """Send bytes at the end of this turn of the event loop, together with whatever else is written in
        it (at once past _WHOLE_WRITE); ConnectionResetError when the client has gone."""
        transport = self.transport
        if transport is None or transport.is_closing():
            raise ConnectionResetError("the client closed the connection")
        self._held.append(data)
        self._held_bytes += len(data)
        if self._held_bytes >= _WHOLE_WRITE:
            self.flush()
        elif not self._flush_due:
            self._flush_due = True
            asyncio.get_running_loop().call_soon(self.flush)

    def flush(self) -> None:
        """Send what is held back."""
        self._flush_due = False
        if self._held and self.transport is not None and not self.transport.is_closing():
            self.transport.write(b"".join(self._held))
        self._held.clear()
        self._held_bytes = 0

    async def drain(self) -> None:
        """Wait until the client has read enough of what was written; ConnectionResetError when it left."""
        if not self.writing_paused:
            return
        if self._drain is None:
            self._drain = asyncio.get_running_loop().create_future()
        await self._drain

    def _wake_drain(self, error: Exception | None) -> None:
        waiter, self._drain = self._drain, None
        if waiter is not None and not waiter.done():
            if error is None:
                waiter.set_result(None)
            else:
                waiter.set_exception(error)

    # ending
    def _refuse(self, refused: _Refused) -> None:
        if self._current is not None:  # answered once the request before it is
            self._refusal = refused
            self.pause_reading()
            return
        if refused.status != 408:
            log.warning("refused a request: %s %s", refused.status, refused)
        body = f"{refused.status} {_REASONS[refused.status]}: {refused}\n".encode()
        standing = self.server.standing + b"Connection: close\r\nContent-Length: %d\r\n" % len(body)
        fields = [("Content-Type", "text/plain; charset=utf-8")]
        with contextlib.suppress(ConnectionResetError):  # the client has gone: no one to tell
            self.write(header_block(refused.status, _REASONS[refused.status], fields, standing) + body)
        self.close()

    def _wait_for_headers(self) -> None:
        self.deadline = asyncio.get_running_loop().time() + self.server.header_timeout
        self._answers_late = True

    def expire(self) -> None:
        """The deadline passed (the server's sweep): too slow with its headers (408), or idle too long."""
        self.deadline = None
        if self.transport is None or self._current is not None:
            return
        if self._answers_late:
            self._refuse(_Refused(408, "The request's headers did not arrive in time"))
        else:
            self.close()

    @property
    def task(self) -> asyncio.Task[None] | None:
        """The answer being made, if any."""
        return self._task

    def close(self) -> None:
        """Close the connection (what was written still goes out)."""
        self.keep_alive = False
        if self.transport is not None:
            self.flush()
            self.transport.close()
