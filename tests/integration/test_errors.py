"""Every error case answers in the OpenAI shape with the right status, and never leaks the upstream key."""

from __future__ import annotations

from typing import Any

import pytest
import requests
from openai import APIStatusError, OpenAI

from tests.fakes.openai_upstream import UPSTREAM_KEY
from tests.gateway_process import GatewayProcess

CHAT = "/openai/v1/chat/completions"


def _post(gateway: GatewayProcess, body: Any, key: str | None, raw: bytes | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} if key else {}
    if raw is not None:
        return requests.post(gateway.url + CHAT, data=raw, headers={**headers, "Content-Type": "application/json"}, timeout=20)
    return requests.post(gateway.url + CHAT, json=body, headers=headers, timeout=20)


def _assert_openai_error(resp: requests.Response, status: int, code: str | None = None) -> dict[str, Any]:
    assert resp.status_code == status, resp.text
    error: dict[str, Any] = resp.json()["error"]
    assert set(error) == {"message", "type", "param", "code"}
    assert isinstance(error["message"], str) and error["message"]
    if code is not None:
        assert error["code"] == code
    assert UPSTREAM_KEY not in resp.text and "Traceback" not in resp.text
    return error


HELLO = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}


def test_missing_key_is_401(gateway: GatewayProcess) -> None:
    _assert_openai_error(_post(gateway, HELLO, None), 401, "invalid_api_key")


def test_wrong_key_is_401(gateway: GatewayProcess) -> None:
    _assert_openai_error(_post(gateway, HELLO, "ag-not-a-real-key"), 401, "invalid_api_key")


def test_model_not_on_allowlist_is_403(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--models", "mock-fast")["key"]
    _assert_openai_error(_post(gateway, HELLO, key), 403, "model_not_allowed")
    assert _post(gateway, {**HELLO, "model": "mock-fast"}, key).status_code == 200


def test_unknown_model_is_404(gateway: GatewayProcess, api_key: str) -> None:
    error = _assert_openai_error(_post(gateway, {**HELLO, "model": "no-such-model"}, api_key), 404, "model_not_found")
    assert error["param"] == "model"


@pytest.mark.parametrize(
    ("raw", "body", "param"),
    [
        (b"{not json", None, None),
        (b"", None, None),
        (b"[1, 2]", None, None),
        (None, {"model": "gpt-test"}, "messages"),
        (None, {"model": "gpt-test", "messages": []}, "messages"),
        (None, {"messages": [{"role": "user", "content": "hi"}]}, "model"),
        (None, {**HELLO, "stream": "yes"}, "stream"),
    ],
)
def test_bad_request_is_400(gateway: GatewayProcess, api_key: str, raw: bytes | None, body: Any, param: str | None) -> None:
    error = _assert_openai_error(_post(gateway, body, api_key, raw), 400)
    assert error["type"] == "invalid_request_error"
    assert error["param"] == param


def test_upstream_unreachable_is_502(gateway: GatewayProcess, api_key: str) -> None:
    _assert_openai_error(_post(gateway, {**HELLO, "model": "down-model"}, api_key), 502, "upstream_unreachable")


def test_upstream_timeout_is_504(gateway: GatewayProcess, api_key: str) -> None:
    _assert_openai_error(_post(gateway, {**HELLO, "model": "scenario-slow"}, api_key), 504, "upstream_timeout")


@pytest.mark.parametrize(("scenario", "status"), [("500", 502), ("503", 503), ("529", 503)])
def test_upstream_failures_map_to_5xx(gateway: GatewayProcess, api_key: str, scenario: str, status: int) -> None:
    _assert_openai_error(_post(gateway, {**HELLO, "model": f"scenario-{scenario}"}, api_key), status, "upstream_error")


def test_upstream_html_page_is_a_clean_502(gateway: GatewayProcess, api_key: str) -> None:
    error = _assert_openai_error(_post(gateway, {**HELLO, "model": "scenario-html"}, api_key), 502, "upstream_bad_response")
    assert "<html" not in error["message"]


@pytest.mark.parametrize(
    ("scenario", "status", "fragment"), [("400", 400, "temperature"), ("404", 404, "does not exist"), ("429", 429, "Rate limit")]
)
def test_upstream_4xx_passed_on_with_its_message(
    gateway: GatewayProcess, api_key: str, scenario: str, status: int, fragment: str
) -> None:
    error = _assert_openai_error(_post(gateway, {**HELLO, "model": f"scenario-{scenario}"}, api_key), status)
    assert fragment in error["message"]


def test_upstream_refusing_our_credentials_is_502_without_the_key(gateway: GatewayProcess, api_key: str) -> None:
    _assert_openai_error(_post(gateway, {**HELLO, "model": "scenario-401"}, api_key), 502, "upstream_auth_failed")
    assert UPSTREAM_KEY not in gateway.log()


def test_unknown_route_is_404_in_openai_shape(gateway: GatewayProcess, api_key: str) -> None:
    resp = requests.get(gateway.url + "/openai/v1/nothing-here", headers={"Authorization": f"Bearer {api_key}"}, timeout=10)
    _assert_openai_error(resp, 404)


def test_sdk_raises_the_matching_exceptions(gateway: GatewayProcess, api_key: str) -> None:
    client = OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)
    with pytest.raises(APIStatusError) as caught:
        client.chat.completions.create(model="scenario-503", messages=[{"role": "user", "content": "x"}])
    assert caught.value.status_code == 503


@pytest.mark.parametrize(("scenario", "code"), [("cut", "upstream_unreachable"), ("stream-error", None)])
def test_stream_failing_after_first_byte_ends_with_an_error_event(
    gateway: GatewayProcess, api_key: str, scenario: str, code: str | None
) -> None:
    client = OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)
    received = []
    with pytest.raises(Exception) as caught:  # the SDK raises APIError on an in-stream error payload
        for chunk in client.chat.completions.create(
            model=f"scenario-{scenario}", messages=[{"role": "user", "content": "x"}], stream=True
        ):
            received.append(chunk)
    assert received, "some chunks arrived before the failure"
    assert "error" in str(caught.value).lower() or "upstream" in str(caught.value).lower()


def test_stream_failure_event_is_openai_shaped(gateway: GatewayProcess, api_key: str) -> None:
    body = {**HELLO, "model": "scenario-cut", "stream": True}
    resp = requests.post(gateway.url + CHAT, json=body, headers={"Authorization": f"Bearer {api_key}"}, timeout=20)
    events = [e for e in resp.text.split("\n\n") if e.strip()]
    assert events[-1].startswith('data: {"error":')
    assert "[DONE]" not in resp.text


@pytest.mark.parametrize(
    ("extra", "param"),
    [({"n": 2}, "n"), ({"logprobs": True}, "logprobs"), ({"modalities": ["text", "audio"]}, "modalities")],
)
def test_fields_a_translated_upstream_cannot_honour_are_refused_by_name(
    gateway: GatewayProcess, api_key: str, extra: dict[str, Any], param: str
) -> None:
    error = _assert_openai_error(_post(gateway, {**HELLO, "model": "claude-echo", **extra}, api_key), 400)
    assert error["param"] == param


def test_gemini_asking_for_images_from_a_text_upstream_is_refused(gateway: GatewayProcess, api_key: str) -> None:
    body = {"contents": [{"parts": [{"text": "draw"}]}], "generationConfig": {"responseModalities": ["TEXT", "IMAGE"]}}
    resp = requests.post(
        gateway.url + "/gemini/v1beta/models/gpt-test:generateContent", json=body, headers={"x-goog-api-key": api_key}, timeout=10
    )
    assert resp.status_code == 400 and resp.json()["error"]["status"] == "INVALID_ARGUMENT"
    assert "responseModalities" in resp.json()["error"]["message"]


def test_bad_input_on_other_families_is_a_clean_4xx(gateway: GatewayProcess, api_key: str) -> None:
    headers = {"x-api-key": api_key, "Content-Type": "application/json"}
    for path, family in [("/anthropic/v1/messages", "anthropic"), ("/gemini/v1beta/models/gpt-test:generateContent", "gemini")]:
        resp = requests.post(gateway.url + path, data=b"{broken", headers=headers, timeout=10)
        assert resp.status_code == 400, resp.text
        body = resp.json()
        assert body["type"] == "error" if family == "anthropic" else body["error"]["status"] == "INVALID_ARGUMENT"
    unauthorised = requests.post(gateway.url + "/gemini/v1beta/models/gpt-test:generateContent", json={}, timeout=10)
    assert unauthorised.status_code == 401 and unauthorised.json()["error"]["status"] == "UNAUTHENTICATED"
    anthropic_401 = requests.post(gateway.url + "/anthropic/v1/messages", json={}, timeout=10)
    assert anthropic_401.json()["error"]["type"] == "authentication_error"
