"""Ollama's own /api/chat as an upstream wire: the request it is sent, its whole answers and its
streams of JSON lines read back, against shapes of its API (ollama-python's types)."""

from __future__ import annotations

import orjson
import pytest

from anygate.config import ConfigError, settings_from_data
from anygate.core.chat import (
    ChatRequest,
    Image,
    Message,
    Reasoning,
    ResponseFormat,
    Text,
    Thinking,
    Tool,
    ToolCall,
    ToolChoice,
    ToolResult,
)
from anygate.core.errors import GatewayError
from anygate.core.stream import StreamEnd, StreamStart, TextDelta, ThinkingDelta, ToolCallDelta, ToolCallStart
from anygate.core.usage import Usage
from anygate.providers.ollama.chat_wire import OLLAMA_CHAT, build_request

WEATHER = Tool("get_weather", "The weather", {"type": "object", "properties": {"city": {"type": "string"}}})


def _conversation() -> ChatRequest:
    return ChatRequest(
        "public",
        [
            Message("user", [Text("Weather here?"), Image("image/png", "iVBORw0KGgo=")]),
            Message(
                "assistant", [Thinking("look it up"), Text("Checking."), ToolCall("call_9", "get_weather", {"city": "Paris"})]
            ),
            Message("user", [ToolResult("call_9", [Text("sunny")]), Text("thanks")]),
        ],
        system=["Be brief."],
        tools=[WEATHER],
        max_tokens=50,
        temperature=0.2,
        top_k=40,
        stop=["END"],
        seed=7,
    )


def test_a_conversation_is_sent_in_ollamas_shape() -> None:
    body = build_request(_conversation(), "qwen3:8b")
    assert body["model"] == "qwen3:8b" and body["stream"] is False
    assert body["messages"] == [
        {"role": "system", "content": "Be brief."},
        {"role": "user", "content": "Weather here?", "images": ["iVBORw0KGgo="]},
        {
            "role": "assistant",
            "content": "Checking.",
            "thinking": "look it up",
            "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
        },
        {"role": "tool", "content": "sunny", "tool_name": "get_weather"},  # named from the call it answers
        {"role": "user", "content": "thanks"},
    ]
    assert body["tools"] == [
        {"type": "function", "function": {"name": "get_weather", "description": "The weather", "parameters": WEATHER.parameters}}
    ]
    assert body["options"] == {"num_predict": 50, "temperature": 0.2, "top_k": 40, "seed": 7, "stop": ["END"]}
    assert "think" not in body and "format" not in body


@pytest.mark.parametrize(
    ("reasoning", "think"),
    [
        (Reasoning(effort="none"), False),
        (Reasoning(effort="minimal"), "low"),
        (Reasoning(effort="medium"), "medium"),
        (Reasoning(effort="xhigh"), "high"),
        (Reasoning(budget_tokens=20000), "high"),
        (Reasoning(show=True), True),
        (Reasoning(), None),
    ],
)
def test_an_effort_is_sent_as_think(reasoning: Reasoning, think: bool | str | None) -> None:
    body = build_request(ChatRequest("m", [Message("user", [Text("hi")])], reasoning=reasoning), "m")
    assert body.get("think") == think


def test_formats_tool_choice_and_streams() -> None:
    req = ChatRequest("m", [Message("user", [Text("hi")])], tools=[WEATHER], tool_choice=ToolChoice("none"), stream=True)
    body = build_request(req, "m")
    assert "tools" not in body and body["stream"] is True, "tool_choice none: the tools are not offered"
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    req = ChatRequest("m", [Message("user", [Text("hi")])], response_format=ResponseFormat("json_schema", schema))
    assert build_request(req, "m")["format"] == schema
    req.response_format = ResponseFormat("json_object")
    assert build_request(req, "m")["format"] == "json"


def test_a_whole_answer_with_thinking_and_a_tool_call() -> None:
    answer = OLLAMA_CHAT.parse_response(
        {
            "model": "qwen3:8b",
            "created_at": "2026-11-30T12:00:00Z",
            "message": {
                "role": "assistant",
                "content": "",
                "thinking": "I should call it.",
                "tool_calls": [{"function": {"name": "get_weather", "arguments": {"city": "Paris"}}}],
            },
            "done": True,
            "done_reason": "stop",
            "prompt_eval_count": 30,
            "eval_count": 12,
        }
    )
    assert answer.parts[0] == Thinking("I should call it.")
    call = answer.parts[1]
    assert isinstance(call, ToolCall) and (call.name, call.arguments) == ("get_weather", {"city": "Paris"})
    assert call.id.startswith("call_0_") and len(answer.parts) == 2
    assert answer.finish == "tool_calls" and answer.usage == Usage(30, 12) and answer.model == "qwen3:8b"
    cut = OLLAMA_CHAT.parse_response(
        {"message": {"role": "assistant", "content": "Once upon"}, "done_reason": "length", "eval_count": 3}
    )
    assert cut.parts == [Text("Once upon")] and cut.finish == "length" and cut.usage == Usage(0, 3), (
        "a cached prompt has no count"
    )
    assert OLLAMA_CHAT.response_usage({"eval_count": 3, "prompt_eval_count": 4}) == Usage(4, 3)
    assert OLLAMA_CHAT.response_usage({"message": {}}) is None
    with pytest.raises(GatewayError, match="without a message"):
        OLLAMA_CHAT.parse_response({"error": "boom"})


def _lines(*pieces: dict[str, object]) -> bytes:
    return b"".join(orjson.dumps(p) + b"\n" for p in pieces)


STREAM = _lines(
    {"model": "qwen3", "message": {"role": "assistant", "content": "", "thinking": "Hmm"}, "done": False},
    {"model": "qwen3", "message": {"role": "assistant", "content": "Hel"}, "done": False},
    {"model": "qwen3", "message": {"role": "assistant", "content": "lo"}, "done": False},
    {
        "model": "qwen3",
        "message": {
            "role": "assistant",
            "content": "",
            "tool_calls": [{"function": {"name": "a", "arguments": {}}}, {"function": {"name": "b", "arguments": {"x": 1}}}],
        },
        "done": False,
    },
    {
        "model": "qwen3",
        "message": {"role": "assistant", "content": ""},
        "done": True,
        "done_reason": "stop",
        "prompt_eval_count": 5,
        "eval_count": 7,
    },
)


@pytest.mark.parametrize("size", [1, 7, 64, len(STREAM)])
def test_a_stream_in_any_chunking(size: int) -> None:
    parser = OLLAMA_CHAT.stream_parser()
    events = [e for i in range(0, len(STREAM), size) for e in parser.feed(STREAM[i : i + size])] + parser.close()
    assert isinstance(events[0], StreamStart) and events[0].model == "qwen3"
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.index, s.name) for s in starts] == [(0, "a"), (1, "b")] and starts[0].id != starts[1].id
    assert [e.arguments for e in events if isinstance(e, ToolCallDelta)] == ["{}", '{"x":1}']
    assert "".join(e.text for e in events if isinstance(e, TextDelta)) == "Hello"
    assert [e.text for e in events if isinstance(e, ThinkingDelta)] == ["Hmm"]
    assert events[-1] == StreamEnd("tool_calls", Usage(5, 7))


def test_a_stream_that_fails_or_stops_short() -> None:
    parser = OLLAMA_CHAT.stream_parser()
    first = _lines({"model": "m", "message": {"role": "assistant", "content": "Hi"}, "done": False})
    with pytest.raises(GatewayError) as failed:
        parser.feed(first + b'{"error":"an error was encountered while running the model: unexpected EOF"}\n')
    assert "unexpected EOF" in failed.value.message and [type(e) for e in failed.value.before] == [StreamStart, TextDelta]  # type: ignore[attr-defined]
    short = OLLAMA_CHAT.stream_parser()
    assert [type(e) for e in short.feed(first)] == [StreamStart, TextDelta]
    with pytest.raises(GatewayError) as truncated:
        short.close()
    assert truncated.value.code == "upstream_stream_truncated"
    last = OLLAMA_CHAT.stream_parser()
    last.feed(first)
    assert last.feed(b'{"message":{"content":"!"},"done":true,"done_reason":"length"}') == []
    assert last.close() == [TextDelta("!"), StreamEnd("length", Usage())], "a last line without its newline"
    with pytest.raises(GatewayError, match="unreadable"):
        OLLAMA_CHAT.stream_parser().feed(b"not json\n")
    endless = OLLAMA_CHAT.stream_parser()
    with pytest.raises(GatewayError, match="longer than 16 MB"):
        for _ in range(17):
            endless.feed(b"x" * 2**20)


def test_num_ctx_needs_the_native_api() -> None:
    def config(**extra: object) -> dict[str, object]:
        return {"database": "sqlite:///:memory:", "providers": {"o": {"type": "ollama", **extra}}, "models": {}}

    with pytest.raises(ConfigError, match="providers.o: num_ctx needs native_chat: true"):
        settings_from_data(config(num_ctx=8192), "test")
    settings = settings_from_data(config(num_ctx=8192, native_chat=True), "test")
    assert settings.providers["o"].num_ctx == 8192  # type: ignore[attr-defined]


def test_what_the_first_tests_leave_unsaid() -> None:
    """Turns between turns, joins, defaults and refusals, each with the value it must have."""
    req = ChatRequest(
        "m",
        [
            Message("user", [Text("a"), Text("b")]),
            Message("system", [Text("now in French")]),
            Message("assistant", [Thinking("x"), Thinking("y"), ToolCall("c1", "f", {})]),
            Message("user", [ToolResult("unknown", [Text("r")])]),
        ],
        tools=[Tool("f")],
        top_p=0.5,
        reasoning=Reasoning(effort="unheard-of"),
    )
    body = build_request(req, "m")
    assert [m["role"] for m in body["messages"]] == ["user", "system", "assistant", "tool"]
    assert body["messages"][0]["content"] == "ab" and body["messages"][1]["content"] == "now in French"
    assert body["messages"][2]["thinking"] == "xy" and body["messages"][3]["tool_name"] == ""
    assert body["tools"][0]["function"] == {"name": "f", "parameters": {"type": "object", "properties": {}}}
    assert body["options"] == {"top_p": 0.5} and body["think"] == "medium"
    plain = OLLAMA_CHAT.parse_response({"model": "m", "message": {"content": "hi"}, "done_reason": "load"})
    assert plain.finish == "stop" and plain.model == "m" and plain.parts == [Text("hi")]
    with pytest.raises(GatewayError) as no_function:
        OLLAMA_CHAT.parse_response({"message": {"tool_calls": [{"name": "f"}]}})
    assert no_function.value.code == "upstream_bad_response" and "without a function" in no_function.value.message
    with pytest.raises(GatewayError, match="without a function"):
        OLLAMA_CHAT.parse_response({"message": {"tool_calls": ["f"]}})
    with pytest.raises(GatewayError) as no_message:
        OLLAMA_CHAT.parse_response({})
    assert no_message.value.code == "upstream_bad_response"
    unnamed = OLLAMA_CHAT.parse_response({"message": {"tool_calls": [{"function": {"arguments": {}}}]}})
    assert isinstance(unnamed.parts[0], ToolCall) and unnamed.parts[0].name == ""


def test_a_stream_numbers_calls_across_lines_and_ends_as_it_should() -> None:
    calls: list[dict[str, object]] = [{"function": {"name": n, "arguments": {}}} for n in ("a", "b")]
    stream = _lines(
        {"message": {"tool_calls": calls}, "done": False},
        {"message": {"tool_calls": [{"function": {"name": "c", "arguments": {}}}]}, "done": False},
        {"message": {}, "done": True, "done_reason": "stop"},
    )
    parser = OLLAMA_CHAT.stream_parser()
    events = parser.feed(stream) + parser.close()
    starts = [e for e in events if isinstance(e, ToolCallStart)]
    assert [(s.index, s.name, s.id.split("_")[1]) for s in starts] == [(0, "a", "0"), (1, "b", "1"), (2, "c", "2")]
    assert [e.index for e in events if isinstance(e, ToolCallDelta)] == [0, 1, 2]
    assert events[-1] == StreamEnd("tool_calls", Usage())
    one = OLLAMA_CHAT.stream_parser()
    one_call = _lines({"message": {"tool_calls": calls[:1]}, "done": False}, {"message": {}, "done": True})
    assert (one.feed(one_call) + one.close())[-1] == StreamEnd("tool_calls", Usage())
    text = OLLAMA_CHAT.stream_parser()
    assert text.feed(_lines({"message": {"content": "hi"}, "done": True, "done_reason": "stop"}))[-1] == StreamEnd(
        "stop", Usage()
    )
    for line, code in (
        (b"[1]\n", "upstream_bad_response"),
        (b"{]\n", "upstream_bad_response"),
        (b'{"error":"x"}\n', "upstream_error"),
    ):
        with pytest.raises(GatewayError) as failed:
            OLLAMA_CHAT.stream_parser().feed(line)
        assert failed.value.code == code
