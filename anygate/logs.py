"""Logs as JSON lines on stderr: one object per record, `fields` passed in `extra` merged in, and
anything that looks like a key or a bearer token masked before it is written."""

from __future__ import annotations

import logging
import re
import sys
import time
from typing import Any

import orjson

ACCESS = logging.getLogger("anygate.access")  # one line per request
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
