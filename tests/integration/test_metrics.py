"""GET /metrics: Prometheus' text format (checked by prometheus_client's own parser), for the admin
key only, counting requests, upstream calls, tokens, streams and breaker states."""

from __future__ import annotations

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY


def _scrape(gateway: GatewayProcess) -> dict[str, list[tuple[dict[str, str], float]]]:
    resp = requests.get(gateway.url + "/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10)
    assert resp.status_code == 200 and resp.headers["Content-Type"].startswith("text/plain; version=0.0.4")
    return _collect(resp.text)


def _collect(text: str) -> dict[str, list[tuple[dict[str, str], float]]]:
    samples: dict[str, list[tuple[dict[str, str], float]]] = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            samples.setdefault(sample.name, []).append((sample.labels, sample.value))
    return samples


def _value(samples: dict[str, list[tuple[dict[str, str], float]]], name: str, **labels: str) -> float:
    return sum(v for found, v in samples.get(name, []) if labels.items() <= found.items())


def test_metrics_count_what_happened(gateway: GatewayProcess, api_key: str) -> None:
    before = _collect(requests.get(gateway.url + "/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10).text)
    headers = {"Authorization": f"Bearer {api_key}"}
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
    assert requests.post(gateway.url + "/openai/v1/chat/completions", json=body, headers=headers, timeout=10).status_code == 200
    streamed = requests.post(
        gateway.url + "/openai/v1/chat/completions", json={**body, "stream": True}, headers=headers, timeout=10
    )
    assert streamed.status_code == 200
    assert (
        requests.post(
            gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": "Bearer ag-no"}, timeout=10
        ).status_code
        == 401
    )
    after = _scrape(gateway)

    def grew(name: str, **labels: str) -> float:
        return _value(after, name, **labels) - _value(before, name, **labels)

    assert grew("anygate_requests_total", family="openai", status="200") == 2
    assert grew("anygate_requests_total", family="openai", status="401") == 1
    assert grew("anygate_upstream_calls_total", model="gpt-test", provider="fake", status="200") == 2
    assert grew("anygate_tokens_total", model="gpt-test", direction="input") == 2 * 19
    assert grew("anygate_stream_first_byte_seconds_count", family="openai") == 1
    assert grew("anygate_request_seconds_count", family="openai") == 3
    assert grew("anygate_upstream_seconds_count", family="openai") == 2
    assert grew("anygate_overhead_seconds_count", family="openai") == 2
    assert grew("anygate_overhead_seconds_sum", family="openai") < grew("anygate_request_seconds_sum", family="openai")
    assert _value(after, "anygate_active_streams") == 0
    assert ({"model": "breaker", "provider": "fake", "upstream_model": "up-echo"}, 0.0) in after["anygate_breaker_state"]


def test_metrics_need_the_admin_key(gateway: GatewayProcess, api_key: str) -> None:
    for key in (api_key, "wrong"):
        assert requests.get(gateway.url + "/metrics", headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code == 401
    assert requests.get(gateway.url + "/metrics", timeout=10).status_code == 401
