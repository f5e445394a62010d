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
_SECRET = re.compile(r"\b(?:ag|sk|whsec)[-_][A-Za-z0-9_\-]{12,}|(?<=Bearer )[A-Za-z0-9._\-]{12,}")


def counted(number: int, noun: str) -> str:
    """'1 model', '2 models': a count for people to read."""
    return f"{number} {noun}" + ("" if number == 1 else "s")


_configured: list[str] = []  # the configuration's own secrets, whatever they look like


def protect(secrets: list[str | None]) -> None:
    """Mask these values too (the admin key, upstream keys, passwords in URLs) wherever they appear."""
    _configured[:] = sorted({s for s in [*_configured, *secrets] if s and len(s) >= 4}, key=len, reverse=True)


def redact(text: str) -> str:
    """`text` with API keys, webhook secrets, bearer tokens and the configured secrets masked."""
    for secret in _configured:
        if secret in text:
            text = text.replace(secret, "***")
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


# when (time.time()), request id, method, route, family, status, seconds, key id, attempts, model, provider
AccessEntry = tuple[float, str, str, str, str, int, float, "str | None", int, str, str]

# One format for the whole line. Its strings need no JSON escaping: request ids are generated or
# match `[A-Za-z0-9._:-]`, methods are HTTP tokens, routes and families are the gateway's own names,
# key ids are generated; models and providers (the operator's names) are written as JSON strings.
_ACCESS_LINE = (
    '{"ts":"%s.%03dZ","level":"info","logger":"anygate.access","msg":"request","request_id":"%s","method":"%s",'
    '"route":"%s","family":"%s","status":%d,"ms":%.2f,"key_id":%s,"attempts":%d,"model":%s,"provider":%s}'
)


class AccessLog:
    """One JSON line per request, in the same shape as the other log lines, written to stderr in
    batches a few times a second: a request costs a tuple; the lines are built when they are written."""

    def __init__(self) -> None:
        self._pending: list[AccessEntry] = []

    def add(self, entry: AccessEntry) -> None:
        """Queue the line of one request."""
        self._pending.append(entry)
        if len(self._pending) == 1:
            asyncio.get_running_loop().call_later(ACCESS_FLUSH_SECONDS, self.flush)

    def flush(self) -> None:
        """Write the queued lines."""
        if not self._pending:
            return
        pending, self._pending = self._pending, []
        lines = []
        second, stamp = -1, ""
        for when, request_id, method, route, family, status, seconds, key_id, attempts, model, provider in pending:
            if int(when) != second:  # the date and time, formatted once a second
                second = int(when)
                stamp = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(second))
            key = f'"{key_id}"' if key_id else "null"
            named = (orjson.dumps(model).decode() if model else "null", orjson.dumps(provider).decode() if provider else "null")
            lines.append(
                _ACCESS_LINE
                % (stamp, when % 1 * 1000, request_id, method, route, family, status, seconds * 1000, key, attempts, *named)
            )
        lines.append("")
        sys.stderr.write("\n".join(lines))
        sys.stderr.flush()
