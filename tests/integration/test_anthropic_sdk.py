"""The official `anthropic` SDK against the real gateway: relayed to an Anthropic upstream, translated to others."""

from __future__ import annotations

import base64
import json

import anthropic
import pytest
import requests

from tests.fakes.anthropic_upstream import SIGNATURE, TEXT, THOUGHT, TOOL_USES, USAGE, FakeAnthropic
from tests.fakes.anthropic_upstream import UPSTREAM_KEY as ANTHROPIC_KEY
from tests.fakes.openai_upstream import ECHO_TEXT, TOOL_CALLS, FakeOpenAI
from tests.gateway_process import GatewayProcess

WEATHER = {
    "name": "get_weather",
    "description": "Weather in a city",
    "input_schema": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
PNG = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d49484452")).decode()


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess, api_key: str) -> anthropic.Anthropic:
    return anthropic.Anthropic(base_url=gateway.url + "/anthropic", api_key=api_key, max_retries=0, timeout=20)


# --- same family: relayed to the Anthropic upstream -------------------------------------------


def test_relay_non_stream_with_model_swap_auth_and_beta_header(
    client: anthropic.Anthropic, fake_anthropic: FakeAnthropic
) -> None:
    message = client.messages.create(
        model="claude-echo",
        max_tokens=50,
        messages=[{"role": "user", "content": "hi"}],
        extra_headers={"anthropic-beta": "prompt-caching-2024-07-31"},
    )
    assert message.content[0].text == TEXT  # type: ignore[union-attr]
    assert message.usage.cache_read_input_tokens == 10
    sent = fake_anthropic.requests[-1]
    assert sent["headers"]["x-api-key"] == ANTHROPIC_KEY and sent["headers"]["anthropic-version"] == "2023-06-01"
    assert sent["headers"]["anthropic-beta"] == "prompt-caching-2024-07-31"
    assert sent["body"]["model"] == "claude-echo"


def test_relay_stream_with_thinking_keeps_the_signature(client: anthropic.Anthropic) -> None:
    with client.messages.stream(model="claude-think", max_tokens=2048, messages=[{"role": "user", "content": "hi"}]) as stream:
        final = stream.get_final_message()
    assert final.content[0].type == "thinking" and final.content[0].thinking == THOUGHT  # type: ignore[union-attr]
    assert final.content[0].signature == SIGNATURE  # type: ignore[union-attr]
    assert final.content[1].text == TEXT  # type: ignore[union-attr]
    assert final.usage.input_tokens == USAGE["input_tokens"] and final.usage.output_tokens == USAGE["output_tokens"]


def test_relay_stream_tools(client: anthropic.Anthropic) -> None:
    with client.messages.stream(
        model="claude-tools", max_tokens=100, messages=[{"role": "user", "content": "x"}], tools=[WEATHER]
    ) as stream:  # type: ignore[list-item]
        final = stream.get_final_message()
    calls = [(b.id, b.name, b.input) for b in final.content if b.type == "tool_use"]
    assert calls == TOOL_USES and final.stop_reason == "tool_use"


def test_relay_errors_keep_anthropic_shape(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.BadRequestError) as bad:
        client.messages.create(model="claude-400", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert "non-empty" in str(bad.value)
    with pytest.raises(anthropic.APIStatusError) as overloaded:
        client.messages.create(model="claude-529", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert overloaded.value.status_code == 503 and overloaded.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    with pytest.raises(anthropic.APIStatusError) as midstream:
        with client.messages.stream(
            model="claude-stream-error", max_tokens=5, messages=[{"role": "user", "content": "x"}]
        ) as stream:
            stream.get_final_message()
    assert "Overloaded" in str(midstream.value)


def test_count_tokens_goes_to_the_anthropic_upstream(client: anthropic.Anthropic, fake_anthropic: FakeAnthropic) -> None:
    counted = client.messages.count_tokens(model="claude-echo", messages=[{"role": "user", "content": "hi"}])
    assert counted.input_tokens == 42
    assert fake_anthropic.requests[-1]["path"] == "/v1/messages/count_tokens"


# --- translated: Anthropic client, OpenAI-compatible upstream ---------------------------------


def test_translated_non_stream(client: anthropic.Anthropic, fake_openai: FakeOpenAI) -> None:
    message = client.messages.create(
        model="gpt-test",
        max_tokens=77,
        system="You are terse.",
        extra_body={"temperature": 0.5},
        stop_sequences=["END"],
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "what is this?"},
                    {"type": "image", "source": {"type": "base64", "media_type": "image/png", "data": PNG}},
                ],
            }
        ],
    )
    assert message.content[0].text == ECHO_TEXT  # type: ignore[union-attr]
    assert message.stop_reason == "end_turn" and message.model == "gpt-test"
    assert (
        message.usage.input_tokens == 19 - 4 and message.usage.cache_read_input_tokens == 4 and message.usage.output_tokens == 12
    )
    sent = fake_openai.requests[-1]["body"]
    assert sent["messages"][0] == {"role": "system", "content": "You are terse."}
    assert sent["messages"][1]["content"][1] == {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG}"}}
    assert (sent["max_completion_tokens"], sent["temperature"], sent["stop"]) == (77, 0.5, ["END"])


def test_translated_stream_tools_in_order(client: anthropic.Anthropic) -> None:
    events = []
    with client.messages.stream(
        model="scenario-tools", max_tokens=100, messages=[{"role": "user", "content": "x"}], tools=[WEATHER]
    ) as stream:  # type: ignore[list-item]
        for event in stream:
            events.append(event.type)
        final = stream.get_final_message()
    assert [(b.id, b.name, b.input) for b in final.content if b.type == "tool_use"] == [
        (i, n, json.loads(a)) for i, n, a in TOOL_CALLS
    ]
    assert final.stop_reason == "tool_use"
    assert events[0] == "message_start" and events[-1] == "message_stop"
    assert final.usage.output_tokens == 12 and final.usage.input_tokens == 15


def test_translated_tool_loop_round_trip(client: anthropic.Anthropic, fake_openai: FakeOpenAI) -> None:
    client.messages.create(
        model="gpt-test",
        max_tokens=100,
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "tool", "name": "get_weather", "disable_parallel_tool_use": True},
        messages=[
            {"role": "user", "content": "weather?"},
            {
                "role": "assistant",
                "content": [
                    {"type": "text", "text": "Checking."},
                    {"type": "tool_use", "id": "toolu_9", "name": "get_weather", "input": {"city": "Oslo"}},
                ],
            },
            {
                "role": "user",
                "content": [
                    {"type": "tool_result", "tool_use_id": "toolu_9", "content": "sunny"},
                    {"type": "text", "text": "and tomorrow?"},
                ],
            },
        ],
    )
    sent = fake_openai.requests[-1]["body"]
    assert sent["messages"][1] == {
        "role": "assistant",
        "content": "Checking.",
        "tool_calls": [
            {"id": "toolu_9", "type": "function", "function": {"name": "get_weather", "arguments": '{"city":"Oslo"}'}}
        ],
    }
    assert sent["messages"][2] == {"role": "tool", "tool_call_id": "toolu_9", "content": "sunny"}
    assert sent["messages"][3] == {"role": "user", "content": "and tomorrow?"}
    assert (
        sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}} and sent["parallel_tool_calls"] is False
    )
    assert sent["tools"][0]["function"]["parameters"] == WEATHER["input_schema"]


def test_translated_errors_are_anthropic_shaped(client: anthropic.Anthropic) -> None:
    with pytest.raises(anthropic.NotFoundError):
        client.messages.create(model="nope", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    missing = requests.post(
        str(client.base_url) + "v1/messages",
        json={"model": "gpt-test", "messages": [{"role": "user", "content": "x"}]},
        headers={"x-api-key": client.api_key},
        timeout=10,
    )
    assert missing.status_code == 400
    assert missing.json()["type"] == "error" and missing.json()["error"] == {
        "type": "invalid_request_error",
        "message": "max_tokens: Field required",
    }
    with pytest.raises(anthropic.APIStatusError) as upstream:
        client.messages.create(model="scenario-503", max_tokens=5, messages=[{"role": "user", "content": "x"}])
    assert upstream.value.status_code == 503 and upstream.value.body["error"]["type"] == "overloaded_error"  # type: ignore[index]
    with pytest.raises(anthropic.APIStatusError) as cut:
        with client.messages.stream(model="scenario-cut", max_tokens=5, messages=[{"role": "user", "content": "x"}]) as stream:
            stream.get_final_message()
    assert "upstream" in str(cut.value)


def test_translated_count_tokens_and_models(client: anthropic.Anthropic) -> None:
    assert client.messages.count_tokens(model="mock-fast", messages=[{"role": "user", "content": "hello there"}]).input_tokens > 0
    assert {"gpt-test", "claude-echo"} <= {m.id for m in client.models.list()}  # every page (20 a page, as Anthropic's)


# --- translated: OpenAI client, Anthropic upstream ---------------------------------------------


def test_openai_client_to_anthropic_upstream(gateway: GatewayProcess, api_key: str, fake_anthropic: FakeAnthropic) -> None:
    from openai import OpenAI

    client = OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)
    completion = client.chat.completions.create(
        model="claude-think", messages=[{"role": "system", "content": "sys"}, {"role": "user", "content": "hi"}]
    )
    assert completion.choices[0].message.content == TEXT
    assert (
        completion.usage is not None
        and completion.usage.prompt_tokens == 36
        and completion.usage.prompt_tokens_details.cached_tokens == 10
    )  # type: ignore[union-attr]
    sent = fake_anthropic.requests[-1]["body"]
    assert (
        sent["system"] == "sys"
        and sent["max_tokens"] == 8192
        and sent["messages"] == [{"role": "user", "content": [{"type": "text", "text": "hi"}]}]
    )
    chunks = list(
        client.chat.completions.create(
            model="claude-tools",
            messages=[{"role": "user", "content": "x"}],
            stream=True,
            stream_options={"include_usage": True},
            tools=[{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}],
        )
    )
    calls: dict[int, str] = {}
    for chunk in chunks:
        for choice in chunk.choices:
            for delta in choice.delta.tool_calls or []:
                calls[delta.index] = calls.get(delta.index, "") + ((delta.function and delta.function.arguments) or "")
    assert [json.loads(a) for _, a in sorted(calls.items())] == [a for _, _, a in TOOL_USES]
    assert chunks[0].choices[0].delta.role == "assistant"
    assert [c.choices[0].finish_reason for c in chunks if c.choices and c.choices[0].finish_reason] == ["tool_calls"]
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == USAGE["output_tokens"]
