"""Property tests of the hub: every codec reads back what it writes, requests and streams alike.

A random canonical request, built into a family's wire body and parsed back, equals the original
less what that family cannot express (stated per family below). A random canonical event stream,
written in a family's wire format, cut into random pieces and parsed back, gives the same answer.
"""

from __future__ import annotations

import copy
from typing import Any

import orjson
from hypothesis import given, settings
from hypothesis import strategies as st

from anygate.core.chat import ChatRequest, Image, Message, Part, Text, Thinking, Tool, ToolCall, ToolChoice, ToolResult
from anygate.core.codec import WireCodec
from anygate.core.stream import (
    StreamEnd,
    StreamEvent,
    StreamStart,
    TextDelta,
    TextRun,
    ThinkingDelta,
    ToolCallDelta,
    ToolCallStart,
)
from anygate.core.usage import Usage
from anygate.protocols import families
from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.protocols.gemini.codec import GEMINI
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.providers import adapters

CODECS = [wire for family in families() for wire in family.wires]  # a new one must state its losses in _expected
words = st.text(alphabet="abcdefghij klmnop", min_size=1, max_size=12).filter(str.strip)
names = st.sampled_from(["get_weather", "get_time", "lookup"])
args = st.dictionaries(st.sampled_from(["city", "n", "flag"]), st.one_of(words, st.integers(0, 9), st.booleans()), max_size=3)


@st.composite
def requests(draw: Any) -> ChatRequest:
    messages: list[Message] = []
    for turn in range(draw(st.integers(1, 3))):
        user: list[Part] = [Text(draw(words))]
        if draw(st.booleans()):
            user.append(Image(media_type="image/png", data="iVBORw0KGgo="))
        if turn and messages[-1].parts and isinstance(messages[-1].parts[-1], ToolCall):
            calls = [p for p in messages[-1].parts if isinstance(p, ToolCall)]
            user[:0] = [ToolResult(c.id, [Text(orjson.dumps({"ok": draw(words)}).decode())], name=c.name) for c in calls]
        messages.append(Message("user", user))
        if turn < 2 or draw(st.booleans()):
            assistant: list[Part] = []
            if draw(st.booleans()):
                assistant.append(Thinking(draw(words), signature="sig" + draw(words).replace(" ", "")))
            assistant.append(Text(draw(words)))
            for i in range(draw(st.integers(0, 2))):
                assistant.append(ToolCall(f"call_{turn}_{i}", draw(names), draw(args)))
            messages.append(Message("assistant", assistant))
    if messages[-1].role == "assistant":
        last = messages[-1].parts
        messages.append(
            Message(
                "user",
                [ToolResult(p.id, [Text('{"ok": 1}')], name=p.name) for p in last if isinstance(p, ToolCall)] + [Text("go on")],
            )
        )
    tools = [
        Tool(n, f"{n} tool", {"type": "object", "properties": {"city": {"type": "string"}}})
        for n in ["get_weather", "get_time", "lookup"]
    ]
    return ChatRequest(
        model="m",
        messages=messages,
        system=draw(st.lists(words, max_size=1)),
        tools=tools if draw(st.booleans()) else [],
        tool_choice=draw(st.sampled_from([None, ToolChoice("auto"), ToolChoice("required"), ToolChoice("tool", "lookup")])),
        max_tokens=draw(st.integers(1, 4000)),
        temperature=draw(st.sampled_from([None, 0.0, 0.5, 1.0])),
        top_p=draw(st.sampled_from([None, 0.9])),
        stop=draw(st.lists(words, max_size=2)),
    )


def _expected(req: ChatRequest, codec: WireCodec) -> ChatRequest:
    """`req` less what `codec` cannot carry."""
    out = copy.deepcopy(req)
    if not out.tools:
        out.tool_choice = None
    if codec is OPENAI_CHAT:  # chat messages have no place for signed thinking
        for message in out.messages:
            message.parts = [p for p in message.parts if not isinstance(p, Thinking)]
    for message in out.messages:  # results come first in a user turn on every wire
        message.parts.sort(key=lambda p: not isinstance(p, ToolResult))
        if codec is OPENAI_CHAT and message.role == "assistant":
            text = "".join(p.text for p in message.parts if isinstance(p, Text))
            message.parts = ([Text(text)] if text else []) + [p for p in message.parts if not isinstance(p, Text)]
        if codec is GEMINI:
            for part in message.parts:
                if isinstance(part, ToolResult):
                    part.content = [Text(orjson.dumps(orjson.loads(part.content[0].text)).decode())]  # type: ignore[union-attr]
    return out


@settings(max_examples=60, deadline=None)
@given(requests(), st.sampled_from(CODECS))
def test_requests_survive_build_then_parse(req: ChatRequest, codec: WireCodec) -> None:
    wire = orjson.loads(orjson.dumps(codec.build_request(req, "m")))
    back = codec.parse_request(wire)
    expected = _expected(req, codec)
    assert back.messages == expected.messages
    assert back.system == (["\n\n".join(expected.system)] if codec is ANTHROPIC and expected.system else expected.system)
    assert [(t.name, t.parameters) for t in back.tools] == [(t.name, t.parameters) for t in expected.tools]
    assert back.tool_choice == expected.tool_choice
    assert (back.max_tokens, back.temperature, back.top_p, back.stop) == (
        expected.max_tokens,
        expected.temperature,
        expected.top_p,
        expected.stop,
    )


@st.composite
def streams(draw: Any) -> list[StreamEvent]:
    events: list[StreamEvent] = [StreamStart("id1", "m", Usage(input_tokens=7))]
    if draw(st.booleans()):
        events += [ThinkingDelta(draw(words)), ThinkingDelta(draw(words)), ThinkingDelta(signature="sigX")]
    events += [TextDelta(w) for w in draw(st.lists(words, min_size=1, max_size=4))]
    calls = draw(st.integers(0, 3))
    for i in range(calls):
        raw = orjson.dumps(draw(args)).decode()
        events.append(ToolCallStart(i, f"call_{i}", draw(names)))
        cut = draw(st.integers(0, len(raw)))
        events += [ToolCallDelta(i, piece) for piece in (raw[:cut], raw[cut:]) if piece]
    usage = Usage(input_tokens=7, output_tokens=draw(st.integers(1, 50)))
    events.append(StreamEnd("tool_calls" if calls else "stop", usage))
    return events


def _answer(events: list[StreamEvent]) -> dict[str, Any]:
    """What a client accumulates from a stream."""
    text, thinking, calls, end = "", "", {}, None
    for event in events:
        if isinstance(event, TextDelta):
            text += event.text
        elif isinstance(event, TextRun):
            text += "".join(event.texts)
        elif isinstance(event, ThinkingDelta):
            thinking += event.text
        elif isinstance(event, ToolCallStart):
            calls[event.index] = [event.id, event.name, ""]
        elif isinstance(event, ToolCallDelta):
            calls[event.index][2] += event.arguments
        elif isinstance(event, StreamEnd):
            end = (event.finish, event.usage.input_tokens, event.usage.output_tokens)
    parsed = [(i, n, orjson.loads(a) if a else {}) for i, n, a in calls.values()]
    return {"text": text, "thinking": thinking, "calls": parsed, "end": end}


@settings(max_examples=60, deadline=None)
@given(streams(), st.sampled_from(CODECS), st.lists(st.integers(1, 10_000), max_size=12))
def test_streams_survive_write_then_parse_in_any_chunking(events: list[StreamEvent], codec: WireCodec, cuts: list[int]) -> None:
    writer = codec.stream_writer(ChatRequest("m", [], stream=True, stream_usage=True), "m", "req_1")
    wire = b"".join(writer.write(e) for e in events)
    points = sorted({c % (len(wire) + 1) for c in cuts})
    pieces = [wire[a:b] for a, b in zip([0, *points], [*points, len(wire)], strict=True)]
    parser = codec.stream_parser()
    back = [e for piece in pieces for e in parser.feed(piece)] + parser.close()
    assert _answer(back) == _answer(events)


def test_the_round_trips_cover_every_wire_format_a_provider_speaks() -> None:

    spoken = {adapter.build.wire.name for adapter in adapters().values() if adapter.build is not None}  # type: ignore[attr-defined]
    # formats no client speaks have no writer to round-trip with: their own tests read their recorded
    # shapes (tests/unit/test_bedrock_converse.py; Ollama's, a setting's, in tests/unit/test_ollama_wire.py)
    assert spoken - {"bedrock_converse"} == {codec.name for codec in CODECS}, (
        "a provider speaks a format these round trips leave out"
    )
