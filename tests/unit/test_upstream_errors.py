"""Upstream failures become the gateway's errors: statuses mapped, messages kept, credentials never shown."""

from __future__ import annotations

import orjson
import pytest

from anygate.core.errors import ErrorKind
from anygate.providers.upstream_errors import upstream_error


def _openai(message: str) -> bytes:
    return orjson.dumps({"error": {"message": message, "type": "invalid_request_error"}})


@pytest.mark.parametrize(
    ("status", "mapped", "kind"),
    [
        (500, 502, ErrorKind.UPSTREAM),
        (502, 502, ErrorKind.UPSTREAM),
        (503, 503, ErrorKind.UNAVAILABLE),
        (529, 503, ErrorKind.UNAVAILABLE),
        (504, 504, ErrorKind.TIMEOUT),
    ],
)
def test_upstream_failures(status: int, mapped: int, kind: ErrorKind) -> None:
    err = upstream_error("p", status, _openai("overloaded"))
    assert (err.status, err.kind) == (mapped, kind) and "overloaded" in err.message


@pytest.mark.parametrize(
    ("status", "kind"),
    [(400, ErrorKind.INVALID_REQUEST), (404, ErrorKind.NOT_FOUND), (422, ErrorKind.INVALID_REQUEST), (429, ErrorKind.RATE_LIMIT)],
)
def test_request_faults_pass_through(status: int, kind: ErrorKind) -> None:
    err = upstream_error("p", status, _openai("bad temperature"))
    assert (err.status, err.kind, err.message) == (status, kind, "bad temperature")


@pytest.mark.parametrize("status", [401, 403])
def test_refused_credentials_are_a_502_without_the_upstream_message(status: int) -> None:
    err = upstream_error("p", status, _openai("Incorrect API key provided: sk-secret"), ("sk-secret",))
    assert err.status == 502 and "sk-secret" not in err.message


def test_secrets_are_redacted_and_every_family_shape_is_read() -> None:
    assert upstream_error("p", 400, _openai("key sk-secret is odd"), ("sk-secret",)).message == "key *** is odd"
    anthropic = orjson.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": "max_tokens: required"}})
    assert upstream_error("p", 400, anthropic).message == "max_tokens: required"
    gemini = orjson.dumps([{"error": {"code": 400, "message": "Invalid JSON payload", "status": "INVALID_ARGUMENT"}}])
    assert upstream_error("p", 400, gemini).message == "Invalid JSON payload"
    assert "HTTP 400" in upstream_error("p", 400, b"<html>nope</html>").message
