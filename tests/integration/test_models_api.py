"""The models routes of every family through the official SDKs: list and retrieve, AnyInt's fields
beside each API's own, Anthropic's pages, only the caller's models, no provider names of the operator."""

from __future__ import annotations

from typing import Any

import anthropic
import openai
import pytest
import requests
from google import genai
from google.genai import errors as genai_errors
from google.genai import types

from tests.gateway_process import GatewayProcess

OPERATOR_NAMES = {"fake", "native", "brief", "down", "claude"}  # provider names of the config: not for clients to see


def test_openai_list_and_retrieve(gateway: GatewayProcess, api_key: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)
    listed = client.models.list()
    ids = [m.id for m in listed.data]
    assert "gpt-test" in ids and "claude-echo" in ids and "mock-fast" in ids
    raw = requests.get(gateway.url + "/openai/v1/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=10).json()
    assert raw["has_more"] is False and raw["first_id"] == ids[0] and raw["last_id"] == ids[-1]
    owners = {m["id"]: m["owned_by"] for m in raw["data"]}
    assert owners["gpt-test"] == "openai" and owners["claude-echo"] == "anthropic" and owners["gemini-echo"] == "gemini"
    assert not OPERATOR_NAMES & set(owners.values())
    entry = next(m for m in raw["data"] if m["id"] == "gpt-test")
    assert entry["display_name"] == "gpt-test" and entry["type"] == "model" and entry["created_at"].endswith("Z")
    model = client.models.retrieve("gpt-test")
    assert model.id == "gpt-test" and model.object == "model" and model.owned_by == "openai" and model.created == entry["created"]
    with pytest.raises(openai.NotFoundError) as missing:
        client.models.retrieve("no-such-model")
    assert missing.value.code == "model_not_found"


def test_a_model_shows_its_configured_name_and_release_in_every_family(gateway: GatewayProcess, api_key: str) -> None:
    raw = requests.get(
        gateway.url + "/openai/v1/models/gemini-alias", headers={"Authorization": f"Bearer {api_key}"}, timeout=10
    ).json()
    assert (raw["display_name"], raw["created"], raw["created_at"]) == ("Gemini Alias", 1738713600, "2025-02-05T00:00:00Z")
    claude = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=api_key, max_retries=0).models.retrieve(
        "gemini-alias"
    )
    assert claude.display_name == "Gemini Alias" and claude.created_at.isoformat() == "2025-02-05T00:00:00+00:00"
    listed = {
        m["id"]: m
        for m in requests.get(
            gateway.url + "/openai/v1/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=10
        ).json()["data"]
    }
    assert listed["gemini-echo"]["created"] != 1738713600  # unset: the gateway's start


def test_a_key_sees_and_retrieves_only_its_own_models(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--models", "mock-fast,claude-echo")["key"]
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    assert sorted(m.id for m in client.models.list().data) == ["claude-echo", "mock-fast"]
    with pytest.raises(openai.NotFoundError):
        client.models.retrieve("gpt-test")  # exists, but not for this key: as if it did not
    claude = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0)
    assert sorted(m.id for m in claude.models.list()) == ["claude-echo", "mock-fast"]


def test_anthropic_pages_and_retrieve(gateway: GatewayProcess, api_key: str) -> None:
    client = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=api_key, max_retries=0)
    everything = [m.id for m in client.models.list(limit=1000)]
    first = client.models.list(limit=3)
    assert [m.id for m in first.data] == everything[:3] and first.has_more and first.last_id == everything[2]
    assert [m.id for m in client.models.list(limit=7)] == everything, "the SDK follows after_id through every page"
    second = client.models.list(limit=3, after_id=everything[2])
    assert [m.id for m in second.data] == everything[3:6]
    before = client.models.list(limit=2, before_id=everything[3])
    assert [m.id for m in before.data] == everything[1:3] and before.has_more
    model = client.models.retrieve("claude-echo")
    assert model.id == "claude-echo" and model.display_name == "claude-echo" and model.type == "model"
    with pytest.raises(anthropic.NotFoundError):
        client.models.retrieve("no-such-model")
    with pytest.raises(anthropic.BadRequestError):
        client.models.list(limit=0)


def test_gemini_list_and_get(gateway: GatewayProcess, api_key: str) -> None:
    client = genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini", api_version="v1beta"))
    model = client.models.get(model="gemini-echo")
    assert model.name == "models/gemini-echo" and model.display_name == "gemini-echo"
    assert "models/gpt-test" in [m.name for m in client.models.list(config={"page_size": 1000})]
    with pytest.raises(genai_errors.ClientError) as missing:
        client.models.get(model="no-such-model")
    assert missing.value.code == 404


def test_same_family_answers_show_the_public_model_id(gateway: GatewayProcess, api_key: str) -> None:
    """Relayed answers of a model whose upstream id differs carry the id the client asked for, in
    every model field, whole and streamed, in all four same-family relays."""
    chat = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)
    messages: Any = [{"role": "user", "content": "hi"}]
    assert chat.chat.completions.create(model="gpt-test", messages=messages).model == "gpt-test"  # upstream: up-echo
    assert {c.model for c in chat.chat.completions.create(model="gpt-test", messages=messages, stream=True)} == {"gpt-test"}
    native = chat.responses.create(model="gpt-native", input="hi")
    assert native.model == "gpt-native" and chat.responses.retrieve(native.id).model == "gpt-native", (
        "stored as the client saw it"
    )
    streamed = [
        e.response.model for e in chat.responses.create(model="gpt-native", input="hi", stream=True) if hasattr(e, "response")
    ]
    assert streamed and set(streamed) == {"gpt-native"}
    claude = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=api_key, max_retries=0)
    assert claude.messages.create(model="claude-alias", max_tokens=20, messages=messages).model == "claude-alias"
    with claude.messages.stream(model="claude-alias", max_tokens=20, messages=messages) as stream:
        assert stream.get_final_message().model == "claude-alias"
    assert claude.messages.create(model="claude-echo", max_tokens=20, messages=messages).model == "claude-echo", (
        "same ids: as it came"
    )
    gemini = genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini", api_version="v1beta"))
    assert gemini.models.generate_content(model="gemini-alias", contents="hi").model_version == "gemini-alias"
    assert {c.model_version for c in gemini.models.generate_content_stream(model="gemini-alias", contents="hi")} == {
        "gemini-alias"
    }
