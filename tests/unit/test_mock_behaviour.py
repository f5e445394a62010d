"""The mock model: deterministic echo, tool calls when asked, structured output, limits and stops."""

from __future__ import annotations

import orjson
import pytest

from anygate.config import ProviderConfig
from anygate.core.errors import GatewayError
from anygate.providers.mock.adapter import MockProvider
from anygate.providers.mock.behaviour import MAX_OUTPUT_TOKENS, answer
from anygate.providers.mock.schema_example import schema_example

TOOL = {
    "type": "function",
    "function": {
        "name": "lookup",
        "parameters": {"type": "object", "properties": {"q": {"type": "string"}, "n": {"type": ["integer", "null"]}}},
    },
}
OTHER = {
    "type": "function",
    "function": {"name": "other", "parameters": {"type": "object", "properties": {"flag": {"type": "boolean"}}}},
}


def _ask(text: str, **extra: object) -> dict:  # type: ignore[type-arg]
    return {"messages": [{"role": "system", "content": "be brief"}, {"role": "user", "content": text}], **extra}


def test_echo_is_deterministic_with_usage() -> None:
    first, second = answer(_ask("hello")), answer(_ask("hello"))
    assert first == second and first.content == "hello" and first.finish_reason == "stop"
    assert first.prompt_tokens > 0 and first.completion_tokens == 2


def test_tool_calls_by_mention_choice_and_name() -> None:
    assert answer(_ask("no tools wanted", tools=[TOOL])).tool_calls == []
    both = answer(_ask("call lookup then other", tools=[TOOL, OTHER]))
    assert [c.name for c in both.tool_calls] == ["lookup", "other"] and both.finish_reason == "tool_calls"
    assert orjson.loads(both.tool_calls[0].arguments) == {"q": "mock", "n": 1}
    assert [c.name for c in answer(_ask("x", tools=[TOOL, OTHER], tool_choice="required")).tool_calls] == ["lookup"]
    named = answer(_ask("x", tools=[TOOL, OTHER], tool_choice={"type": "function", "function": {"name": "other"}}))
    assert [c.name for c in named.tool_calls] == ["other"]
    assert answer(_ask("call lookup", tools=[TOOL], tool_choice="none")).tool_calls == []


def test_limits_stops_and_json() -> None:
    long = answer(_ask("word " * 40, max_tokens=5))
    assert long.finish_reason == "length" and long.content is not None and len(long.content) == 20
    assert answer(_ask("stop here STOP not this", stop=["STOP"])).content == "stop here "
    assert answer(_ask("hi", response_format={"type": "json_object"})).content == '{"echo":"hi"}'


def test_bad_messages_are_a_400() -> None:
    with pytest.raises(GatewayError) as caught:
        answer({"messages": [{"content": "no role"}]})
    assert caught.value.status == 400 and caught.value.param == "messages[0]"


def test_schema_example_covers_the_common_shapes() -> None:
    schema = {
        "type": "object",
        "properties": {
            "s": {"type": "string"},
            "e": {"enum": ["a", "b"]},
            "c": {"const": 3},
            "arr": {"type": "array", "items": {"type": "number"}},
            "u": {"anyOf": [{"type": "boolean"}, {"type": "string"}]},
            "o": {"properties": {"x": {"type": "integer"}}},
        },
    }
    assert schema_example(schema) == {"s": "mock", "e": "a", "c": 3, "arr": [1.5], "u": True, "o": {"x": 1}}


def test_odd_shapes_never_crash_the_mock() -> None:
    for extra in [
        {"tools": "nope", "tool_choice": {"function": "x"}},
        {"tools": [TOOL], "tool_choice": {"type": "function", "function": "get"}},
        {"response_format": {"type": "json_schema", "json_schema": "x"}},
        {"stop": 5, "max_tokens": "ten"},
    ]:
        assert answer(_ask("hi lookup", **extra)).finish_reason in ("stop", "tool_calls")


async def test_the_mock_is_bounded_like_a_real_upstream() -> None:
    huge = {"model": "m", "messages": [{"role": "user", "content": "word " * 2_000_000}]}  # a 10 MB echo
    result = answer(huge)
    assert (
        result.finish_reason == "length"
        and result.completion_tokens == MAX_OUTPUT_TOKENS
        and len(result.content or "") == MAX_OUTPUT_TOKENS * 4
    )
    capped = answer({**huge, "max_tokens": 10_000_000})
    assert capped.completion_tokens == MAX_OUTPUT_TOKENS, "a client's max_tokens cannot raise the mock's own cap"
    mock = MockProvider("mock", ProviderConfig(type="mock"), None)  # type: ignore[arg-type]
    for body, param in (({"input": "x", "dimensions": 3_000_000}, "dimensions"), ({"input": ["x"] * 2049}, "input")):
        with pytest.raises(GatewayError) as refused:
            await mock.embed(body, "m")
        assert refused.value.status == 400 and refused.value.param == param
    assert (
        len(orjson.loads((await mock.embed({"input": "x", "dimensions": 3072}, "m")).body or b"")["data"][0]["embedding"]) == 3072
    )


def test_a_tool_name_that_is_not_a_string_is_a_400_as_at_openai() -> None:
    body = {
        "model": "m",
        "messages": [{"role": "user", "content": "hi"}],
        "tools": [{"type": "function", "function": {"name": True}}],
    }
    with pytest.raises(GatewayError) as refused:
        answer(body)
    assert refused.value.status == 400 and refused.value.param == "tools[0].function.name"
