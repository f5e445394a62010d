"""DashScope tasks through the real gateway against the fake DashScope: the gateway's own task ids,
polling to the end, signed webhooks with retries, billing settled once or released, deadlines, a
restart after SIGKILL, and two instances on PostgreSQL sharing the polling."""

from __future__ import annotations

import hashlib
import hmac
import signal
import time
from collections.abc import Iterator
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.dashscope_upstream import IMAGE_PATH, UPSTREAM_KEY, VIDEO_URL, FakeDashScope
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.gateway_process import GatewayProcess
from tests.integration.usage import eventually

VIDEO = "/dashscope/v1/services/aigc/video-generation/video-synthesis"
ADMIN_KEY = "admin-secret-for-task-tests"


def task_config(database: str, dashscope_url: str, poll: float = 0.2, deadline: float = 4.0) -> dict[str, Any]:
    """A gateway with the fake DashScope: one public model per lifecycle, fast polls, loopback webhooks."""
    models: dict[str, Any] = {
        name: [{"provider": "dashscope", "model": name, "task_price": 0.5}]
        for name in ("wan-ok", "wan-fail", "wan-flaky", "wan-slow", "wan-bad")
    }
    models["qwen-image"] = [
        {"provider": "dashscope", "model": "qwen-image-plus", "task_price": 0.04, "tasks": ["image-generation"]}
    ]
    return {
        "database": database,
        "admin_key": ADMIN_KEY,
        "providers": {"dashscope": {"type": "dashscope", "base_url": f"{dashscope_url}/api/v1", "api_key": UPSTREAM_KEY}},
        "models": models,
        "tasks": {
            "poll_interval_seconds": poll,
            "deadline_seconds": deadline,
            "webhook_allow_private": True,  # the receiver is on loopback
            "webhook_backoff_seconds": 0.2,
            "webhook_retry_seconds": 20,
        },
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gateway(
    request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory, fake_dashscope: FakeDashScope
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("tasks")
    database = f"sqlite:///{workdir}/anygate.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    process = GatewayProcess(workdir, task_config(database, fake_dashscope.url)).start()  # type: ignore[attr-defined]
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> dict[str, Any]:
    return gateway.create_key()


def _submit(gateway: GatewayProcess, key: str, model: str, callback: str | None = None) -> requests.Response:
    body: dict[str, Any] = {
        "model": model,
        "input": {"prompt": "a cat on a wall"},
        "parameters": {"size": "1280*720", "duration": 5},
    }
    if callback:
        body["callback_url"] = callback
    return requests.post(gateway.url + VIDEO, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _query(gateway: GatewayProcess, key: str, task_id: str) -> requests.Response:
    return requests.get(f"{gateway.url}/dashscope/v1/tasks/{task_id}", headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _until_finished(gateway: GatewayProcess, key: str, task_id: str, timeout: float = 15) -> dict[str, Any]:
    deadline = time.time() + timeout
    while time.time() < deadline:
        body: dict[str, Any] = _query(gateway, key, task_id).json()
        if body["output"]["task_status"] in ("SUCCEEDED", "FAILED", "CANCELED", "UNKNOWN"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"task {task_id} did not finish")


def _verify(delivery: Any, secret: str) -> None:
    """The documented recipe: HMAC-SHA256 of `<timestamp>.<raw body>` under the key's webhook secret."""
    timestamp = delivery.headers["X-Anygate-Timestamp"]
    expected = hmac.new(secret.encode(), timestamp.encode() + b"." + delivery.raw, hashlib.sha256).hexdigest()
    assert hmac.compare_digest(delivery.headers["X-Anygate-Signature"], f"sha256={expected}")
    assert abs(time.time() - int(timestamp)) < 60


def _spend(gateway: GatewayProcess, key_id: str) -> dict[str, Any]:
    """Usage by model of the key, from the admin API (the CLI's `usage` has its own tests, and costs a second a run)."""
    data = requests.get(
        gateway.url + "/admin/v1/usage", params={"key_id": key_id}, headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
    ).json()["data"]
    return {t["model"]: t for t in data}


def test_a_task_runs_to_the_end_with_signed_webhooks_and_one_charge(
    gateway: GatewayProcess, fake_dashscope: FakeDashScope, webhook_receiver: WebhookReceiver
) -> None:
    key = gateway.create_key()
    hook = f"ok-{gateway.port}-{time.time_ns()}"
    created = _submit(gateway, key["key"], "wan-ok", f"{webhook_receiver.url}/hook/{hook}")  # type: ignore[attr-defined]
    assert created.status_code == 200, created.text
    task_id = created.json()["output"]["task_id"]
    assert created.json()["output"]["task_status"] == "PENDING" and task_id not in fake_dashscope.tasks
    sent = fake_dashscope.requests[-1]
    assert (
        sent["headers"]["X-DashScope-Async"] == "enable"
        and sent["body"]["model"] == "wan-ok"
        and "callback_url" not in sent["body"]
    )
    finished = _until_finished(gateway, key["key"], task_id)
    assert finished["output"]["task_id"] == task_id and finished["output"]["video_url"] == VIDEO_URL
    assert finished["usage"]["video_count"] == 1
    assert eventually(lambda: len(webhook_receiver.at(hook)) == 2)
    deliveries = webhook_receiver.at(hook)
    assert [d.body["output"]["task_status"] for d in deliveries] == ["RUNNING", "SUCCEEDED"]
    assert len({d.headers["X-Anygate-Event-Id"] for d in deliveries}) == 2
    for delivery in deliveries:
        _verify(delivery, key["webhook_secret"])
        assert delivery.body["output"]["task_id"] == task_id
    upstream_id = list(fake_dashscope.tasks)[-1]  # this test's task: the fake's newest
    polls = fake_dashscope.queries[upstream_id]
    time.sleep(0.6)
    assert fake_dashscope.queries[upstream_id] == polls, "a finished task is not polled again"
    assert eventually(lambda: "wan-ok" in _spend(gateway, key["id"]))
    assert _spend(gateway, key["id"])["wan-ok"]["cost_usd"] == pytest.approx(0.5)


def test_a_failed_task_is_not_charged(gateway: GatewayProcess, webhook_receiver: WebhookReceiver) -> None:
    key = gateway.create_key()
    hook = f"fail-{gateway.port}"
    task_id = _submit(gateway, key["key"], "wan-fail", f"{webhook_receiver.url}/hook/{hook}").json()["output"]["task_id"]  # type: ignore[attr-defined]
    finished = _until_finished(gateway, key["key"], task_id)
    assert finished["output"]["task_status"] == "FAILED" and finished["output"]["code"] == "DataInspectionFailed"
    assert eventually(lambda: [d.body["output"]["task_status"] for d in webhook_receiver.at(hook)] == ["RUNNING", "FAILED"])
    time.sleep(0.6)
    assert _spend(gateway, key["id"]) == {}, "nothing charged, nothing recorded as spent"


def test_a_poll_that_fails_is_retried(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    task_id = _submit(gateway, key["key"], "wan-flaky").json()["output"]["task_id"]
    assert _until_finished(gateway, key["key"], task_id)["output"]["task_status"] == "SUCCEEDED"


def test_a_task_past_its_deadline_fails(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    task_id = _submit(gateway, key["key"], "wan-slow").json()["output"]["task_id"]
    finished = _until_finished(gateway, key["key"], task_id, timeout=20)
    assert finished["output"]["task_status"] == "FAILED" and "deadline" in finished["output"]["message"]


def test_a_webhook_is_retried_after_a_receiver_error(
    gateway: GatewayProcess, key: dict[str, Any], webhook_receiver: WebhookReceiver
) -> None:
    hook = f"flaky-{gateway.port}"
    task_id = _submit(gateway, key["key"], "wan-ok", f"{webhook_receiver.url}/hook/{hook}").json()["output"]["task_id"]  # type: ignore[attr-defined]
    _until_finished(gateway, key["key"], task_id)
    assert eventually(lambda: len(webhook_receiver.at(hook)) == 3)
    first, again, last = webhook_receiver.at(hook)
    assert first.headers["X-Anygate-Event-Id"] == again.headers["X-Anygate-Event-Id"], "a retry is the same event"
    assert first.raw == again.raw and last.body["output"]["task_status"] == "SUCCEEDED"
    admin = {"Authorization": f"Bearer {ADMIN_KEY}"}
    shown = requests.get(f"{gateway.url}/admin/v1/tasks/{task_id}", headers=admin, timeout=10).json()
    assert shown["state"] == "succeeded" and shown["billing"] == "settled" and shown["request"]["model"] == "wan-ok"
    log = shown["webhooks"]
    assert [(w["event"], w["state"], w["attempts"]) for w in log] == [("running", "delivered", 2), ("succeeded", "delivered", 1)]
    assert log[0]["last_status"] == 200 and log[0]["id"] == first.headers["X-Anygate-Event-Id"]
    retried = requests.post(f"{gateway.url}/admin/v1/tasks/{task_id}/webhooks/{log[1]['id']}/retry", headers=admin, timeout=10)
    assert retried.status_code == 200
    assert eventually(lambda: len(webhook_receiver.at(hook)) == 4)
    assert webhook_receiver.at(hook)[-1].headers["X-Anygate-Event-Id"] == log[1]["id"]
    listed = requests.get(f"{gateway.url}/admin/v1/tasks", params={"key_id": key["id"]}, headers=admin, timeout=10).json()
    assert task_id in [t["id"] for t in listed["data"]]
    [provider] = requests.get(f"{gateway.url}/admin/v1/providers", headers=admin, timeout=10).json()["data"]
    assert (provider["name"], provider["available"], provider["health"]) == ("dashscope", True, "ok"), (
        "a provider of tasks only is available"
    )


def test_another_key_cannot_see_a_task(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    task_id = _submit(gateway, key["key"], "wan-ok").json()["output"]["task_id"]
    other = gateway.create_key()["key"]
    unknown = _query(gateway, other, task_id)  # as DashScope answers for an id it does not know
    assert unknown.status_code == 200 and unknown.json()["output"] == {"task_id": task_id, "task_status": "UNKNOWN"}
    assert unknown.json()["request_id"] == unknown.headers["x-request-id"]
    assert _query(gateway, key["key"], "no-such-task").json()["output"]["task_status"] == "UNKNOWN"


def test_bad_requests_in_dashscope_shape(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    rejected = _submit(gateway, key["key"], "wan-bad")
    assert rejected.status_code == 400 and rejected.json()["code"] == "InvalidParameter"
    assert "size is not match" in rejected.json()["message"]
    not_http = _submit(gateway, key["key"], "wan-ok", "ftp://example.com/hook")
    assert not_http.status_code == 400 and "callback URL" in not_http.json()["message"]
    no_input = requests.post(
        gateway.url + VIDEO, json={"model": "wan-ok"}, headers={"Authorization": f"Bearer {key['key']}"}, timeout=10
    )
    assert no_input.status_code == 400 and no_input.json()["code"] == "InvalidParameter"


def test_budget_reserves_each_task(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--budget", "1.2")["key"]
    assert _submit(gateway, key, "wan-slow").status_code == 200
    assert _submit(gateway, key, "wan-slow").status_code == 200
    refused = _submit(gateway, key, "wan-slow")
    assert refused.status_code == 403 and refused.json()["code"] == "AccessDenied" and "budget" in refused.json()["message"]


def test_parallel_submits_never_reserve_more_than_the_budget(gateway: GatewayProcess) -> None:
    """The audit's figure: $1.50 and $1 tasks, 20 at once, were all accepted. (Tasks here cost $0.50.)"""
    key = gateway.create_key("--budget", "0.75")["key"]
    with ThreadPoolExecutor(20) as pool:
        statuses = sorted(pool.map(lambda _: _submit(gateway, key, "wan-slow").status_code, range(20)))
    assert statuses == [200] + [403] * 19


def test_a_model_serves_only_its_task_kinds(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    refused = _submit(gateway, key["key"], "qwen-image")  # an image model asked for a video
    assert refused.status_code == 400 and "does not run 'video-synthesis' tasks" in refused.json()["message"]
    listed = requests.get(
        gateway.url + "/openai/v1/models", headers={"Authorization": f"Bearer {key['key']}"}, timeout=10
    ).json()["data"]
    kinds = {m["id"]: m.get("tasks") for m in listed}
    assert kinds["qwen-image"] == ["image-generation"] and kinds["wan-ok"] == ["image-generation", "video-synthesis"]
    assert {m["owned_by"] for m in listed} == {"dashscope"}


def test_a_failed_submit_gives_its_reservation_back(gateway: GatewayProcess) -> None:
    key = gateway.create_key("--budget", "0.5")["key"]
    assert _submit(gateway, key, "wan-bad").status_code >= 400  # the upstream refuses the submit
    assert _submit(gateway, key, "wan-slow").status_code == 200, "the price held for the failed submit came back"


def test_image_generation_is_synchronous_and_billed(gateway: GatewayProcess, fake_dashscope: FakeDashScope) -> None:
    key = gateway.create_key()
    body = {
        "model": "qwen-image",
        "input": {"messages": [{"role": "user", "content": [{"text": "a poster"}]}]},
        "parameters": {"size": "1328*1328"},
    }
    resp = requests.post(
        gateway.url + "/dashscope/v1/services/aigc/multimodal-generation/generation",
        json=body,
        headers={"Authorization": f"Bearer {key['key']}"},
        timeout=10,
    )
    assert resp.status_code == 200 and resp.json()["output"]["choices"][0]["message"]["content"][0]["image"].endswith(IMAGE_PATH)
    assert resp.json()["request_id"] == resp.headers["x-request-id"], "the gateway's request id, not the upstream's"
    assert fake_dashscope.requests[-1]["body"]["model"] == "qwen-image-plus"
    assert eventually(lambda: _spend(gateway, key["id"]).get("qwen-image", {}).get("cost_usd") == pytest.approx(0.04))


def test_a_task_survives_sigkill_and_is_billed_once(
    tmp_path: Path, fake_dashscope: FakeDashScope, webhook_receiver: WebhookReceiver
) -> None:
    # the deadline leaves room for a slow restart on a busy machine: the task's second poll comes 1.5 s
    # after its first, which comes no sooner than the new gateway is up (at 4 s, a CI run failed it)
    config = task_config(f"sqlite:///{tmp_path}/anygate.db", fake_dashscope.url, poll=1.5, deadline=15)  # type: ignore[attr-defined]
    gateway = GatewayProcess(tmp_path, config).start()
    key = gateway.create_key()
    hook = f"kill-{time.time_ns()}"
    task_id = _submit(gateway, key["key"], "wan-ok", f"{webhook_receiver.url}/hook/{hook}").json()["output"]["task_id"]  # type: ignore[attr-defined]
    gateway.stop(signal.SIGKILL)  # before its first poll
    again = GatewayProcess(tmp_path, config).start()
    try:
        assert _until_finished(again, key["key"], task_id)["output"]["task_status"] == "SUCCEEDED"
        assert eventually(
            lambda: [d.body["output"]["task_status"] for d in webhook_receiver.at(hook)] == ["RUNNING", "SUCCEEDED"]
        )
        assert eventually(lambda: "wan-ok" in _spend(again, key["id"]))
        spent = _spend(again, key["id"])["wan-ok"]
        assert spent["requests"] == 1 and spent["cost_usd"] == pytest.approx(0.5)
    finally:
        again.stop()


def test_two_instances_share_the_polling(tmp_path: Path, postgres_url: str, fake_dashscope: FakeDashScope) -> None:
    config = task_config(postgres_url, fake_dashscope.url)  # type: ignore[attr-defined]
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = GatewayProcess(tmp_path / "a", config).start()
    second = GatewayProcess(tmp_path / "b", config).start()
    try:
        key = first.create_key()
        known = set(fake_dashscope.tasks)
        ids = [_submit(g, key["key"], "wan-ok").json()["output"]["task_id"] for g in (first, second) * 5]
        for task_id in ids:
            assert _until_finished(first, key["key"], task_id)["output"]["task_status"] == "SUCCEEDED"
        time.sleep(0.6)
        mine = [i for i in fake_dashscope.tasks if i not in known]
        assert [fake_dashscope.queries[i] for i in mine] == [2] * 10, "each task polled exactly to its end, once per poll"
        assert eventually(lambda: _spend(first, key["id"]).get("wan-ok", {}).get("requests") == 10)
        assert _spend(first, key["id"])["wan-ok"]["cost_usd"] == pytest.approx(5.0)
    finally:
        first.stop()
        second.stop()


def test_an_instance_without_the_provider_leaves_the_task_to_one_with_it(tmp_path: Path, fake_dashscope: FakeDashScope) -> None:
    """A rolling change of config: an instance that lacks a task's provider must not fail the task
    (it would be lost work); it is polled by an instance that has the provider."""
    database = f"sqlite:///{tmp_path}/anygate.db"
    config = task_config(database, fake_dashscope.url, poll=0.5, deadline=60)  # type: ignore[attr-defined]
    (tmp_path / "with").mkdir()
    (tmp_path / "without").mkdir()
    with_provider = GatewayProcess(tmp_path / "with", config).start()
    key = with_provider.create_key()
    task_id = _submit(with_provider, key["key"], "wan-ok").json()["output"]["task_id"]
    with_provider.stop(signal.SIGKILL)  # before its first poll
    without = GatewayProcess(tmp_path / "without", {**config, "providers": {}, "models": {}}).start()
    try:
        time.sleep(6)  # past the idle scan (5 s) that finds other instances' tasks
        assert _query(without, key["key"], task_id).json()["output"]["task_status"] in ("PENDING", "RUNNING")
        with_provider.start()
        assert _until_finished(with_provider, key["key"], task_id)["output"]["task_status"] == "SUCCEEDED"
    finally:
        without.stop()
        with_provider.stop()
