"""The public model id in relayed answers: every model field renamed, whole or cut anywhere into chunks."""

from __future__ import annotations

import orjson

from anygate.server.model_names import StreamRenamer, rename, renamed, renamer

STREAM = (
    b'data: {"id":"c1","object":"chat.completion.chunk","model":"up-echo-2025","choices":[]}\n\n'
    b'event: message_start\ndata: {"type":"message_start","message":{"model": "claude-x","content":[]}}\n\n'
    b'data: {"candidates":[],"modelVersion":"gemini-2.5-flash-001"}\n\n'
    b'data: {"content":"the \\"model\\": \\"up-echo\\" stays","models":["a"]}\n\n'
)
EXPECTED = (
    b'data: {"id":"c1","object":"chat.completion.chunk","model":"my-model","choices":[]}\n\n'
    b'event: message_start\ndata: {"type":"message_start","message":{"model": "my-model","content":[]}}\n\n'
    b'data: {"candidates":[],"modelVersion":"my-model"}\n\n'
    b'data: {"content":"the \\"model\\": \\"up-echo\\" stays","models":["a"]}\n\n'
)


def test_every_model_field_is_renamed_and_text_that_quotes_one_is_not() -> None:
    assert rename(STREAM, b"my-model") == EXPECTED
    assert renamed(STREAM, "my-model", "up-echo") == EXPECTED
    assert renamed(STREAM, "same", "same") == STREAM, "ids that agree: the answer goes as it came"
    assert renamer("same", "same") is None


def test_a_stream_cut_anywhere_comes_out_the_same() -> None:
    for cut in range(len(STREAM) + 1):
        names = StreamRenamer("my-model")
        assert names.feed(STREAM[:cut]) + names.feed(STREAM[cut:]) + names.close() == EXPECTED, cut
    names = StreamRenamer("my-model")
    assert b"".join(names.feed(STREAM[i : i + 1]) for i in range(len(STREAM))) + names.close() == EXPECTED


def test_what_is_held_back_is_bounded_and_ids_are_escaped() -> None:
    names = StreamRenamer('odd"id')
    assert names.feed(b'{"model":"up') == b"{" and names.feed(b'"}') == b'"model":"odd\\"id"}'
    assert orjson.loads(b'{"model":"odd\\"id"}')["model"] == 'odd"id'
    long = b'{"models_list": "' + b"x" * 600
    assert names.feed(long) == long, "a tail too long to be a model field is not held"
    assert names.feed(b'{"modelish": 1') == b"{" and names.close() == b'"modelish": 1'


def test_a_stream_that_repeats_its_field_is_renamed_whole_even_when_the_field_changes_or_text_quotes_it() -> None:
    event = b'data: {"model":"up-1","choices":[{"delta":{"content":"%b"}}]}\n\n'
    names = StreamRenamer("pub")
    chunks = [
        event % b"a" * 3,  # the field is learnt here
        event % b"b" * 2,  # every "model in it is that field: one replace
        event % b'say \\"model\\": \\"up-1\\"',  # text that quotes a field: the search, the text kept
        event.replace(b"up-1", b"up-2") % b"c" + event % b"d",  # another id beside the learnt one
        b'data: {"model": "up-1", "modelVersion":"v9"}\n\n',
    ]
    out = b"".join(names.feed(chunk) for chunk in chunks) + names.close()
    expected = b"".join(chunks).replace(b'"model":"up-1"', b'"model":"pub"').replace(b'"model":"up-2"', b'"model":"pub"')
    expected = expected.replace(b'"model": "up-1"', b'"model": "pub"').replace(b'"modelVersion":"v9"', b'"modelVersion":"pub"')
    assert out == expected and out.count(b'\\"up-1\\"') == 1


def test_a_renamer_is_made_for_ids_that_differ_and_renames_ids_of_any_length() -> None:
    names = renamer("pub1", "up-1")  # the same length: counted, not measured
    assert names is not None
    chunk = b'data: {"model":"up-1","n":1}\n\ndata: {"model":"up-1","n":2}\n\n'
    assert names.feed(chunk) + names.close() == chunk.replace(b"up-1", b"pub1")
    long = b'data: {"text":"' + b"x" * 600 + b'"}\n\ndata: {"model":"up'  # a field cut short after a long run
    names = StreamRenamer("pub")
    assert names.feed(long) + names.feed(b'-1"}\n\n') + names.close() == long[: -len(b'"up')] + b'"pub"}\n\n'
