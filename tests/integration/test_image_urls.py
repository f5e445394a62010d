"""Image URLs reach upstreams that take only inline images (Gemini) as fetched bytes."""

from __future__ import annotations

import base64

import pytest
from openai import BadRequestError, OpenAI

from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import PNG_BYTES, FakeOpenAI
from tests.gateway_process import GatewayProcess


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess, api_key: str) -> OpenAI:
    return OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)


def _ask(client: OpenAI, model: str, url: str) -> None:
    content = [{"type": "text", "text": "what is this?"}, {"type": "image_url", "image_url": {"url": url}}]
    client.chat.completions.create(model=model, messages=[{"role": "user", "content": content}])  # type: ignore[misc,list-item]


def test_url_image_is_fetched_and_inlined_for_gemini(client: OpenAI, fake_openai: FakeOpenAI, fake_gemini: FakeGemini) -> None:
    _ask(client, "gemini-echo", fake_openai.url + "/files/cat.png")  # type: ignore[attr-defined]
    parts = fake_gemini.requests[-1]["body"]["contents"][0]["parts"]
    assert parts[1] == {"inlineData": {"mimeType": "image/png", "data": base64.b64encode(PNG_BYTES).decode()}}


def test_url_image_stays_a_url_for_upstreams_that_take_urls(client: OpenAI, fake_anthropic: object) -> None:
    _ask(client, "claude-echo", "https://example.com/cat.png")
    block = fake_anthropic.requests[-1]["body"]["messages"][0]["content"][1]  # type: ignore[attr-defined]
    assert block == {"type": "image", "source": {"type": "url", "url": "https://example.com/cat.png"}}


@pytest.mark.parametrize(("path", "why"), [("/files/page.html", "not an image"), ("/files/missing.png", "HTTP 404")])
def test_unusable_image_urls_are_a_400_that_says_why(client: OpenAI, fake_openai: FakeOpenAI, path: str, why: str) -> None:
    with pytest.raises(BadRequestError) as refused:
        _ask(client, "gemini-echo", fake_openai.url + path)  # type: ignore[attr-defined]
    assert why in str(refused.value)
    with pytest.raises(BadRequestError) as scheme:
        _ask(client, "gemini-echo", "ftp://example.com/cat.png")
    assert "only http and https" in str(scheme.value)
