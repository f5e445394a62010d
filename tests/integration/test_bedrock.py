"""AWS Bedrock through every client family: Claude (InvokeModel, Anthropic's own body) and Converse
models (Nova, which reasons when asked, and Llama) against a fake that verifies each SigV4 signature
with botocore's signer; credentials from the configuration, an assumed role (STS), a Bedrock API key
and the environment's chain; refusals and throttling; and the official AnthropicBedrock client
pointed at the fake, to confirm its shapes are Bedrock's."""

from __future__ import annotations

from collections.abc import Iterator

import anthropic
import openai
import pytest
from google import genai
from google.genai import types

from tests.fakes.bedrock_upstream import ACCESS_KEY, API_KEY, SECRET_KEY, FakeBedrock
from tests.fakes.conversation import THINKING
from tests.fakes.server_thread import ServerThread
from tests.gateway_process import GatewayProcess
from tests.integration.test_profiles import CONVERSATIONS, FAMILIES

CLAUDE = "us.anthropic.claude-sonnet-4-5-20250929-v1:0"  # a cross-region inference profile
MODELS = {"bedrock-claude": CLAUDE, "bedrock-nova": "us.amazon.nova-pro-v1:0", "bedrock-llama": "meta.llama3-3-70b-instruct-v1:0"}
ROLE = "arn:aws:iam::123456789012:role/bedrock"
PROFILE_KEY, PROFILE_SECRET = "AKIAFAKEPROFILE00002", "profile/secret/0000000000000000000000000"


@pytest.fixture(scope="module")
def fake() -> Iterator[FakeBedrock]:
    served = FakeBedrock()
    server = ServerThread(served.app).start()
    served.url = server.url
    yield served
    server.stop()


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, fake: FakeBedrock) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("bedrock")
    common = {"type": "bedrock", "region": "us-west-2", "base_url": fake.url, "first_byte_timeout_seconds": 5}
    keys = {"aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": SECRET_KEY}
    providers = {
        "bedrock": {**common, **keys},
        "bedrock-role": {**common, **keys, "role_arn": ROLE},
        "bedrock-key": {**common, "api_key": API_KEY},
        "bedrock-env": common,  # the standard chain: here, the environment's keys
        "bedrock-profile": {**common, "aws_profile": "team"},  # a profile of the shared credentials file
        "bedrock-wrong": {**common, "aws_access_key_id": ACCESS_KEY, "aws_secret_access_key": "not-the-secret"},
    }
    models = {f"{name}-chat": [{"provider": "bedrock", "model": model}] for name, model in MODELS.items()}
    models |= {
        f"{name}-{fault}": [{"provider": "bedrock", "model": f"{model}-{fault}"}]
        for name, model in MODELS.items()
        for fault in ("400", "429", "midstream")
    }
    models |= {
        "role-claude": [{"provider": "bedrock-role", "model": CLAUDE}],
        "key-nova": [{"provider": "bedrock-key", "model": MODELS["bedrock-nova"]}],
    }
    models["env-llama"] = [{"provider": "bedrock-env", "model": MODELS["bedrock-llama"]}]
    models["wrong-llama"] = [{"provider": "bedrock-wrong", "model": MODELS["bedrock-llama"]}]
    models["profile-llama"] = [{"provider": "bedrock-profile", "model": MODELS["bedrock-llama"]}]
    (workdir / "aws-credentials").write_text(
        f"[team]\naws_access_key_id = {PROFILE_KEY}\naws_secret_access_key = {PROFILE_SECRET}\n"
    )
    fake.keys[PROFILE_KEY] = PROFILE_SECRET
    models["titan-embed"] = [{"provider": "bedrock", "model": "amazon.titan-embed-text-v2:0"}]
    models["cohere-embed"] = [{"provider": "bedrock", "model": "cohere.embed-v4:0"}]
    env = {
        "AWS_ACCESS_KEY_ID": ACCESS_KEY,
        "AWS_SECRET_ACCESS_KEY": SECRET_KEY,
        "AWS_ENDPOINT_URL_STS": fake.url,  # where an assumed role asks for its keys
        "AWS_EC2_METADATA_DISABLED": "true",  # nothing beyond loopback is ever asked
        "AWS_CONFIG_FILE": str(workdir / "no-aws-config"),
        "AWS_SHARED_CREDENTIALS_FILE": str(workdir / "aws-credentials"),
    }
    config = {"database": f"sqlite:///{workdir}/anygate.db", "providers": providers, "models": models}
    process = GatewayProcess(workdir, config, env=env)
    yield process.start()
    process.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> str:
    return str(gateway.create_key()["key"])


@pytest.mark.parametrize("stream", [False, True], ids=["whole", "stream"])
@pytest.mark.parametrize("family", FAMILIES)
@pytest.mark.parametrize("name", list(MODELS))
def test_a_tool_conversation_with_thinking(
    gateway: GatewayProcess, key: str, fake: FakeBedrock, name: str, family: str, stream: bool
) -> None:
    turn, final = CONVERSATIONS[family](gateway, key, f"{name}-chat", stream)
    assert [(n, a) for _, n, a in turn.calls] == [("get_weather", {"city": "Paris"})], turn.calls
    assert final == f"The weather in Paris is fine (from {name}).", final
    assert turn.usage == (21, 9), f"the upstream's usage reaches the {family} client"
    assert turn.thinking == ("" if name == "bedrock-llama" else THINKING), f"{name}'s thinking reaches the {family} client"
    first, second = fake.requests[-2:]
    claude = name == "bedrock-claude"
    assert first["path"] == f"/model/{MODELS[name]}/" + ("invoke" if claude else "converse") + (
        "-with-response-stream" if claude and stream else "-stream" if stream else ""
    )
    if claude:
        assert first["body"]["anthropic_version"] == "bedrock-2023-05-31" and first["body"]["thinking"]["type"] == "enabled"
    else:
        assert first["body"]["toolConfig"]["tools"][0]["toolSpec"]["name"] == "get_weather"
        uses = [b["toolUse"]["toolUseId"] for m in second["body"]["messages"] for b in m["content"] if "toolUse" in b]
        results = [b["toolResult"]["toolUseId"] for m in second["body"]["messages"] for b in m["content"] if "toolResult" in b]
        assert uses == results and len(uses) == 1, "the call and its result keep one id"


@pytest.mark.parametrize("model", ["role-claude", "key-nova", "env-llama", "profile-llama"])
def test_every_way_of_signing_in(gateway: GatewayProcess, key: str, fake: FakeBedrock, model: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    for _ in range(3):
        answer = client.chat.completions.create(model=model, messages=[{"role": "user", "content": "hi"}])
        assert (answer.choices[0].message.content or "").startswith("Hello from bedrock-")
    sent = fake.requests[-1]["headers"]
    if model == "key-nova":
        assert sent["Authorization"] == f"Bearer {API_KEY}"
    elif model == "role-claude":
        assert fake.assumed == [ROLE], "the role is assumed once, its keys kept"
        assert sent["Authorization"].startswith("AWS4-HMAC-SHA256 Credential=ASIA") and sent["X-Amz-Security-Token"]
    else:
        expected = PROFILE_KEY if model == "profile-llama" else ACCESS_KEY  # a named profile, not the environment
        assert sent["Authorization"].startswith(f"AWS4-HMAC-SHA256 Credential={expected}/")
        assert "/us-west-2/bedrock/" in sent["Authorization"]


@pytest.mark.parametrize("name", list(MODELS))
def test_refusals_and_throttling_reach_each_family_in_its_shape(gateway: GatewayProcess, key: str, name: str) -> None:
    chat = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.BadRequestError) as bad:
        chat.chat.completions.create(model=f"{name}-400", messages=[{"role": "user", "content": "hi"}])
    assert "temperature" in str(bad.value)
    with pytest.raises(anthropic.RateLimitError):
        anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0).messages.create(
            model=f"{name}-429", max_tokens=10, messages=[{"role": "user", "content": "hi"}]
        )
    client = genai.Client(api_key=key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini"))
    with pytest.raises(genai.errors.ClientError) as failed:
        client.models.generate_content(model=f"{name}-400", contents="hi")
    assert failed.value.code == 400 and "temperature" in str(failed.value.message)
    with pytest.raises(openai.APIError) as broken:
        for _ in chat.chat.completions.create(
            model=f"{name}-midstream", messages=[{"role": "user", "content": "hi"}], stream=True
        ):
            pass
    assert "throttlingException" in str(broken.value)


def test_the_official_bedrock_client_speaks_what_the_fake_checks(fake: FakeBedrock) -> None:
    client = anthropic.AnthropicBedrock(
        aws_access_key=ACCESS_KEY, aws_secret_key=SECRET_KEY, aws_region="us-west-2", base_url=fake.url, max_retries=0
    )
    message = client.messages.create(model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "hi"}])
    assert message.content[0].type == "text" and message.content[0].text == "Hello from bedrock-claude!"
    with client.messages.stream(model=CLAUDE, max_tokens=50, messages=[{"role": "user", "content": "hi"}]) as events:
        assert events.get_final_text() == "Hello from bedrock-claude!"
    assert fake.requests[-1]["path"] == f"/model/{CLAUDE}/invoke-with-response-stream"


def test_embeddings_from_titan_and_cohere(gateway: GatewayProcess, key: str, fake: FakeBedrock) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    titan = client.embeddings.create(model="titan-embed", input=[f"text {i}" for i in range(10)], dimensions=3)
    assert [d.embedding for d in titan.data] == [[0.125] * 3] * 10 and [d.index for d in titan.data] == list(range(10))
    assert titan.usage.prompt_tokens == 30, "Titan's own token counts"
    titan_calls = [r for r in fake.requests if r["model"] == "amazon.titan-embed-text-v2:0"]
    assert len(titan_calls) == 10 and titan_calls[-1]["body"] == {"inputText": "text 9", "dimensions": 3}
    cohere = client.embeddings.create(model="cohere-embed", input=[f"doc {i}" for i in range(100)], dimensions=2)
    assert len(cohere.data) == 100 and cohere.data[99].embedding == [0.5, 0.5]
    batches = [r["body"] for r in fake.requests if r["model"] == "cohere.embed-v4:0"][-2:]
    assert [len(b["texts"]) for b in batches] == [96, 4] and batches[0]["input_type"] == "search_document"
    assert batches[0]["output_dimension"] == 2
    with pytest.raises(openai.BadRequestError) as refused:
        client.embeddings.create(model="bedrock-llama-chat", input="hi")
    assert "not an embedding model of Bedrock" in str(refused.value)


def test_claude_counts_through_count_tokens(gateway: GatewayProcess, key: str, fake: FakeBedrock) -> None:
    client = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=key, max_retries=0)
    counted = client.messages.count_tokens(model="bedrock-claude-chat", messages=[{"role": "user", "content": "hi"}])
    assert counted.input_tokens == 42
    sent = fake.requests[-1]
    assert sent["path"] == "/model/anthropic.claude-sonnet-4-5-20250929-v1:0/count-tokens", "the profile's foundation model"


def test_a_signature_bedrock_refuses_is_the_gateways_fault_not_the_clients(gateway: GatewayProcess, key: str) -> None:
    client = openai.OpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
    with pytest.raises(openai.APIStatusError) as refused:
        client.chat.completions.create(model="wrong-llama", messages=[{"role": "user", "content": "hi"}])
    assert refused.value.status_code == 502 and "refused the gateway's credentials" in str(refused.value)
    assert "not-the-secret" not in str(refused.value)
