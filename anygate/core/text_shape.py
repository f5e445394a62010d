"""The bytes around the text of a stream's text-delta events, learned from one of them, so that the
next ones (the same bytes around another text, as nearly every event of a model's answer is) are read
without parsing the whole event.

Learning is checked, not guessed: the event with an empty string in place of its text must parse to
what the caller expects, so the text's place is known to be that one string value. A later event is
read this way only when it is those bytes around one JSON string (quote to quote, read by orjson), so
it parses to the same object with another text; anything else goes to the full parse.
"""

from __future__ import annotations

import re
from typing import Any

import orjson

from anygate.core.codec import StreamBroken
from anygate.core.errors import GatewayError
from anygate.core.sse import SseDataSplitter, event_data
from anygate.core.stream import StreamEvent, TextDelta

_QUOTE = ord('"')
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)  # a JSON string's extent (what is in it, orjson checks)


class TextShape:
    """An event's bytes with a hole where its text goes."""

    __slots__ = ("_after", "_before", "_end", "_start")

    def __init__(self, before: bytes, after: bytes) -> None:
        self._before = before
        self._after = after
        self._start = len(before)
        self._end = len(after)

    def delta(self, event: bytes) -> TextDelta | None:
        """The text of an event of this shape (the text may be empty), None when it has another shape."""
        if event.startswith(self._before) and event.endswith(self._after):
            literal = event[self._start : len(event) - self._end]
            if len(literal) >= 2 and literal[0] == _QUOTE and literal[-1] == _QUOTE:
                try:
                    text = orjson.loads(literal)
                except orjson.JSONDecodeError:
                    return None
                return TextDelta(text, literal)
        return None


def learn(event: bytes, payload: bytes, key: bytes, text: str, blank: Any) -> TextShape | None:
    """The shape of `event` (whose data is `payload`, JSON already read) around the payload's one string
    value of `key` (a JSON key with its quotes), which reads as `text`, when the payload with that string
    emptied parses to `blank`; None when it does not, or when the payload is not the event's one data line."""
    # The payload must be the end of the event's last line, a data line: then it is its one data line
    # (the data of two would be joined by a line end, which the event does not have where the joined
    # data has it) and the line has nothing before the payload but the field name and spaces.
    head = event[: len(event) - len(payload)]
    if not event.endswith(payload) or not head[head.rfind(b"\n") + 1 :].startswith(b"data:"):
        return None
    marker = key + b":"
    if payload.count(marker) != 1:
        return None
    start = len(payload) - len(payload[payload.find(marker) + len(marker) :].lstrip())
    string = _STRING.match(payload, start)
    if string is None:
        return None
    # a JSON payload has "key": only as a key, so both parse (a string replaced by another, as later events do)
    before, after = payload[:start], payload[string.end() :]
    emptied = orjson.loads(before + b'""' + after)
    return TextShape(head + before, after) if orjson.loads(string.group()) == text and emptied == blank else None


class ShapedStreamParser:
    """The reading of a stream's SSE events shared by the parsers that learn a text shape: an event of
    the learned shape is read by it, any other is parsed whole by the subclass's `_read` (which may
    set `_text_shape` from it)."""

    keeps_empty_text = False  # whether an empty text is an event (as the subclass's full parse reads it)

    def __init__(self) -> None:
        self._sse = SseDataSplitter()
        self._text_shape: TextShape | None = None

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by `chunk`."""
        events: list[StreamEvent] = []
        for event in self._sse.events(chunk):
            delta = None if self._text_shape is None else self._text_shape.delta(event)
            if delta is not None:
                if delta.text or self.keeps_empty_text:
                    events.append(delta)
            elif data := event_data(event):
                try:
                    events.extend(self._read(data, event))
                except GatewayError as err:
                    raise StreamBroken(err, events) from None
        return events

    def _read(self, data: bytes, event: bytes | None) -> list[StreamEvent]:
        """The events of one event's `data` (`event` is None for a last, unterminated one)."""
        raise NotImplementedError
