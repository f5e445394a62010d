"""AWS's event-stream framing, written (botocore only reads it): each message is its total and headers
lengths, a CRC32 of those, string headers, the payload and a CRC32 of all that came before."""

from __future__ import annotations

import struct
import zlib
from typing import Any

import orjson


def message(headers: dict[str, str], payload: bytes) -> bytes:
    """One event-stream message."""
    encoded = b"".join(
        struct.pack("B", len(name)) + name.encode() + b"\x07" + struct.pack(">H", len(value.encode())) + value.encode()
        for name, value in headers.items()
    )
    total = 12 + len(encoded) + len(payload) + 4
    prelude = struct.pack(">II", total, len(encoded))
    head = prelude + struct.pack(">I", zlib.crc32(prelude)) + encoded + payload
    return head + struct.pack(">I", zlib.crc32(head))


def event(kind: str, data: dict[str, Any]) -> bytes:
    """An event message with a JSON payload (Bedrock pads each with a `p` field)."""
    headers = {":event-type": kind, ":content-type": "application/json", ":message-type": "event"}
    return message(headers, orjson.dumps({**data, "p": "abcdefgh"}))


def exception(kind: str, text: str) -> bytes:
    """An in-stream exception message."""
    headers = {":exception-type": kind, ":content-type": "application/json", ":message-type": "exception"}
    return message(headers, orjson.dumps({"message": text}))
