"""The official `openai` SDK against the real gateway: through the fake OpenAI upstream and through mock."""

from __future__ import annotations

import base64
import json

import pytest
from openai import OpenAI

from tests.fakes.openai_upstream import ECHO_TEXT, TOOL_CALLS, UPSTREAM_KEY, USAGE, FakeOpenAI
from tests.gateway_process import GatewayProcess

WEATHER_TOOL = {
    "type": "function",
    "function": {
        "name": "get_weather",
        "description": "Weather in a city",
        "parameters": {
            "type": "object",
            "properties": {"city": {"type": "string"}, "days": {"type": "integer"}},
            "required": ["city"],
        },
    },
}
PNG_1PX = base64.b64encode(bytes.fromhex("89504e470d0a1a0a0000000d4948445200000001000000010806000000")).decode()


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess, api_key: str) -> OpenAI:
    return OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0, timeout=20)


def test_models_list_shows_configured_models(client: OpenAI) -> None:
    ids = [m.id for m in client.models.list()]
    assert {"gpt-test", "mock-fast", "down-model"} <= set(ids)


def test_non_stream_relays_upstream_answer_with_only_model_and_auth_changed(client: OpenAI, fake_openai: FakeOpenAI) -> None:
    completion = client.chat.completions.create(
        model="gpt-test",
        messages=[{"role": "user", "content": "hi"}],
        temperature=0.3,
        seed=7,
        extra_body={"vendor_field": {"x": 1}},
    )
    assert completion.choices[0].message.content == ECHO_TEXT
    assert completion.usage is not None and completion.usage.prompt_tokens == USAGE["prompt_tokens"]
    assert completion.usage.prompt_tokens_details.cached_tokens == 4
    sent = fake_openai.requests[-1]
    assert sent["headers"]["Authorization"] == f"Bearer {UPSTREAM_KEY}"
    assert sent["body"] == {
        "model": "up-echo",
        "messages": [{"role": "user", "content": "hi"}],
        "temperature": 0.3,
        "seed": 7,
        "vendor_field": {"x": 1},
    }


def test_stream_with_usage_relays_every_chunk(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="gpt-test", messages=[{"role": "user", "content": "hi"}], stream=True, stream_options={"include_usage": True}
    )
    chunks = list(stream)
    assert chunks[0].choices[0].delta.role == "assistant"
    assert "".join(c.choices[0].delta.content or "" for c in chunks if c.choices) == ECHO_TEXT
    assert chunks[-1].choices == [] and chunks[-1].usage is not None
    assert chunks[-1].usage.total_tokens == USAGE["total_tokens"]


def test_stream_without_usage_request_hides_the_usage_chunk_but_asks_upstream(client: OpenAI, fake_openai: FakeOpenAI) -> None:
    chunks = list(client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": "hi"}], stream=True))
    assert all(c.choices for c in chunks), "the usage-only chunk must not reach a client that did not ask for it"
    assert chunks[-1].choices[0].finish_reason == "stop"
    assert fake_openai.requests[-1]["body"]["stream_options"] == {"include_usage": True}


def test_tool_calls_streamed_in_pieces_keep_their_indices(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="scenario-tools",
        messages=[{"role": "user", "content": "weather and time in Paris"}],
        tools=[WEATHER_TOOL],
        stream=True,
    )
    calls: dict[int, dict[str, str]] = {}
    finish = None
    for chunk in stream:
        for choice in chunk.choices:
            finish = choice.finish_reason or finish
            for delta in choice.delta.tool_calls or []:
                call = calls.setdefault(delta.index, {"id": "", "name": "", "arguments": ""})
                call["id"] += delta.id or ""
                call["name"] += (delta.function and delta.function.name) or ""
                call["arguments"] += (delta.function and delta.function.arguments) or ""
    assert finish == "tool_calls"
    assert [(c["id"], c["name"], c["arguments"]) for _, c in sorted(calls.items())] == TOOL_CALLS


def test_tool_calls_non_stream(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="scenario-tools", messages=[{"role": "user", "content": "x"}], tools=[WEATHER_TOOL]
    )
    calls = completion.choices[0].message.tool_calls or []
    assert [(c.id, c.function.name, c.function.arguments) for c in calls] == TOOL_CALLS
    assert completion.choices[0].finish_reason == "tool_calls"


def test_images_and_response_format_reach_the_upstream_untouched(client: OpenAI, fake_openai: FakeOpenAI) -> None:
    content = [
        {"type": "text", "text": "what is this?"},
        {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}", "detail": "low"}},
        {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
    ]
    fmt = {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object", "properties": {"a": {"type": "string"}}}, "strict": True},
    }
    client.chat.completions.create(model="gpt-test", messages=[{"role": "user", "content": content}], response_format=fmt)  # type: ignore[arg-type]
    sent = fake_openai.requests[-1]["body"]
    assert sent["messages"][0]["content"] == content
    assert sent["response_format"] == fmt


def test_mock_echoes_streams_and_reports_usage(client: OpenAI) -> None:
    completion = client.chat.completions.create(model="mock-fast", messages=[{"role": "user", "content": "echo this back to me"}])
    assert completion.choices[0].message.content == "echo this back to me"
    assert completion.usage is not None and completion.usage.prompt_tokens > 0 and completion.usage.completion_tokens > 0
    chunks = list(
        client.chat.completions.create(
            model="mock-fast",
            messages=[{"role": "user", "content": "echo this back to me"}],
            stream=True,
            stream_options={"include_usage": True},
        )
    )
    text_chunks = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(text_chunks) > 1, "the mock streams in pieces"
    assert "".join(c.choices[0].delta.content or "" for c in text_chunks) == "echo this back to me"
    assert chunks[-1].usage is not None and chunks[-1].usage.completion_tokens == completion.usage.completion_tokens


def test_mock_calls_a_tool_when_asked_and_reads_its_result(client: OpenAI) -> None:
    first = client.chat.completions.create(
        model="mock-fast", messages=[{"role": "user", "content": "use get_weather for Oslo"}], tools=[WEATHER_TOOL]
    )
    call = (first.choices[0].message.tool_calls or [])[0]
    assert call.function.name == "get_weather" and first.choices[0].finish_reason == "tool_calls"
    assert set(json.loads(call.function.arguments)) == {"city", "days"}
    second = client.chat.completions.create(
        model="mock-fast",
        messages=[
            {"role": "user", "content": "use get_weather for Oslo"},
            first.choices[0].message.model_dump(exclude_none=True),  # type: ignore[list-item]
            {"role": "tool", "tool_call_id": call.id, "content": "sunny, 21C"},
        ],
        tools=[WEATHER_TOOL],
    )
    assert second.choices[0].message.content == "Tool result received: sunny, 21C"


def test_mock_structured_output_and_images(client: OpenAI) -> None:
    completion = client.chat.completions.create(
        model="mock-fast",
        messages=[{"role": "user", "content": "give json"}],
        response_format={
            "type": "json_schema",
            "json_schema": {"name": "x", "schema": {"type": "object", "properties": {"n": {"type": "integer"}}}},
        },
    )
    assert completion.choices[0].message.content == '{"n":1}'
    seen = client.chat.completions.create(
        model="mock-fast",
        messages=[
            {
                "role": "user",
                "content": [
                    {"type": "text", "text": "look"},
                    {"type": "image_url", "image_url": {"url": f"data:image/png;base64,{PNG_1PX}"}},
                ],
            }
        ],
    )
    assert seen.choices[0].message.content == "look [1 image]"


def test_stream_tool_call_through_mock(client: OpenAI) -> None:
    stream = client.chat.completions.create(
        model="mock-fast", messages=[{"role": "user", "content": "x"}], tools=[WEATHER_TOOL], tool_choice="required", stream=True
    )
    args = "".join(
        d.function.arguments or "" for c in stream for ch in c.choices for d in ch.delta.tool_calls or [] if d.function
    )
    assert json.loads(args) == {"city": "mock", "days": 1}
