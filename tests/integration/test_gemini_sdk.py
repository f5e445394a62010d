"""The official `google-genai` SDK against the real gateway: relayed to a Gemini upstream, translated to others."""

from __future__ import annotations

import base64
import json

import pytest
import requests
from google import genai
from google.genai import errors, types

from tests.fakes.gemini_upstream import CALLS, SIGNATURE, TEXT, THOUGHT, USAGE, FakeGemini
from tests.fakes.gemini_upstream import UPSTREAM_KEY as GEMINI_KEY
from tests.fakes.openai_upstream import ECHO_TEXT, TOOL_CALLS, FakeOpenAI
from tests.gateway_process import GatewayProcess

NO_AUTO = types.AutomaticFunctionCallingConfig(disable=True)
WEATHER = types.Tool(
    function_declarations=[
        types.FunctionDeclaration(
            name="get_weather",
            description="Weather in a city",
            parameters_json_schema={"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
        )
    ]
)


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess, api_key: str) -> genai.Client:
    return genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini", api_version="v1beta"))


# --- same family: relayed to the Gemini upstream ------------------------------------------------


def test_relay_generate_content(client: genai.Client, fake_gemini: FakeGemini) -> None:
    response = client.models.generate_content(model="gemini-echo", contents="hi")
    assert response.text == TEXT
    assert response.usage_metadata is not None and response.usage_metadata.thoughts_token_count == USAGE["thoughtsTokenCount"]
    sent = fake_gemini.requests[-1]
    assert sent["path"] == "/v1beta/models/gemini-echo:generateContent" and sent["headers"]["x-goog-api-key"] == GEMINI_KEY


def test_relay_stream_with_thoughts(client: genai.Client, fake_gemini: FakeGemini) -> None:
    chunks = list(client.models.generate_content_stream(model="gemini-think", contents="hi"))
    thought = chunks[0].candidates[0].content.parts[0]  # type: ignore[index,union-attr]
    assert thought.thought and thought.text == THOUGHT
    assert thought.thought_signature == base64.urlsafe_b64decode(SIGNATURE + "==")
    assert "".join(c.text or "" for c in chunks[1:]) == TEXT
    assert fake_gemini.requests[-1]["query"] == {"alt": "sse"}


def test_relay_errors_keep_gemini_shape(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as bad:
        client.models.generate_content(model="gemini-400", contents="hi")
    assert bad.value.code == 400 and bad.value.status == "INVALID_ARGUMENT"
    with pytest.raises(errors.ServerError) as down:
        client.models.generate_content(model="gemini-503", contents="hi")
    assert down.value.code == 503


def test_count_tokens_goes_to_the_gemini_upstream(client: genai.Client) -> None:
    assert client.models.count_tokens(model="gemini-echo", contents="hello").total_tokens == 77


# --- translated: Gemini client, OpenAI-compatible upstream -----------------------------------------


def test_translated_generate_content(client: genai.Client, fake_openai: FakeOpenAI) -> None:
    config = types.GenerateContentConfig(
        system_instruction="Be brief.", max_output_tokens=64, temperature=0.2, stop_sequences=["END"], seed=3
    )
    response = client.models.generate_content(
        model="gpt-test", contents=["look", types.Part.from_bytes(data=b"\x89PNG", mime_type="image/png")], config=config
    )
    assert response.text == ECHO_TEXT
    assert response.usage_metadata is not None and response.usage_metadata.prompt_token_count == 19
    assert response.candidates[0].finish_reason == types.FinishReason.STOP  # type: ignore[index]
    sent = fake_openai.requests[-1]["body"]
    assert sent["messages"][0] == {"role": "system", "content": "Be brief."}
    assert sent["messages"][1]["content"][1]["image_url"]["url"] == "data:image/png;base64,iVBORw=="
    assert (sent["max_completion_tokens"], sent["temperature"], sent["stop"], sent["seed"]) == (64, 0.2, ["END"], 3)


def test_translated_stream_and_function_calls(client: genai.Client, fake_openai: FakeOpenAI) -> None:
    chunks = list(client.models.generate_content_stream(model="gpt-test", contents="hi"))
    assert "".join(c.text or "" for c in chunks) == ECHO_TEXT
    assert chunks[-1].usage_metadata is not None and chunks[-1].usage_metadata.candidates_token_count == 12
    config = types.GenerateContentConfig(tools=[WEATHER], automatic_function_calling=NO_AUTO)
    streamed = list(client.models.generate_content_stream(model="scenario-tools", contents="x", config=config))
    calls = [fc for c in streamed for fc in c.function_calls or []]
    assert [(fc.id, fc.name, fc.args) for fc in calls] == [(i, n, json.loads(a)) for i, n, a in TOOL_CALLS]
    assert fake_openai.requests[-1]["body"]["tools"][0]["function"]["parameters"]["properties"] == {"city": {"type": "string"}}


def test_translated_function_response_round_trip(client: genai.Client, fake_openai: FakeOpenAI) -> None:
    contents = [
        types.Content(role="user", parts=[types.Part.from_text(text="weather in Oslo?")]),
        types.Content(
            role="model", parts=[types.Part(function_call=types.FunctionCall(name="get_weather", args={"city": "Oslo"}))]
        ),
        types.Content(role="user", parts=[types.Part.from_function_response(name="get_weather", response={"forecast": "sunny"})]),
    ]
    config = types.GenerateContentConfig(
        tools=[WEATHER],
        automatic_function_calling=NO_AUTO,
        tool_config=types.ToolConfig(
            function_calling_config=types.FunctionCallingConfig(mode="ANY", allowed_function_names=["get_weather"])
        ),
    )
    client.models.generate_content(model="gpt-test", contents=contents, config=config)  # type: ignore[arg-type]
    sent = fake_openai.requests[-1]["body"]
    call = sent["messages"][1]["tool_calls"][0]
    assert call["function"] == {"name": "get_weather", "arguments": '{"city":"Oslo"}'}
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": call["id"], "content": '{"forecast":"sunny"}'}
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}


def test_translated_json_array_stream_without_alt_sse(gateway: GatewayProcess, api_key: str) -> None:
    body = {"contents": [{"role": "user", "parts": [{"text": "echo me"}]}]}
    resp = requests.post(
        gateway.url + "/gemini/v1beta/models/mock-fast:streamGenerateContent",
        json=body,
        headers={"x-goog-api-key": api_key},
        timeout=10,
    )
    chunks = resp.json()
    assert (
        isinstance(chunks, list)
        and "".join(p["text"] for c in chunks for p in c["candidates"][0]["content"]["parts"]) == "echo me"
    )
    assert chunks[-1]["candidates"][0]["finishReason"] == "STOP" and chunks[-1]["usageMetadata"]["totalTokenCount"] > 0


def test_translated_errors_models_and_tokens(client: genai.Client) -> None:
    with pytest.raises(errors.ClientError) as missing:
        client.models.generate_content(model="no-such-model", contents="x")
    assert missing.value.code == 404 and missing.value.status == "NOT_FOUND"
    with pytest.raises(errors.ServerError) as down:
        client.models.generate_content(model="scenario-503", contents="x")
    assert down.value.code == 503 and down.value.status == "UNAVAILABLE"
    assert "models/gpt-test" in {m.name for m in client.models.list()}
    assert client.models.count_tokens(model="mock-fast", contents="hello there").total_tokens > 0  # type: ignore[operator]


def test_v1_paths_work_too(gateway: GatewayProcess, api_key: str) -> None:
    v1 = genai.Client(api_key=api_key, http_options=types.HttpOptions(base_url=gateway.url + "/gemini", api_version="v1"))
    assert v1.models.generate_content(model="mock-fast", contents="v1 echo").text == "v1 echo"


# --- translated: other clients, Gemini upstream ---------------------------------------------------


def test_openai_and_anthropic_clients_to_gemini_upstream(gateway: GatewayProcess, api_key: str, fake_gemini: FakeGemini) -> None:
    import anthropic
    from openai import OpenAI

    openai_client = OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)
    stream = openai_client.chat.completions.create(
        model="gemini-tools",
        messages=[{"role": "user", "content": "x"}],
        stream=True,
        tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
    )
    deltas = [d for c in stream for ch in c.choices for d in ch.delta.tool_calls or []]
    assert sorted({d.index for d in deltas}) == [0, 1], "each Gemini call gets its own index"
    names = [d.function.name for d in deltas if d.function and d.function.name]
    assert names == [n for n, _ in CALLS]
    ids = [d.id for d in deltas if d.id]
    assert len(set(ids)) == 2, "calls without ids get unique ones"
    completion = openai_client.chat.completions.create(model="gemini-tools", messages=[{"role": "user", "content": "x"}])
    assert completion.choices[0].finish_reason == "tool_calls", "STOP after function calls is a tool-call finish"
    sent = fake_gemini.requests[-1]["body"]
    assert sent["contents"] == [{"role": "user", "parts": [{"text": "x"}]}]

    claude = anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=api_key, max_retries=0)
    with claude.messages.stream(model="gemini-think", max_tokens=100, messages=[{"role": "user", "content": "hi"}]) as s:
        final = s.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].signature == SIGNATURE  # type: ignore[union-attr]
    assert final.content[1].text == TEXT  # type: ignore[union-attr]
    assert final.usage.output_tokens == USAGE["candidatesTokenCount"] + USAGE["thoughtsTokenCount"]
    assert final.usage.cache_read_input_tokens == USAGE["cachedContentTokenCount"]
