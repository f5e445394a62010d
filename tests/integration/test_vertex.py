"""Vertex AI through every client family: Gemini and Claude on Vertex against a fake that checks the
OAuth tokens it issued (for a service account's signed JWT), with the conversation of the profile
conformance run (a tool call, its result, thinking, usage), refusals, token counts and embeddings;
and the official SDKs' Vertex clients pointed at the fake, to confirm its shapes are theirs."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.fakes.conversation import THINKING, gemini_shows_thoughts
from tests.fakes.server_thread import ServerThread
from tests.fakes.vertex_upstream import PROJECT, FakeVertex
from tests.gateway_process import GatewayProcess
from tests.integration.test_profiles import CONVERSATIONS, FAMILIES

PUBLISHERS = {"vertex-gemini": ("google", "gemini-2.5-pro"), "vertex-claude": ("anthropic", "claude-sonnet-4-5@20250929")}


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeVertex]:
    served = FakeVertex()
    server = ServerThread(served.app).start()
    served.url = server.url
    yield served
    server.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, fake: FakeVertex) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("vertex")
    key_file = str(fake.key_file(workdir))
    vertex = {
        "type": "vertex",
        "project": PROJECT,
        "location": "us-east5",
        "credentials_file": key_file,
        "base_url": fake.url,
        "first_byte_timeout_seconds": 5,
    }
    # one provider for both publishers: each model's id says whose it is
    models = {f"{name}-chat": [{"provider": "vertex", "model": model}] for name, (_, model) in PUBLISHERS.items()}
    models |= {f"{name}-bad": [{"provider": "vertex", "model": model + "-400"}] for name, (_, model) in PUBLISHERS.items()}
    models["vertex-embed"] = [{"provider": "vertex", "model": "gemini-embedding-001"}]
    models["adc-gemini"] = [{"provider": "vertex-adc", "model": "gemini-2.5-pro"}]
    adc = {k: v for k, v in vertex.items() if k != "credentials_file"}  # Application Default Credentials
    config = {"database": f"sqlite:///{workdir}/anygate.db", "providers": {"vertex": vertex, "vertex-adc": adc}, "models": models}
    process = GatewayProcess(workdir, config, env={"GOOGLE_APPLICATION_CREDENTIALS": key_file})
    yield process.start()
    process.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> str:
    return str(gateway.create_key()["key"])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("provider", list(PUBLISHERS))
def test_a_tool_conversation_with_thinking(
    gateway: GatewayProcess, key: str, fake: FakeVertex, provider: str, family: str, stream: bool
) -> None:
    turn, final = CONVERSATIONS[family](gateway, key, f"{provider}-chat", stream)
    assert [(n, a) for _, n, a in turn.calls] == [("get_weather", {"city": "Paris"})], turn.calls
    assert final == f"The weather in Paris is fine (from {provider}).", final
    assert turn.usage == (21, 9), f"the upstream's usage reaches the {family} client"
    publisher, model = PUBLISHERS[provider]
    first, second = fake.requests[publisher][-2:]
    assert first["path"].endswith(f"/locations/us-east5/publishers/{publisher}/models/{model}:" + _method(publisher, stream))
    if publisher == "anthropic":
        assert first["body"]["anthropic_version"] == "vertex-2023-10-16" and "model" not in first["body"]
        assert first["body"]["thinking"]["type"] == "enabled", "thinking is asked for in every family"
        assert turn.thinking == THINKING, f"Claude's thinking reaches the {family} client as its own"
    else:
        shown = gemini_shows_thoughts(first["body"])
        assert turn.thinking == (THINKING if shown else ""), (
            f"Gemini's thoughts reach the {family} client when it asked to see them"
        )
        assert shown == (family != "responses"), "a Responses call without a summary asks to see no thoughts"
        assert all(c["role"] in ("user", "model") for c in second["body"]["contents"])


def _method(publisher: str, stream: bool) -> str:
    if publisher == "anthropic":
        return "streamRawPredict" if stream else "rawPredict"
    return "streamGenerateContent" if stream else "generateContent"


def test_one_token_serves_every_call(gateway: GatewayProcess, key: str, fake: FakeVertex) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    for provider in PUBLISHERS:
        for _ in range(3):
            client.chat.completions.create(model=f"{provider}-chat", messages=[{"role": "user", "content": "hi"}])
    assert fake.token_requests == 1, "the token is fetched once and kept, never per request"
    tokens = {r["headers"]["Authorization"] for calls in fake.requests.values() for r in calls}
    assert len(tokens) == 1 and next(iter(tokens)).startswith("Bearer ya29.fake-")


@pytest.mark.parametrize("provider", list(PUBLISHERS))
def test_a_refusal_reaches_each_family_in_its_shape(gateway: GatewayProcess, key: str, provider: str) -> None:
    model = f"{provider}-bad"
    chat = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        chat.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
    assert "temperature" in str(bad.value)
    with pytest.raises(anthropic.BadRequestError) as refused:
        anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0).messages.create(
            model=model, max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    assert "temperature" in str(refused.value)
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini"))
    with pytest.raises(genai.errors.ClientError) as failed:
        client.models.generate_content(model=model, contents="hi")
    assert failed.value.code == 400 and "temperature" in str(failed.value.message)


def test_token_counts_come_from_vertex(gateway: GatewayProcess, key: str, fake: FakeVertex) -> None:
    claude = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0)
    counted = claude.messages.count_tokens(model="vertex-claude-chat", messages=[{"role": "user", "content": "hi"}])
    assert counted.input_tokens == 42
    sent = fake.requests["anthropic"][-1]
    assert sent["path"].endswith("/publishers/anthropic/models/count-tokens:rawPredict")
    assert sent["body"]["model"] == "claude-sonnet-4-5@20250929" and sent["body"]["anthropic_version"] == "vertex-2023-10-16"
    gemini = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini"))
    assert gemini.models.count_tokens(model="vertex-gemini-chat", contents="hi").total_tokens == 77
    assert fake.requests["google"][-1]["body"]["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_embeddings_through_predict(gateway: GatewayProcess, key: str, fake: FakeVertex) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    made = client.embeddings.create(model="vertex-embed", input=["a", "b"], dimensions=3)
    assert [d.embedding for d in made.data] == [[0.25] * 3] * 2 and made.usage.prompt_tokens == 6
    assert fake.requests["google"][-1]["body"] == {
        "instances": [{"content": "a"}, {"content": "b"}],
        "parameters": {"outputDimensionality": 3},
    }
    with pytest.raises(openai.BadRequestError):
        client.embeddings.create(model="vertex-claude-chat", input="a")


def test_a_gemini_client_without_roles_is_relayed_with_them(gateway: GatewayProcess, key: str, fake: FakeVertex) -> None:
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini"))
    answer = client.models.generate_content(model="vertex-gemini-chat", contents=types.Content(parts=[types.Part(text="hi")]))
    assert answer.text == "Hello from vertex-gemini!"
    assert fake.requests["google"][-1]["body"]["contents"] == [{"role": "user", "parts": [{"text": "hi"}]}]


def test_the_official_vertex_clients_speak_what_the_fake_checks(fake: FakeVertex, tmp_path: Path) -> None:
    """The fake is held to the official SDKs: their Vertex clients, with a token it issued, get answers."""
    token = _token(fake, tmp_path)
    claude = anthropic.AnthropicVertex(
        region="us-east5", project_id=PROJECT, access_token=token, base_url=fake.url + "/v1", max_retries=0
    )
    message = claude.messages.create(
        model="claude-sonnet-4-5@20250929", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    )
    assert message.content[0].type == "text" and message.content[0].text == "Hello from vertex-claude!"
    with claude.messages.stream(
        model="claude-sonnet-4-5@20250929", max_tokens=50, messages=[{"role": "user", "content": "hi"}]
    ) as events:
        assert events.get_final_text() == "Hello from vertex-claude!"
    from google.oauth2.credentials import Credentials

    gemini = genai.Client(
        vertexai=True,
        project=PROJECT,
        location="us-east5",
        credentials=Credentials(token),  # type: ignore[no-untyped-call]
        http_options=types.HttpOptions(base_url=fake.url),
    )
    assert gemini.models.generate_content(model="gemini-2.5-pro", contents="hi").text == "Hello from vertex-gemini!"
    streamed = gemini.models.generate_content_stream(model="gemini-2.5-pro", contents="hi")
    assert "".join(c.text or "" for c in streamed) == "Hello from vertex-gemini!"
    assert fake.requests["google"][-1]["path"].endswith("/publishers/google/models/gemini-2.5-pro:streamGenerateContent")


def _token(fake: FakeVertex, folder: Path) -> str:
    """An access token from the fake, got the way google-auth gets one for a service account."""
    from google.auth.transport.requests import Request
    from google.oauth2 import service_account

    credentials = service_account.Credentials.from_service_account_file(  # type: ignore[no-untyped-call]
        str(fake.key_file(folder)), scopes=["https://www.googleapis.com/auth/cloud-platform"]
    )
    credentials.refresh(Request())
    return str(credentials.token)


def test_application_default_credentials(gateway: GatewayProcess, key: str, fake: FakeVertex) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    answer = client.chat.completions.create(model="adc-gemini", messages=[{"role": "user", "content": "hi"}])
    assert answer.choices[0].message.content == "Hello from vertex-gemini!"
    assert fake.requests["google"][-1]["headers"]["Authorization"].startswith("Bearer ya29.fake-")
