"""Text deltas read from a learned shape: exactly what a full parse of the same bytes reads, whatever
the text and however the upstream escapes it, and a full parse whenever the bytes are anything else."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from typing import Any, cast

import orjson
import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from anygate.core import text_shape
from anygate.core.chat import ChatRequest
from anygate.core.codec import StreamBroken, StreamParser
from anygate.core.errors import GatewayError
from anygate.core.sse import SseDataSplitter, event_data
from anygate.core.stream import StreamEnd, StreamEvent, StreamStart, TextDelta, TextRun
from anygate.core.text_shape import ShapedStreamParser, TextShape, learn, scan_python
from anygate.protocols.anthropic import stream_out
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.protocols.anthropic.stream_in import MessagesStreamParser
from anygate.protocols.anthropic.stream_out import MessagesStreamWriter
from anygate.protocols.gemini.codec import GEMINI
from anygate.protocols.openai.chat_stream_in import ChatStreamParser
from anygate.protocols.openai.chat_stream_out import ChatStreamWriter
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.protocols.openai.responses_shape import ResponsesShape
from tests.conftest import REQUIRE_SERVICES

Scan = Callable[[bytes, int, bytes, bytes, bytes | None], tuple[int, list[str], list[bytes]]]


def _compiled() -> Scan | None:
    try:
        from anygate.core._text_scan import scan
    except ImportError:
        return None
    return scan


compiled_scan = _compiled()


@pytest.fixture(params=["compiled", "python"], autouse=True)
def scanner(request: pytest.FixtureRequest) -> Iterator[Scan]:
    """Every test here twice: with the compiled scan of shaped events, and with its Python twin."""
    if request.param == "compiled" and compiled_scan is None:
        missing = (
            "the compiled text scan (anygate/core/_text_scan.c) is not built: `pip install -e .` builds it with a C compiler"
        )
        if REQUIRE_SERVICES:
            pytest.fail(f"{missing}; ANYGATE_REQUIRE_SERVICES=1 says it must be")
        pytest.skip(missing)
    chosen = compiled_scan if request.param == "compiled" else scan_python
    assert chosen is not None
    kept, text_shape.scan = text_shape.scan, chosen
    yield chosen
    text_shape.scan = kept


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
    """The events of `stream` fed in reads of `size` bytes, text runs spread into their deltas."""
    parser = parser or ChatStreamParser()
    events = [e for i in range(0, len(stream), size) for e in parser.feed(stream[i : i + size])]
    return flat(events + cast(StreamParser, parser).close()), parser


def outcome(read: Callable[[], Any]) -> Any:
    """What `read` returns, or the message of the GatewayError it raises."""
    try:
        return read()
    except GatewayError as err:
        return err.message


def read_alone(shape: TextShape, event: bytes) -> TextDelta | None:
    """What `shape` reads of one event: its text, None when the event is not of the shape."""
    end, texts, strings = text_shape.scan(event, 0, shape.before, shape.after, shape.pad_end)
    assert end in (0, len(event)) and len(texts) == len(strings) == (end > 0)
    return TextDelta(texts[0], strings[0]) if texts else None


def flat(events: list[StreamEvent]) -> list[StreamEvent]:
    """`events` with each text run as the deltas it stands for."""
    return [d for e in events for d in (e.deltas() if isinstance(e, TextRun) else [e])]


def test_learned_shape_reads_later_text_with_the_upstream_bytes_kept() -> None:
    shape = learn(b"data: " + chunk(b'"Hello"'), chunk(b'"Hello"'), b'"content"', "Hello", blank_of(chunk(b'"Hello"')))
    assert shape is not None
    delta = read_alone(shape, b"data: " + chunk(b'"caf\\u00e9 \\"q\\"\\n"'))
    assert delta == TextDelta('café "q"\n') and delta is not None and delta.json == b'"caf\\u00e9 \\"q\\"\\n"'
    assert read_alone(shape, b"data: " + chunk(b'""')) == TextDelta("")
    assert read_alone(shape, chunk(b'"no data: head"')) is None


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
    assert shape is not None and read_alone(shape, b"data: " + chunk(literal)) is None


def test_other_bytes_around_the_text_are_not_read_by_the_shape() -> None:
    shape = learn(b"data: " + chunk(b'"Hello"'), chunk(b'"Hello"'), b'"content"', "Hello", blank_of(chunk(b'"Hello"')))
    assert shape is not None
    assert read_alone(shape, b"data: " + chunk(b'"x"').replace(b'"finish_reason":null', b'"finish_reason":"stop"')) is None
    assert read_alone(shape, b"data: " + chunk(b'"x"').replace(b'"c1"', b'"c2"')) is None
    assert read_alone(shape, b"data: " + chunk(b'"x"')[:-1]) is None


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
    assert read_alone(shape, b'data:{"choices": [{"delta": {"content": "Yo"}}]}') == TextDelta("Yo")


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
        assert read_alone(shape, later) == TextDelta("Yo") and event_data(later) == chunk(b'"Yo"')


def test_a_read_that_starts_with_a_blank_line_reads_as_a_full_parse() -> None:
    stream = b"\n\n" + START + b"".join(event(b'"%d"' % i) for i in range(6)) + END
    assert shaped_parse(stream, len(stream))[0] == full_parse(stream)


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


# OpenAI's chunks as the API sends them by default: each ends with an "obfuscation" member, a random
# string of random length that pads it (recorded from gpt-4o-mini).
OBFUSCATED_HEAD = (
    b'{"id":"chatcmpl-D0q8","object":"chat.completion.chunk","created":1769092764,"model":"gpt-4o-mini-2024-07-18",'
    b'"service_tier":"default","system_fingerprint":"fp_29330a9688","choices":[{"index":0,"delta":{"content":'
)


def obfuscated(literal: bytes, padding: bytes) -> bytes:
    """An event of an OpenAI text chunk around `literal`, padded by `padding` (a JSON string)."""
    return b"data: " + OBFUSCATED_HEAD + literal + b'},"logprobs":null,"finish_reason":null}],"obfuscation":' + padding + b"}\n\n"


OBFUSCATED_START = (
    b'data: {"id":"chatcmpl-D0q8","choices":[{"index":0,"delta":{"role":"assistant","content":""}}],"obfuscation":"x"}\n\n'
)


def test_a_shape_learned_from_a_padded_chunk_reads_chunks_of_any_padding() -> None:
    event = obfuscated(b'"Hello"', b'"ZGF"')
    payload = event_data(event[:-2])
    shape = learn(event[:-2], payload, b'"content"', "Hello", blank_of(payload))
    assert shape is not None
    assert shape.after == b'},"logprobs":null,"finish_reason":null}],"obfuscation":' and shape.pad_end == b"}"
    for padding in (b'""', b'"lRK2aBv"', b'"kJ"', b'"0wmdEAC"', b'" !#[]~"'):
        assert read_alone(shape, obfuscated(b'" World"', padding)[:-2]) == TextDelta(" World")
    # a padding that is not printable ASCII without escapes, or not a string, is left to a full parse
    for padding in (b'"a\\"b"', b'"a\\\\"', b'"\xc3\xa9"', b'"a\tb"', b"12", b'"a', b'"a"  '):
        assert read_alone(shape, obfuscated(b'"x"', padding)[:-2]) is None, padding
    assert read_alone(shape, obfuscated(b'"x"', b'"a"').replace(b"}\n\n", b',"z":1}\n\n')[:-2]) is None


@pytest.mark.parametrize(
    "payload",
    [
        chunk(b'"Hi"')[:-1] + b',"padding":"ZGF"}',  # another member: its value may matter
        chunk(b'"Hi"')[:-1] + b',"obfuscation":"ZGF","z":1}',  # not the last member
        chunk(b'"Hi"')[:-3] + b',"obfuscation":"ZGF"}]}',  # a choice's, not the chunk's
    ],
)
def test_only_a_last_obfuscation_member_of_the_chunk_is_read_as_padding(payload: bytes) -> None:
    shape = learn(b"data: " + payload, payload, b'"content"', "Hi", blank_of(payload))
    assert shape is not None and shape.pad_end is None
    assert read_alone(shape, b"data: " + payload.replace(b'"Hi"', b'"Yo"')) == TextDelta("Yo")
    assert read_alone(shape, b"data: " + payload.replace(b'"ZGF"', b'"ZG"')) is None


def test_a_padded_stream_is_read_by_its_shape_as_a_full_parse_reads_it() -> None:
    texts = [b'"Hello"', b'","', b'" World"', b'"\\u00e9"', b'""', b'"!"']
    paddings = [b'"ZGF"', b'"lRK2aBv"', b'"kJ"', b'"a\\"b"', b'"0wmdEAC"', b'""']
    body = b"".join(obfuscated(t, p) for t, p in zip(texts, paddings, strict=True))
    stream = OBFUSCATED_START + body + END
    events, parser = shaped_parse(stream, len(stream))
    assert events == full_parse(stream)
    assert [e.text for e in events if isinstance(e, TextDelta)] == ["Hello", ",", " World", "é", "!"]
    assert parser._text_shape is not None and parser._text_shape.pad_end == b"}"
    # in one read, the padded events after the first are read by the shape (those in a row as a run),
    # but the one whose padding has an escape: a full parse reads it (and its text has no JSON kept)
    read = ChatStreamParser().feed(stream)
    assert [e.texts for e in read if isinstance(e, TextRun)] == [[",", " World"]]
    assert [(e.text, e.json) for e in read if isinstance(e, TextDelta)] == [("Hello", None), ("é", None), ("!", b'"!"')]


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
PADDINGS = st.text(alphabet=st.characters(min_codepoint=0x20, max_codepoint=0x7E), max_size=12).map(lambda t: orjson.dumps(t))


@settings(max_examples=300, deadline=None)
@given(st.lists(LITERALS, min_size=1, max_size=8), st.one_of(st.integers(min_value=1, max_value=400), st.just(1 << 20)))
def test_any_stream_reads_as_a_full_parse_reads_it(literals: list[bytes], size: int) -> None:
    stream = START + b"".join(event(literal) for literal in literals) + END
    got = outcome(lambda: shaped_parse(stream, size)[0])
    assert got == outcome(lambda: full_parse(stream))
    for delta in got if isinstance(got, list) else ():
        if isinstance(delta, TextDelta) and delta.json is not None:
            assert orjson.loads(delta.json) == delta.text and delta.json[:1] == delta.json[-1:] == b'"'


@settings(max_examples=200, deadline=None)
@given(
    st.lists(
        st.tuples(LITERALS, st.one_of(PADDINGS, st.sampled_from([b'"\xc3\xa9"', b'"\x7f"', b"1", b'"a"}', b'"\\u0041"']))),
        min_size=1,
        max_size=8,
    ),
    st.one_of(st.integers(min_value=1, max_value=400), st.just(1 << 20)),
)
def test_any_padded_stream_reads_as_a_full_parse_reads_it(events: list[tuple[bytes, bytes]], size: int) -> None:
    stream = OBFUSCATED_START + b"".join(obfuscated(literal, padding) for literal, padding in events) + END
    assert outcome(lambda: shaped_parse(stream, size)[0]) == outcome(lambda: full_parse(stream))


SHAPE = learn(b"data: " + chunk(b'"Hello"'), chunk(b'"Hello"'), b'"content"', "Hello", blank_of(chunk(b'"Hello"')))
HOLES = st.one_of(LITERALS, st.binary(max_size=12), st.binary(max_size=6).map(lambda b: b'"' + b + b'"'))


@settings(max_examples=600, deadline=None)
@given(st.data())
def test_the_compiled_scan_reads_any_bytes_as_its_python_twin_does(data: st.DataObject) -> None:
    assert SHAPE is not None
    before = data.draw(st.one_of(st.just(SHAPE.before), st.binary(max_size=5)))
    after = data.draw(st.one_of(st.just(SHAPE.after), st.binary(max_size=4)))
    pad_end = data.draw(st.one_of(st.none(), st.just(b"}"), st.binary(max_size=3)))
    paddings = st.one_of(PADDINGS, st.binary(max_size=6).map(lambda b: b'"' + b + b'"'), st.binary(max_size=4))
    tails = st.just(after) if pad_end is None else paddings.map(lambda padding: after + padding + pad_end)
    events = st.one_of(
        st.tuples(HOLES, tails).map(lambda hole_tail: before + hole_tail[0] + hole_tail[1]),  # of the shape, or near it
        st.binary(max_size=30),
        st.sampled_from([b"", b"\n", before, after, before + b'"x"' + after + b"\n", before + b'"x"', after + (pad_end or b"")]),
    )
    drawn = data.draw(st.lists(events, max_size=8))
    region = b"\n\n".join(drawn)
    starts = [min(len(region), sum(len(e) + 2 for e in drawn[:k])) for k in range(len(drawn) + 1)]
    at = data.draw(st.one_of(st.sampled_from(starts), st.integers(0, len(region))))  # an event's start, or anywhere
    if compiled_scan is None:
        pytest.skip("the compiled scan is not built")
    got = compiled_scan(region, at, before, after, pad_end)
    assert got == scan_python(region, at, before, after, pad_end)
    end, texts, strings = got
    assert at <= end <= len(region) and len(texts) == len(strings) and (end > at) == bool(texts)
    assert [orjson.loads(string) for string in strings] == texts


def test_the_compiled_scan_refuses_what_it_is_not_made_for() -> None:
    if compiled_scan is None:
        pytest.skip("the compiled scan is not built")
    with pytest.raises(ValueError):
        compiled_scan(b"data", 5, b"d", b"}", None)
    with pytest.raises(ValueError):
        compiled_scan(b"data", -1, b"d", b"}", None)
    with pytest.raises(TypeError):
        compiled_scan(bytearray(b"data"), 0, b"d", b"}", None)  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        compiled_scan(b"data", 0, b"d", b"}", "}")  # type: ignore[arg-type]
    with pytest.raises(TypeError):
        compiled_scan(b"data", 0, b"d", b"}")  # type: ignore[call-arg]


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
@given(
    st.lists(st.tuples(LITERALS, st.integers(0, 2)), min_size=1, max_size=8),
    st.one_of(st.integers(min_value=1, max_value=400), st.just(1 << 20)),
)
def test_any_anthropic_stream_reads_as_a_full_parse_reads_it(deltas: list[tuple[bytes, int]], size: int) -> None:
    stream = ANTHROPIC_START + b"".join(anthropic_event(literal, index) for literal, index in deltas) + ANTHROPIC_END
    got = outcome(lambda: shaped_parse(stream, size, MessagesStreamParser())[0])
    assert got == outcome(lambda: full_parse(stream, MessagesStreamParser()))


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


@pytest.mark.parametrize("index", [0, 7, 12])
def test_the_anthropic_writers_byte_templates_are_what_it_writes_of_the_same_dicts(index: int) -> None:
    text_block = {"index": index, "content_block": {"type": "text", "text": ""}}
    assert stream_out._TEXT_BLOCK_START % index == stream_out._event("content_block_start", text_block)
    assert stream_out._BLOCK_STOP % index == stream_out._event("content_block_stop", {"index": index})
    delta = {"index": index, "delta": {"type": "text_delta", "text": 'a"\n'}}
    text_delta = stream_out._TEXT_DELTA % index + orjson.dumps('a"\n') + stream_out._TEXT_DELTA_END
    assert text_delta == stream_out._event("content_block_delta", delta)
    assert stream_out._MESSAGE_STOP == b'event: message_stop\ndata: {"type":"message_stop"}\n\n'


def test_text_events_in_a_row_in_one_read_come_as_one_run_of_the_upstreams_strings() -> None:
    strings = [b'"a"', b'"b\\"c"', b'"\\u00e9"', b'"d"', b'"e"', b'"f"']
    stream = START + b"".join(event(s) for s in strings) + END
    parser = ChatStreamParser()
    events = parser.feed(stream) + parser.close()
    # "a" teaches the shape (read whole, so without its string); the rest in a row are read at once
    assert events[1:3] == [TextDelta("a"), TextRun(['b"c', "é", "d", "e", "f"], strings[1:])]
    assert events[1].json is None  # type: ignore[union-attr]
    assert isinstance(events[3], StreamEnd) and len(events) == 4
    assert flat(events) == full_parse(stream)


@pytest.mark.parametrize("bad", [b'"x","content":"y"', b'"x\\q"', b"7", b'"\n"'])
def test_a_run_with_anything_but_json_strings_in_the_shape_is_read_event_by_event(bad: bytes) -> None:
    stream = START + b"".join(event(s) for s in [b'"a"', b'"b"', b'"c"', bad, b'"d"', b'"e"']) + END
    parser = ChatStreamParser()
    assert outcome(lambda: flat(parser.feed(stream) + parser.close())) == outcome(lambda: full_parse(stream))


def test_a_run_after_other_events_in_its_read_and_of_a_shape_with_a_long_tail() -> None:
    tail = b',"system_fingerprint":"fp_0123456789","service_tier":"default","x_padding":"' + b"p" * 60 + b'"}'
    stream = (START + event(b'"a"') + END).replace(b"}]}\n\n", b"}]" + tail + b"\n\n")
    first = stream[: stream.index(b'"a"') + 200]
    first = first[: first.rindex(b"\n\n") + 2]  # up to the end of "a", which teaches the shape
    texts = [b'"b"', b'"c"', b'"d"', b'"e"']
    nothing = event(b'"x"').replace(b'{"content":"x"}', b"{}")  # an event of no text, in the same read
    second = nothing + b"".join(event(t).replace(b"}]}\n\n", b"}]" + tail + b"\n\n") for t in texts)
    parser = ChatStreamParser()
    events = parser.feed(first) + parser.feed(second + stream[len(first) :]) + parser.close()
    assert events[1:3] == [TextDelta("a"), TextRun(["b", "c", "d", "e"], texts)]
    assert flat(events) == full_parse(first + second + stream[len(first) :])
    # the same bytes but for one byte of the tail in one event: the run ends before it, which is read
    # whole, and the next is read by the shape again
    odd = second.replace(
        b'"d"},"logprobs":null,"finish_reason":null}],"system', b'"d"},"logprobs":null,"finish_reason":null}],"xystem'
    )
    parser = ChatStreamParser()
    events = parser.feed(first) + parser.feed(odd + stream[len(first) :]) + parser.close()
    assert events[1:5] == [TextDelta("a"), TextRun(["b", "c"], texts[:2]), TextDelta("d"), TextDelta("e", b'"e"')]
    assert events[3].json is None and events[4].json == b'"e"'  # type: ignore[union-attr]
    assert flat(events) == full_parse(first + odd + stream[len(first) :])


@pytest.mark.parametrize("spaced", [b' "x"', b'"x" '])
def test_a_text_with_space_around_its_string_is_no_run_even_alone(spaced: bytes) -> None:
    stream = START + event(b'"a"') + event(b'"b"') + event(spaced) + event(b'"d"') + END
    parser = ChatStreamParser()
    events = parser.feed(stream) + parser.close()
    assert not any(isinstance(e, TextRun) for e in events)
    assert events == full_parse(stream)


@pytest.mark.parametrize(
    "between",
    [
        b": note " + event(b'"x"'),  # a comment line holding an event's bytes: not an event
        b"data: " + event(b'"x"'),  # a data line holding them after its own field: not JSON
        event(b'"x"').replace(b"data: ", b"data:  "),  # another head: read on its own
        event(b'"x"').replace(b'"c1"', b'"c2"'),
        b"event: other\n" + event(b'"x"'),
    ],
)
def test_events_that_hold_the_shapes_bytes_but_are_not_of_it_break_the_run(between: bytes) -> None:
    stream = START + event(b'"a"') + event(b'"b"') + between + event(b'"c"') + event(b'"d"') + event(b'"e"') + END
    assert outcome(lambda: shaped_parse(stream, len(stream))[0]) == outcome(lambda: full_parse(stream))


@pytest.mark.parametrize("codec", [ANTHROPIC, OPENAI_CHAT, GEMINI, ResponsesShape({"model": "m"}, "m")])
def test_every_writer_writes_a_run_as_it_writes_its_deltas(codec: Any) -> None:
    run = TextRun(["x", 'q"', "é"], [b'"x"', b'"q\\""', b'"\\u00e9"'])
    request = ChatRequest("m", [], stream=True, stream_usage=True)
    one, each = codec.stream_writer(request, "m", "req_1"), codec.stream_writer(request, "m", "req_1")
    for writer in (one, each):
        writer.write(StreamStart("id", "m"))
    assert _normal(one.write(run)) == _normal(b"".join(each.write(d) for d in run.deltas()))
    for writer in (one, each):  # and inside a text block already open
        writer.write(TextDelta("open"))
    assert _normal(one.write(run)) == _normal(b"".join(each.write(d) for d in run.deltas()))


def _normal(out: bytes) -> list[Any]:
    """The JSON of each data line, without the item ids that each writer makes anew."""
    return [_without_ids(orjson.loads(line[6:])) for line in out.split(b"\n") if line.startswith(b"data: {")]


def _without_ids(value: Any) -> Any:
    if isinstance(value, dict):
        return {k: _without_ids(v) for k, v in value.items() if k not in ("id", "item_id")}
    return [_without_ids(v) for v in value] if isinstance(value, list) else value
