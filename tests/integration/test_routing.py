"""Retries, fallbacks and circuit breakers, before the first byte reaches the client."""

from __future__ import annotations

import asyncio
import json
import time

import requests
from sqlalchemy import select

from anygate.store.database import create_engine
from anygate.store.tables import UsageRecord
from tests.fakes.anthropic_upstream import TEXT, FakeAnthropic
from tests.fakes.openai_upstream import ECHO_TEXT, FakeOpenAI
from tests.gateway_process import GatewayProcess


def _chat(gateway: GatewayProcess, key: str, model: str, stream: bool = False) -> requests.Response:
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return requests.post(
        gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )


def _sent(fake: FakeOpenAI, model: str) -> int:
    return sum(1 for r in fake.requests if r["body"]["model"] == model)


def _attempts(gateway: GatewayProcess, request_id: str) -> list[tuple[str, int, int]]:
    async def read() -> list[tuple[str, int, int]]:
        database = gateway.config_path.read_text().split("database: ")[1].split("\n")[0].strip("'\"")
        engine = create_engine(database)
        try:
            async with engine.connect() as conn:
                rows = await conn.execute(
                    select(UsageRecord.provider, UsageRecord.status, UsageRecord.attempts).where(
                        UsageRecord.request_id == request_id
                    )
                )
                return [tuple(r) for r in rows]  # type: ignore[misc]
        finally:
            await engine.dispose()

    deadline = time.time() + 5
    while time.time() < deadline:
        rows = asyncio.run(read())
        if rows:
            return rows
        time.sleep(0.2)
    return []


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
    assert _attempts(gateway, resp.headers["x-request-id"]) == [("claude", 200, 2)]


def test_a_single_target_is_retried_and_retry_after_is_honoured(
    gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI
) -> None:
    before = _sent(fake_openai, "up-429")
    started = time.time()
    resp = _chat(gateway, api_key, "scenario-429")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert _sent(fake_openai, "up-429") == before + 3 and time.time() - started >= 2.0
    assert _attempts(gateway, resp.headers["x-request-id"]) == [("fake", 429, 3)]


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
