"""Image URL fetching: private hosts refused unless the configuration allows them, images whole or
refused (never truncated), and a request's fetches capped in number, size and concurrency."""

from __future__ import annotations

import asyncio
import base64
from collections.abc import AsyncIterator

import pytest
from aiohttp import web
from aiohttp.test_utils import TestServer

from anygate.core.chat import ChatRequest, Image, Message
from anygate.core.errors import GatewayError
from anygate.core.outbound import Outbound
from anygate.server import image_fetch
from anygate.server.image_fetch import inline_remote_images

MEGABYTE = b"\x89PNG" + bytes(range(256)) * 4095 + b"\x00" * 252  # 1 MiB, sent in many chunks


@pytest.fixture
async def outbound() -> AsyncIterator[Outbound]:
    client = Outbound()
    client.start()
    yield client
    await client.close()


class _Host:
    """An image host that counts how many fetches it serves at once."""

    def __init__(self) -> None:
        self.now = 0
        self.most = 0
        self.served = 0

    async def image(self, request: web.Request) -> web.StreamResponse:
        self.now += 1
        self.served += 1
        self.most = max(self.most, self.now)
        try:
            await asyncio.sleep(0.02)
            response = web.StreamResponse(headers={"Content-Type": "image/png"})
            await response.prepare(request)
            for start in range(0, len(MEGABYTE), 65536):
                await response.write(MEGABYTE[start : start + 65536])
            return response
        finally:
            self.now -= 1


@pytest.fixture
async def host() -> AsyncIterator[tuple[str, _Host]]:
    state = _Host()
    app = web.Application()
    app.router.add_get("/{name}", state.image)
    server = TestServer(app, host="127.0.0.1")
    await server.start_server()
    yield str(server.make_url("")), state
    await server.close()


def _request(*urls: str) -> ChatRequest:
    return ChatRequest("m", [Message("user", [Image(url=url) for url in urls])])


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://localhost/x.png",
        "http://[::1]/x.png",
        "http://10.1.2.3/x.png",
        "http://169.254.169.254/latest",
        "http://[::ffff:169.254.169.254]/latest",
        "http://[64:ff9b::a9fe:a9fe]/latest",
    ],
)
async def test_private_hosts_are_refused_by_default(url: str, outbound: Outbound) -> None:
    with pytest.raises(GatewayError) as refused:
        await inline_remote_images(_request(url), outbound, allow_private=False)
    assert refused.value.status == 400 and url in refused.value.message


async def test_an_image_comes_whole(outbound: Outbound, host: tuple[str, _Host]) -> None:
    request = _request(host[0] + "/one.png")
    await inline_remote_images(request, outbound, allow_private=True)
    image = request.messages[0].parts[0]
    assert isinstance(image, Image) and base64.b64decode(image.data or "") == MEGABYTE and image.media_type == "image/png"


async def test_too_large_is_refused_not_truncated(
    outbound: Outbound, host: tuple[str, _Host], monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(image_fetch, "MAX_BYTES", len(MEGABYTE) - 1)
    with pytest.raises(GatewayError, match="larger than"):
        await inline_remote_images(_request(host[0] + "/one.png"), outbound, allow_private=True)
    monkeypatch.setattr(image_fetch, "MAX_BYTES", len(MEGABYTE))
    monkeypatch.setattr(image_fetch, "MAX_TOTAL_BYTES", 2 * len(MEGABYTE))
    with pytest.raises(GatewayError, match="images come to more than"):
        await inline_remote_images(_request(*(f"{host[0]}/{i}.png" for i in range(3))), outbound, allow_private=True)


async def test_a_request_fetches_few_images_at_a_time_and_not_too_many(outbound: Outbound, host: tuple[str, _Host]) -> None:
    base, state = host
    request = _request(*(f"{base}/{i}.png" for i in range(20)))
    await inline_remote_images(request, outbound, allow_private=True)
    assert state.most == image_fetch.CONCURRENCY and state.served == 20
    with pytest.raises(GatewayError) as refused:
        await inline_remote_images(
            _request(*(f"{base}/{i}.png" for i in range(image_fetch.MAX_IMAGES + 1))), outbound, allow_private=True
        )
    assert refused.value.status == 400 and f"at most {image_fetch.MAX_IMAGES} images" in refused.value.message
    assert state.served == 20, "a refused request fetched nothing"
