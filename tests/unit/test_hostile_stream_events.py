"""An upstream's stream events of the wrong shapes: each ends the stream with the gateway's
upstream error (which the client's family then writes as its error event), never a Python error."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any

import pytest

from anygate.core.codec import StreamBroken, StreamParser
from anygate.core.stream import StreamEnd, StreamStart, TextDelta
from anygate.core.usage import Usage
from anygate.protocols.anthropic.messages_response import usage_from_anthropic
from anygate.protocols.anthropic.stream_in import MessagesStreamParser
from anygate.protocols.gemini.stream_in import GeminiStreamParser
from anygate.protocols.openai.chat_stream_in import ChatStreamParser
from anygate.protocols.openai.responses_native import responses_usage
from anygate.protocols.openai.usage import usage_from_openai

START = b'data: {"id":"c1","model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":"hi"}}]}\n\n'


@pytest.mark.parametrize(
    "payload",
    [
        b'{"choices":[1]}',
        b'{"choices":5}',
        b'{"choices":[{"delta":[1]}]}',
        b'{"choices":[{"delta":"text"}]}',
        b'{"choices":[{"delta":{"tool_calls":7}}]}',
        b'{"choices":[{"delta":{"tool_calls":[1]}}]}',
        b'{"choices":[{"delta":{"tool_calls":[{"index":[1]}]}}]}',
        b'{"choices":[{"delta":{"tool_calls":[{"index":0,"function":"f"}]}}]}',
        b"{not json",
    ],
)
def test_a_chunk_of_the_wrong_shape_breaks_the_stream_with_an_upstream_error(payload: bytes) -> None:
    parser = ChatStreamParser()
    with pytest.raises(StreamBroken) as broken:
        parser.feed(START + b"data: " + payload + b"\n\n")
    assert broken.value.code == "upstream_bad_response" and broken.value.status == 502
    assert broken.value.before == [StreamStart("c1", "m"), TextDelta("hi")]  # what came before it is kept


@pytest.mark.parametrize("finish", [b'["stop"]', b"7", b'"no_such_reason"'])
def test_an_unknown_finish_reason_ends_as_a_stop(finish: bytes) -> None:
    parser = ChatStreamParser()
    events = parser.feed(START + b'data: {"choices":[{"delta":{},"finish_reason":%s}]}\n\n' % finish) + parser.close()
    assert events[-1].finish == "stop"  # type: ignore[union-attr]


ANTHROPIC = b"event: x\ndata: "
GEMINI = b"data: "


@pytest.mark.parametrize(
    ("parser", "event"),
    [
        (MessagesStreamParser, ANTHROPIC + b'{"type":"message_start","message":"x"}'),
        (MessagesStreamParser, ANTHROPIC + b'{"type":"content_block_start","content_block":[1]}'),
        (MessagesStreamParser, ANTHROPIC + b'{"type":"content_block_start","index":[1],"content_block":{"type":"tool_use"}}'),
        (MessagesStreamParser, ANTHROPIC + b'{"type":"content_block_delta","delta":"x"}'),
        (
            MessagesStreamParser,
            ANTHROPIC + b'{"type":"content_block_delta","index":[1],"delta":{"type":"input_json_delta","partial_json":"x"}}',
        ),
        (MessagesStreamParser, ANTHROPIC + b'{"type":"message_delta","delta":"s"}'),
        (MessagesStreamParser, ANTHROPIC + b'{"type":"message_delta","delta":{},"usage":[1]}'),
        (MessagesStreamParser, ANTHROPIC + b'{"type":"error","error":"s"}'),
        (GeminiStreamParser, GEMINI + b'{"candidates":[1]}'),
        (GeminiStreamParser, GEMINI + b'{"candidates":5}'),
        (GeminiStreamParser, GEMINI + b'{"candidates":[{"content":"x"}]}'),
        (GeminiStreamParser, GEMINI + b'{"promptFeedback":"x"}'),
    ],
)
def test_an_anthropic_or_gemini_event_of_the_wrong_shape_breaks_the_stream_with_an_upstream_error(
    parser: Callable[[], StreamParser], event: bytes
) -> None:
    with pytest.raises(StreamBroken) as broken:
        parser().feed(event + b"\n\n")
    assert broken.value.code == "upstream_bad_response" and broken.value.status == 502


@pytest.mark.parametrize(
    ("count", "read"), [(7, 7), (7.9, 7), (-5, 0), ("12", 0), ([1], 0), (None, 0), (True, 0), (1e300, 0), (2**70, 2**70)]
)
def test_token_counts_of_any_json_value_read_as_whole_non_negative_numbers(count: Any, read: int) -> None:
    assert usage_from_openai({"prompt_tokens": count, "completion_tokens": 1}) == Usage(read, 1)
    assert usage_from_anthropic({"input_tokens": count, "output_tokens": 1}) == Usage(read, 1)
    details = {"input_tokens_details": {"cached_tokens": count}, "output_tokens_details": {"reasoning_tokens": count}}
    assert responses_usage({"usage": {"input_tokens": count, "output_tokens": 1, **details}}) == Usage(
        read, 1, cached_tokens=read, reasoning_tokens=read
    )


def test_gemini_parts_that_are_no_list_are_no_parts_and_a_finish_that_is_no_string_a_stop() -> None:
    parser = GeminiStreamParser()
    events = parser.feed(b'data: {"candidates":[{"content":{"parts":7}}]}\n\n')
    events += parser.feed(b'data: {"candidates":[{"content":{"parts":[{"text":"hi"}]},"finishReason":[1]}]}\n\n')
    events += parser.close()
    assert events[1:] == [TextDelta("hi"), StreamEnd("stop", Usage())]
