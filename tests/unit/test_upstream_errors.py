"""Upstream failures become the gateway's errors: statuses mapped, messages kept, credentials never shown."""

from __future__ import annotations

from typing import Any

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


@pytest.mark.parametrize(
    ("status", "body", "tokens", "limit"),
    [
        (
            400,
            {
                "error": {
                    "message": "This model's maximum context length is 8192 tokens. However, you requested 9000 tokens (8000 in the messages, 1000 in the completion).",
                    "type": "invalid_request_error",
                    "code": "context_length_exceeded",
                }
            },
            9000,
            8192,
        ),
        (
            400,
            {
                "type": "error",
                "error": {"type": "invalid_request_error", "message": "prompt is too long: 210000 tokens > 200000 maximum"},
            },
            210000,
            200000,
        ),
        (
            400,
            {
                "error": {
                    "code": 400,
                    "message": "The input token count (1100000) exceeds the maximum number of tokens allowed (1048576).",
                    "status": "INVALID_ARGUMENT",
                }
            },
            1100000,
            1048576,
        ),
        (400, {"error": {"message": "Too much input for this model", "code": "context_length_exceeded"}}, None, None),
        (400, {"error": {"message": "Prompt Is Too Long for this deployment", "code": None}}, None, None),
    ],
)
def test_a_context_overflow_is_recognised_in_every_familys_words(
    status: int, body: dict[str, Any], tokens: int | None, limit: int | None
) -> None:
    from anygate.core.context_overflow import ContextOverflow

    err = upstream_error("up", status, orjson.dumps(body))
    assert isinstance(err, ContextOverflow) and (err.tokens, err.limit) == (tokens, limit)
    assert err.status == 400 and err.code == "context_length_exceeded"
    assert err.message == body["error"]["message"]  # the upstream's words, worded again per family when shown


@pytest.mark.parametrize(
    "message",
    [
        "input length and `max_tokens` exceed context limit: 150000 + 64000 > 200000, decrease input length or `max_tokens` and try again",
        "max_tokens: 70000 > 64000, which is the maximum allowed number of output tokens for claude-sonnet",
        "messages.0.content: text content blocks must be non-empty",
    ],
)
def test_other_refusals_are_not_taken_for_an_overflow(message: str) -> None:
    from anygate.core.context_overflow import ContextOverflow

    err = upstream_error(
        "up", 400, orjson.dumps({"type": "error", "error": {"type": "invalid_request_error", "message": message}})
    )
    assert not isinstance(err, ContextOverflow) and err.message == message and err.code is None


def test_an_overflow_is_worded_for_each_family_even_without_figures() -> None:
    from anygate.core.context_overflow import ContextOverflow
    from anygate.protocols.anthropic.errors import error_body as anthropic_body
    from anygate.protocols.gemini.errors import error_body as gemini_body
    from anygate.protocols.openai.errors import error_object

    err = ContextOverflow("Too much input for this model")
    assert error_object(err)["message"] == "This model's maximum context length was exceeded: Too much input for this model"
    assert error_object(err)["code"] == "context_length_exceeded"
    assert anthropic_body(err, "r")["error"]["message"] == "prompt is too long: Too much input for this model"
    assert (
        gemini_body(err)["error"]["message"]
        == "The input token count exceeds the maximum number of tokens allowed: Too much input for this model"
    )


def test_an_upstreams_own_timeout_and_model_failure_are_its_failures() -> None:
    timeout = upstream_error("bedrock", 408, b'{"message":"Model has timed out in processing the request."}')
    assert (timeout.status, timeout.code, timeout.kind) == (504, "upstream_error", ErrorKind.TIMEOUT)
    failed = upstream_error("bedrock", 424, b'{"message":"The model returned an error."}')
    assert (failed.status, failed.code) == (502, "upstream_error") and "The model returned an error." in failed.message
