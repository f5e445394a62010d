"""Logs as JSON lines on stderr: one object per record, `fields` passed in `extra` merged in, and
anything that looks like a key or a bearer token masked before it is written."""

from __future__ import annotations

import asyncio
import logging
import re
import sys
import time
from typing import Any

import orjson

ACCESS_FLUSH_SECONDS = 0.2
_ACCESS_HEAD = b'"level":"info","logger":"anygate.access","msg":"request"'
_SECRET = re.compile(r"\b(?:ag|sk|whsec)[-_][A-Za-z0-9_\-]{12,}|(?<=Bearer )[A-Za-z0-9._\-]{12,}")


def redact(text: str) -> str:
    """`text` with API keys, webhook secrets and bearer tokens masked."""
    return _SECRET.sub("***", text)


class JsonFormatter(logging.Formatter):
    """One JSON object per record: time, level, logger, message, the record's `fields`, any error."""

    def format(self, record: logging.LogRecord) -> str:
        entry: dict[str, Any] = {
            "ts": time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(record.created)) + f".{int(record.msecs):03d}Z",
            "level": record.levelname.lower(),
            "logger": record.name,
            "msg": redact(record.getMessage()),
        }
        entry.update(getattr(record, "fields", {}))
        if record.exc_info:
            entry["error"] = redact(self.formatException(record.exc_info))
        return orjson.dumps(entry).decode()


def setup_logging(level: int = logging.INFO) -> None:
    """Send every log record to stderr as a JSON line."""
    handler = logging.StreamHandler(sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    root.handlers[:] = [handler]
    root.setLevel(level)


class AccessLog:
    """One JSON line per request, in the same shape as the other log lines, written to stderr in
    batches a few times a second: a request costs a tuple; the lines are built when they are written."""

    FIELDS = ("request_id", "method", "route", "family", "status", "ms", "key_id", "attempts")

    def __init__(self) -> None:
        self._pending: list[tuple[float, tuple[Any, ...]]] = []

    def add(self, values: tuple[Any, ...]) -> None:
        """Queue the line of one request: the values of FIELDS, in order."""
        self._pending.append((time.time(), values))
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_later(ACCESS_FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write the queued lines."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        lines = []
        second, stamp = -1, b""
        for when, values in pending:
            if int(when) != second:  # the date and time, formatted once a second
                second = int(when)
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second)).encode()
            fields = orjson.dumps(dict(zip(self.FIELDS, values, strict=True)))
            lines.append(b'{"ts":"%s.%03dZ",%s,%s' % (stamp, int(when % 1 * 1000), _ACCESS_HEAD, fields[1:]))
        sys.stderr.write((b"\n".join(lines) + b"\n").decode())
        sys.stderr.flush()
