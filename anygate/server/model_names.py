"""A same-family answer relayed as it came still shows the public model id the client asked for, not
the upstream's (which would tell the client how the operator routes it): the value of every `model`
(and Gemini's `modelVersion`) field is replaced in the bytes, without parsing them. JSON strings
cannot hold an unescaped quote, so the pattern only ever meets real keys. Streams are renamed chunk by
chunk; a chunk that ends inside such a field keeps that tail back until the next one completes it."""

from __future__ import annotations

import re

import orjson

from anygate.core.byte_search import count, replace

_FIELD = re.compile(rb'"model(?:Version)?"\s*:\s*"([^"\\]*)"')
_KEY = b'"model'
_MAX_HELD = 512  # a tail this long is not a model field cut short: it goes on as it is


def _escaped(model: str) -> bytes:
    """A model id as it stands between the quotes of a JSON string."""
    return orjson.dumps(model)[1:-1]


def rename(raw: bytes, public: bytes) -> bytes:
    """`raw` with the value of each model field replaced by `public` (already JSON-escaped): found by
    a plain search, checked with the pattern where found (cheaper than a regex pass over the body)."""
    at = raw.find(_KEY)
    if at < 0:
        return raw
    parts: list[bytes] = []
    done = 0
    while at >= 0:
        field = _FIELD.match(raw, at)
        if field is not None:
            parts += (raw[done : field.start(1)], public)
            done = field.end(1)
            at = raw.find(_KEY, done)
        else:
            at = raw.find(_KEY, at + 1)
    parts.append(raw[done:])
    return b"".join(parts)


def rename_each(raw: bytes, names: dict[bytes, bytes]) -> bytes:
    """`raw` with the value of each model field that `names` maps (upstream id to public id, both
    JSON-escaped) replaced; other values stay (for answers whose model is not known in advance)."""
    return _FIELD.sub(lambda m: m.group(0)[: m.start(1) - m.start(0)] + names.get(m.group(1), m.group(1)) + b'"', raw)


class StreamRenamer:
    """Renames the model fields of a stream, chunk by chunk. A chunk whose every `"model` is the same
    field as the first (a stream repeats its model in each event) is renamed by one bytes replace; any
    other goes through the search."""

    __slots__ = ("_public", "_tail", "_field", "_renamed")

    def __init__(self, public_model: str) -> None:
        self._public = _escaped(public_model)
        self._tail = b""
        self._field = b""  # the last model field seen, whole (`"model":"gpt-x"`), and what it becomes
        self._renamed = b""

    def feed(self, chunk: bytes) -> bytes:
        """What of `chunk` (and the tail kept before it) can go to the client, renamed."""
        data = self._tail + chunk if self._tail else chunk
        cut = data.rfind(_KEY)
        field = _FIELD.match(data, cut) if cut >= 0 else None
        if cut < 0 or len(data) - cut >= _MAX_HELD or field:
            cut = len(data)
            if not (field and field.end() == cut):  # a field that ends the chunk keeps its closing quote
                cut -= _key_begun(data)
        data, self._tail = data[:cut], data[cut:]
        return self._rename(data)

    def events(self, data: bytes) -> bytes:
        """Complete events, renamed: no field in them can be cut short, so nothing is held back (for a
        relay that passes on whole events only; not to be mixed with `feed`)."""
        return self._rename(data)

    def close(self) -> bytes:
        """Whatever is still held back, renamed where it can be."""
        rest, self._tail = self._tail, b""
        return self._rename(rest)

    def _rename(self, data: bytes) -> bytes:
        keys = count(data, _KEY, 0, len(data))
        if not keys:
            return data
        if not self._field:
            first = _FIELD.search(data)
            if first is None:
                return data
            self._field = first.group(0)
            self._renamed = first.group(0)[: first.start(1) - first.start(0)] + self._public + b'"'
        out = replace(data, self._field, self._renamed)
        grown = len(self._renamed) - len(self._field)
        renamed = (len(out) - len(data)) // grown if grown else count(data, self._field, 0, len(data))
        if renamed == keys:
            return out
        return rename(data, self._public)


def _key_begun(data: bytes) -> int:
    """How many bytes at the end of `data` begin the key `"model` (0 when none do)."""
    quote = data.rfind(b'"', max(len(data) - len(_KEY) + 1, 0))
    return len(data) - quote if quote >= 0 and _KEY.startswith(data[quote:]) else 0


def renamed(raw: bytes, public_model: str, upstream_model: str) -> bytes:
    """A whole same-family answer with the public model id in it (as it came when the ids agree)."""
    return rename(raw, _escaped(public_model)) if public_model != upstream_model else raw


def renamer(public_model: str, upstream_model: str) -> StreamRenamer | None:
    """A renamer when the public id differs from the upstream's (None: the answer goes as it came,
    dated upstream ids included, as the upstream's own API would answer)."""
    return StreamRenamer(public_model) if public_model != upstream_model else None
