"""Retries, fallbacks and circuit breakers, before the first byte reaches the client."""

from __future__ import annotations

import asyncio
import json
import time
from typing import Any

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


def _usage_rows(gateway: GatewayProcess, where: Any) -> list[tuple[str, int, int]]:
    """(provider, status, attempts) of the usage records matching `where`, once the queue is written."""

    async def read() -> list[tuple[str, int, int]]:
        engine = create_engine(gateway.config["database"])
        try:
            async with engine.connect() as conn:
                query = select(UsageRecord.provider, UsageRecord.status, UsageRecord.attempts).where(where)
                return [(r[0], r[1], r[2]) for r in await conn.execute(query.order_by(UsageRecord.id))]
        finally:
            await engine.dispose()

    deadline = time.time() + 5
    while time.time() < deadline:
        time.sleep(0.6)  # the usage queue is written every half second
        rows = asyncio.run(read())
        if rows:
            return rows
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
    assert _usage_rows(gateway, UsageRecord.request_id == resp.headers["x-request-id"]) == [("claude", 200, 2)]


def test_a_single_target_is_retried_and_retry_after_is_honoured(
    gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI
) -> None:
    before = _sent(fake_openai, "up-429")
    started = time.time()
    resp = _chat(gateway, api_key, "scenario-429")
    assert resp.status_code == 429 and resp.headers["Retry-After"] == "1"
    assert _sent(fake_openai, "up-429") == before + 3 and time.time() - started >= 2.0
    assert _usage_rows(gateway, UsageRecord.request_id == resp.headers["x-request-id"]) == [("fake", 429, 3)]


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


def test_a_client_that_leaves_mid_stream_cancels_the_upstream_call(
    gateway: GatewayProcess, api_key: str, fake_openai: FakeOpenAI
) -> None:
    before = fake_openai.disconnects
    body = {"model": "scenario-drip", "messages": [{"role": "user", "content": "hi"}], "stream": True}
    with requests.post(
        gateway.url + "/openai/v1/chat/completions",
        json=body,
        headers={"Authorization": f"Bearer {api_key}"},
        stream=True,
        timeout=10,
    ) as resp:
        next(resp.iter_content(chunk_size=None))  # the first chunk, then hang up
    deadline = time.time() + 5
    while fake_openai.disconnects == before and time.time() < deadline:
        time.sleep(0.1)
    assert fake_openai.disconnects == before + 1, "the upstream saw the gateway go away"
    rows = _usage_rows(gateway, UsageRecord.public_model == "scenario-drip")
    assert rows and rows[-1] == ("fake", 499, 1)
