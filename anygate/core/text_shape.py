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
from anygate.core.stream import StreamEvent, TextDelta, TextRun

_QUOTE = ord('"')
_STRING = re.compile(rb'"(?:[^"\\]|\\.)*"', re.DOTALL)  # a JSON string's extent (what is in it, orjson checks)


class TextShape:
    """An event's bytes with a hole where its text goes."""

    __slots__ = ("_after", "_before", "_end", "_hole_end", "_next", "_start")

    def __init__(self, before: bytes, after: bytes) -> None:
        self._before = before
        self._after = after
        self._start = len(before)
        self._end = len(after)
        # Runs are split where the hole ends, at the head of `after` (under the 100 bytes from which
        # CPython's `split` sets its search up anew each time it looks again); what follows it, when
        # the next event has this shape too, is the rest of `after`, a blank line and `before`.
        self._hole_end = after[:90]
        self._next = b"\x00" + after[len(self._hole_end) :] + b"\n\n" + before

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

    def run(self, region: bytes) -> tuple[bytes, TextRun, bytes] | None:
        """Of `region` (complete events), when three or more events of this shape come in a row: the
        events up to the first of them, the texts of those between the first and the last as a run, and
        the events from the last on (the first and last are read alone, which checks them); None when
        there is no such row, or when one of the texts between is not one JSON string."""
        pieces = region.split(self._hole_end)
        inner = pieces[1:-1]  # each the rest of an event, the next event's `before` and its text
        # NULs joined in, to count the pieces that start as they should in one search (a NUL within a
        # piece is not in its JSON string, which the run then refuses)
        if len(inner) < 2 or (b"\x00" + b"\x00".join(inner)).count(self._next) != len(inner):
            return None
        start = len(self._next) - 1
        run = _strings_run([piece[start:] for piece in inner[:-1]])
        if run is None:
            return None
        return pieces[0] + self._after, run, inner[-1][start - len(self._before) :] + self._hole_end + pieces[-1]


def _strings_run(strings: list[bytes]) -> TextRun | None:
    """The texts of `strings` when each is one JSON string, quote to quote; None when any is not."""
    try:
        texts = list(map(orjson.loads, strings))
    except orjson.JSONDecodeError:
        return None
    # each parsed alone, so none holds a raw NUL: joined by NULs, the quotes around every one show
    joined = b"\x00".join(strings)
    if joined[:1] != b'"' or joined[-1:] != b'"' or joined.count(b'"\x00"') != len(strings) - 1:
        return None
    return TextRun(texts, strings)


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
        region = self._sse.region(chunk)
        events: list[StreamEvent] = []
        if region is None:
            return events
        at = 0
        while self._text_shape is None:  # event by event until a shape is learned, then the rest at once
            end = region.find(b"\n\n", at)
            if end < 0:
                self._read_one(region[at:], events)
                return events
            self._read_one(region[at:end], events)
            at = end + 2
        self._read_region(region[at:], events)
        return events

    def _read_region(self, region: bytes, events: list[StreamEvent]) -> None:
        """Adds the events of `region` (complete events) to `events`: where events of the text shape
        come in a row, the texts of all but the first and last as one run, split out at once."""
        assert self._text_shape is not None
        parts = self._text_shape.run(region)
        if parts is None:
            for event in region.split(b"\n\n"):
                self._read_one(event, events)
            return
        first, run, last = parts
        for event in first.split(b"\n\n"):
            self._read_one(event, events)
        if self.keeps_empty_text or "" not in run.texts:
            events.append(run)
        else:
            events.extend(delta for delta in run.deltas() if delta.text)
        for event in last.split(b"\n\n"):
            self._read_one(event, events)

    def _read_one(self, event: bytes, events: list[StreamEvent]) -> None:
        """Adds the events of one SSE event to `events`, read by the text shape if it fits."""
        delta = None if self._text_shape is None else self._text_shape.delta(event)
        if delta is not None:
            if delta.text or self.keeps_empty_text:
                events.append(delta)
        elif data := event_data(event):
            try:
                events.extend(self._read(data, event))
            except GatewayError as err:
                raise StreamBroken(err, events) from None

    def _read(self, data: bytes, event: bytes | None) -> list[StreamEvent]:
        """The events of one event's `data` (`event` is None for a last, unterminated one)."""
        raise NotImplementedError
