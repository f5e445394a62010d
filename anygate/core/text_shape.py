"""The bytes around the text of a stream's text-delta events, learned from one of them, so that the
next ones (the same bytes around another text, as nearly every event of a model's answer is) are read
without parsing the whole event.

Learning is checked, not guessed: the event with an empty string in place of its text must parse to
what the caller expects, so the text's place is known to be that one string value. A later event is
read this way only when it is those bytes around one JSON string (quote to quote), so it parses to
the same object with another text; anything else goes to the full parse. The events of the shape that
come in a row are read in one pass by `scan`, compiled from `_text_scan.c` where pip could build it and
otherwise its Python twin `scan_python`.

OpenAI ends each chunk, unless asked not to, with an "obfuscation" member: a random string of random
length that pads the chunk (against size side channels), which no reader here reads. A shape learned
from such a chunk is padded: after its text come `after`, a padding string of any length (printable
ASCII without quote or backslash: a JSON string that reads as itself) and `pad_end`.
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
_PADDING_CHARS = rb"[ !#-\[\]-~]*"  # printable ASCII but quote and backslash
_PADDING = re.compile(_PADDING_CHARS)
_PADDED = re.compile(rb'(.*,\s*"obfuscation"\s*:\s*)"' + _PADDING_CHARS + rb'"(\s*\}\s*)', re.DOTALL)


class TextShape:
    """An event's bytes with a hole where its text goes: `before` it and `after` it; when padded, a
    padding string and `pad_end` after those."""

    __slots__ = ("after", "before", "pad_end")

    def __init__(self, before: bytes, after: bytes, pad_end: bytes | None = None) -> None:
        self.before = before
        self.after = after
        self.pad_end = pad_end


def scan_python(region: bytes, at: int, before: bytes, after: bytes, pad_end: bytes | None) -> tuple[int, list[str], list[bytes]]:
    """From offset `at` of `region` (complete events, separated by blank lines), the events in a row
    that are `before`, one JSON string and `after` (then, when `pad_end` is not None, a padding string
    and `pad_end`): the offset past the last of them (and its blank line), their texts and each text's
    JSON string as it came (quote to quote). The pure-Python reading of the compiled `scan`, which
    reads the same."""
    texts: list[str] = []
    strings: list[bytes] = []
    start = len(before)
    while region.startswith(before, at):
        stop = region.find(b"\n\n", at)
        stop = len(region) if stop < 0 else stop
        end = stop
        if pad_end is not None:
            closing = stop - len(pad_end) - 1  # the padding's closing quote
            opening = region.rfind(b'"', at + start, closing)
            if (
                closing < at + start
                or opening < 0
                or region[closing] != _QUOTE
                or not region.endswith(pad_end, closing + 1, stop)
                or _PADDING.fullmatch(region, opening + 1, closing) is None
            ):
                break
            end = opening
        literal = region[at + start : end - len(after)]
        if len(literal) < 2 or literal[0] != _QUOTE or literal[-1] != _QUOTE or not region.endswith(after, at, end):
            break
        try:
            text = orjson.loads(literal)
        except orjson.JSONDecodeError:
            break
        texts.append(text)
        strings.append(literal)
        at = min(stop + 2, len(region))
    return at, texts, strings


try:
    from anygate.core._text_scan import scan as scan
except ImportError:  # built without a C compiler: the same reading in Python
    scan = scan_python


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
    if orjson.loads(string.group()) != text or emptied != blank:
        return None
    padded = _PADDED.fullmatch(after)
    return TextShape(head + before, padded[1], padded[2]) if padded else TextShape(head + before, after)


class ShapedStreamParser:
    """The reading of a stream's SSE events shared by the parsers that learn a text shape: events of
    the learned shape are read by `scan`, any other is parsed whole by the subclass's `_read` (which
    may set `_text_shape` from it)."""

    keeps_empty_text = False  # whether an empty text is an event (as the subclass's full parse reads it)

    def __init__(self) -> None:
        self._sse = SseDataSplitter()
        self._text_shape: TextShape | None = None

    def feed(self, chunk: bytes) -> list[StreamEvent]:
        """Events completed by `chunk`: the text events of the shape that come in a row as one run (or
        one delta), each other event read alone."""
        region = self._sse.region(chunk)
        events: list[StreamEvent] = []
        at = 0
        while region is not None:
            if (shape := self._text_shape) is not None:
                at, texts, strings = scan(region, at, shape.before, shape.after, shape.pad_end)
                if texts:
                    self._add_texts(texts, strings, events)
                if at == len(region):
                    break
            end = region.find(b"\n\n", at)
            self._read_one(region[at:] if end < 0 else region[at:end], events)
            if end < 0:
                break
            at = end + 2
        return events

    def _add_texts(self, texts: list[str], strings: list[bytes], events: list[StreamEvent]) -> None:
        if len(texts) == 1:
            if texts[0] or self.keeps_empty_text:
                events.append(TextDelta(texts[0], strings[0]))
        elif self.keeps_empty_text or "" not in texts:
            events.append(TextRun(texts, strings))
        else:
            events.extend(delta for delta in TextRun(texts, strings).deltas() if delta.text)

    def _read_one(self, event: bytes, events: list[StreamEvent]) -> None:
        """Adds the events of one SSE event, parsed whole, to `events`."""
        if data := event_data(event):
            try:
                events.extend(self._read(data, event))
            except GatewayError as err:
                raise StreamBroken(err, events) from None

    def _read(self, data: bytes, event: bytes | None) -> list[StreamEvent]:
        """The events of one event's `data` (`event` is None for a last, unterminated one)."""
        raise NotImplementedError
