"""The per-event cost of a translated stream, stage by stage: the benchmark's OpenAI stream
(bench/stream.txt, 24 events) read by the OpenAI stream parser and written as an Anthropic Messages
stream, as the gateway does for an Anthropic client in front of an OpenAI upstream. Prints, per stream
and per event, the time of the SSE split, the JSON parse, the canonical events built from the parsed
chunks and the Anthropic events written, and of the whole (the parser's feed plus the writer).

Run from the project root: `.venv/bin/python bench/translate.py` (env: CHUNK=bytes per read, default
the whole stream in one read, as nginx sends it; 256 gives ~one event a read, as a model's stream comes).
"""

from __future__ import annotations

import os
import timeit
from collections.abc import Callable
from pathlib import Path

import orjson

from anygate.core.sse import SseDataSplitter
from anygate.protocols.anthropic.stream_out import MessagesStreamWriter
from anygate.protocols.openai.chat_stream_in import ChatStreamParser

STREAM = (Path(__file__).parent / "stream.txt").read_bytes()
CHUNK = int(os.environ.get("CHUNK", str(len(STREAM))))
READS = [STREAM[i : i + CHUNK] for i in range(0, len(STREAM), CHUNK)]
EVENTS = STREAM.count(b"\n\n")


def split() -> None:
    sse = SseDataSplitter()
    for chunk in READS:
        sse.feed(chunk)


_SPLITTER = SseDataSplitter()
PAYLOADS = [payload for chunk in READS for payload in _SPLITTER.feed(chunk)]
JSON_PAYLOADS = [p for p in PAYLOADS if p != b"[DONE]"]


def parse() -> None:
    for payload in JSON_PAYLOADS:
        orjson.loads(payload)


def read() -> None:
    parser = ChatStreamParser()
    for chunk in READS:
        parser.feed(chunk)
    parser.close()


_PARSER = ChatStreamParser()
CANONICAL = [event for chunk in READS for event in _PARSER.feed(chunk)]


def write() -> None:
    writer = MessagesStreamWriter("bench-model", "req_bench")
    b"".join([writer.write(event) for event in CANONICAL])


def whole() -> None:
    parser = ChatStreamParser()
    writer = MessagesStreamWriter("bench-model", "req_bench")
    for chunk in READS:
        b"".join([writer.write(event) for event in parser.feed(chunk)])
    parser.close()


def measure(stage: Callable[[], None]) -> float:
    """Microseconds a stream, the best of 5 runs."""
    runs = timeit.repeat(stage, number=2000, repeat=5)
    return min(runs) / 2000 * 1e6


if __name__ == "__main__":
    print(f"stream: {len(STREAM)} bytes, {EVENTS} events, {len(READS)} read(s) of up to {CHUNK} bytes")
    stages = [("SSE split", split), ("JSON parse", parse), ("parser (split + parse + canonical events)", read)]
    stages += [("writer (Anthropic events)", write), ("whole translation", whole)]
    for name, stage in stages:
        us = measure(stage)
        print(f"{name:44s} {us:8.1f} us a stream {us / EVENTS:7.2f} us an event")
