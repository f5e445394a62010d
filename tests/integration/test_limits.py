"""Per-key limits and budgets through the real gateway: refusals in each family's shape, with the
headers a client needs; token limits count real usage; budgets hold across a restart; two gateway
processes on one Redis enforce one limit."""

from __future__ import annotations

import json
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI
from tests.fakes.server_thread import free_port
from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY, gateway_config
from tests.integration.usage import fresh_minute

HELLO = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}


def _chat(gateway: GatewayProcess, key: str, body: dict[str, Any] = HELLO) -> requests.Response:
    return requests.post(
        gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )


def test_requests_per_minute_in_every_family(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--rpm", "3")["key"]
    fresh_minute()
    assert [_chat(gateway, key).status_code for _ in range(3)] == [200, 200, 200]
    refused = _chat(gateway, key)
    assert refused.status_code == 429
    assert refused.json()["error"]["code"] == "rate_limit_exceeded" and refused.json()["error"]["type"] == "rate_limit_error"
    assert 1 <= int(refused.headers["Retry-After"]) <= 60
    assert refused.headers["x-ratelimit-limit-requests"] == "3" and refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-ratelimit-reset-requests"].endswith("s")
    anthropic = requests.post(
        gateway.url + "/anthropic/v1/messages", json={**HELLO, "max_tokens": 5}, headers={"x-api-key": key}, timeout=10
    )
    assert anthropic.status_code == 429 and anthropic.json()["error"]["type"] == "rate_limit_error"
    gemini = requests.post(
        gateway.url + "/gemini/v1beta/models/gpt-test:generateContent",
        json={"contents": [{"parts": [{"text": "hi"}]}]},
        headers={"x-goog-api-key": key},
        timeout=10,
    )
    assert gemini.status_code == 429 and gemini.json()["error"]["status"] == "RESOURCE_EXHAUSTED"


def test_tokens_per_minute_count_the_real_usage(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--tpm", "40")["key"]  # one fake answer uses 31 tokens
    fresh_minute()
    assert _chat(gateway, key).status_code == 200
    refused = _chat(gateway, key)
    assert refused.status_code == 429 and refused.headers["x-ratelimit-limit-tokens"] == "40"
    assert int(refused.headers["x-ratelimit-remaining-tokens"]) == 40 - 31


def test_daily_caps_refuse_with_the_day_window_and_can_be_changed(gateway: GatewayProcess) -> None:
    created = gateway.create_key("--rpm", "100", "--rpd", "2", "--tpd", "1000000")
    key = created["key"]
    assert [_chat(gateway, key).status_code for _ in range(2)] == [200, 200]
    refused = _chat(gateway, key)
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "rate_limit_exceeded"
    assert "2 requests per day" in refused.json()["error"]["message"]
    assert refused.headers["x-ratelimit-limit-requests"] == "2" and refused.headers["x-ratelimit-remaining-requests"] == "0"
    assert refused.headers["x-ratelimit-limit-tokens"] == "1000000"
    until_midnight = 86400 - time.time() % 86400
    assert abs(int(refused.headers["Retry-After"]) - until_midnight) < 5, "the UTC day's end"
    (shown,) = [k for k in json.loads(gateway.cli("keys", "list", "--json").stdout) if k["id"] == created["id"]]
    assert (shown["rpd"], shown["tpd"]) == (2, 1_000_000)
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    changed = requests.patch(f"{gateway.url}/admin/v1/keys/{created['id']}", json={"rpd": 3}, headers=admin, timeout=10)
    assert changed.status_code == 200 and changed.json()["rpd"] == 3
    deadline = time.time() + 5  # running gateways see the change within the key cache's refresh
    while (status := _chat(gateway, key).status_code) == 429 and time.time() < deadline:
        time.sleep(0.2)
    assert status == 200 and _chat(gateway, key).status_code == 429


def test_tokens_per_day_count_the_real_usage(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--tpd", "40")["key"]  # one fake answer uses 31 tokens
    assert _chat(gateway, key).status_code == 200
    refused = _chat(gateway, key)
    assert refused.status_code == 429 and "40 tokens per day" in refused.json()["error"]["message"]
    assert int(refused.headers["x-ratelimit-remaining-tokens"]) == 40 - 31


def test_budget_cuts_a_key_off_and_holds_across_a_restart(
    tmp_path: Path, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic, fake_gemini: FakeGemini
) -> None:
    config = gateway_config(f"sqlite:///{tmp_path}/anygate.db", fake_openai.url, fake_anthropic.url, fake_gemini.url)  # type: ignore[attr-defined]
    gateway = GatewayProcess(tmp_path, config).start()
    created = gateway.create_key("--budget", "0.0001")  # one call costs (19 * 1 + 12 * 2) / 1e6 = 0.000043
    capped = {**HELLO, "max_tokens": 12}  # and reserves its worst case, (23 * 1 + 12 * 2) / 1e6 = 0.000047
    try:
        assert [_chat(gateway, created["key"], capped).status_code for _ in range(2)] == [200, 200]
        refused = _chat(gateway, created["key"], capped)
        assert refused.status_code == 403 and refused.json()["error"]["code"] == "budget_exceeded"
    finally:
        gateway.stop()
    (total,) = json.loads(gateway.cli("usage", "--key", created["id"], "--json").stdout)
    assert total["budget_usd"] == 0.0001 and total["key_spent_usd"] == pytest.approx(2 * 0.000043)
    again = GatewayProcess(tmp_path, config)
    again.start()
    try:
        assert _chat(again, created["key"], capped).status_code == 403
    finally:
        again.stop()


def test_parallel_calls_never_spend_more_than_the_budget(gateway: GatewayProcess) -> None:
    """The audit's figure: 50 parallel calls overspent a budget 2.8-4.8 times."""
    created = gateway.create_key("--budget", "0.0005")  # a call costs $0.000043 and reserves ~$0.000044
    capped = {**HELLO, "max_tokens": 12}
    with ThreadPoolExecutor(50) as pool:
        statuses = list(pool.map(lambda _: _chat(gateway, created["key"], capped).status_code, range(50)))
    allowed = statuses.count(200)
    assert 10 <= allowed <= 11 and statuses.count(403) == 50 - allowed
    time.sleep(1.5)  # the usage writer's flush
    (total,) = json.loads(gateway.cli("usage", "--key", created["id"], "--json").stdout)
    assert total["key_spent_usd"] == pytest.approx(allowed * 0.000043) and total["key_spent_usd"] <= 0.0005
    uncapped = _chat(gateway, created["key"])  # no max_tokens: 16,384 output tokens are reserved
    assert uncapped.status_code == 403 and "cannot cover this call (up to $0.0328)" in uncapped.json()["error"]["message"]


def test_two_gateways_on_one_redis_enforce_one_limit(
    tmp_path: Path,
    redis_url: str,
    postgres_url: str,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
    fake_gemini: FakeGemini,
) -> None:
    config = {**gateway_config(postgres_url, fake_openai.url, fake_anthropic.url, fake_gemini.url), "redis": redis_url}  # type: ignore[attr-defined]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = GatewayProcess(tmp_path / "a", config).start()
    second = GatewayProcess(tmp_path / "b", config).start()
    try:
        key = first.create_key("--rpm", "5")["key"]
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda g: _chat(g, key).status_code, [first, second] * 6))
        assert sorted(statuses) == [200] * 5 + [429] * 7
    finally:
        first.stop()
        second.stop()


def test_concurrent_requests_cap(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--concurrency", "1")["key"]
    body = {"model": "scenario-drip", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    headers = {"Authorization": f"Bearer {key}"}
    for _ in range(3):  # the stream lasts 2.4 s (1 s of silence ends it): on a starved machine it may end first
        with requests.post(
            gateway.url + "/openai/v1/chat/completions", json=body, headers=headers, stream=True, timeout=10
        ) as slow:
            next(slow.iter_content(chunk_size=None))  # in flight
            started = time.monotonic()
            refused = _chat(gateway, key)
            took = time.monotonic() - started
            rest = slow.content  # let it finish
        if refused.status_code == 429 or took < 0.9 and b"[DONE]" in rest and b'"error"' not in rest:
            break
    assert refused.status_code == 429 and refused.json()["error"]["code"] == "concurrency_limit_exceeded", (
        refused.status_code,
        took,
    )
    assert refused.headers["Retry-After"] == "1"
    deadline = time.time() + 10  # the handler gives the slot back just after the stream's last byte (slower on a busy machine)
    while (status := _chat(gateway, key).status_code) == 429 and time.time() < deadline:
        time.sleep(0.05)
    assert status == 200, "the slot came back"


def test_token_counts_count_against_request_limits_and_budgets(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--rpm", "2")["key"]
    anthropic = {"model": "claude-echo", "messages": [{"role": "user", "content": "hi"}]}
    gemini = {"contents": [{"parts": [{"text": "hi"}]}]}
    headers = {"x-api-key": key, "x-goog-api-key": key}
    counts = [
        requests.post(gateway.url + "/anthropic/v1/messages/count_tokens", json=anthropic, headers=headers, timeout=10),
        requests.post(gateway.url + "/gemini/v1beta/models/gemini-echo:countTokens", json=gemini, headers=headers, timeout=10),
        requests.post(gateway.url + "/anthropic/v1/messages/count_tokens", json=anthropic, headers=headers, timeout=10),
    ]
    assert [c.status_code for c in counts] == [200, 200, 429]
    assert counts[2].json()["error"]["type"] == "rate_limit_error"
    spent = gateway.create_key("--budget", "0")["key"]
    refused = requests.post(
        gateway.url + "/gemini/v1beta/models/gemini-echo:countTokens", json=gemini, headers={"x-goog-api-key": spent}, timeout=10
    )
    assert refused.status_code == 403


def test_serve_says_at_start_when_redis_does_not_answer(tmp_path: Path) -> None:
    config = {
        "database": f"sqlite:///{tmp_path}/anygate.db",
        "redis": f"redis://:hunter2@127.0.0.1:{free_port()}/0",
        "limits": {"on_redis_error": "deny"},
        "providers": {"mock": {"type": "mock"}},
        "models": {"mock-fast": [{"provider": "mock", "model": "mock-fast"}]},
    }
    gateway = GatewayProcess(tmp_path, config).start()
    try:
        key = gateway.create_key("--rpm", "100", cli=True)["key"]
        refused = _chat(gateway, key, {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]})
        assert refused.status_code == 503 and refused.headers["Retry-After"] == "1"
    finally:
        gateway.stop()
    (line,) = [json.loads(x) for x in gateway.log().splitlines() if "does not answer" in x]
    assert line["level"] == "error" and "limits are refused with 503s" in line["msg"]
    assert "hunter2" not in gateway.log() and ":***@" in line["msg"]


def test_a_request_the_hub_cannot_read_is_refused_before_it_is_counted(gateway: GatewayProcess) -> None:
    """Every family reads a request bound for another family's upstream before admitting it: the 400
    leaves the key's requests of the minute untouched."""
    key = gateway.create_key("--rpm", "1")["key"]
    fresh_minute()
    unreadable = [
        ("/openai/v1/chat/completions", {"model": "claude-alias", "messages": [{"role": "wizard", "content": "hi"}]}),
        ("/openai/v1/responses", {"model": "claude-alias", "input": [{"role": "wizard", "content": "hi"}]}),
        ("/anthropic/v1/messages", {**HELLO, "max_tokens": 5, "messages": [{"role": "wizard", "content": "hi"}]}),
        ("/gemini/v1beta/models/gpt-test:generateContent", {"contents": [{"parts": "hi"}]}),
    ]
    headers = {"Authorization": f"Bearer {key}", "x-api-key": key, "x-goog-api-key": key}
    for path, body in unreadable:
        refused = requests.post(gateway.url + path, json=body, headers=headers, timeout=10)
        assert refused.status_code == 400, (path, refused.text)
        assert "role" in refused.text or "parts" in refused.text, (path, refused.text)
    assert _chat(gateway, key).status_code == 200, "the refused requests were not counted"
    assert _chat(gateway, key).status_code == 429
