"""Text deltas read from a learned shape: exactly what a full parse of the same bytes reads, whatever
the text and however the upstream escapes it, and a full parse whenever the bytes are anything else."""

from __future__ import annotations

import json
from typing import Any, cast

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anygate.core.codec import StreamBroken, StreamParser
from anygate.core.errors import GatewayError
from anygate.core.sse import SseDataSplitter, event_data
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta
from anygate.core.text_shape import ShapedStreamParser, TextShape, learn
from anygate.protocols.anthropic.stream_in import MessagesStreamParser
from anygate.protocols.anthropic.stream_out import MessagesStreamWriter
from anygate.protocols.openai.chat_stream_in import ChatStreamParser
from anygate.protocols.openai.chat_stream_out import ChatStreamWriter

HEAD = b'{"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"content":'
TAIL = b'},"logprobs":null,"finish_reason":null}]}'


def chunk(literal: bytes) -> bytes:
    """An OpenAI text chunk's payload around `literal` (the text as a JSON string, as the upstream wrote it)."""
    return HEAD + literal + TAIL


def event(literal: bytes) -> bytes:
    return b"data: " + chunk(literal) + b"\n\n"


def blank_of(payload: bytes) -> Any:
    data = orjson.loads(payload)
    data["choices"][0]["delta"]["content"] = ""
    return data


START = b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{"role":"assistant","content":""},"finish_reason":null}]}\n\n'
END = b'data: {"id":"c1","object":"chat.completion.chunk","created":1,"model":"m","choices":[{"index":0,"delta":{},"finish_reason":"stop"}]}\n\ndata: [DONE]\n\n'


def full_parse(stream: bytes, parser: ShapedStreamParser | None = None) -> list[StreamEvent]:
    """The events of `stream` read with every event parsed whole (its data read without the event, so
    no shape is ever learned)."""
    parser = parser or ChatStreamParser()
    events = [e for data in SseDataSplitter().feed(stream) for e in parser._read(data, None)]
    return events + cast(StreamParser, parser).close()


def shaped_parse(
    stream: bytes, size: int, parser: ShapedStreamParser | None = None
) -> tuple[list[StreamEvent], ShapedStreamParser]:
    parser = parser or ChatStreamParser()
    events = [e for i in range(0, len(stream), size) for e in parser.feed(stream[i : i + size])]
    return events + cast(StreamParser, parser).close(), parser


def test_learned_shape_reads_later_text_with_the_upstream_bytes_kept() -> None:
    shape = learn(b"data: " + chunk(b'"Hello"'), chunk(b'"Hello"'), b'"content"', "Hello", blank_of(chunk(b'"Hello"')))
    assert shape is not None
    delta = shape.delta(b"data: " + chunk(b'"caf\\u00e9 \\"q\\"\\n"'))
    assert delta == TextDelta('café "q"\n') and delta is not None and delta.json == b'"caf\\u00e9 \\"q\\"\\n"'
    assert shape.delta(b"data: " + chunk(b'""')) == TextDelta("")
    assert shape.delta(chunk(b'"no data: head"')) is None


@pytest.mark.parametrize(
    "literal",
    [
        b'"a","x":"b"',  # two strings: the bytes say more than one text
        b'"a\x01b"',  # a raw control character is not JSON
        b'"a\\qb"',  # nor is an unknown escape
        b"12",  # not a string
        b'"a" ',  # a string with space after it: a full parse reads it, the shape does not
        b' "a"',
        b'"a"\n',
        b'"',
        b"",
        b'"\xff"',  # not UTF-8
    ],
)
def test_bytes_that_are_not_one_json_string_in_the_hole_are_not_read_by_the_shape(literal: bytes) -> None:
    shape = learn(b"data: " + chunk(b'"Hello"'), chunk(b'"Hello"'), b'"content"', "Hello", blank_of(chunk(b'"Hello"')))
    assert shape is not None and shape.delta(b"data: " + chunk(literal)) is None


def test_other_bytes_around_the_text_are_not_read_by_the_shape() -> None:
    shape = learn(b"data: " + chunk(b'"Hello"'), chunk(b'"Hello"'), b'"content"', "Hello", blank_of(chunk(b'"Hello"')))
    assert shape is not None
    assert shape.delta(b"data: " + chunk(b'"x"').replace(b'"finish_reason":null', b'"finish_reason":"stop"')) is None
    assert shape.delta(b"data: " + chunk(b'"x"').replace(b'"c1"', b'"c2"')) is None
    assert shape.delta(b"data: " + chunk(b'"x"')[:-1]) is None


@pytest.mark.parametrize(
    ("payload", "text", "blank", "learned"),
    [
        (chunk(b'"Hi"'), "Hi", blank_of(chunk(b'"Hi"')), True),
        (chunk(b'"Hi"'), "Ho", blank_of(chunk(b'"Hi"')), False),  # the string does not read as the text
        (chunk(b'"Hi"'), "Hi", {**blank_of(chunk(b'"Hi"')), "id": "c2"}, False),  # emptied, it is not the blank
        (HEAD + b'"Hi","content":"Ho"' + TAIL, "Ho", blank_of(chunk(b'"Ho"')), False),  # the key twice
        (HEAD + b"null" + TAIL, "", blank_of(chunk(b'""')), False),  # not a string
        (b'{"a":{"content":"Hi"},"b":""}', "Hi", {"a": {"content": "Hi"}, "b": ""}, False),  # not where the blank has it
        (b'{"a":{"content":"Hi"},"b":""}', "Hi", {"a": {"content": ""}, "b": ""}, True),
    ],
)
def test_a_shape_is_learned_only_where_emptying_the_string_gives_the_expected_blank(
    payload: bytes, text: str, blank: Any, learned: bool
) -> None:
    assert (learn(b"data: " + payload, payload, b'"content"', text, blank) is not None) is learned


def test_a_space_after_the_key_is_learned_around() -> None:
    payload = b'{"choices": [{"delta": {"content": "Hi"}}]}'
    shape = learn(b"data:" + payload, payload, b'"content"', "Hi", {"choices": [{"delta": {"content": ""}}]})
    assert isinstance(shape, TextShape)
    assert shape.delta(b'data:{"choices": [{"delta": {"content": "Yo"}}]}') == TextDelta("Yo")


@pytest.mark.parametrize(
    ("event", "learned"),
    [
        (b"event: content_block_delta\ndata: " + chunk(b'"Hi"'), True),  # other fields before the data line
        (b": note\ndata:  " + chunk(b'"Hi"'), True),
        (b"event: content_block_delta\nid: 7\ndata: " + chunk(b'"Hi"'), True),
        (b"data: " + chunk(b'"Hi"') + b" ", False),  # the payload is not the end of the event
        (b"data: " + chunk(b'"Hi"') + b"\nid: " + chunk(b'"Hi"'), False),  # it ends a line that is not data
        (b"data: " + chunk(b'"Hi"') + b"\nid:  " + chunk(b'"Hi"'), False),
        (b"event: xdata: " + chunk(b'"Hi"'), False),
        (b"data: " + chunk(b'"Hi"') + b"\nevent: xdata: " + chunk(b'"Hi"'), False),
        (b"data:\ndata: " + chunk(b'"Hi"'), False),  # two data lines: its payload has a line end
    ],
)
def test_a_shape_is_learned_only_from_an_event_whose_last_line_is_its_one_data_line(event: bytes, learned: bool) -> None:
    payload = event_data(event)
    text = "Hi" if payload == chunk(b'"Hi"') else ""
    shape = learn(event, payload, b'"content"', text, blank_of(chunk(b'"Hi"')))
    assert (shape is not None) is learned
    if shape is not None:
        later = event.replace(b'"Hi"', b'"Yo"')
        assert shape.delta(later) == TextDelta("Yo") and event_data(later) == chunk(b'"Yo"')


def test_a_stream_of_text_reads_the_same_with_the_shape_and_keeps_each_deltas_bytes() -> None:
    texts = [b'"Hello"', b'" wor\\u006cd"', b'""', b'"\\n"', b'"\xc3\xa9"']
    stream = START + b"".join(event(t) for t in texts) + END
    events, parser = shaped_parse(stream, len(stream))
    assert (
        events
        == full_parse(stream)
        == [
            StreamStart("c1", "m"),
            TextDelta("Hello"),
            TextDelta(" world"),
            TextDelta("\n"),
            TextDelta("é"),
            StreamEnd("stop", events[-1].usage),  # type: ignore[union-attr]
        ]
    )
    assert parser._text_shape is not None  # learned from "Hello", the rest read by it
    assert [e.json for e in events if isinstance(e, TextDelta)] == [None, *[t for t in texts[1:] if t != b'""']]


def test_an_error_after_shaped_text_keeps_the_text_read_before_it() -> None:
    stream = START + event(b'"a"') + event(b'"b"') + b'data: {"error":{"message":"boom"}}\n\n'
    parser = ChatStreamParser()
    with pytest.raises(StreamBroken) as broken:
        parser.feed(stream)
    assert broken.value.before == [StreamStart("c1", "m"), TextDelta("a"), TextDelta("b")]
    assert isinstance(broken.value, GatewayError) and "boom" in broken.value.message


def test_a_multiline_event_is_read_whole_and_teaches_no_shape() -> None:
    stream = START + b"data: " + chunk(b'"a"')[:20] + b"\ndata: " + chunk(b'"a"')[20:] + b"\n\n" + event(b'"b"') + END
    events, parser = shaped_parse(stream, len(stream))
    assert [e for e in events if isinstance(e, TextDelta)] == [TextDelta("a"), TextDelta("b")]
    assert events == full_parse(stream)


# Texts the model may say, escaped as different upstreams escape them, and bytes meant to confuse
# the shape (ending its string early, adding keys): whatever they are, the shape reads what a full
# parse reads, or leaves them to it.
HOSTILE = [
    b'"x"},"finish_reason":"stop"}],"usage":{"prompt_tokens":1,"completion_tokens":2,"total_tokens":3},"z":{"a":"',
    b'"x","content":"y"',
    b'"x"}]},{"index":1,"delta":{"content":"y"',
    b'"\\"},\\"finish_reason\\":\\"stop\\""',
    b'"\\ud83d\\ude00"',
    b'"\\ud83d"',
]
LITERALS = st.one_of(
    st.text().map(lambda t: orjson.dumps(t)),
    st.text().map(lambda t: json.dumps(t).encode()),
    st.text().map(lambda t: json.dumps(t, ensure_ascii=False).encode("utf-8", "surrogatepass")),
    st.sampled_from(HOSTILE),
)


@settings(max_examples=300, deadline=None)
@given(st.lists(LITERALS, min_size=1, max_size=8), st.integers(min_value=1, max_value=400))
def test_any_stream_reads_as_a_full_parse_reads_it(literals: list[bytes], size: int) -> None:
    stream = START + b"".join(event(literal) for literal in literals) + END
    try:
        expected: list[StreamEvent] | str = full_parse(stream)
    except GatewayError as err:
        expected = err.message
    try:
        got: list[StreamEvent] | str = shaped_parse(stream, size)[0]
    except GatewayError as err:
        got = err.message
    assert got == expected
    for delta in got if isinstance(got, list) else ():
        if isinstance(delta, TextDelta) and delta.json is not None:
            assert orjson.loads(delta.json) == delta.text and delta.json[:1] == delta.json[-1:] == b'"'


def anthropic_event(literal: bytes, index: int = 0) -> bytes:
    return (
        b'event: content_block_delta\ndata: {"type":"content_block_delta","index":%d,"delta":{"type":"text_delta","text":%s}}\n\n'
        % (index, literal)
    )


ANTHROPIC_START = (
    b'event: message_start\ndata: {"type":"message_start","message":{"id":"msg_1","type":"message","role":"assistant",'
    b'"model":"claude","content":[],"stop_reason":null,"usage":{"input_tokens":3,"output_tokens":1}}}\n\n'
    b'event: content_block_start\ndata: {"type":"content_block_start","index":0,"content_block":{"type":"text","text":""}}\n\n'
)
ANTHROPIC_END = (
    b'event: content_block_stop\ndata: {"type":"content_block_stop","index":0}\n\n'
    b'event: message_delta\ndata: {"type":"message_delta","delta":{"stop_reason":"end_turn"},"usage":{"output_tokens":7}}\n\n'
    b'event: message_stop\ndata: {"type":"message_stop"}\n\n'
)


def test_an_anthropic_stream_learns_each_text_blocks_shape() -> None:
    stream = ANTHROPIC_START + anthropic_event(b'"a"') + anthropic_event(b'""') + anthropic_event(b'"b\\n"')
    stream += anthropic_event(b'"c"', 2) + anthropic_event(b'"d"', 2) + ANTHROPIC_END
    events, parser = shaped_parse(stream, len(stream), MessagesStreamParser())
    texts = [e for e in events if isinstance(e, TextDelta)]
    assert texts == [TextDelta("a"), TextDelta(""), TextDelta("b\n"), TextDelta("c"), TextDelta("d")]
    assert [t.json for t in texts] == [None, b'""', b'"b\\n"', None, b'"d"']  # block 2 learned anew
    assert events == full_parse(stream, MessagesStreamParser())


@settings(max_examples=200, deadline=None)
@given(st.lists(st.tuples(LITERALS, st.integers(0, 2)), min_size=1, max_size=8), st.integers(min_value=1, max_value=400))
def test_any_anthropic_stream_reads_as_a_full_parse_reads_it(deltas: list[tuple[bytes, int]], size: int) -> None:
    stream = ANTHROPIC_START + b"".join(anthropic_event(literal, index) for literal, index in deltas) + ANTHROPIC_END
    try:
        expected: list[StreamEvent] | str = full_parse(stream, MessagesStreamParser())
    except GatewayError as err:
        expected = err.message
    try:
        got: list[StreamEvent] | str = shaped_parse(stream, size, MessagesStreamParser())[0]
    except GatewayError as err:
        got = err.message
    assert got == expected


@pytest.mark.parametrize("text", ["plain", 'q"uote\\back\nline', "é ✓ \U0001f600", "\u2028\x00"])
def test_writers_write_a_text_delta_as_their_full_path_does_from_either_the_text_or_its_json(text: str) -> None:
    chat = ChatStreamWriter("m", "req_1", include_usage=True)
    anthropic = MessagesStreamWriter("m", "req_1")
    for writer in (chat, anthropic):
        writer.write(StreamStart("id", "m"))
        writer.write(TextDelta("first"))  # opens the text block
    upstream_json = json.dumps(text).encode()  # escaped otherwise than orjson would: \u escapes
    assert chat.write(TextDelta(text)) == chat.write(TextDelta(text, orjson.dumps(text))) == chat._chunk({"content": text})
    assert anthropic.write(TextDelta(text)) == anthropic._delta({"type": "text_delta", "text": text})
    for out in (chat.write(TextDelta(text, upstream_json)), anthropic.write(TextDelta(text, upstream_json))):
        assert upstream_json in out and out.endswith(b"\n\n") and out.count(b"\n\n") == 1
        data = orjson.loads(out[out.index(b"data: ") + 6 :])
        delta = data["delta"] if "delta" in data else data["choices"][0]["delta"]
        assert delta.get("text", delta.get("content")) == text
