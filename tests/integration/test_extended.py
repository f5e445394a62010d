"""The OpenAI extended routes (embeddings, image generation) with the official `openai` SDK, passed
through to OpenAI-compatible upstreams, translated for Gemini, answered by mock, and metered."""

from __future__ import annotations

import base64
import json

import openai
import pytest
import requests
from openai import OpenAI

from anygate.store.tables import UsageRecord
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import PNG_BYTES, FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.usage import eventually, usage_rows


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess, api_key: str) -> OpenAI:
    return OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0, timeout=20)


def test_embeddings_pass_through_to_an_openai_compatible_upstream(client: OpenAI, fake_openai: FakeOpenAI) -> None:
    result = client.embeddings.create(model="embed-openai", input=["one", "two"])  # the SDK asks for base64
    assert [d.embedding for d in result.data] == [[0.25, -0.5, 0.0], [0.25, -0.5, 1.0]]
    assert result.usage.prompt_tokens == 8
    sent = fake_openai.requests[-1]
    assert sent["path"] == "/v1/embeddings"
    assert sent["body"] == {"model": "text-embedding-3-small", "input": ["one", "two"], "encoding_format": "base64"}


def test_embeddings_from_gemini_are_translated(client: OpenAI, fake_gemini: FakeGemini, gateway: GatewayProcess) -> None:
    as_floats = client.embeddings.create(model="embed-gemini", input="hello", dimensions=3, encoding_format="float")
    assert as_floats.data[0].embedding == [0.5, 0.5, 0.5] and as_floats.usage.prompt_tokens > 0
    sent = fake_gemini.requests[-1]
    assert sent["path"] == "/v1beta/models/gemini-embedding-001:batchEmbedContents"
    assert sent["body"] == {
        "requests": [
            {"model": "models/gemini-embedding-001", "content": {"parts": [{"text": "hello"}]}, "outputDimensionality": 3}
        ]
    }
    as_base64 = client.embeddings.create(model="embed-gemini", input=["a", "b"])
    assert [len(d.embedding) for d in as_base64.data] == [4, 4] and as_base64.data[1].embedding[0] == 0.5


def test_mock_embeddings_are_deterministic_unit_vectors(client: OpenAI) -> None:
    first = client.embeddings.create(model="mock-fast", input="same text").data[0].embedding
    again = client.embeddings.create(model="mock-fast", input="same text", encoding_format="float").data[0].embedding
    assert first == pytest.approx(again, abs=1e-6) and len(first) == 16
    assert sum(x * x for x in first) == pytest.approx(1.0, abs=1e-4)


def test_images_pass_through_and_are_metered(fake_openai: FakeOpenAI, gateway: GatewayProcess) -> None:
    key = gateway.create_key()
    client = OpenAI(base_url=gateway.url + "/openai/v1", api_key=key["key"], max_retries=0)
    result = client.images.generate(model="image-openai", prompt="a red cat", n=2, size="1024x1024")
    assert [base64.b64decode(d.b64_json or "") for d in result.data] == [PNG_BYTES, PNG_BYTES]
    assert fake_openai.requests[-1]["body"] == {"model": "gpt-image-1", "prompt": "a red cat", "n": 2, "size": "1024x1024"}
    client.embeddings.create(model="embed-openai", input="one")
    assert eventually(lambda: len(usage_rows(gateway, UsageRecord.key_id == key["id"])) == 2)  # both written
    by_model = {t["model"]: t for t in json.loads(gateway.cli("usage", "--key", key["id"], "--json").stdout)}
    assert by_model["image-openai"]["input_tokens"] == 50 and by_model["image-openai"]["output_tokens"] == 4160
    assert by_model["image-openai"]["cost_usd"] == pytest.approx((50 * 5.0 + 4160 * 40.0) / 1e6)
    assert by_model["embed-openai"]["input_tokens"] == 8


def test_mock_draws_pngs(client: OpenAI) -> None:
    result = client.images.generate(model="mock-fast", prompt="a dot", response_format="b64_json")
    assert base64.b64decode(result.data[0].b64_json or "").startswith(b"\x89PNG")


def test_a_model_without_the_capability_is_a_400(client: OpenAI) -> None:
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="claude-echo", input="hi")
    assert refused.value.body["param"] == "model"  # type: ignore[index]
    with pytest.raises(openai.BadRequestError):
        client.images.generate(model="gemini-echo", prompt="a cat")


def test_token_arrays_cannot_be_translated(gateway: GatewayProcess, api_key: str) -> None:
    resp = requests.post(
        gateway.url + "/openai/v1/embeddings",
        json={"model": "embed-gemini", "input": [[1, 2, 3]]},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10,
    )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == "input"
