"""Bedrock's Converse API as an upstream wire: the body it is sent, its answers and its event streams
(AWS framing, cut anywhere) read back, against the shapes of botocore's bedrock-runtime model."""

from __future__ import annotations

from typing import Any

import pytest

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
from anygate.providers.bedrock.converse import BEDROCK_CONVERSE, build_request, tool_use_id
from tests.fakes.eventstream import event, exception

WEATHER = Tool("get_weather", "The weather", {"type": "object", "properties": {"city": {"type": "string"}}})


def test_a_conversation_is_sent_as_converse_blocks() -> None:
    req = ChatRequest(
        "us.amazon.nova-pro-v1:0",
        [
            Message("user", [Text("Weather here?"), Image("image/jpeg", "/9j/4AAQ")]),
            Message("system", [Text("Answer in French.")]),
            Message("user", [Text("Please.")]),
            Message(
                "assistant",
                [
                    Thinking("unsigned"),
                    Thinking("signed", "sig1"),
                    Text(""),
                    ToolCall("call_1!x", "get_weather", {"city": "Paris"}),
                ],
            ),
            Message("user", [ToolResult("call_1!x", [Text("sunny")]), ToolResult("call_2", [Text("bad")], is_error=True)]),
        ],
        system=["Be brief."],
        tools=[WEATHER],
        tool_choice=ToolChoice("required"),
        max_tokens=50,
        temperature=0.2,
        top_p=0.9,
        stop=["END"],
        stream=True,
    )
    body = build_request(req, "us.amazon.nova-pro-v1:0")
    safe_id = tool_use_id("call_1!x")
    assert safe_id.startswith("tooluse_") and len(safe_id) == 32 and tool_use_id("call_ok-1.2:3") == "call_ok-1.2:3"
    assert body["messages"] == [
        {
            "role": "user",
            "content": [
                {"text": "Weather here?"},
                {"image": {"format": "jpeg", "source": {"bytes": "/9j/4AAQ"}}},
                {"text": "Please."},
            ],
        },
        {
            "role": "assistant",
            "content": [
                {"reasoningContent": {"reasoningText": {"text": "signed", "signature": "sig1"}}},
                {"toolUse": {"toolUseId": safe_id, "name": "get_weather", "input": {"city": "Paris"}}},
            ],
        },
        {
            "role": "user",
            "content": [
                {"toolResult": {"toolUseId": safe_id, "content": [{"text": "sunny"}]}},
                {"toolResult": {"toolUseId": "call_2", "content": [{"text": "bad"}], "status": "error"}},
            ],
        },
    ]
    assert body["system"] == [{"text": "Be brief."}, {"text": "Answer in French."}]
    assert body["inferenceConfig"] == {"maxTokens": 50, "temperature": 0.2, "topP": 0.9, "stopSequences": ["END"]}
    assert body["toolConfig"] == {
        "tools": [
            {"toolSpec": {"name": "get_weather", "description": "The weather", "inputSchema": {"json": WEATHER.parameters}}}
        ],
        "toolChoice": {"any": {}},
    }
    assert body["stream"] is True and body["model"] == "us.amazon.nova-pro-v1:0"
    assert "additionalModelRequestFields" not in body and "outputConfig" not in body


def test_tools_choices_formats_and_reasoning() -> None:
    def sent(**given: Any) -> dict[str, Any]:
        return build_request(ChatRequest(given.pop("model", "meta.llama3"), [Message("user", [Text("hi")])], **given), "m")

    assert sent(tools=[WEATHER], tool_choice=ToolChoice("tool", "get_weather"))["toolConfig"]["toolChoice"] == {
        "tool": {"name": "get_weather"}
    }
    assert "toolChoice" not in sent(tools=[WEATHER])["toolConfig"]
    assert "toolConfig" not in sent(tools=[WEATHER], tool_choice=ToolChoice("none")), "no tools offered is Converse's none"
    schema = {"type": "object", "properties": {"a": {"type": "integer"}}}
    fmt = sent(response_format=ResponseFormat("json_schema", schema, "answer"))["outputConfig"]["textFormat"]
    assert fmt == {
        "type": "json_schema",
        "structure": {"jsonSchema": {"schema": '{"type":"object","properties":{"a":{"type":"integer"}}}', "name": "answer"}},
    }
    assert "outputConfig" not in sent(response_format=ResponseFormat("json_object"))
    nova = sent(model="us.amazon.nova-2-lite-v1:0", reasoning=Reasoning(effort="minimal"))
    assert nova["additionalModelRequestFields"] == {"reasoningConfig": {"type": "enabled", "maxReasoningEffort": "low"}}
    assert (
        sent(model="amazon.nova-pro", reasoning=Reasoning(budget_tokens=30000))["additionalModelRequestFields"][
            "reasoningConfig"
        ]["maxReasoningEffort"]
        == "high"
    )
    assert (
        sent(model="amazon.nova-pro", reasoning=Reasoning(show=True))["additionalModelRequestFields"]["reasoningConfig"][
            "maxReasoningEffort"
        ]
        == "medium"
    )
    assert "additionalModelRequestFields" not in sent(model="amazon.nova-pro", reasoning=Reasoning(effort="none"))
    assert "additionalModelRequestFields" not in sent(reasoning=Reasoning(effort="high")), "only Nova is asked this way"
    assert "stream" not in sent() and "system" not in sent() and "inferenceConfig" not in sent()
    with pytest.raises(GatewayError, match="image/bmp"):
        build_request(ChatRequest("m", [Message("user", [Image("image/bmp", "Qk0=")])]), "m")


def test_a_conversation_with_tool_blocks_but_no_tools_declares_the_ones_it_used() -> None:
    req = ChatRequest(
        "m",
        [
            Message("user", [Text("hi")]),
            Message("assistant", [ToolCall("c1", "lookup", {}), ToolCall("c2", "get_time", {})]),
            Message("user", [ToolResult("c1", [Text("x")]), ToolResult("c2", [Text("y")])]),
        ],
        tool_choice=ToolChoice("none"),
    )
    config = build_request(req, "m")["toolConfig"]
    assert [t["toolSpec"]["name"] for t in config["tools"]] == ["get_time", "lookup"] and "toolChoice" not in config
    assert config["tools"][0]["toolSpec"]["inputSchema"] == {"json": {"type": "object", "properties": {}}}


def test_a_whole_answer() -> None:
    answer = BEDROCK_CONVERSE.parse_response(
        {
            "output": {
                "message": {
                    "role": "assistant",
                    "content": [
                        {"reasoningContent": {"reasoningText": {"text": "hmm", "signature": "s1"}}},
                        {"reasoningContent": {"redactedContent": "cmVkYWN0ZWQ="}},
                        {"text": "Checking."},
                        {"toolUse": {"toolUseId": "tooluse_1", "name": "get_weather", "input": {"city": "Paris"}}},
                    ],
                }
            },
            "stopReason": "tool_use",
            "usage": {
                "inputTokens": 10,
                "outputTokens": 5,
                "totalTokens": 15,
                "cacheReadInputTokens": 100,
                "cacheWriteInputTokens": 7,
            },
        }
    )
    assert answer.parts == [
        Thinking("hmm", "s1"),
        Thinking("", None, "cmVkYWN0ZWQ="),
        Text("Checking."),
        ToolCall("tooluse_1", "get_weather", {"city": "Paris"}),
    ]
    assert answer.finish == "tool_calls" and answer.usage == Usage(117, 5, 100, False, 7)
    for reason, finish in (
        ("max_tokens", "length"),
        ("guardrail_intervened", "content_filter"),
        ("stop_sequence", "stop_sequence"),
        ("odd", "stop"),
    ):
        assert BEDROCK_CONVERSE.parse_response({"output": {"message": {"content": []}}, "stopReason": reason}).finish == finish
    assert BEDROCK_CONVERSE.response_usage({"usage": {"inputTokens": 3, "outputTokens": 4}}) == Usage(3, 4)
    assert BEDROCK_CONVERSE.response_usage({}) is None
    with pytest.raises(GatewayError, match="without a message"):
        BEDROCK_CONVERSE.parse_response({"output": {}})


STREAM = b"".join(
    event(kind, data)
    for kind, data in [
        ("messageStart", {"role": "assistant"}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"text": "Think"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 0, "delta": {"reasoningContent": {"signature": "sig"}}}),
        ("contentBlockStop", {"contentBlockIndex": 0}),
        ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "Hel"}}),
        ("contentBlockDelta", {"contentBlockIndex": 1, "delta": {"text": "lo"}}),
        ("contentBlockStart", {"contentBlockIndex": 2, "start": {"toolUse": {"toolUseId": "tu_a", "name": "a"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": '{"x":'}}}),
        ("contentBlockDelta", {"contentBlockIndex": 2, "delta": {"toolUse": {"input": "1}"}}}),
        ("contentBlockStart", {"contentBlockIndex": 3, "start": {"toolUse": {"toolUseId": "tu_b", "name": "b"}}}),
        ("contentBlockDelta", {"contentBlockIndex": 3, "delta": {"toolUse": {"input": "{}"}}}),
        ("messageStop", {"stopReason": "tool_use"}),
        ("metadata", {"usage": {"inputTokens": 5, "outputTokens": 7, "totalTokens": 12}, "metrics": {"latencyMs": 9}}),
    ]
)


@pytest.mark.parametrize("size", [1, 13, 100, len(STREAM)])
def test_a_stream_in_any_chunking(size: int) -> None:
    parser = BEDROCK_CONVERSE.stream_parser()
    events = [e for i in range(0, len(STREAM), size) for e in parser.feed(STREAM[i : i + size])] + parser.close()
    assert events == [
        StreamStart("", ""),
        ThinkingDelta("Think"),
        ThinkingDelta("", "sig"),
        TextDelta("Hel"),
        TextDelta("lo"),
        ToolCallStart(0, "tu_a", "a"),
        ToolCallDelta(0, '{"x":'),
        ToolCallDelta(0, "1}"),
        ToolCallStart(1, "tu_b", "b"),
        ToolCallDelta(1, "{}"),
        StreamEnd("tool_calls", Usage(5, 7)),
    ]


def test_a_stream_that_fails_breaks_or_stops_short() -> None:
    start = event("messageStart", {"role": "assistant"}) + event(
        "contentBlockDelta", {"contentBlockIndex": 0, "delta": {"text": "Hi"}}
    )
    for kind, status, code in (
        ("throttlingException", 429, None),
        ("validationException", 400, None),
        ("serviceUnavailableException", 503, "upstream_error"),
        ("modelStreamErrorException", 502, "upstream_error"),
    ):
        with pytest.raises(GatewayError) as failed:
            BEDROCK_CONVERSE.stream_parser().feed(start + exception(kind, "went wrong"))
        assert (failed.value.status, failed.value.code) == (status, code) and f"{kind}: went wrong" in failed.value.message
    broken = bytearray(start)
    broken[-1] ^= 0xFF  # the last message's CRC no longer matches
    with pytest.raises(GatewayError, match="broken event stream"):
        BEDROCK_CONVERSE.stream_parser().feed(bytes(broken))
    short = BEDROCK_CONVERSE.stream_parser()
    assert short.feed(start) == [StreamStart("", ""), TextDelta("Hi")]
    with pytest.raises(GatewayError) as truncated:
        short.close()
    assert truncated.value.code == "upstream_stream_truncated"
    stopped = BEDROCK_CONVERSE.stream_parser()
    stopped.feed(start + event("messageStop", {"stopReason": "max_tokens"}))
    assert stopped.close() == [StreamEnd("length", Usage())], "a stream that stopped without its metadata still ends"


def test_what_the_first_tests_leave_unsaid() -> None:
    """Defaults, odd shapes and the less common blocks, each with the value it must have."""
    req = ChatRequest(
        "amazon.nova-lite",
        [
            Message("user", [Text("hi")]),
            Message("assistant", [Thinking(redacted="cmVk"), ToolCall("c1", "f", {})]),
            Message("user", [ToolResult("c1", [Image("image/png", "iVBO"), Text("")]), ToolResult("c2", [])]),
        ],
        tools=[Tool("f")],
        reasoning=Reasoning(effort="unheard-of"),
        response_format=ResponseFormat("json_schema", {"type": "object"}),
    )
    body = build_request(req, "m")
    assert body["messages"][1]["content"][0] == {"reasoningContent": {"redactedContent": "cmVk"}}
    assert body["messages"][2]["content"] == [
        {"toolResult": {"toolUseId": "c1", "content": [{"image": {"format": "png", "source": {"bytes": "iVBO"}}}]}},
        {"toolResult": {"toolUseId": "c2", "content": [{"text": ""}]}},
    ]
    assert body["toolConfig"]["tools"] == [
        {"toolSpec": {"name": "f", "inputSchema": {"json": {"type": "object", "properties": {}}}}}
    ]
    assert body["outputConfig"]["textFormat"]["structure"]["jsonSchema"]["name"] == "response"
    assert body["additionalModelRequestFields"]["reasoningConfig"]["maxReasoningEffort"] == "medium"
    calls_only = ChatRequest(
        "m", [Message("user", [Text("hi")]), Message("assistant", [ToolCall("c1", "f", {})])], tool_choice=ToolChoice("none")
    )
    assert "toolConfig" in build_request(calls_only, "m"), "a tool call in the history needs its tool declared"
    odd = BEDROCK_CONVERSE.parse_response(
        {
            "output": {
                "message": {"content": ["junk", {"text": "ok"}, {"toolUse": {"toolUseId": "t", "name": "n", "input": "[]"}}]}
            },
            "usage": {"outputTokens": 2},
        }
    )
    assert odd.parts == [Text("ok"), ToolCall("t", "n", {})] and odd.usage == Usage(0, 2)
    assert BEDROCK_CONVERSE.parse_response({"output": {"message": {"content": "text"}}}).parts == []
    with pytest.raises(GatewayError) as listed:
        BEDROCK_CONVERSE.parse_response({"output": []})
    assert listed.value.code == "upstream_bad_response"
    done = BEDROCK_CONVERSE.stream_parser()
    done.feed(STREAM)
    assert done.close() == [], "a stream that ended with its metadata has nothing left"
