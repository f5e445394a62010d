"""The gateway under load while its PostgreSQL or its Redis goes away and comes back (servers of the
test's own, stopped the hard way): calls go on being answered, no usage record is lost, a task
resumes, and limits hold again once Redis is back."""

from __future__ import annotations

import threading
import time
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import requests

from tests.fakes.dashscope_upstream import UPSTREAM_KEY as DASHSCOPE_KEY
from tests.fakes.dashscope_upstream import FakeDashScope
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY, gateway_config
from tests.integration.usage import eventually
from tests.private_services import PrivatePostgres, PrivateRedis

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
CHAT = {"messages": [{"role": "user", "content": "still there?"}]}


def _load(gateway: GatewayProcess, key: str, seconds: float, outage: Callable[[], None]) -> list[int]:
    """Chat calls from 8 clients for `seconds` (mock and a fake upstream in turn), with `outage` run meanwhile."""
    statuses: list[int] = []
    stop = time.time() + seconds

    def client(n: int) -> None:
        with requests.Session() as session:
            while time.time() < stop:
                model = "mock-fast" if n % 2 else "gpt-test"
                resp = session.post(
                    gateway.url + "/openai/v1/chat/completions",
                    json={"model": model, **CHAT},
                    headers={"Authorization": f"Bearer {key}"},
                    timeout=20,
                )
                statuses.append(resp.status_code)

    trouble = threading.Thread(target=outage)
    with ThreadPoolExecutor(8) as pool:
        trouble.start()
        list(pool.map(client, range(8)))
    trouble.join()
    return statuses


def _requests_recorded(gateway: GatewayProcess, key_id: str) -> int:
    data = requests.get(gateway.url + "/admin/v1/usage", params={"key_id": key_id}, headers=ADMIN, timeout=10).json()["data"]
    return int(sum(t["requests"] for t in data))


def test_postgresql_going_away_under_load_loses_no_answer_no_record_and_no_task(
    tmp_path: Path, fake_openai: FakeOpenAI, fake_dashscope: FakeDashScope
) -> None:
    database = PrivatePostgres()
    database.start()
    config: dict[str, Any] = gateway_config(database.url.replace("postgresql://", "postgresql+asyncpg://"), fake_openai.url)  # type: ignore[attr-defined]
    config["providers"]["dashscope"] = {"type": "dashscope", "base_url": f"{fake_dashscope.url}/api/v1", "api_key": DASHSCOPE_KEY}  # type: ignore[attr-defined]
    config["models"]["wan-ok"] = [{"provider": "dashscope", "model": "wan-ok", "task_price": 0.5}]
    config["tasks"] = {"poll_interval_seconds": 1.0}
    gateway = GatewayProcess(tmp_path, config).start()
    try:
        key = gateway.create_key()
        headers = {"Authorization": f"Bearer {key['key']}"}
        task = {"model": "wan-ok", "input": {"prompt": "a cat"}, "parameters": {"size": "1280*720"}}
        created = requests.post(
            gateway.url + "/dashscope/v1/services/aigc/video-generation/video-synthesis", json=task, headers=headers, timeout=10
        )
        task_id = created.json()["output"]["task_id"]

        def outage() -> None:
            time.sleep(0.5)
            database.stop()  # the task's first poll falls in the outage
            time.sleep(1.5)
            database.start()

        statuses = _load(gateway, key["key"], 3.0, outage)
        assert statuses and set(statuses) == {200}, f"every call answered while the database was away: {sorted(set(statuses))}"
        assert eventually(lambda: _requests_recorded(gateway, key["id"]) == len(statuses), 15), (
            "the records queued meanwhile were written after"
        )

        def finished() -> bool:
            resp = requests.get(f"{gateway.url}/dashscope/v1/tasks/{task_id}", headers=headers, timeout=10)
            return bool(resp.json()["output"]["task_status"] == "SUCCEEDED")

        assert eventually(finished, 15), "the task was polled to its end once the database was back"
    finally:
        gateway.stop()
        database.remove()


def test_redis_going_away_under_load_leaves_calls_answered_and_limits_come_back(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    redis = PrivateRedis()
    redis.start()
    config = gateway_config(f"sqlite:///{tmp_path}/anygate.db", fake_openai.url) | {"redis": redis.url}  # type: ignore[attr-defined]
    gateway = GatewayProcess(tmp_path, config).start()
    try:
        key = gateway.create_key("--rpm", "20000")  # counted in Redis (a lease of 200 calls at a time)

        def outage() -> None:
            time.sleep(1.0)
            redis.stop()
            time.sleep(2.0)
            redis.start()  # empty: what it counted is gone

        statuses = _load(gateway, key["key"], 4.5, outage)
        assert statuses and set(statuses) == {200}, f"limits.on_redis_error: allow lets calls through: {sorted(set(statuses))}"
        limited = gateway.create_key("--rpm", "3")

        def limits_hold() -> list[int]:
            codes = [
                requests.post(
                    gateway.url + "/openai/v1/chat/completions",
                    json={"model": "mock-fast", **CHAT},
                    headers={"Authorization": f"Bearer {limited['key']}"},
                    timeout=10,
                ).status_code
                for _ in range(4)
            ]
            return codes

        assert limits_hold() == [200, 200, 200, 429], "with Redis back, a limit holds again"
    finally:
        gateway.stop()
        redis.stop()
