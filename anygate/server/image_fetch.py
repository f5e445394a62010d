"""Fetching images given by URL, for upstreams that take images only inline (Gemini).

Only http(s) URLs whose host resolves to public addresses are fetched (unless the configuration allows
private ones), without following redirects, and only `image/*` answers. A request may name at most
MAX_IMAGES such images, each at most MAX_BYTES and MAX_TOTAL_BYTES together, fetched CONCURRENCY at a
time. A URL that cannot be fetched, or an image too large, is the request's fault: a 400 that says why.
"""

from __future__ import annotations

import asyncio
import base64

import aiohttp

from anygate.core.chat import ChatRequest, Image, ToolResult
from anygate.core.errors import ErrorKind, GatewayError, invalid_request
from anygate.core.outbound import Outbound, read_bounded

MAX_IMAGES = 64
MAX_BYTES = 20 * 1024 * 1024
MAX_TOTAL_BYTES = 50 * 1024 * 1024
CONCURRENCY = 8
_TIMEOUT = aiohttp.ClientTimeout(total=20, connect=5)


class _Fetch:
    """The fetches of one request: a concurrency cap and a running total of bytes."""

    def __init__(self, outbound: Outbound, allow_private: bool) -> None:
        self._outbound = outbound
        self._allow_private = allow_private
        self._slots = asyncio.Semaphore(CONCURRENCY)
        self._total = 0

    async def inline(self, image: Image) -> None:
        url = image.url or ""

        def refuse(why: str) -> GatewayError:
            return GatewayError(ErrorKind.INVALID_REQUEST, f"cannot use the image at {url[:200]}: {why}")

        async with self._slots:
            try:
                resp = await self._outbound.open(url, refuse, allow_private=self._allow_private, timeout=_TIMEOUT)
                try:
                    if resp.status != 200:
                        raise refuse(f"fetching it answered HTTP {resp.status}")
                    if not resp.content_type.startswith("image/"):
                        raise refuse(f"it is {resp.content_type or 'of no content type'}, not an image")
                    data = await read_bounded(resp, MAX_BYTES)
                finally:
                    resp.release()
            except (TimeoutError, aiohttp.ClientError) as exc:
                raise refuse(f"fetching it failed ({type(exc).__name__})") from None
        if data is None:
            raise refuse(f"it is larger than {MAX_BYTES // (1024 * 1024)} MB")
        self._total += len(data)
        if self._total > MAX_TOTAL_BYTES:
            raise refuse(f"the request's images come to more than {MAX_TOTAL_BYTES // (1024 * 1024)} MB")
        image.media_type, image.data, image.url = resp.content_type, base64.b64encode(data).decode(), None


async def inline_remote_images(req: ChatRequest, outbound: Outbound, allow_private: bool) -> None:
    """Replace every image given by URL in `req` with its bytes, fetched a few at a time."""
    images = [
        part
        for message in req.messages
        for item in message.parts
        for part in (item.content if isinstance(item, ToolResult) else [item])
        if isinstance(part, Image) and part.url and part.data is None
    ]
    if len(images) > MAX_IMAGES:
        raise invalid_request(
            f"this model takes images inline: a request may give at most {MAX_IMAGES} images by URL, not {len(images)}",
            "messages",
        )
    fetch = _Fetch(outbound, allow_private)
    tasks = [asyncio.ensure_future(fetch.inline(image)) for image in images]
    try:
        await asyncio.gather(*tasks)
    except BaseException:  # the first refusal answers the request: the other fetches stop
        for task in tasks:
            task.cancel()
        raise
