"""Metrics: workers' snapshots add up exactly, and the text is what Prometheus' own parser reads."""

from __future__ import annotations

import orjson
from prometheus_client.parser import text_string_to_metric_families

from anygate.metrics import Metrics, add_up, render, snapshot


def _worker(calls: int, stream: bool) -> Metrics:
    metrics = Metrics()
    for _ in range(calls):
        metrics.request("openai", 200, 0.02, upstream=0.015, to_client=0.017)
        metrics.upstream("openai", "gpt-test", "fake", 200, 19, 12, attempts=2)
    if stream:
        metrics.stream_started("openai", 0.004)
    metrics.entered("key_a")
    return metrics


def test_snapshots_of_two_workers_add_up() -> None:
    first, second = _worker(3, stream=True), _worker(4, stream=False)
    total = add_up(orjson.loads(orjson.dumps(snapshot(m))) for m in (first, second))  # as written to and read from disk
    assert total.requests[("openai", "200")] == 7
    assert total.tokens[("gpt-test", "input")] == 7 * 19 and total.retries[("gpt-test",)] == 7
    assert total.seconds[("openai",)].count == 7 and abs(total.seconds[("openai",)].sum - 0.14) < 1e-9
    assert total.overhead[("openai",)].count == 7 and total.active_streams == 1
    assert dict(total.in_flight) == {("key_a",): 2}


def test_calls_in_flight_are_counted_per_key_and_a_key_with_none_is_dropped() -> None:
    metrics = Metrics()
    for key in ("a", "a", "a", "b"):
        metrics.entered(key)
    metrics.left("a")
    assert dict(metrics.in_flight) == {("a",): 2, ("b",): 1}
    metrics.left("a")
    metrics.left("a")
    metrics.left("b")
    assert dict(metrics.in_flight) == {}
    metrics.entered("a")
    assert metrics.in_flight[("a",)] == 1


def test_render_is_valid_prometheus_text() -> None:
    families = {f.name: f for f in text_string_to_metric_families(render(_worker(2, stream=True), []))}
    requests = families["anygate_requests"]
    assert [(s.labels, s.value) for s in requests.samples if s.name == "anygate_requests_total"] == [
        ({"family": "openai", "status": "200"}, 2.0)
    ]
    buckets = [s for s in families["anygate_request_seconds"].samples if s.name.endswith("_bucket")]
    assert buckets[-1].labels["le"] == "+Inf" and buckets[-1].value == 2.0
    assert [s.value for s in buckets] == sorted(s.value for s in buckets), "buckets are cumulative"
    assert [(s.labels, s.value) for s in families["anygate_in_flight"].samples] == [({"key_id": "key_a"}, 1.0)]
    assert families["anygate_in_flight"].type == "gauge"
