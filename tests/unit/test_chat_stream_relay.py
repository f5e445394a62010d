"""The chat stream relay: whole events out, whatever the chunking; usage captured; usage chunk hidden on request."""

from __future__ import annotations

import orjson
import pytest
from hypothesis import given
from hypothesis import strategies as st

from anygate.protocols.openai.chat_stream import ChatStreamRelay

BASE = {"id": "chatcmpl-1", "object": "chat.completion.chunk", "created": 1, "model": "m"}


def _event(payload: dict | str) -> bytes:  # type: ignore[type-arg]
    data = payload.encode() if isinstance(payload, str) else orjson.dumps(payload)
    return b"data: " + data + b"\n\n"


def _content(text: str) -> bytes:
    return _event({**BASE, "choices": [{"index": 0, "delta": {"content": text}, "finish_reason": None}], "usage": None})


USAGE = {"prompt_tokens": 11, "completion_tokens": 5, "total_tokens": 16, "prompt_tokens_details": {"cached_tokens": 3}}
STREAM = [_content("Hel"), _content("lo, "), _content("world"), _event({**BASE, "choices": [], "usage": USAGE}), _event("[DONE]")]
WHOLE = b"".join(STREAM)


def _run(relay: ChatStreamRelay, pieces: list[bytes]) -> bytes:
    return b"".join(relay.feed(p) for p in pieces) + relay.finish()


@given(st.lists(st.integers(min_value=1, max_value=len(WHOLE) - 1), unique=True).map(sorted), st.booleans())
def test_any_chunking_gives_the_same_events(cuts: list[int], wants_usage: bool) -> None:
    bounds = [0, *cuts, len(WHOLE)]
    pieces = [WHOLE[a:b] for a, b in zip(bounds, bounds[1:], strict=False)]
    relay = ChatStreamRelay(client_wants_usage=wants_usage)
    assert _run(relay, pieces) == (WHOLE if wants_usage else b"".join(STREAM[:3]) + STREAM[4])
    assert relay.done and relay.usage is not None
    assert (relay.usage.input_tokens, relay.usage.output_tokens, relay.usage.cached_tokens) == (11, 5, 3)
    assert relay.events == len(STREAM)


def test_an_error_between_plain_events_in_one_chunk() -> None:
    error = _event({"error": {"message": "boom", "type": "server_error"}})
    relay = ChatStreamRelay(client_wants_usage=False)
    assert relay.feed(_content("a") + error + _content("b")) == _content("a") + error + _content("b")
    assert relay.failed


def test_usage_chunk_dropped_when_the_client_did_not_ask() -> None:
    relay = ChatStreamRelay(client_wants_usage=False)
    out = _run(relay, [WHOLE])
    assert out == b"".join(STREAM[:3]) + STREAM[4]
    assert relay.usage is not None and relay.usage.output_tokens == 5


def test_crlf_line_endings_and_a_missing_final_blank_line() -> None:
    relay = ChatStreamRelay(client_wants_usage=True)
    out = _run(relay, [_content("a").replace(b"\n", b"\r\n"), b"data: [DONE]"])
    assert out == _content("a") + _event("[DONE]")
    assert relay.done


def test_error_event_marks_failure_and_counts_output() -> None:
    relay = ChatStreamRelay(client_wants_usage=False)
    _run(relay, [_content("twelve chars"), _event({"error": {"message": "boom", "type": "server_error"}})])
    assert relay.failed and not relay.done and relay.usage is None
    assert relay.estimated_output_tokens() == 0  # one content event less the role, finish and [DONE] allowance


def test_comments_and_event_lines_pass_through() -> None:
    relay = ChatStreamRelay(client_wants_usage=False)
    assert (
        _run(relay, [b": keep-alive\n\n", b"event: message\ndata: [DONE]\n\n"])
        == b": keep-alive\n\nevent: message\ndata: [DONE]\n\n"
    )
    assert relay.done


def test_an_event_that_never_ends_is_refused_at_the_bound() -> None:
    """A hostile upstream cannot make the gateway keep an endless event: both the relay's splitting and
    the parsers' stop at MAX_EVENT_BYTES with an upstream_bad_response."""
    from anygate.core.errors import GatewayError
    from anygate.core.sse import MAX_EVENT_BYTES, SseDataSplitter

    piece = b"data: " + b"x" * (1 << 20)
    for feed in (ChatStreamRelay(False).feed, SseDataSplitter().feed):
        with pytest.raises(GatewayError) as refused:
            for _ in range(MAX_EVENT_BYTES // len(piece) + 2):
                feed(piece)
        assert refused.value.code == "upstream_bad_response" and "longer than 16 MB" in refused.value.message
    relay = ChatStreamRelay(False)
    with pytest.raises(GatewayError):  # an event cut short after complete ones
        relay.feed(b'data: {"a":1}\n\n' + b"y" * (MAX_EVENT_BYTES + 1))
    assert SseDataSplitter().feed(b"data: " + b"z" * (MAX_EVENT_BYTES - 100) + b"\n\n") != [], "a long event that ends is read"


@pytest.mark.parametrize(
    ("stream", "payloads"),
    [
        (b'data: {"a":1}\n\ndata:{"b":2}  \n\n: ping\n\ndata: [DONE]\n\n', [b'{"a":1}', b'{"b":2}', b"[DONE]"]),
        (b"event: message_start\ndata: {}\n\nevent: ping\n\ndata: x\n\n", [b"{}", b"x"]),
        (b"data: a\ndata: b\n\nid: 7\ndata: c\n\n", [b"a\nb", b"c"]),
        (b"data:\n\ndata:  \n\n\n\ndata: y\r\n\r\n", [b"y"]),
        (b"data: a\n\n\ndata: b\n\n", [b"a", b"b"]),
        (b"event: e\ndata:1\n\ndata:2\n\n", [b"1", b"2"]),  # no space after the colon, in both readings
        (b"data: a\r\n\r\ndata: b\r\n\r\n", [b"a", b"b"]),
        (b"data: a\n\ndata: unterminated", [b"a", b"unterminated"]),  # the last event, given by flush
    ],
)
def test_the_sse_splitter_gives_each_event_s_data_however_the_stream_is_cut(stream: bytes, payloads: list[bytes]) -> None:
    from anygate.core.sse import SseDataSplitter

    for cut in range(len(stream) + 1):
        for second_cut in (cut, min(cut + 3, len(stream))):
            splitter = SseDataSplitter()
            pieces = (stream[:cut], stream[cut:second_cut], stream[second_cut:])
            assert [p for piece in pieces for p in splitter.feed(piece)] + splitter.flush() == payloads, (cut, second_cut)


def test_an_unfinished_event_is_kept_up_to_the_bound_and_not_a_byte_past_it() -> None:
    from anygate.core.errors import GatewayError
    from anygate.core.sse import MAX_EVENT_BYTES, SseDataSplitter

    splitter = SseDataSplitter()
    assert splitter.feed(b"data: \n\n" + b"x" * MAX_EVENT_BYTES) == []
    with pytest.raises(GatewayError):
        splitter.feed(b"x")
