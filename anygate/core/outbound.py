"""The HTTP clients for URLs handed to the gateway (image URLs in requests, task callbacks, asset URLs
an upstream answers with), apart from the pooled client of configured upstreams.

Every URL is checked before it is fetched (`core.public_url`), a name is resolved once and the
connection goes to the address checked, redirects are followed only where asked, each hop checked
again, and never with a request header: nothing the gateway sends crosses to another origin.
"""

from __future__ import annotations

from collections.abc import Callable

import aiohttp
from yarl import URL

from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.public_url import PublicResolver, resolver_refusal, url_problem

_REDIRECTS = (301, 302, 303, 307, 308)
ASSET_REDIRECTS = 3  # hops followed to an upstream's asset (a CDN may redirect; each hop is checked)


def _asset_refusal(what: str) -> Callable[[str], GatewayError]:
    """How an asset URL chosen by an upstream is refused: the upstream's fault, not the client's."""

    def refuse(why: str) -> GatewayError:
        return GatewayError(
            ErrorKind.UPSTREAM, f"the upstream's {what} URL cannot be fetched: {why}", code="upstream_bad_response"
        )

    return refuse


class Outbound:
    """Two pools: one that connects only to public addresses, one for what the configuration allows to
    be private."""

    def __init__(self) -> None:
        self._public: aiohttp.ClientSession | None = None
        self._private: aiohttp.ClientSession | None = None

    def start(self) -> None:
        """Open the pools (inside the running event loop)."""
        connector = aiohttp.TCPConnector(resolver=PublicResolver(), use_dns_cache=False, limit=256)
        self._public = aiohttp.ClientSession(connector=connector, skip_auto_headers=("User-Agent",))
        self._private = aiohttp.ClientSession(connector=aiohttp.TCPConnector(limit=256), skip_auto_headers=("User-Agent",))

    async def close(self) -> None:
        """Close both pools."""
        for session in (self._public, self._private):
            if session is not None:
                await session.close()

    async def open(
        self,
        url: str,
        refuse: Callable[[str], GatewayError],
        *,
        allow_private: bool,
        timeout: aiohttp.ClientTimeout,
        method: str = "GET",
        data: bytes | None = None,
        headers: dict[str, str] | None = None,
        redirects: int = 0,
    ) -> aiohttp.ClientResponse:
        """The response to `method url` (to be released by the caller). `refuse(reason)` is raised for a
        URL that may not be fetched; a failed fetch raises aiohttp's errors or TimeoutError. Up to `redirects` redirects are followed, as
        GETs without `data` or `headers`; the answer to the last one allowed is returned as it is."""
        session = self._private if allow_private else self._public
        assert session is not None, "outbound clients are not open"
        hops = 0
        while True:
            problem = url_problem(url, allow_private)
            if problem:
                raise refuse(problem)
            try:
                resp = await session.request(method, url, data=data, headers=headers, timeout=timeout, allow_redirects=False)
            except aiohttp.ClientError as exc:
                reason = resolver_refusal(exc)
                if reason is None:
                    raise
                raise refuse(reason) from None
            location = resp.headers.get("Location")
            if resp.status not in _REDIRECTS or hops == redirects or not location:
                return resp
            hops += 1
            resp.release()
            try:
                url = str(resp.url.join(URL(location)))
            except ValueError:
                raise refuse("it redirects to an invalid URL") from None
            method, data, headers = "GET", None, None

    async def open_asset(
        self, url: str, what: str, *, allow_private: bool, timeout: aiohttp.ClientTimeout
    ) -> aiohttp.ClientResponse:
        """An asset URL an upstream answered with (a video, a generated image), opened under the rules
        for them (up to ASSET_REDIRECTS redirects, each hop checked) and answering 200, to be released
        by the caller; any failure is the upstream's, a GatewayError 502."""
        try:
            resp = await self.open(
                url, _asset_refusal(what), allow_private=allow_private, timeout=timeout, redirects=ASSET_REDIRECTS
            )
        except (aiohttp.ClientError, TimeoutError) as exc:
            raise GatewayError(
                ErrorKind.UPSTREAM, f"the {what} could not be fetched ({type(exc).__name__})", code="upstream_unreachable"
            ) from None
        if resp.status != 200:
            resp.release()
            raise GatewayError(ErrorKind.UPSTREAM, f"the {what}'s host answered HTTP {resp.status}", code="upstream_error")
        return resp


async def read_bounded(resp: aiohttp.ClientResponse, limit: int) -> bytes | None:
    """The whole body of `resp`, or None as soon as it passes `limit` bytes (never a truncated body)."""
    length = resp.content_length
    if length is not None and not resp.headers.get("Content-Encoding"):  # the size is known before reading
        return await resp.read() if length <= limit else None
    chunks: list[bytes] = []
    size = 0
    async for chunk in resp.content.iter_any():
        size += len(chunk)
        if size > limit:
            return None
        chunks.append(chunk)
    return b"".join(chunks)
