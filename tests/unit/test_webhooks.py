"""Webhook signatures follow the documented recipe; private callback URLs are refused unless allowed."""

from __future__ import annotations

import hashlib
import hmac

import pytest

from anygate.core.errors import GatewayError
from anygate.core.public_url import check_public_url
from anygate.tasks.webhooks import signature


def test_signature_is_hmac_sha256_of_timestamp_dot_body() -> None:
    body = b'{"task_id":"t1"}'
    expected = hmac.new(b"whsec_x", b"1764300000." + body, hashlib.sha256).hexdigest()
    assert signature("whsec_x", "1764300000", body) == f"sha256={expected}"
    assert signature("whsec_y", "1764300000", body) != f"sha256={expected}"


@pytest.mark.parametrize(
    "url", ["http://127.0.0.1:9/hook", "http://10.1.2.3/hook", "http://169.254.169.254/latest", "http://[::1]/x"]
)
async def test_private_callback_urls_are_refused(url: str) -> None:
    with pytest.raises(GatewayError) as refused:
        await check_public_url(url, False, "callback URL")
    assert refused.value.status == 400 and "callback URL" in refused.value.message and "private" in refused.value.message
    await check_public_url(url, True, "callback URL")  # allowed by configuration
