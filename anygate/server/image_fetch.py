"""Fetching images given by URL, for upstreams that take images only inline (Gemini).

Only http(s) URLs whose host resolves to public addresses are fetched, unless the configuration
allows private ones; at most MAX_BYTES, and only `image/*` answers. A URL that cannot be fetched is
the request's fault: a 400 that says why.
"""

from __future__ import annotations

import asyncio
import base64

import aiohttp

from anygate.core.chat import ChatRequest, Image, ToolResult
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.public_url import check_public_url

MAX_BYTES = 20 * 1024 * 1024
_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)


def _refuse(url: str, why: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"cannot use the image at {url[:200]}: {why}")


async def _fetch(http: aiohttp.ClientSession, image: Image, allow_private: bool) -> None:
    url = image.url or ""
    await check_public_url(url, allow_private, "image at")
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
