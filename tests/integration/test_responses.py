"""The OpenAI Responses API through the real gateway with the official `openai` SDK, over upstreams of
every type (OpenAI chat completions, Anthropic, Gemini, mock): text, tools, JSON schema, streaming,
stored conversations and their ownership."""

from __future__ import annotations

import json
from typing import Any

import openai
import pytest
import requests
from openai import OpenAI

from tests.fakes.anthropic_upstream import TEXT as CLAUDE_TEXT
from tests.fakes.anthropic_upstream import TOOL_USES, FakeAnthropic
from tests.fakes.gemini_upstream import TEXT as GEMINI_TEXT
from tests.fakes.openai_upstream import ECHO_TEXT, TOOL_CALLS, USAGE, FakeOpenAI
from tests.gateway_process import GatewayProcess

WEATHER = {
    "type": "function",
    "name": "get_weather",
    "description": "Weather in a city",
    "parameters": {"type": "object", "properties": {"city": {"type": "string"}}, "required": ["city"]},
}
TEXTS = {"gpt-test": ECHO_TEXT, "claude-echo": CLAUDE_TEXT, "gemini-echo": GEMINI_TEXT, "mock-fast": "hello there"}
TOOL_MODELS = {  # model -> the (call id, name) of its first call
    "scenario-tools": (TOOL_CALLS[0][0], TOOL_CALLS[0][1]),
    "claude-tools": (TOOL_USES[0][0], TOOL_USES[0][1]),
    "gemini-tools": (None, "get_weather"),  # Gemini calls have no ids: the gateway makes them
    "mock-fast": ("call_mock_0", "get_weather"),
}


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess, api_key: str) -> OpenAI:
    return OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0, timeout=20)


@pytest.mark.parametrize("model", list(TEXTS))
def test_create_answers_from_every_upstream_type(client: OpenAI, model: str) -> None:
    response = client.responses.create(model=model, input="hello there", instructions="Be brief.", max_output_tokens=200)
    assert response.status == "completed" and response.object == "response" and response.model == model
    assert response.output_text == TEXTS[model]
    assert response.output[-1].type == "message" and response.output[-1].role == "assistant"
    assert response.usage is not None and response.usage.input_tokens > 0 and response.usage.output_tokens > 0
    assert response.usage.total_tokens == response.usage.input_tokens + response.usage.output_tokens
    assert response.instructions == "Be brief." and response.max_output_tokens == 200 and getattr(response, "store", None) is True


def test_the_upstream_gets_the_translated_request(client: OpenAI, fake_openai: FakeOpenAI) -> None:
    client.responses.create(
        model="gpt-test",
        instructions="Be brief.",
        input=[
            {"role": "developer", "content": "Answer in English."},
            {
                "role": "user",
                "content": [
                    {"type": "input_text", "text": "What is in this image?"},
                    {"type": "input_image", "image_url": "https://example.com/cat.png"},
                ],
            },
        ],
        max_output_tokens=50,
        temperature=0.2,
        tools=[WEATHER],  # type: ignore[list-item]
        tool_choice={"type": "function", "name": "get_weather"},
        parallel_tool_calls=False,
        text={"format": {"type": "json_schema", "name": "answer", "schema": {"type": "object"}, "strict": True}},
    )
    sent = fake_openai.requests[-1]["body"]
    assert sent["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "system", "content": "Answer in English."},
        {
            "role": "user",
            "content": [
                {"type": "text", "text": "What is in this image?"},
                {"type": "image_url", "image_url": {"url": "https://example.com/cat.png"}},
            ],
        },
    ]
    assert sent["max_completion_tokens"] == 50 and sent["temperature"] == 0.2
    assert sent["tools"][0]["function"]["name"] == "get_weather"
    assert sent["tool_choice"] == {"type": "function", "function": {"name": "get_weather"}}
    assert sent["parallel_tool_calls"] is False
    assert sent["response_format"] == {
        "type": "json_schema",
        "json_schema": {"name": "answer", "schema": {"type": "object"}, "strict": True},
    }


def test_json_schema_output(client: OpenAI) -> None:
    schema = {"type": "object", "properties": {"city": {"type": "string"}, "days": {"type": "integer"}}, "required": ["city"]}
    response = client.responses.create(
        model="mock-fast", input="Plan a trip", text={"format": {"type": "json_schema", "name": "trip", "schema": schema}}
    )
    assert set(json.loads(response.output_text)) >= {"city"}


@pytest.mark.parametrize("model", list(TOOL_MODELS))
def test_function_calls_from_every_upstream_type(client: OpenAI, model: str) -> None:
    response = client.responses.create(model=model, input="Use get_weather for Paris", tools=[WEATHER])  # type: ignore[list-item]
    calls = [item for item in response.output if item.type == "function_call"]
    call_id, name = TOOL_MODELS[model]
    assert calls and calls[0].name == name and calls[0].status == "completed"
    assert calls[0].call_id == (call_id or calls[0].call_id) and calls[0].call_id
    assert isinstance(json.loads(calls[0].arguments), dict) and calls[0].id.startswith("fc_")


@pytest.mark.parametrize("model", ["gpt-test", "claude-think", "scenario-tools", "gemini-tools"])
def test_stream_matches_the_final_response(client: OpenAI, model: str) -> None:
    with client.responses.stream(model=model, input="hello there", tools=[WEATHER]) as stream:  # type: ignore[list-item]
        events = list(stream)
        final = stream.get_final_response()
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert events[0].type == "response.created" and events[1].type == "response.in_progress"
    assert events[-1].type == "response.completed" and final.status == "completed"
    assert final.id == events[0].response.id and final.usage is not None and final.usage.output_tokens > 0
    deltas = "".join(e.delta for e in events if e.type == "response.output_text.delta")
    assert deltas == final.output_text
    arguments = "".join(e.delta for e in events if e.type == "response.function_call_arguments.delta")
    calls = [item for item in final.output if item.type == "function_call"]
    assert arguments == "".join(c.arguments for c in calls)
    if model == "claude-think":
        reasoning = next(item for item in final.output if item.type == "reasoning")
        assert reasoning.summary[0].text and reasoning.encrypted_content
    stored = client.responses.retrieve(final.id)  # stored before the stream ended
    assert [item.id for item in stored.output] == [item.id for item in final.output]
    assert stored.output_text == final.output_text and stored.usage == final.usage


def test_event_order_follows_the_items(gateway: GatewayProcess, api_key: str) -> None:
    """Each item opens, streams and closes before the next; parts and arguments inside their item."""
    resp = requests.post(
        gateway.url + "/openai/v1/responses",
        json={"model": "claude-tools", "input": "Weather?", "tools": [WEATHER], "stream": True},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=20,
    )
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
    names = [line[7:] for line in resp.text.splitlines() if line.startswith("event: ")]
    assert names == [e["type"] for e in events], "each event is named by its type"
    kinds = [e["type"].removeprefix("response.") for e in events]
    squeezed = [k for i, k in enumerate(kinds) if i == 0 or k != kinds[i - 1]]
    function_call = [
        "output_item.added",
        "function_call_arguments.delta",
        "function_call_arguments.done",
        "output_item.done",
    ]
    assert squeezed == [
        "created",
        "in_progress",
        "output_item.added",
        "content_part.added",
        "output_text.delta",
        "output_text.done",
        "content_part.done",
        "output_item.done",
        *function_call,
        *function_call,
        "completed",
    ]
    final = events[-1]["response"]
    assert [item["type"] for item in final["output"]] == ["message", "function_call", "function_call"]
    added = [e["item"]["id"] for e in events if e["type"] == "response.output_item.added"]
    assert added == [item["id"] for item in final["output"]]


def test_a_tool_loop_over_previous_response_id(client: OpenAI, fake_anthropic: FakeAnthropic) -> None:
    first = client.responses.create(model="claude-tools", input="Weather in Paris?", tools=[WEATHER])  # type: ignore[list-item]
    call = next(item for item in first.output if item.type == "function_call")
    second = client.responses.create(
        model="claude-tools",
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert second.previous_response_id == first.id
    sent = fake_anthropic.requests[-1]["body"]["messages"]
    assert sent[0] == {"role": "user", "content": [{"type": "text", "text": "Weather in Paris?"}]}
    assert (
        sent[1]["role"] == "assistant"
        and {"type": "tool_use", "id": call.call_id, "name": call.name, "input": json.loads(call.arguments)} in sent[1]["content"]
    )
    assert sent[2]["role"] == "user" and sent[2]["content"][0]["type"] == "tool_result"
    assert sent[2]["content"][0]["tool_use_id"] == call.call_id
    items = client.responses.input_items.list(second.id, order="asc")
    kinds = [item.type for item in items.data]
    assert kinds[0] == "message" and kinds[-1] == "function_call_output" and "function_call" in kinds


def test_stored_responses_belong_to_their_key(client: OpenAI, gateway: GatewayProcess) -> None:
    mine = client.responses.create(model="mock-fast", input="hello there")
    other = OpenAI(base_url=gateway.url + "/openai/v1", api_key=str(gateway.create_key()["key"]), max_retries=0)
    with pytest.raises(openai.NotFoundError):
        other.responses.retrieve(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.input_items.list(mine.id)
    with pytest.raises(openai.NotFoundError):
        other.responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError) as refused:
        other.responses.create(model="mock-fast", input="hi", previous_response_id=mine.id)
    assert refused.value.body["param"] == "previous_response_id"  # type: ignore[index]
    assert client.responses.retrieve(mine.id).output_text == "hello there"
    client.responses.delete(mine.id)
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(mine.id)


def test_store_false_keeps_nothing(client: OpenAI) -> None:
    response = client.responses.create(model="mock-fast", input="hello there", store=False)
    assert getattr(response, "store", None) is False
    with pytest.raises(openai.NotFoundError):
        client.responses.retrieve(response.id)


def test_input_items_pages(client: OpenAI) -> None:
    first = client.responses.create(model="mock-fast", input="one")
    second = client.responses.create(model="mock-fast", input="two", previous_response_id=first.id)
    newest_first = client.responses.input_items.list(second.id, limit=2)
    assert newest_first.has_more and len(newest_first.data) == 2
    texts = [item.content[0].text for item in newest_first.data]  # type: ignore[union-attr]
    assert texts == ["two", "one"], "the input of this turn, then the answer of the last"
    rest = client.responses.input_items.list(second.id, limit=2, after=newest_first.data[-1].id)
    assert [item.content[0].text for item in rest.data] == ["one"] and not rest.has_more  # type: ignore[union-attr]


@pytest.mark.parametrize(
    ("body", "param"),
    [
        ({"input": "hi", "tools": [{"type": "web_search"}], "tool_choice": {"type": "web_search"}}, "tool_choice"),
        ({"input": "hi", "tools": [{"type": "namespace", "name": "n", "tools": [{"type": "web_search"}]}]}, "tools[0].tools[0]"),
        ({"input": [{"type": "item_reference", "id": "x"}]}, "input[0]"),
        ({"input": 3}, "input"),
        ({"input": "hi", "max_output_tokens": "many"}, "max_output_tokens"),
        ({"input": "hi", "store": "yes"}, "store"),
    ],
)
def test_bad_requests_are_400s_naming_the_field(gateway: GatewayProcess, api_key: str, body: dict[str, Any], param: str) -> None:
    resp = requests.post(
        gateway.url + "/openai/v1/responses",
        json={"model": "mock-fast", **body},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=10,
    )
    assert resp.status_code == 400 and resp.json()["error"]["param"] == param


def test_usage_of_an_upstream_is_reported(client: OpenAI) -> None:
    response = client.responses.create(model="gpt-test", input="hi")
    assert response.usage is not None
    assert response.usage.input_tokens == USAGE["prompt_tokens"] and response.usage.input_tokens_details.cached_tokens == 4


def test_native_upstream_gets_the_request_as_sent(client: OpenAI, fake_openai: FakeOpenAI) -> None:
    response = client.responses.create(
        model="gpt-native", input="hello there", instructions="Be brief.", include=["reasoning.encrypted_content"]
    )
    sent = fake_openai.requests[-1]
    assert sent["path"] == "/v1/responses"
    assert sent["body"] == {
        "model": "up-echo",
        "input": [
            {"type": "message", "role": "user", "content": [{"type": "input_text", "text": "hello there"}], "status": "completed"}
        ],
        "instructions": "Be brief.",
        "include": ["reasoning.encrypted_content"],
    }
    assert response.output_text == ECHO_TEXT and response.usage is not None and response.usage.input_tokens == 36
    assert client.responses.retrieve(response.id).output_text == ECHO_TEXT


def test_native_conversation_is_inlined_for_the_upstream(client: OpenAI, fake_openai: FakeOpenAI) -> None:
    first = client.responses.create(model="gpt-native", input="one")
    with client.responses.stream(model="gpt-native", input="two", previous_response_id=first.id) as stream:
        events = list(stream)
        final = stream.get_final_response()
    sent = fake_openai.requests[-1]["body"]
    assert "previous_response_id" not in sent
    assert [item.get("id") for item in sent["input"]] == [None, first.output[0].id, None], "the gateway's ids stay home"
    assert [item["content"][0]["text"] for item in sent["input"]] == ["one", ECHO_TEXT, "two"]
    assert events[-1].type == "response.completed" and final.output_text == ECHO_TEXT
    assert [e.sequence_number for e in events] == list(range(len(events)))
    assert client.responses.retrieve(final.id).previous_response_id == first.id


def test_native_falls_back_to_translation(client: OpenAI) -> None:
    response = client.responses.create(model="native-fallback", input="hello there")
    assert response.output_text == CLAUDE_TEXT and response.id.startswith("resp_ag")


def test_native_stream_cut_ends_with_an_error_event(gateway: GatewayProcess, api_key: str) -> None:
    resp = requests.post(
        gateway.url + "/openai/v1/responses",
        json={"model": "native-cut", "input": "hi", "stream": True},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=20,
    )
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
    assert events[-1]["type"] == "error" and events[-1]["code"] == "upstream_unreachable"
    assert events[-1]["sequence_number"] == events[-2]["sequence_number"] + 1


@pytest.mark.parametrize("model", ["scenario-tools", "gemini-tools", "mock-fast"])
def test_a_tool_loop_works_over_every_upstream_type(client: OpenAI, model: str) -> None:
    first = client.responses.create(model=model, input="Use get_weather for Paris", tools=[WEATHER])  # type: ignore[list-item]
    call = next(item for item in first.output if item.type == "function_call")
    second = client.responses.create(
        model=model,
        previous_response_id=first.id,
        input=[{"type": "function_call_output", "call_id": call.call_id, "output": '{"temp": 21}'}],
        tools=[WEATHER],  # type: ignore[list-item]
    )
    assert second.status == "completed" and second.output


def test_a_capped_answer_is_incomplete(client: OpenAI) -> None:
    whole = client.responses.create(model="mock-fast", input="a long answer please, many words", max_output_tokens=2)
    assert whole.status == "incomplete" and whole.incomplete_details is not None
    assert whole.incomplete_details.reason == "max_output_tokens"
    with client.responses.stream(model="mock-fast", input="a long answer please, many words", max_output_tokens=2) as stream:
        events = list(stream)
    assert events[-1].type == "response.incomplete"


def test_an_upstream_failing_mid_stream_fails_the_response(gateway: GatewayProcess, api_key: str) -> None:
    resp = requests.post(
        gateway.url + "/openai/v1/responses",
        json={"model": "scenario-stream-error", "input": "hi", "stream": True},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=20,
    )
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
    last = events[-1]
    assert last["type"] == "response.failed" and last["response"]["status"] == "failed"
    assert last["response"]["error"]["message"] and last["sequence_number"] == len(events) - 1
    assert [e["type"] for e in events[-3:-1]] == ["response.content_part.done", "response.output_item.done"], "open items closed"


@pytest.mark.parametrize(
    ("model", "problem"),
    [
        ("native-no-id", "a response without an id"),
        ("native-long-id", "a response id longer than 64 characters"),
        ("native-output-object", "a response whose output is not a list"),
    ],
)
def test_a_native_response_that_cannot_be_kept_is_the_upstreams_error(
    client: OpenAI, gateway: GatewayProcess, api_key: str, model: str, problem: str
) -> None:
    with pytest.raises(openai.APIStatusError) as whole:
        client.responses.create(model=model, input="hi")
    assert whole.value.status_code == 502 and problem in whole.value.message
    resp = requests.post(
        gateway.url + "/openai/v1/responses",
        json={"model": model, "input": "hi", "stream": True},
        headers={"Authorization": f"Bearer {api_key}"},
        timeout=20,
    )
    events = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: ")]
    assert events[0]["type"] == "response.created" and events[-1]["type"] == "error"
    assert "response.completed" not in [e["type"] for e in events], "the bad final is not relayed"
    assert events[-1]["code"] == "upstream_bad_response" and problem in events[-1]["message"]
    assert events[-1]["sequence_number"] == events[-2]["sequence_number"] + 1


@pytest.mark.parametrize("stream", [False, True])
def test_a_native_upstream_giving_one_id_twice_keeps_the_first(client: OpenAI, stream: bool) -> None:
    def ask(text: str) -> str:
        if not stream:
            return client.responses.create(model="native-same-id", input=text).id
        with client.responses.stream(model="native-same-id", input=text) as events:
            return events.get_final_response().id

    first, second = ask("first question"), ask("second question")
    assert first == second == "resp_same"
    items = client.responses.input_items.list("resp_same", order="asc").data
    assert items[0].content[0].text == "first question"  # type: ignore[union-attr]
