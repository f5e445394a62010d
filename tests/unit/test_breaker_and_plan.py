"""Circuit breakers open, cool down, probe and recover; plans go tier by tier and by weight; targets
price cache reads and writes apart."""

from __future__ import annotations

import random
from collections import Counter
from pathlib import Path

import pytest

from anygate.auth.keys import KeyRecord
from anygate.config import settings_from_data
from anygate.core.usage import Usage
from anygate.protocols.openai.codec import OPENAI_CHAT
from anygate.routing.breaker import Breaker, BreakerState, share_breakers
from anygate.routing.table import ModelTable

KEY = KeyRecord("k", "n", "p", None, None, None, None, None, 0.0, None)


def _state(breaker: Breaker) -> BreakerState:
    """The state as of now (read through a call, so the type checker does not pin it from an earlier look)."""
    return breaker.state


def test_breaker_opens_after_consecutive_failures_then_probes_and_recovers() -> None:
    breaker = Breaker(failures_to_open=3, cool_down=10)
    for _ in range(2):
        breaker.failure(now=0)
    assert breaker.allows(now=0) and _state(breaker) is BreakerState.CLOSED
    breaker.failure(now=1)
    assert _state(breaker) is BreakerState.OPEN and not breaker.allows(now=5)
    assert breaker.allows(now=11) and _state(breaker) is BreakerState.HALF_OPEN  # one probe
    breaker.failure(now=11)
    assert _state(breaker) is BreakerState.OPEN and not breaker.allows(now=15)
    assert breaker.allows(now=22)
    breaker.success()
    assert _state(breaker) is BreakerState.CLOSED and breaker.failures == 0


def test_a_probe_that_never_reports_back_lets_another_through_after_a_cool_down() -> None:
    breaker = Breaker(failures_to_open=1, cool_down=10)
    breaker.failure(now=0)
    assert breaker.allows(now=10) and not breaker.allows(now=15)  # one probe out; its client left
    assert breaker.allows(now=20) and _state(breaker) is BreakerState.HALF_OPEN


def test_workers_sharing_breakers_count_failures_together_and_probe_once(tmp_path: Path) -> None:
    """Two workers (two mappings of one file, each with its own lock descriptor): five failures in
    all open the breaker for both, and only one of them probes after the cool-down."""
    first = {"m": Breaker(failures_to_open=5, cool_down=10), "other": Breaker()}
    second = {"m": Breaker(failures_to_open=5, cool_down=10), "other": Breaker()}
    share_breakers(first, str(tmp_path))
    share_breakers(second, str(tmp_path))
    for i in range(4):
        (first if i % 2 else second)["m"].failure(now=0)
    assert first["m"].state is BreakerState.CLOSED and second["m"].failures == 4
    second["m"].failure(now=1)
    assert _state(first["m"]) is BreakerState.OPEN and not first["m"].allows(now=5)
    assert first["other"].allows(now=5) and first["other"].failures == 0, "each target has its own slot"
    assert second["m"].allows(now=11) and not first["m"].allows(now=11), "one probe, whichever worker sends it"
    first["m"].success()
    assert second["m"].state is BreakerState.CLOSED and second["m"].allows(now=12)
    for _ in range(5):
        second["other"].failure(now=20)
    assert not first["other"].allows(now=21) and first["m"].allows(now=21), "the second slot opens alone"
    assert (tmp_path / "breakers").stat().st_mode & 0o777 == 0o600
    first["other"].success()
    assert second["other"].state is BreakerState.CLOSED and second["other"].failures == 0


def test_a_success_forgets_the_failures_before_it() -> None:
    breaker = Breaker(failures_to_open=5, cool_down=10)
    for _ in range(4):
        breaker.failure(now=0)
    breaker.success()
    breaker.failure(now=1)
    assert _state(breaker) is BreakerState.CLOSED and breaker.failures == 1


class _Provider:
    wire = OPENAI_CHAT

    def __init__(self, name: str) -> None:
        self.name = name


def _table(seed: int = 1) -> ModelTable:
    settings = settings_from_data(
        {
            "providers": {"a": {"type": "mock"}, "b": {"type": "mock"}, "c": {"type": "mock"}},
            "models": {
                "m": [
                    {"provider": "a", "model": "a1", "weight": 3},
                    {"provider": "b", "model": "b1", "weight": 1},
                    {"provider": "c", "model": "c1", "priority": 1},
                ]
            },
        },
        "test",
    )
    providers = {name: _Provider(name) for name in "abc"}
    return ModelTable(settings, providers, random.Random(seed))  # type: ignore[arg-type]


def test_plan_is_tier_by_tier_and_weighted_within_a_tier() -> None:
    table = _table()
    firsts = Counter(table.plan("m", KEY)[0].model for _ in range(2000))
    assert set(firsts) == {"a1", "b1"} and 2.5 < firsts["a1"] / firsts["b1"] < 3.6
    assert all(table.plan("m", KEY)[-1].model == "c1" for _ in range(50))


def test_open_breakers_go_last() -> None:
    table = _table()
    for target in table.targets():
        if target.model == "a1":
            for _ in range(5):
                target.breaker.failure()
    assert [t.model for t in table.plan("m", KEY)] == ["b1", "c1", "a1"]


def test_a_target_prices_cache_reads_and_writes_at_their_own_price_or_else_as_input() -> None:
    settings = settings_from_data(
        {
            "providers": {"a": {"type": "mock"}},
            "models": {"m": [{"provider": "a", "model": "a1", "input_price": 2, "output_price": 8, "cache_read_price": 0.5}]},
        },
        "test",
    )
    (target,) = ModelTable(settings, {"a": _Provider("a")}).targets()  # type: ignore[dict-item]
    usage = Usage(input_tokens=1000, output_tokens=100, cached_tokens=600, cache_write_tokens=300)
    # 100 uncached and 300 written at the input price (no write price set), 600 read at 0.5, output at 8
    assert target.cost(usage) * 1_000_000 == pytest.approx(400 * 2 + 600 * 0.5 + 100 * 8)
    assert target.cost(Usage(input_tokens=1000)) * 1_000_000 == pytest.approx(2000)
