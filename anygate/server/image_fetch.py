"""Fetching images given by URL, for upstreams that take images only inline (Gemini).

Only http(s) URLs whose host resolves to public addresses are fetched, unless the configuration
allows private ones; at most MAX_BYTES, and only `image/*` answers. A URL that cannot be fetched is
the request's fault: a 400 that says why.
"""

from __future__ import annotations

import asyncio
import base64
import ipaddress
import socket
from urllib.parse import urlsplit

import aiohttp

from anygate.core.chat import ChatRequest, Image, ToolResult
from anygate.core.errors import ErrorKind, GatewayError

MAX_BYTES = 20 * 1024 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)


def _refuse(url: str, why: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"cannot use the image at {url[:200]}: {why}")


async def _check_host(url: str, allow_private: bool) -> None:
    parts = urlsplit(url)
    if parts.scheme not in ("http", "https") or not parts.hostname:
        raise _refuse(url, "only http and https image URLs can be fetched")
    if allow_private:
        return
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(parts.hostname, parts.port or 443, type=socket.SOCK_STREAM)
    except OSError:
        raise _refuse(url, "its host does not resolve") from None
    for info in infos:
        address = ipaddress.ip_address(info[4][0])
        if not address.is_global:
            raise _refuse(url, "its host is a private, loopback or link-local address")


async def _fetch(http: aiohttp.ClientSession, image: Image, allow_private: bool) -> None:
    url = image.url or ""
    await _check_host(url, allow_private)
    try:
        async with http.get(url, timeout=_TIMEOUT, allow_redirects=False) as resp:
            if resp.status != 200:
                raise _refuse(url, f"fetching it answered HTTP {resp.status}")
            if not resp.content_type.startswith("image/"):
                raise _refuse(url, f"it is {resp.content_type or 'of no content type'}, not an image")
            data = await resp.content.read(MAX_BYTES + 1)
    except (TimeoutError, aiohttp.ClientError) as exc:
        raise _refuse(url, f"fetching it failed ({type(exc).__name__})") from None
    if len(data) > MAX_BYTES:
        raise _refuse(url, f"it is larger than {MAX_BYTES // (1024 * 1024)} MB")
    image.media_type, image.data, image.url = resp.content_type, base64.b64encode(data).decode(), None


async def inline_remote_images(req: ChatRequest, http: aiohttp.ClientSession, allow_private: bool) -> None:
    """Replace every image given by URL in `req` with its bytes, fetched concurrently."""
    images = [
        part
        for message in req.messages
        for item in message.parts
        for part in (item.content if isinstance(item, ToolResult) else [item])
        if isinstance(part, Image) and part.url and part.data is None
    ]
    if images:
        await asyncio.gather(*(_fetch(http, image, allow_private) for image in images))
