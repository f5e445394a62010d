"""An OpenAI upstream's stream chunks of the wrong shapes: each ends the stream with the gateway's
upstream error (which the client's family then writes as its error event), never a Python error."""

from __future__ import annotations

import pytest

from anygate.core.codec import StreamBroken
from anygate.core.stream import StreamStart, TextDelta
from anygate.protocols.openai.chat_stream_in import ChatStreamParser

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
