"""The admin API's request filters: the same answer for a refusal kept in memory as for a usage record
in the database, and a clear 400 for a filter that means nothing."""

from __future__ import annotations

from datetime import UTC, datetime
from typing import Any

import pytest
from multidict import MultiDict
from sqlalchemy import create_engine, insert, select
from sqlalchemy.pool import StaticPool

from anygate.admin.providers import _health
from anygate.admin.requests import RequestFilter, request_filter
from anygate.core.errors import GatewayError
from anygate.store.tables import Base, UsageRecord

NOON = datetime(2026, 11, 30, 12, tzinfo=UTC).timestamp()
CALLS: list[dict[str, Any]] = [
    {
        "request_id": "a",
        "key_id": "k1",
        "public_model": "m1",
        "provider": "p1",
        "family": "openai",
        "status": 200,
        "created_at": NOON - 60,
    },
    {
        "request_id": "b",
        "key_id": "k1",
        "public_model": "m2",
        "provider": "p2",
        "family": "anthropic",
        "status": 429,
        "created_at": NOON,
    },
    {
        "request_id": "c",
        "key_id": "k2",
        "public_model": "m1",
        "provider": "p1",
        "family": "openai",
        "status": 502,
        "created_at": NOON + 60,
    },
    {
        "request_id": "d",
        "key_id": None,
        "public_model": "",
        "provider": "",
        "family": "gemini",
        "status": 401,
        "created_at": NOON + 120,
    },
    {
        "request_id": "e",
        "key_id": "k2",
        "public_model": "m2",
        "provider": "p2",
        "family": "openai",
        "status": 500,
        "created_at": NOON + 180,
    },
]


def _matched(wanted: RequestFilter) -> list[str]:
    return [c["request_id"] for c in CALLS if wanted.matches(c)]


def _queried(wanted: RequestFilter) -> list[str]:
    """The same filter as SQL on real SQLite."""
    engine = create_engine("sqlite://", poolclass=StaticPool)
    Base.metadata.create_all(engine)
    defaults = {"upstream_model": "", "key_id": ""}
    with engine.begin() as conn:
        conn.execute(
            insert(UsageRecord), [{**defaults, **{k: v for k, v in c.items() if v is not None}} for c in CALLS if c["key_id"]]
        )
        return [row[0] for row in conn.execute(wanted.narrow(select(UsageRecord.request_id)).order_by(UsageRecord.created_at))]


@pytest.mark.parametrize(
    ("query", "expected"),
    [
        ({}, ["a", "b", "c", "d", "e"]),
        ({"key_id": "k1"}, ["a", "b"]),
        ({"model": "m1"}, ["a", "c"]),
        ({"model": "m2", "key_id": "k2"}, ["e"]),
        ({"provider": "p2"}, ["b", "e"]),
        ({"family": "openai"}, ["a", "c", "e"]),
        ({"status": "429"}, ["b"]),
        ({"status": "4xx"}, ["b", "d"]),
        ({"status": "5xx"}, ["c", "e"]),
        ({"status": "500"}, ["e"]),
        ({"status": "2xx"}, ["a"]),
        ({"status": "error"}, ["b", "c", "d", "e"]),
        ({"status": "ok"}, ["a"]),
        ({"since": "2026-11-30T12:00:00Z"}, ["b", "c", "d", "e"]),
        ({"until": "2026-11-30T12:00:00Z"}, ["a"]),
        ({"since": "2026-11-30T11:59:00", "until": "2026-11-30T12:01:00+00:00"}, ["a", "b"]),  # no zone: UTC
        ({"key_id": "", "status": "", "since": ""}, ["a", "b", "c", "d", "e"]),  # an empty field filters nothing
        ({"key_id": "k1", "status": "error", "model": "m2"}, ["b"]),
    ],
)
def test_a_filter_picks_the_same_calls_in_memory_and_in_sql(query: dict[str, str], expected: list[str]) -> None:
    wanted = request_filter(MultiDict(query))
    assert _matched(wanted) == expected
    assert _queried(wanted) == [r for r in expected if r != "d"], "d is a refusal: it has no usage record"


@pytest.mark.parametrize(
    ("status", "span"),
    [
        ("100", (100, 101)),
        ("429", (429, 430)),
        ("999", (999, 1000)),
        ("4xx", (400, 500)),
        ("error", (400, 1000)),
        ("ok", (0, 400)),
    ],
)
def test_a_status_filter_is_a_span_of_statuses(status: str, span: tuple[int, int]) -> None:
    assert request_filter(MultiDict({"status": status})).status == span


def test_a_request_id_picks_one_call() -> None:
    assert _matched(RequestFilter(request_id="c")) == ["c"] and _queried(RequestFilter(request_id="c")) == ["c"]


@pytest.mark.parametrize(
    ("name", "value"),
    [("status", "teapot"), ("status", "99"), ("status", "1000"), ("status", "4XX"), ("since", "noon"), ("until", "0000-01-01")],
)
def test_a_filter_that_means_nothing_is_a_400_naming_it(name: str, value: str) -> None:
    with pytest.raises(GatewayError) as refused:
        request_filter(MultiDict({name: value}))
    assert refused.value.status == 400 and refused.value.param == name
    assert refused.value.message.startswith(f"'{name}' must be ")


@pytest.mark.parametrize(
    ("available", "breakers", "requests", "failures", "health"),
    [
        (False, ["closed"], 0, 0, "unavailable"),
        (True, ["open", "open"], 5, 5, "down"),
        (True, ["open", "closed"], 0, 0, "degraded"),
        (True, ["half_open"], 0, 0, "degraded"),
        (True, ["closed"], 10, 3, "degraded"),
        (True, ["closed"], 10, 2, "ok"),
        (True, ["closed"], 0, 0, "ok"),
        (True, [], 1, 1, "degraded"),
        (True, [], 0, 0, "ok"),
    ],
)
def test_a_providers_health(available: bool, breakers: list[str], requests: int, failures: int, health: str) -> None:
    assert _health(available, breakers, {"requests": requests, "failures": failures}) == health
