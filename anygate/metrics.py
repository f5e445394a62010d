"""The gateway's own counters and histograms, rendered in Prometheus' text format at GET /metrics.

Counting costs a dict update per call; everything that lives elsewhere (breaker states, task and
webhook counts) is read when the metrics are scraped. Each worker process counts its own calls.
"""

from __future__ import annotations

from bisect import bisect_left
from collections import defaultdict
from collections.abc import Iterable
from typing import Any

SECONDS_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1.0, 2.5, 5.0, 10.0, 30.0, 60.0, 120.0, 300.0)
Labels = tuple[tuple[str, str], ...]
Key = tuple[str, ...]  # label values, in the order of the metric's label names


class Histogram:
    """Observations in fixed buckets, with their sum and count."""

    __slots__ = ("count", "counts", "sum")

    def __init__(self) -> None:
        self.counts = [0] * (len(SECONDS_BUCKETS) + 1)
        self.sum = 0.0
        self.count = 0

    def observe(self, value: float) -> None:
        """Add one observation."""
        self.counts[bisect_left(SECONDS_BUCKETS, value)] += 1
        self.sum += value
        self.count += 1


class Metrics:
    """The calls this process has served: by family and status, by model and provider, with tokens and times."""

    def __init__(self) -> None:
        self.requests: defaultdict[Key, int] = defaultdict(int)  # (family, status)
        self.upstream_calls: defaultdict[Key, int] = defaultdict(int)  # (family, model, provider, status)
        self.tokens: defaultdict[Key, int] = defaultdict(int)  # (model, direction)
        self.retries: defaultdict[Key, int] = defaultdict(int)  # (model,)
        self.dropped_tools: defaultdict[Key, int] = defaultdict(int)  # (family, tool type)
        self.seconds: defaultdict[Key, Histogram] = defaultdict(Histogram)  # (family,)
        self.first_byte: defaultdict[Key, Histogram] = defaultdict(Histogram)  # (family,)
        self.upstream_seconds: defaultdict[Key, Histogram] = defaultdict(Histogram)  # (family,)
        self.overhead: defaultdict[Key, Histogram] = defaultdict(Histogram)  # (family,)
        self.in_flight: defaultdict[Key, int] = defaultdict(int)  # (key id,): calls being answered now
        self.active_streams = 0

    def request(self, family: str, status: int, seconds: float, upstream: float = 0.0, to_client: float = 0.0) -> None:
        """A finished client request (every route, refusals included); for one that reached an upstream,
        the time spent waiting on upstreams until one answered and the time to the client's first byte
        (or the end of a whole answer), whose difference is the gateway's own share."""
        key = (family,)
        self.requests[(family, str(status))] += 1
        self.seconds[key].observe(seconds)
        if upstream:
            self.upstream_seconds[key].observe(upstream)
            self.overhead[key].observe(max(to_client - upstream, 0.0))

    def upstream(
        self, family: str, model: str, provider: str, status: int, input_tokens: int, output_tokens: int, attempts: int
    ) -> None:
        """A call that reached a target: its outcome, its tokens and how many attempts it took."""
        self.upstream_calls[(family, model, provider, str(status))] += 1
        if input_tokens:
            self.tokens[(model, "input")] += input_tokens
        if output_tokens:
            self.tokens[(model, "output")] += output_tokens
        if attempts > 1:
            self.retries[(model,)] += attempts - 1

    def entered(self, key_id: str) -> None:
        """A call of this key began."""
        self.in_flight[(key_id,)] += 1

    def left(self, key_id: str) -> None:
        """A call of this key ended (a key with none in flight is dropped)."""
        key = (key_id,)
        if self.in_flight[key] > 1:
            self.in_flight[key] -= 1
        else:
            del self.in_flight[key]

    def stream_started(self, family: str, seconds: float) -> None:
        """A stream's headers went out `seconds` after its request came in."""
        self.first_byte[(family,)].observe(seconds)
        self.active_streams += 1

    def stream_ended(self) -> None:
        """A stream closed, however it ended."""
        self.active_streams -= 1


_COUNTERS = ("requests", "upstream_calls", "tokens", "retries", "dropped_tools", "in_flight")
_HISTOGRAMS = ("seconds", "first_byte", "upstream_seconds", "overhead")


def snapshot(metrics: Metrics) -> dict[str, Any]:
    """The counts as plain JSON-able lists, for another worker process to add up."""
    data: dict[str, Any] = {name: [[list(k), v] for k, v in getattr(metrics, name).items()] for name in _COUNTERS}
    for name in _HISTOGRAMS:
        data[name] = [[list(k), h.counts, h.sum, h.count] for k, h in getattr(metrics, name).items()]
    data["active_streams"] = metrics.active_streams
    return data


def add_up(snapshots: Iterable[dict[str, Any]]) -> Metrics:
    """One Metrics holding the sum of several processes' snapshots."""
    total = Metrics()
    for snap in snapshots:
        for name in _COUNTERS:
            counts = getattr(total, name)
            for key, value in snap.get(name, []):
                counts[tuple(key)] += value
        for name in _HISTOGRAMS:
            histograms = getattr(total, name)
            for key, counts, sum_, count in snap.get(name, []):
                h = histograms[tuple(key)]
                h.counts = [a + b for a, b in zip(h.counts, counts, strict=True)]
                h.sum += sum_
                h.count += count
        total.active_streams += snap.get("active_streams", 0)
    return total


def _labels(labels: Labels) -> str:
    if not labels:
        return ""
    escaped = (f'{k}="{v.replace(chr(92), chr(92) * 2).replace(chr(34), chr(92) + chr(34))}"' for k, v in labels)
    return "{" + ",".join(escaped) + "}"


def counter(name: str, help_text: str, values: Iterable[tuple[Labels, float]], kind: str = "counter") -> list[str]:
    """The text of one counter (or gauge) family."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} {kind}"]
    lines += [f"{name}{_labels(labels)} {value:g}" for labels, value in values]
    return lines


def histogram(name: str, help_text: str, values: Iterable[tuple[Labels, Histogram]]) -> list[str]:
    """The text of one histogram family."""
    lines = [f"# HELP {name} {help_text}", f"# TYPE {name} histogram"]
    for labels, h in values:
        running = 0
        for bound, count in zip((*SECONDS_BUCKETS, float("inf")), h.counts, strict=True):
            running += count
            le = "+Inf" if bound == float("inf") else f"{bound:g}"
            lines.append(f"{name}_bucket{_labels((*labels, ('le', le)))} {running}")
        lines.append(f"{name}_sum{_labels(labels)} {h.sum:g}")
        lines.append(f"{name}_count{_labels(labels)} {h.count}")
    return lines


def _named(names: tuple[str, ...], values: Iterable[tuple[Key, Any]]) -> list[tuple[Labels, Any]]:
    return [(tuple(zip(names, key, strict=True)), value) for key, value in values]


def render(metrics: Metrics, extra: list[str]) -> str:
    """The whole scrape: this process's counts, then what was read at scrape time."""
    family, upstream = ("family",), ("family", "model", "provider", "status")
    lines = [
        *counter(
            "anygate_requests_total",
            "Client requests by family and HTTP status.",
            _named(("family", "status"), metrics.requests.items()),
        ),
        *histogram(
            "anygate_request_seconds",
            "Time from request to the last byte of the answer.",
            _named(family, metrics.seconds.items()),
        ),
        *counter(
            "anygate_upstream_calls_total",
            "Calls that reached a target, by family, model, provider and status.",
            _named(upstream, metrics.upstream_calls.items()),
        ),
        *counter(
            "anygate_tokens_total", "Tokens by model and direction.", _named(("model", "direction"), metrics.tokens.items())
        ),
        *counter(
            "anygate_retries_total",
            "Attempts beyond the first (retries and fallbacks), by model.",
            _named(("model",), metrics.retries.items()),
        ),
        *counter(
            "anygate_dropped_tools_total",
            "Hosted tools left out of translated calls (the upstream cannot run them), by client family and tool type.",
            _named(("family", "tool"), metrics.dropped_tools.items()),
        ),
        *histogram(
            "anygate_stream_first_byte_seconds",
            "Time from request to a stream's headers.",
            _named(family, metrics.first_byte.items()),
        ),
        *histogram(
            "anygate_upstream_seconds",
            "Time waiting on upstreams until one answered (all attempts).",
            _named(family, metrics.upstream_seconds.items()),
        ),
        *histogram(
            "anygate_overhead_seconds",
            "The gateway's own time: to the answer's end (whole) or first byte (streams), less the upstream's.",
            _named(family, metrics.overhead.items()),
        ),
        *counter("anygate_active_streams", "Streams being written now.", [((), metrics.active_streams)], "gauge"),
        *counter(
            "anygate_in_flight", "Calls being answered now, by key.", _named(("key_id",), metrics.in_flight.items()), "gauge"
        ),
        *extra,
    ]
    return "\n".join(lines) + "\n"
