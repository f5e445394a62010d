"""The request and the responses a handler sees: the part of aiohttp.web's interface the gateway uses,
on the gateway's own HTTP/1.1 server (server/connection.py), at a fraction of its cost a request.

A request's body is kept as it arrives; `read()` hands it over whole (at most MAX_BODY_BYTES), and
`content` (for streamed uploads) turns it into a stream read as it comes, with flow control."""

from __future__ import annotations

import asyncio
import io
from collections.abc import Awaitable, Callable, Iterable, Mapping
from typing import TYPE_CHECKING, Any, cast
from urllib.parse import parse_qsl, unquote

import orjson
from aiohttp import MultipartReader, StreamReader
from aiohttp.web import FileField as FileField  # what `post()` gives for a file
from multidict import CIMultiDict, CIMultiDictProxy, MultiDict, MultiDictProxy

if TYPE_CHECKING:
    from anygate.server.connection import HttpConnection

MAX_BODY_BYTES = 64 * 1024 * 1024  # what `read()` and `post()` take; streamed uploads have their own limits
_STREAM_LIMIT = 2**16  # a streamed body's buffer: reading pauses past twice this
_EMPTY_QUERY: MultiDictProxy[str] = MultiDictProxy(MultiDict())


class BodyTooLarge(Exception):
    """The body is larger than `read()` takes (MAX_BODY_BYTES)."""


class BadBody(ValueError):
    """The body's framing is broken (a malformed chunk): it cannot be read to its end."""


class Request:
    """One HTTP request: its line, headers, route parameters and body."""

    __slots__ = (
        "method",
        "raw_path",
        "path",
        "query_string",
        "headers",
        "version",
        "keep_alive",
        "match_info",
        "body_timeout",
        "_connection",
        "_chunks",
        "_size",
        "_complete",
        "_too_large",
        "_waiter",
        "_stream",
        "_query",
        "_failure",
    )

    def __init__(
        self,
        connection: HttpConnection,
        method: str,
        raw_path: str,
        headers: CIMultiDict[str],
        version: tuple[int, int],
        body_timeout: float,
        keep_alive: bool,
    ) -> None:
        self._connection = connection
        self.keep_alive = keep_alive  # what the client asked for
        self.method = method
        path, _, self.query_string = raw_path.partition("?")
        self.raw_path = raw_path
        self.path = unquote(path) if "%" in path else path
        self.headers = CIMultiDictProxy(headers)
        self.version = version
        self.match_info: dict[str, str] = {}
        self.body_timeout = body_timeout
        self._chunks: list[bytes] = []
        self._size = 0
        self._complete = False
        self._too_large = False
        self._waiter: asyncio.Future[None] | None = None
        self._stream: StreamReader | None = None
        self._query: MultiDictProxy[str] | None = None
        self._failure: BaseException | None = None

    # what handlers read
    @property
    def query(self) -> MultiDictProxy[str]:
        """The query string's parameters, decoded (`+` as a space), blanks kept."""
        if self._query is None:
            if not self.query_string:
                self._query = _EMPTY_QUERY
            else:
                self._query = MultiDictProxy(MultiDict(parse_qsl(self.query_string, keep_blank_values=True)))
        return self._query

    @property
    def transport(self) -> asyncio.Transport | None:
        """The client's connection (None once it is gone)."""
        return self._connection.transport

    @property
    def content_type(self) -> str:
        """The media type of the body, without its parameters ('application/octet-stream' when none is given)."""
        raw = self.headers.get("Content-Type")
        return raw.partition(";")[0].strip().lower() if raw else "application/octet-stream"

    @property
    def content_length(self) -> int | None:
        """The declared length of the body (None when it is chunked or not declared)."""
        raw = self.headers.get("Content-Length")
        return int(raw) if raw is not None and raw.isdigit() else None

    @property
    def can_read_body(self) -> bool:
        """Whether the request has a body that has not yet been taken."""
        return self._stream is None and (self._size > 0 or not self._complete)

    @property
    def body_complete(self) -> bool:
        """Whether the whole body is in (nothing to wait for)."""
        return self._complete

    async def read(self) -> bytes:
        """The whole body; BodyTooLarge past MAX_BODY_BYTES, ConnectionResetError when the client left first."""
        while not self._complete and self._failure is None:
            self._waiter = asyncio.get_running_loop().create_future()
            await self._waiter
        if self._failure is not None:
            raise self._failure
        if self._too_large:
            raise BodyTooLarge()
        chunks = self._chunks
        return chunks[0] if len(chunks) == 1 else b"".join(chunks)

    @property
    def content(self) -> StreamReader:
        """The body as a stream, read as it arrives (what aiohttp's multipart reader takes)."""
        if self._stream is None:
            self._stream = StreamReader(cast(Any, self._connection), _STREAM_LIMIT, loop=asyncio.get_running_loop())
            for chunk in self._chunks:
                self._stream.feed_data(chunk)
            self._chunks = []
            if self._failure is not None:
                self._stream.set_exception(self._failure)
            elif self._complete:
                self._stream.feed_eof()
        return self._stream

    async def multipart(self) -> MultipartReader:
        """A reader of the multipart body, part by part."""
        return MultipartReader(self.headers, self.content)

    async def post(self) -> MultiDictProxy[str | FileField]:
        """The form in the body (url-encoded or multipart; files held in memory), at most MAX_BODY_BYTES."""
        if self.content_type == "application/x-www-form-urlencoded":
            raw = await self.read()
            return MultiDictProxy(MultiDict(parse_qsl(raw.decode("utf-8"), keep_blank_values=True)))
        form: MultiDict[str | FileField] = MultiDict()
        reader = await self.multipart()
        size = 0
        while (part := await reader.next()) is not None:
            if isinstance(part, MultipartReader):
                raise ValueError("nested multipart forms are not taken")
            data = bytearray()
            while chunk := await part.read_chunk():
                size += len(chunk)
                if size > MAX_BODY_BYTES:
                    raise BodyTooLarge()
                data += part.decode(chunk)
            name = part.name or ""
            if part.filename is None:
                form.add(name, data.decode(part.get_charset(default="utf-8")))
            else:
                kind = part.headers.get("Content-Type", "application/octet-stream")
                form.add(name, FileField(name, part.filename, io.BytesIO(bytes(data)), kind, part.headers))
        return MultiDictProxy(form)

    # fed by the connection
    def feed(self, chunk: bytes) -> None:
        """A piece of the body, as it came off the wire."""
        if self._stream is not None:
            self._stream.feed_data(chunk)
            return
        self._size += len(chunk)
        if self._size > MAX_BODY_BYTES:
            self._too_large = True
            self._chunks = []
        elif not self._too_large:
            self._chunks.append(chunk)

    def feed_eof(self) -> None:
        """The body is complete."""
        self._complete = True
        if self._stream is not None:
            self._stream.feed_eof()
        self._wake()

    def fail(self, error: BaseException) -> None:
        """The connection was lost before the body was complete."""
        if self._complete:
            return
        self._failure = error
        if self._stream is not None:
            self._stream.set_exception(error)
        self._wake()

    def _wake(self) -> None:
        waiter, self._waiter = self._waiter, None
        if waiter is not None and not waiter.done():
            waiter.set_result(None)


class StreamResponse:
    """A response whose body is written piece by piece after `prepare` (chunked on HTTP/1.1)."""

    __slots__ = ("status", "headers", "_connection", "_chunked", "_ended")

    def __init__(self, *, status: int = 200, headers: Mapping[str, str] | None = None) -> None:
        self.status = status
        self.headers: CIMultiDict[str] = CIMultiDict(headers) if headers else CIMultiDict()
        self._connection: HttpConnection | None = None
        self._chunked = False
        self._ended = False

    @property
    def prepared(self) -> bool:
        """Whether the head has been sent."""
        return self._connection is not None

    @property
    def ended(self) -> bool:
        """Whether the whole body has been written."""
        return self._ended

    async def prepare(self, request: Request) -> None:
        """Send the head; ConnectionResetError when the client has gone."""
        connection = request._connection
        assert self._connection is None
        self._connection = connection
        self._chunked = request.version >= (1, 1)
        if self._chunked:
            self.headers["Transfer-Encoding"] = "chunked"
        else:  # an HTTP/1.0 client: the body ends when the connection does
            connection.keep_alive = False
        connection.write_head(request, self)

    async def write(self, data: bytes) -> None:
        """Send a piece of the body (waiting while the client reads slowly); ConnectionResetError when it has gone."""
        connection = self._connection
        assert connection is not None and not self._ended
        if not data:
            return
        connection.write_soon(b"%x\r\n%b\r\n" % (len(data), data) if self._chunked else data)
        if connection.writing_paused:
            await connection.drain()

    async def write_eof(self) -> None:
        """End the body."""
        connection = self._connection
        assert connection is not None
        if self._ended:
            return
        self._ended = True
        if self._chunked:
            connection.write_soon(b"0\r\n\r\n")


class Response(StreamResponse):
    """A response sent whole, with its length."""

    __slots__ = ("body",)

    def __init__(
        self,
        *,
        status: int = 200,
        body: bytes | None = None,
        text: str | None = None,
        content_type: str | None = None,
        charset: str | None = None,
        headers: Mapping[str, str] | None = None,
    ) -> None:
        super().__init__(status=status, headers=headers)
        if text is not None:
            body = text.encode(charset or "utf-8")
            content_type, charset = content_type or "text/plain", charset or "utf-8"
        self.body = body or b""
        if content_type is not None:
            self.headers["Content-Type"] = f"{content_type}; charset={charset}" if charset else content_type
        elif body is not None and "Content-Type" not in self.headers:
            self.headers["Content-Type"] = "application/octet-stream"


def json_response(data: Any, *, status: int = 200, headers: Mapping[str, str] | None = None) -> Response:
    """A JSON response of `data`."""
    return Response(body=orjson.dumps(data), status=status, content_type="application/json", charset="utf-8", headers=headers)


Handler = Callable[[Request], Awaitable[StreamResponse]]


def header_block(status: int, reason: str, headers: Iterable[tuple[str, str]], standing: bytes) -> bytes:
    """The head of a response: the status line, `standing` (the headers every response has) and `headers`;
    ValueError when a header would break the head (a line break in it)."""
    fields = [f"{name}: {value}\r\n" for name, value in headers]
    lines = "".join(fields)
    if lines.count("\n") != len(fields) or lines.count("\r") != len(fields):
        raise ValueError("a response header holds a line break")
    return b"HTTP/1.1 %d %b\r\n%b%b\r\n" % (status, reason.encode(), standing, lines.encode())
