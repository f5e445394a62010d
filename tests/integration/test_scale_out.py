"""Scale-out, proven: two gateway processes (one of them with two workers) on the same PostgreSQL and
Redis share keys, revocations, rate limits, tasks and usage."""

from __future__ import annotations

import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests

from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.dashscope_upstream import FakeDashScope
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY, gateway_config
from tests.integration.test_tasks_dashscope import VIDEO, task_config
from tests.integration.usage import eventually

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _chat(gateway: GatewayProcess, key: str) -> int:
    body = {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]}
    return requests.post(
        gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).status_code


def _create(gateway: GatewayProcess, **fields: object) -> dict[str, str]:
    resp = requests.post(gateway.url + "/admin/v1/keys", json={"name": "scale", **fields}, headers=ADMIN, timeout=10)
    assert resp.status_code == 201, resp.text
    return dict(resp.json())


def test_two_instances_act_as_one(
    tmp_path: Path,
    postgres_url: str,
    redis_url: str,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
    fake_gemini: FakeGemini,
    fake_dashscope: FakeDashScope,
) -> None:
    chat = gateway_config(postgres_url, fake_openai.url, fake_anthropic.url, fake_gemini.url)  # type: ignore[attr-defined]
    tasks = task_config(postgres_url, fake_dashscope.url)  # type: ignore[attr-defined]
    config = {
        **chat,
        "redis": redis_url,
        "providers": {**chat["providers"], **tasks["providers"]},
        "models": {**chat["models"], **tasks["models"]},
        "tasks": tasks["tasks"],
    }
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = GatewayProcess(tmp_path / "a", config).start()
    second = GatewayProcess(tmp_path / "b", config).start("--workers", "2")
    try:
        # a key made through one instance works on the other at once
        key = _create(first)
        assert _chat(second, key["key"]) == 200

        # one limit for both: five requests a minute, whichever instance serves them
        limited = _create(second, rpm=5)
        with ThreadPoolExecutor(8) as pool:
            statuses = list(pool.map(lambda g: _chat(g, limited["key"]), [first, second] * 6))
        assert sorted(statuses) == [200] * 5 + [429] * 7

        # usage from both adds up exactly
        counted = _create(first)
        for gateway in (first, second) * 10:
            assert _chat(gateway, counted["key"]) == 200

        def requests_recorded() -> int:
            data = requests.get(
                first.url + "/admin/v1/usage", params={"key_id": counted["id"]}, headers=ADMIN, timeout=10
            ).json()["data"]
            return int(sum(t["requests"] for t in data))

        assert eventually(lambda: requests_recorded() == 20)

        # tasks submitted to either are polled once each, to the end
        known = set(fake_dashscope.tasks)
        ids = []
        for gateway in (first, second) * 3:
            body = {"model": "wan-ok", "input": {"prompt": "a cat"}}
            resp = requests.post(gateway.url + VIDEO, json=body, headers={"Authorization": f"Bearer {key['key']}"}, timeout=10)
            ids.append(resp.json()["output"]["task_id"])

        def finished() -> bool:
            for task_id in ids:
                url = f"{second.url}/dashscope/v1/tasks/{task_id}"
                if (
                    requests.get(url, headers={"Authorization": f"Bearer {key['key']}"}, timeout=10).json()["output"][
                        "task_status"
                    ]
                    != "SUCCEEDED"
                ):
                    return False
            return True

        assert eventually(finished)
        time.sleep(0.6)
        polled = [fake_dashscope.queries[i] for i in fake_dashscope.tasks if i not in known]
        assert polled == [2] * 6, "no task polled twice at once, none polled after it finished"

        # a key revoked on one instance is refused by the other within seconds
        assert requests.delete(f"{second.url}/admin/v1/keys/{key['id']}", headers=ADMIN, timeout=10).status_code == 200
        assert eventually(lambda: _chat(first, key["key"]) == 401 and _chat(second, key["key"]) == 401)
    finally:
        first.stop()
        second.stop()
