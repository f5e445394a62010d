"""The HTTP call every HTTP upstream makes: one POST of JSON on the pooled client, failures mapped.

JSON calls (the hot path: generation, and a task's submit and query) go over providers/h1_client.py;
the pass-through routes, whose uploads stream from the client, over aiohttp's client."""

from __future__ import annotations

import time
from collections.abc import AsyncIterable, Awaitable, Callable
from typing import Any, TypeVar

import aiohttp
import orjson
from yarl import URL

from anygate.config import ProviderConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.outbound import read_bounded
from anygate.providers.base import Reply
from anygate.providers.h1_client import H1Pool, H1Response
from anygate.providers.upstream_errors import json_object, timed_out, unreachable, upstream_error

T = TypeVar("T")
_ERROR_BODY_LIMIT = 64 * 1024
_BODY_LIMIT = 256 * 1024 * 1024  # a whole answer (a batch of images in base64 is the largest)


class HttpUpstream:
    """POSTs JSON to one upstream; answers a whole JSON body or the stream's bytes to relay."""

    def __init__(self, name: str, config: ProviderConfig, http: aiohttp.ClientSession, headers: dict[str, str]) -> None:
        self.name = name
        self._http = http
        self._headers = {"Content-Type": "application/json", **headers}
        self._secrets = tuple(s for s in config.secrets() if s)
        # sock_read bounds the wait for the headers; once they are in, it becomes the idle timeout
        self._timeout = aiohttp.ClientTimeout(
            total=config.timeout_seconds, connect=config.connect_timeout_seconds, sock_read=config.first_byte_timeout_seconds
        )
        self._idle = config.idle_timeout_seconds
        self._connect = config.connect_timeout_seconds
        self._first_byte = config.first_byte_timeout_seconds
        self._total = config.timeout_seconds
        self._pool = H1Pool()

    def post(
        self,
        url: str,
        body: dict[str, Any],
        stream: bool,
        headers: dict[str, str] | None = None,
        stream_type: str = "text/event-stream",
    ) -> Awaitable[Reply]:
        """POST `body`; a stream is relayed when it comes as `stream_type`. Raises GatewayError when the
        upstream fails before answering."""
        return self._call("POST", url, orjson.dumps(body), stream, headers, stream_type)

    def post_signed(
        self, url: str, data: bytes, stream: bool, headers: dict[str, str], stream_type: str = "text/event-stream"
    ) -> Awaitable[Reply]:
        """POST `data` to `url` exactly as they were signed: the URL's path as it is written (not
        requoted), the body's bytes as they are."""
        return self._call("POST", URL(url, encoded=True), data, stream, headers, stream_type)

    async def call_json(
        self, method: str, url: str, body: dict[str, Any] | None = None, headers: dict[str, str] | None = None
    ) -> dict[str, Any]:
        """One call answered with a JSON object (a task submit or query); GatewayError otherwise."""
        reply = await self._call(method, url, orjson.dumps(body) if body is not None else None, False, headers, "")
        return json_object(reply.body or b"", self.name)

    async def _call(
        self, method: str, url: str | URL, data: bytes | None, stream: bool, headers: dict[str, str] | None, stream_type: str
    ) -> Reply:
        resp = await self._start(method, url, data, headers)
        if stream and resp.content_type == stream_type:
            return await self._first_chunk(resp)
        raw = await self._read(resp, _BODY_LIMIT)
        if raw is None:
            raise _too_large(self.name)
        if resp.content_type != "application/json" or stream:
            wanted = stream_type if stream else "JSON"
            raise GatewayError(
                ErrorKind.UPSTREAM,
                f"upstream '{self.name}' answered with {resp.content_type or 'no content type'}, not {wanted}",
                code="upstream_bad_response",
            )
        return Reply(body=raw)

    async def _start(self, method: str, url: str | URL, data: bytes | None, headers: dict[str, str] | None) -> H1Response:
        """The upstream's response once its headers are in and say it succeeded; GatewayError otherwise."""
        deadline = time.monotonic() + self._total if self._total else None
        resp: H1Response | None = None
        try:
            resp = await self._pool.request(
                method, url, {**self._headers, **headers} if headers else self._headers, data, self._connect, deadline
            )
            await resp.start(self._first_byte)
        except TimeoutError:
            if resp is not None:
                resp.close()
            raise timed_out(self.name) from None
        except aiohttp.ClientError as exc:
            raise unreachable(self.name, type(exc).__name__) from None
        if resp.status >= 400:
            try:
                body = await self._read(resp, _ERROR_BODY_LIMIT) or b""
            except GatewayError:
                body = b""
            raise self._refusal(resp.status, body, resp.header(b"retry-after"))
        if resp.status >= 300:
            resp.close()
            raise _redirected(self.name, resp.status)
        return resp

    async def _failing(self, resp: H1Response, reading: Awaitable[T]) -> T:
        """What `reading` (a read of `resp`) gives; when the upstream fails meanwhile, `resp` is closed and
        the failure is the gateway's error for it."""
        try:
            return await reading
        except TimeoutError:
            resp.close()
            raise timed_out(self.name) from None
        except aiohttp.ClientError as exc:
            resp.close()
            raise unreachable(self.name, type(exc).__name__) from None

    async def _read(self, resp: H1Response, limit: int) -> bytes | None:
        """The whole body, bounded in size and in each wait (the first-byte timeout); None when too large."""
        raw = await self._failing(resp, resp.read(limit, self._first_byte))
        if raw is None:
            resp.close()
        else:
            resp.release()
        return raw

    async def _first_chunk(self, resp: H1Response) -> Reply:
        """The stream's reply, once its first chunk is in (within the first-byte timeout): until then a
        silent upstream can still be retried. The rest comes within the idle timeout of each other."""
        first = await self._failing(resp, resp.chunk(self._first_byte))

        async def close() -> None:
            resp.release()  # the connection goes back when the stream was read to its end; else it is closed

        return Reply(chunks=resp.chunks(self._idle, first), close=close)

    def _refusal(self, status: int, body: bytes, retry_after: str | None) -> GatewayError:
        error = upstream_error(self.name, status, body, self._secrets)
        if retry_after is not None:  # a 429 or 503 that says when to come back
            error.headers["Retry-After"] = retry_after
        return error

    async def pass_through(
        self, method: str, url: str, data: bytes | AsyncIterable[bytes] | None, headers: dict[str, str]
    ) -> Reply:
        """One call passed through as it is (`headers` name the body's type): a JSON answer comes back
        whole, anything else (audio, a file's bytes, an event stream) as chunks, as it arrives."""
        resp = await self._open(method, url, data, headers)
        if resp.content_type == "application/json":
            return Reply(body=await self._whole(resp))
        return Reply(
            chunks=resp.content.iter_any(), close=_closer(resp), content_type=resp.content_type or "application/octet-stream"
        )

    async def _open(
        self, method: str, url: str | URL, data: bytes | AsyncIterable[bytes] | None, headers: dict[str, str] | None
    ) -> aiohttp.ClientResponse:
        """The upstream's response once its headers are in and say it succeeded; GatewayError otherwise."""
        try:
            resp = await self._http.request(
                method,
                url,
                data=data,
                headers={**self._headers, **headers} if headers else self._headers,
                timeout=self._timeout,
                allow_redirects=False,  # a redirect would carry the upstream's key to wherever it points
            )
        except TimeoutError:
            raise timed_out(self.name) from None
        except aiohttp.ClientError as exc:
            raise unreachable(self.name, type(exc).__name__) from None
        if resp.status >= 400:
            raise await self._failure(resp)
        if resp.status >= 300:
            resp.release()
            raise _redirected(self.name, resp.status)
        return resp

    async def _whole(self, resp: aiohttp.ClientResponse) -> bytes:
        """The whole body of a successful answer, bounded."""
        try:
            raw = await read_bounded(resp, _BODY_LIMIT)
        except TimeoutError:
            raise timed_out(self.name) from None
        except aiohttp.ClientError as exc:
            raise unreachable(self.name, type(exc).__name__) from None
        finally:
            resp.release()
        if raw is None:
            raise _too_large(self.name)
        return raw

    async def _failure(self, resp: aiohttp.ClientResponse) -> GatewayError:
        try:
            body = await read_bounded(resp, _ERROR_BODY_LIMIT) or b""
        except (TimeoutError, aiohttp.ClientError):
            body = b""
        finally:
            resp.release()
        return self._refusal(resp.status, body, resp.headers.get("Retry-After"))


def _too_large(provider: str) -> GatewayError:
    return GatewayError(
        ErrorKind.UPSTREAM,
        f"upstream '{provider}' answered with more than {_BODY_LIMIT // 2**20} MB",
        code="upstream_bad_response",
    )


def _redirected(provider: str, status: int) -> GatewayError:
    return GatewayError(
        ErrorKind.UPSTREAM,
        f"upstream '{provider}' answered with a redirect (HTTP {status}), which the gateway does not follow; "
        "check the provider's base_url",
        code="upstream_bad_response",
    )


def _closer(resp: aiohttp.ClientResponse) -> Callable[[], Awaitable[None]]:
    async def close() -> None:
        if resp.content.at_eof():
            resp.release()
        else:
            resp.close()  # abandon the upstream stream: the client went away or the relay failed

    return close
