"""Usage records: one per call with every field, written off the request path, none lost on SIGTERM."""

from __future__ import annotations

import asyncio
import json
import signal
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select
from sqlalchemy import update as sa_update

from anygate.store.database import create_engine
from anygate.store.tables import UsageRecord
from tests.fakes.anthropic_upstream import USAGE as ANTHROPIC_USAGE
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.openai_upstream import USAGE, FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY, gateway_config


def _rows(database: str, key_id: str) -> list[dict[str, Any]]:
    async def read() -> list[dict[str, Any]]:
        engine = create_engine(database)
        try:
            async with engine.connect() as conn:
                result = await conn.execute(
                    select(UsageRecord.__table__).where(UsageRecord.key_id == key_id).order_by(UsageRecord.id)
                )
                return [dict(r._mapping) for r in result]
        finally:
            await engine.dispose()

    return asyncio.run(read())


def _age(database: str, record_id: int, days: float) -> None:
    async def update() -> None:
        engine = create_engine(database)
        try:
            async with engine.begin() as conn:
                await conn.execute(
                    sa_update(UsageRecord).where(UsageRecord.id == record_id).values(created_at=time.time() - days * 86400)
                )
        finally:
            await engine.dispose()

    asyncio.run(update())


def _call(url: str, key: str, model: str, stream: bool = False) -> int:
    body = {"model": model, "messages": [{"role": "user", "content": "count me"}], "stream": stream}
    resp = requests.post(url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=20)
    resp.content  # noqa: B018 - read the whole stream
    return resp.status_code


@pytest.fixture(params=["sqlite", "postgresql"])
def fresh_gateway(request: pytest.FixtureRequest, tmp_path: Path, fake_openai: FakeOpenAI) -> Any:
    database = f"sqlite:///{tmp_path}/anygate.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    process = GatewayProcess(tmp_path, gateway_config(database, fake_openai.url)).start()  # type: ignore[attr-defined]
    yield process, database
    process.stop()


def test_usage_records_after_a_burst_and_sigterm(fresh_gateway: tuple[GatewayProcess, str]) -> None:
    gateway, database = fresh_gateway
    key = gateway.create_key()
    calls = [("gpt-test", False), ("gpt-test", True), ("mock-fast", False), ("mock-fast", True), ("down-model", False)] * 12
    with ThreadPoolExecutor(16) as pool:
        statuses = list(pool.map(lambda c: _call(gateway.url, key["key"], *c), calls))
    assert statuses.count(502) == 12 and statuses.count(200) == 48
    assert gateway.stop(signal.SIGTERM) == 0  # at once: records still queued must be written on the way out
    rows = _rows(database, key["id"])
    assert len(rows) == len(calls), sorted((r["public_model"], r["status"]) for r in rows)
    assert len({r["request_id"] for r in rows}) == len(calls)
    upstream = [r for r in rows if r["public_model"] == "gpt-test"]
    assert all(r["provider"] == "fake" and r["upstream_model"] == "up-echo" and r["status"] == 200 for r in upstream)
    assert all(r["input_tokens"] == USAGE["prompt_tokens"] and r["output_tokens"] == USAGE["completion_tokens"] for r in upstream)
    assert all(r["cached_tokens"] == 4 and not r["estimated"] for r in upstream)
    assert all(r["cost_usd"] == pytest.approx((19 * 1.0 + 12 * 2.0) / 1e6) for r in upstream)
    assert all(r["latency_ms"] > 0 and r["family"] == "openai_chat" for r in rows)
    down = [r for r in rows if r["public_model"] == "down-model"]
    assert all(r["status"] == 502 and r["cost_usd"] == 0 for r in down)


def _anthropic_stream(url: str, key: str, model: str) -> int:
    body = {"model": model, "max_tokens": 20, "stream": True, "messages": [{"role": "user", "content": "count me"}]}
    resp = requests.post(url + "/anthropic/v1/messages", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=20)
    assert b"message_stop" in resp.content or resp.status_code != 200
    return resp.status_code


@pytest.mark.parametrize("database_kind", ["sqlite", "postgresql"])
def test_with_sync_durability_a_sigkill_loses_no_record_of_an_answer_the_client_saw(
    request: pytest.FixtureRequest, tmp_path: Path, fake_openai: FakeOpenAI, database_kind: str
) -> None:
    """`metering.durability: sync`: each record is written before the answer's last byte or the stream's
    end event, so a kill -9 right after the answers loses none (batch mode loses the last half second's)."""
    database = f"sqlite:///{tmp_path}/anygate.db" if database_kind == "sqlite" else request.getfixturevalue("postgres_url")
    config = gateway_config(database, fake_openai.url) | {"metering": {"durability": "sync"}}  # type: ignore[attr-defined]
    gateway = GatewayProcess(tmp_path, config).start()
    key = gateway.create_key()
    calls = [("gpt-test", False), ("gpt-test", True), ("mock-fast", False), ("mock-fast", True), ("down-model", False)] * 6
    with ThreadPoolExecutor(8) as pool:
        statuses = list(pool.map(lambda c: _call(gateway.url, key["key"], *c), calls))
        statuses += list(pool.map(lambda m: _anthropic_stream(gateway.url, key["key"], m), ["gpt-test", "mock-fast"] * 4))
    assert statuses.count(200) == 24 + 8 and statuses.count(502) == 6
    gateway.stop(signal.SIGKILL)
    rows = _rows(database, key["id"])
    assert len(rows) == len(statuses), "every answer the client saw has its record"
    assert sorted(r["status"] for r in rows) == sorted(statuses)


def test_usage_command_reports_spend_by_key_and_model(fresh_gateway: tuple[GatewayProcess, str]) -> None:
    gateway, _ = fresh_gateway
    key = gateway.create_key()
    for _ in range(3):
        assert _call(gateway.url, key["key"], "gpt-test") == 200
    assert _call(gateway.url, key["key"], "mock-fast", stream=True) == 200
    gateway.stop()
    totals = json.loads(gateway.cli("usage", "--key", key["id"], "--json").stdout)
    by_model = {t["model"]: t for t in totals}
    assert by_model["gpt-test"]["requests"] == 3
    assert by_model["gpt-test"]["input_tokens"] == 3 * USAGE["prompt_tokens"]
    assert by_model["gpt-test"]["cost_usd"] == pytest.approx(3 * (19 + 24) / 1e6)
    assert by_model["mock-fast"]["requests"] == 1 and by_model["mock-fast"]["output_tokens"] > 0
    assert json.loads(gateway.cli("usage", "--key", key["id"], "--since", "2999-01-01", "--json").stdout) == []
    assert "gpt-test" in gateway.cli("usage").stdout


def test_stream_without_upstream_usage_is_billed_as_an_estimate(fresh_gateway: tuple[GatewayProcess, str]) -> None:
    gateway, database = fresh_gateway
    key = gateway.create_key()
    assert _call(gateway.url, key["key"], "scenario-nousage", stream=True) == 200
    gateway.stop()
    (row,) = _rows(database, key["id"])
    assert row["estimated"] and row["input_tokens"] > 0 and row["output_tokens"] > 0


def test_cache_reads_and_writes_are_priced_and_reported_apart(
    database_url: str, tmp_path: Path, fake_openai: FakeOpenAI, fake_anthropic: FakeAnthropic
) -> None:
    config = gateway_config(database_url, fake_openai.url, fake_anthropic.url)
    prices = {"input_price": 3.0, "output_price": 15.0, "cache_read_price": 0.3, "cache_write_price": 3.75}
    config["models"]["cached-claude"] = [{"provider": "claude", "model": "claude-echo", **prices}]
    gateway = GatewayProcess(tmp_path, config).start()
    key = gateway.create_key()
    auth = {"Authorization": f"Bearer {key['key']}"}
    messages = [{"role": "user", "content": "a long, cached prompt"}]
    for stream in (False, True):  # same family, relayed; and translated to an OpenAI client
        native = {"model": "cached-claude", "max_tokens": 50, "messages": messages, "stream": stream}
        chat = {"model": "cached-claude", "messages": messages, "stream": stream}
        for path, body in (("/anthropic/v1/messages", native), ("/openai/v1/chat/completions", chat)):
            resp = requests.post(gateway.url + path, json=body, headers=auth, timeout=20)
            assert resp.status_code == 200, resp.text
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    deadline = time.time() + 5  # usage is written in batches
    while (
        len(
            shown := requests.get(f"{gateway.url}/admin/v1/requests?key_id={key['id']}", headers=admin, timeout=10).json()["data"]
        )
        < 4
    ):
        assert time.time() < deadline, shown
        time.sleep(0.2)
    gateway.stop()

    read, written = ANTHROPIC_USAGE["cache_read_input_tokens"], ANTHROPIC_USAGE["cache_creation_input_tokens"]
    uncached, output = ANTHROPIC_USAGE["input_tokens"], ANTHROPIC_USAGE["output_tokens"]
    rows = _rows(database_url, key["id"])
    assert len(rows) == 4
    for row in rows:
        assert (row["input_tokens"], row["cached_tokens"], row["cache_write_tokens"]) == (
            uncached + read + written,
            read,
            written,
        )
        assert row["cost_usd"] == pytest.approx((uncached * 3.0 + read * 0.3 + written * 3.75 + output * 15.0) / 1e6)
    (total,) = json.loads(gateway.cli("usage", "--key", key["id"], "--json").stdout)
    assert (total["cached_tokens"], total["cache_write_tokens"]) == (4 * read, 4 * written)
    assert total["cost_usd"] == pytest.approx(sum(r["cost_usd"] for r in rows))
    assert "40 / 20" in gateway.cli("usage", "--key", key["id"]).stdout
    assert all((r["cached_tokens"], r["cache_write_tokens"]) == (read, written) for r in shown)


def test_usage_past_its_retention_is_purged_when_the_gateway_starts(
    database_url: str, tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    gateway = GatewayProcess(tmp_path, gateway_config(database_url, fake_openai.url) | {"retention": {"usage_days": 1}})
    gateway.start()
    key = gateway.create_key()
    assert _call(gateway.url, key["key"], "gpt-test") == 200 and _call(gateway.url, key["key"], "gpt-test") == 200
    gateway.stop()
    expired, kept = (r["id"] for r in _rows(database_url, key["id"]))
    _age(database_url, expired, days=2)
    gateway.start()
    deadline = time.time() + 15
    while len(_rows(database_url, key["id"])) > 1 and time.time() < deadline:
        time.sleep(0.2)
    assert [r["id"] for r in _rows(database_url, key["id"])] == [kept]
    gateway.stop()
