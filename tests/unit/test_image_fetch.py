"""Image URL fetching refuses private hosts unless the configuration allows them."""

from __future__ import annotations

import aiohttp
import pytest

from anygate.core.chat import ChatRequest, Image, Message
from anygate.core.errors import GatewayError
from anygate.server.image_fetch import inline_remote_images


@pytest.mark.parametrize(
    "url",
    [
        "http://127.0.0.1:9/x.png",
        "http://localhost/x.png",
        "http://[::1]/x.png",
        "http://10.1.2.3/x.png",
        "http://169.254.169.254/latest",
    ],
)
async def test_private_hosts_are_refused_by_default(url: str) -> None:
    request = ChatRequest("m", [Message("user", [Image(url=url)])])
    async with aiohttp.ClientSession() as http:
        with pytest.raises(GatewayError) as refused:
            await inline_remote_images(request, http, allow_private=False)
    assert refused.value.status == 400 and "private" in refused.value.message
