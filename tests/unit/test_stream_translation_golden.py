"""Golden checks of streamed translation: the exact event order each target family requires."""

from __future__ import annotations

from typing import Any

import orjson

from anygate.core.chat import ChatRequest
from anygate.core.codec import StreamBroken
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.protocols.gemini.codec import GEMINI
from anygate.protocols.openai.codec import OPENAI_CHAT

# A tool-calling stream as OpenAI sends it: role chunk, two calls in pieces, finish, usage, [DONE].
_BASE = '{"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[{"index":0,"delta":%s,"finish_reason":%s}]}'
OPENAI_TOOL_STREAM = (
    b"".join(
        b"data: " + (_BASE % (delta, finish)).encode() + b"\n\n"
        for delta, finish in [
            ('{"role":"assistant","content":null}', "null"),
            ('{"content":"Checking."}', "null"),
            (
                '{"tool_calls":[{"index":0,"id":"call_a","type":"function","function":{"name":"get_weather","arguments":""}}]}',
                "null",
            ),
            ('{"tool_calls":[{"index":0,"function":{"arguments":"{\\"city\\":"}}]}', "null"),
            ('{"tool_calls":[{"index":0,"function":{"arguments":"\\"Paris\\"}"}}]}', "null"),
            (
                '{"tool_calls":[{"index":1,"id":"call_b","type":"function","function":{"name":"get_time","arguments":"{}"}}]}',
                "null",
            ),
            ("{}", '"tool_calls"'),
        ]
    )
    + b'data: {"id":"chatcmpl-1","object":"chat.completion.chunk","created":1,"model":"gpt-4o","choices":[],"usage":{"prompt_tokens":20,"completion_tokens":9,"total_tokens":29,"prompt_tokens_details":{"cached_tokens":5}}}\n\ndata: [DONE]\n\n'
)


def _translate(codec: Any, request: ChatRequest) -> bytes:
    parser = OPENAI_CHAT.stream_parser()
    writer = codec.stream_writer(request, "public-model", "req_1")
    events = parser.feed(OPENAI_TOOL_STREAM) + parser.close()
    return b"".join(writer.write(e) for e in events)


def test_openai_tool_stream_as_anthropic_events() -> None:
    out = _translate(ANTHROPIC, ChatRequest("m", [], stream=True))
    events = [orjson.loads(line[6:]) for line in out.split(b"\n") if line.startswith(b"data: ")]
    names = [line[7:].decode() for line in out.split(b"\n") if line.startswith(b"event: ")]
    assert names == [e["type"] for e in events]
    summary = [(e["type"], e.get("index"), (e.get("content_block") or e.get("delta") or {}).get("type")) for e in events]
    assert summary == [
        ("message_start", None, None),
        ("content_block_start", 0, "text"),
        ("content_block_delta", 0, "text_delta"),
        ("content_block_stop", 0, None),
        ("content_block_start", 1, "tool_use"),
        ("content_block_delta", 1, "input_json_delta"),
        ("content_block_delta", 1, "input_json_delta"),
        ("content_block_stop", 1, None),
        ("content_block_start", 2, "tool_use"),
        ("content_block_delta", 2, "input_json_delta"),
        ("content_block_stop", 2, None),
        ("message_delta", None, None),
        ("message_stop", None, None),
    ]
    assert events[4]["content_block"] == {"type": "tool_use", "id": "call_a", "name": "get_weather", "input": {}}
    assert "".join(e["delta"]["partial_json"] for e in events[5:7]) == '{"city":"Paris"}'
    assert events[11]["delta"] == {"stop_reason": "tool_use", "stop_sequence": None}
    assert events[11]["usage"] == {
        "input_tokens": 15,
        "output_tokens": 9,
        "cache_creation_input_tokens": 0,
        "cache_read_input_tokens": 5,
    }
    assert events[0]["message"]["model"] == "public-model" and events[0]["message"]["content"] == []


def test_openai_tool_stream_as_gemini_chunks() -> None:
    out = _translate(GEMINI, ChatRequest("m", [], stream=True))
    chunks = [orjson.loads(line[6:]) for line in out.split(b"\r\n") if line.startswith(b"data: ")]
    assert chunks[0]["candidates"][0]["content"]["parts"] == [{"text": "Checking."}]
    last = chunks[-1]
    calls = [p["functionCall"] for p in last["candidates"][0]["content"]["parts"]]
    assert calls == [
        {"id": "call_a", "name": "get_weather", "args": {"city": "Paris"}},
        {"id": "call_b", "name": "get_time", "args": {}},
    ]
    assert last["candidates"][0]["finishReason"] == "STOP"
    assert last["usageMetadata"] == {
        "promptTokenCount": 20,
        "candidatesTokenCount": 9,
        "totalTokenCount": 29,
        "cachedContentTokenCount": 5,
    }


def test_openai_stream_back_to_openai_keeps_indices_and_usage_only_when_asked() -> None:
    without = _translate(OPENAI_CHAT, ChatRequest("m", [], stream=True))
    chunks = [orjson.loads(line[6:]) for line in without.split(b"\n\n") if line.startswith(b"data: {")]
    assert chunks[0]["choices"][0]["delta"] == {"role": "assistant", "content": ""}
    indices = [d["index"] for c in chunks for d in c["choices"][0]["delta"].get("tool_calls", [])]
    assert indices == [0, 0, 0, 1, 1]
    assert all(c["choices"] for c in chunks) and without.endswith(b"data: [DONE]\n\n")
    with_usage = _translate(OPENAI_CHAT, ChatRequest("m", [], stream=True, stream_usage=True))
    last = [orjson.loads(line[6:]) for line in with_usage.split(b"\n\n") if line.startswith(b"data: {")][-1]
    assert last["choices"] == [] and last["usage"]["prompt_tokens"] == 20


def test_an_error_event_keeps_the_events_before_it_in_its_chunk() -> None:
    chunk = (
        b"data: " + (_BASE % ('{"content":"Partial"}', "null")).encode() + b"\n\n"
        b'data: {"error":{"message":"The server had an error","type":"server_error","param":null,"code":null}}\n\n'
    )
    parser = OPENAI_CHAT.stream_parser()
    try:
        parser.feed(chunk)
    except StreamBroken as broken:
        assert [type(e).__name__ for e in broken.before] == ["StreamStart", "TextDelta"]
        assert broken.status == 502 and "server had an error" in broken.message
    else:
        raise AssertionError("the error event was not raised")
