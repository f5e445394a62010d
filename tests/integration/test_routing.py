"""Retries, fallbacks and circuit breakers, before the first byte reaches the client."""

from __future__ import annotations

import json
import time
from collections.abc import Callable
from typing import Any

import pytest
import requests

from anygate.store.tables import UsageRecord
from tests.fakes.anthropic_upstream import TEXT, FakeAnthropic
from tests.fakes.gemini_upstream import TEXT as GEMINI_TEXT
from tests.fakes.openai_upstream import ECHO_TEXT, FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY
from tests.integration.usage import eventually, usage_rows


def _chat(gateway: GatewayProcess, key: str, model: str, stream: bool = False) -> requests.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return requests.post(
        gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def _sent(fake: FakeOpenAI, model: str) -> int:
    return sum(1 for r in fake.requests if r["body"]["model"] == model)


def test_falls_back_to_the_next_tier_in_another_family(
    gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    before = _sent(fake_openai, "up-500")
    streamed = _chat(gateway, api_key, "fallback", stream=True)
    chunks = [json.loads(line[6:]) for line in streamed.text.splitlines() if line.startswith("data: {")]
    assert "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"]) == TEXT
    resp = _chat(gateway, api_key, "fallback")
    assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"] == TEXT
    assert _sent(fake_openai, "up-500") == before + 2, "the first tier was tried once per call"
    assert usage_rows(gateway, UsageRecord.request_id == resp.headers["x-request-id"]) == [("claude", 200, 2)]


def test_a_single_target_is_retried_and_retry_after_is_honoured(
    gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI
) -> None:
    before = _sent(fake_openai, "up-429")
    started = time.time()
    resp = _chat(gateway, api_key, "scenario-429")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert _sent(fake_openai, "up-429") == before + 3 and time.time() - started >= 2.0
    assert usage_rows(gateway, UsageRecord.request_id == resp.headers["x-request-id"]) == [("fake", 429, 3)]


def test_request_faults_are_not_retried(gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI) -> None:
    before = _sent(fake_openai, "up-400")
    assert _chat(gateway, api_key, "scenario-400").status_code == 400
    assert _sent(fake_openai, "up-400") == before + 1


def test_breaker_takes_a_failing_target_out(gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI) -> None:
    before = _sent(fake_openai, "up-503")
    answers = [_chat(gateway, api_key, "breaker") for _ in range(12)]
    assert all(a.status_code == 200 and ECHO_TEXT in a.text for a in answers)
    # 100:1 weights send nearly every call to the failing target first, until 5 failures open its breaker
    assert 4 <= _sent(fake_openai, "up-503") - before <= 5
    providers = _admin_get(gateway, "/admin/v1/providers", ADMIN_KEY)
    assert providers.status_code == 200
    fake = next(p for p in providers.json()["data"] if p["name"] == "fake")
    breakers = {(t["model"], t["upstream_model"]): t["breaker"] for t in fake["targets"]}
    assert breakers[("breaker", "up-503")] == {"state": "open", "failures": 5}
    assert breakers[("breaker", "up-echo")]["state"] == "closed"


def _admin_get(gateway: GatewayProcess, path: str, key: str) -> requests.Response:
    return requests.get(gateway.url + path, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def test_the_admin_api_takes_only_the_admin_key(gateway: GatewayProcess, api_key: str) -> None:
    for key in (api_key, "wrong"):
        refused = _admin_get(gateway, "/admin/v1/providers", key)
        assert refused.status_code == 401 and refused.json()["error"]["code"] == "invalid_api_key"


def test_a_client_that_leaves_mid_stream_cancels_the_upstream_call(
    gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI
) -> None:
    before = fake_openai.faults.disconnects
    body = {"model": "scenario-drip", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with requests.post(
        gateway.url + "/openai/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {api_key}"},
        stream=True,
        timeout=10,
    ) as resp:
        next(resp.iter_content(chunk_size=None))  # the first chunk, then hang up
    assert eventually(lambda: fake_openai.faults.disconnects == before + 1), "the upstream saw the gateway go away"
    rows = usage_rows(gateway, UsageRecord.public_model == "scenario-drip")
    assert rows and rows[-1] == ("fake", 499, 1)


def test_an_upstream_that_hangs_before_its_headers_is_left_for_the_next_tier(
    gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI
) -> None:
    before = fake_openai.faults.disconnects
    resp = _chat(gateway, api_key, "hang-fallback")
    assert resp.status_code == 200 and resp.json()["choices"][0]["message"]["content"] == TEXT
    assert eventually(lambda: fake_openai.faults.disconnects == before + 1), "the hung call was abandoned, not left open"
    assert usage_rows(gateway, UsageRecord.request_id == resp.headers["x-request-id"]) == [("claude", 200, 2)]


def test_a_stream_that_never_sends_its_first_chunk_is_retried_elsewhere(
    gateway: GatewayProcess, api_key: str, fake_anthropic: FakeAnthropic
) -> None:
    before = fake_anthropic.faults.disconnects
    resp = _chat(gateway, api_key, "mute-fallback", stream=True)
    chunks = [json.loads(line[6:]) for line in resp.text.splitlines() if line.startswith("data: {")]
    text = "".join(c["choices"][0]["delta"].get("content") or "" for c in chunks if c["choices"])
    assert resp.status_code == 200 and text == GEMINI_TEXT
    assert eventually(lambda: fake_anthropic.faults.disconnects == before + 1)
    assert usage_rows(gateway, UsageRecord.request_id == resp.headers["x-request-id"]) == [("gemini", 200, 2)]


def _openai_stream(gateway: GatewayProcess, key: str, model: str) -> requests.Response:
    return _chat(gateway, key, model, stream=True)


def _anthropic_stream(gateway: GatewayProcess, key: str, model: str) -> requests.Response:
    body = {"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": "hi"}], "stream": True}
    return requests.post(gateway.url + "/anthropic/v1/messages", json=body, headers={"x-api-key": key}, timeout=30)


def _gemini_stream(gateway: GatewayProcess, key: str, model: str) -> requests.Response:
    url = f"{gateway.url}/gemini/v1beta/models/{model}:streamGenerateContent?alt=sse"
    body = {"contents": [{"role": "user", "parts": [{"text": "hi"}]}]}
    return requests.post(url, json=body, headers={"x-goog-api-key": key}, timeout=30)


def _last_event(resp: requests.Response) -> dict[str, Any]:
    data = [line[6:] for line in resp.text.splitlines() if line.startswith("data: ")]
    return dict(json.loads(data[-1]))


@pytest.mark.parametrize(
    ("client", "model", "status"),
    [
        (_openai_stream, "scenario-stall", 504),
        (_openai_stream, "claude-drop", 502),
        (_anthropic_stream, "claude-stall", 504),
        (_anthropic_stream, "gemini-drop", 502),
        (_gemini_stream, "gemini-stall", 504),
        (_gemini_stream, "scenario-drop", 502),
    ],
)
def test_a_stream_broken_after_its_first_byte_ends_with_the_family_error_and_no_retry(
    gateway: GatewayProcess,
    api_key: str,
    client: Callable[[GatewayProcess, str, str], requests.Response],
    model: str,
    status: int,
) -> None:
    resp = client(gateway, api_key, model)
    assert resp.status_code == 200, "the stream had begun"
    last = _last_event(resp)
    if client is _openai_stream:
        assert last["error"]["code"] == ("upstream_timeout" if status == 504 else "upstream_unreachable")
    elif client is _anthropic_stream:
        assert last["type"] == "error" and last["error"]["type"] == ("timeout_error" if status == 504 else "api_error")
        assert "event: error" in resp.text
    else:
        assert last["error"]["code"] == status
    assert usage_rows(gateway, UsageRecord.request_id == resp.headers["x-request-id"])[0][1:] == (status, 1)


def test_the_total_timeout_ends_a_stream_that_runs_too_long(gateway: GatewayProcess, api_key: str) -> None:
    started = time.time()
    resp = _chat(gateway, api_key, "brief-drip", stream=True)
    assert 1.0 <= time.time() - started < 2.2, "cut at the provider's one-second total, not at the end of the drip (2.4 s)"
    assert _last_event(resp)["error"]["code"] == "upstream_timeout"
    assert ECHO_TEXT[:9] in resp.text
