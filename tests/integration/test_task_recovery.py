"""Tasks across crashes, with real gateway processes killed by SIGKILL: a submit cut off before the
upstream answered is recorded first and reconciled after (found by Kling's external id, else failed
and its hold given back), a client's retry with the same Idempotency-Key gets the first task, and a
dead instance's claim on a task lapses within the lease while a live one's is renewed; a webhook
receiver that stays down."""

from __future__ import annotations

import signal
import threading
import time
from collections.abc import Callable
from contextlib import suppress
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.fakes.dashscope_upstream import HANG_SECONDS, FakeDashScope
from tests.fakes.kling_upstream import API_KEY, FakeKling
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.gateway_process import GatewayProcess
from tests.integration.test_tasks_dashscope import ADMIN_KEY, VIDEO, task_config
from tests.integration.usage import eventually

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}
LEASE = 1.0
BODY = {"input": {"prompt": "a cat on a wall"}, "parameters": {"size": "1280*720", "duration": 5}}


def _config(database: str, fake_dashscope: FakeDashScope, fake_kling: FakeKling | None = None) -> dict[str, Any]:
    config = task_config(database, fake_dashscope.url, deadline=60)  # type: ignore[attr-defined]
    config["tasks"]["lease_seconds"] = LEASE
    for name in ("wan-stuck", "wan-hang"):
        config["models"][name] = [{"provider": "dashscope", "model": name, "task_price": 0.5}]
    if fake_kling is not None:
        config["providers"]["kling"] = {"type": "kling", "base_url": fake_kling.url, "api_key": API_KEY}  # type: ignore[attr-defined]
        config["models"]["kling-stuck"] = [{"provider": "kling", "model": "kling-stuck", "task_price": 0.4}]
    return config


def _submit(gateway: GatewayProcess, key: str, model: str, idempotency_key: str | None = None) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}"} | ({"Idempotency-Key": idempotency_key} if idempotency_key else {})
    return requests.post(gateway.url + VIDEO, json={"model": model, **BODY}, headers=headers, timeout=10)


def _submit_kling(gateway: GatewayProcess, key: str, idempotency_key: str) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}", "Idempotency-Key": idempotency_key}
    body = {"model_name": "kling-stuck", "prompt": "a fox", "duration": "5"}
    return requests.post(gateway.url + "/transtreams/kling/v1/videos/text2video", json=body, headers=headers, timeout=10)


def _in_background(send: Any) -> None:
    """Send a request whose answer never comes (its gateway is killed meanwhile)."""

    def run() -> None:
        with suppress(requests.RequestException):
            send()

    threading.Thread(target=run, daemon=True).start()


def _tasks(gateway: GatewayProcess, key_id: str) -> list[dict[str, Any]]:
    listed = requests.get(gateway.url + "/admin/v1/tasks", params={"key_id": key_id}, headers=ADMIN, timeout=10)
    return list(listed.json()["data"])


def _spent(gateway: GatewayProcess, key_id: str) -> float:
    data = requests.get(gateway.url + "/admin/v1/usage", params={"key_id": key_id}, headers=ADMIN, timeout=10).json()["data"]
    return float(sum(t["cost_usd"] for t in data))


def _retried_until_answered(send: Callable[[], requests.Response]) -> requests.Response:
    """The client's retries: 409 while the first submit is still being reconciled, then the answer."""
    deadline = time.time() + 10
    while (resp := send()).status_code == 409 and time.time() < deadline:
        assert "still being submitted" in resp.text and resp.headers["Retry-After"] == "2"
        time.sleep(0.2)
    return resp


def test_a_submit_cut_off_by_sigkill_is_failed_released_and_answered_to_the_retry(
    tmp_path: Path, fake_dashscope: FakeDashScope
) -> None:
    config = _config(f"sqlite:///{tmp_path}/anygate.db", fake_dashscope)
    first = GatewayProcess(tmp_path, config).start()
    key = first.create_key("--budget", "0.5")
    stuck_before = sum(1 for m in fake_dashscope.tasks.values() if m == "wan-stuck")
    _in_background(lambda: _submit(first, key["key"], "wan-stuck", "retry-1"))
    assert eventually(lambda: sum(1 for m in fake_dashscope.tasks.values() if m == "wan-stuck") == stuck_before + 1)
    first.stop(signal.SIGKILL)  # the upstream has the task; the gateway never heard its id
    again = GatewayProcess(tmp_path, config).start()
    try:
        answered = _retried_until_answered(lambda: _submit(again, key["key"], "wan-stuck", "retry-1"))
        assert answered.status_code == 200, answered.text
        output = answered.json()["output"]
        assert output["task_status"] == "FAILED", "the first request's task, as a create answers it"
        queried = requests.get(
            f"{again.url}/dashscope/v1/tasks/{output['task_id']}", headers={"Authorization": f"Bearer {key['key']}"}, timeout=10
        )
        assert "stopped while submitting" in queried.json()["output"]["message"]
        assert sum(1 for m in fake_dashscope.tasks.values() if m == "wan-stuck") == stuck_before + 1, (
            "the retry submitted nothing"
        )
        assert [t["id"] for t in _tasks(again, key["id"])] == [output["task_id"]]
        assert _submit(again, key["key"], "wan-ok").status_code == 200, "the price held for the lost submit came back"
        assert _spent(again, key["id"]) == 0.0
    finally:
        again.stop()


def test_a_kling_submit_cut_off_by_sigkill_is_found_by_its_external_id_and_billed_once(
    tmp_path: Path, fake_dashscope: FakeDashScope, fake_kling: FakeKling
) -> None:
    config = _config(f"sqlite:///{tmp_path}/anygate.db", fake_dashscope, fake_kling)
    first = GatewayProcess(tmp_path, config).start()
    key = first.create_key()
    known = set(fake_kling.tasks)
    _in_background(lambda: _submit_kling(first, key["key"], "kling-retry"))
    assert eventually(lambda: len(set(fake_kling.tasks) - known) == 1)
    first.stop(signal.SIGKILL)
    again = GatewayProcess(tmp_path, config).start()
    try:
        answered = _retried_until_answered(lambda: _submit_kling(again, key["key"], "kling-retry"))
        assert answered.status_code == 200, answered.text
        task_id = answered.json()["data"]["task_id"]
        (upstream_id,) = set(fake_kling.tasks) - known
        assert fake_kling.external[task_id] == upstream_id, "the gateway's task id went up as the external id"

        def finished() -> bool:
            path = f"{again.url}/transtreams/kling/v1/videos/text2video/{task_id}"
            data = requests.get(path, headers={"Authorization": f"Bearer {key['key']}"}, timeout=10).json()["data"]
            return bool(data["task_status"] == "succeed")

        assert eventually(finished, 10)
        assert len(set(fake_kling.tasks) - known) == 1, "one task upstream: the retry made none"
        assert eventually(lambda: _spent(again, key["id"]) == pytest.approx(0.4)), "billed once, at its price"
    finally:
        again.stop()


def test_idempotency_keys(tmp_path: Path, fake_dashscope: FakeDashScope) -> None:
    gateway = GatewayProcess(tmp_path, _config(f"sqlite:///{tmp_path}/anygate.db", fake_dashscope)).start()
    try:
        key, other = gateway.create_key(), gateway.create_key()
        known = len(fake_dashscope.tasks)
        created = _submit(gateway, key["key"], "wan-ok", "same")
        again = _submit(gateway, key["key"], "wan-ok", "same")
        assert created.status_code == again.status_code == 200
        assert again.json()["output"]["task_id"] == created.json()["output"]["task_id"] and len(fake_dashscope.tasks) == known + 1
        reused = _submit(gateway, key["key"], "wan-slow", "same")
        assert reused.status_code == 400 and "Idempotency-Key was used for another request" in reused.json()["message"]
        theirs = _submit(gateway, other["key"], "wan-ok", "same")  # keys are the caller's own
        assert theirs.status_code == 200 and theirs.json()["output"]["task_id"] != created.json()["output"]["task_id"]
        assert _submit(gateway, key["key"], "wan-ok", "x" * 256).status_code == 400
        refused = _submit(gateway, key["key"], "wan-bad", "refused")  # the upstream refuses: nothing is kept
        assert refused.status_code == 400 and len(_tasks(gateway, key["id"])) == 1
        assert _submit(gateway, key["key"], "wan-bad", "refused").status_code == 400, (
            "a refused submit is tried again, not replayed"
        )
    finally:
        gateway.stop()


def test_a_dead_instances_poll_is_taken_over_within_the_lease_and_a_live_ones_is_not(
    tmp_path: Path, postgres_url: str, fake_dashscope: FakeDashScope
) -> None:
    config = _config(postgres_url, fake_dashscope)
    (tmp_path / "a").mkdir()
    (tmp_path / "b").mkdir()
    first = GatewayProcess(tmp_path / "a", config).start()
    key = first.create_key()
    task_id = _submit(first, key["key"], "wan-hang").json()["output"]["task_id"]
    (upstream_id,) = [t["upstream_id"] for t in _tasks(first, key["id"])]
    assert eventually(lambda: fake_dashscope.queries[upstream_id] == 1)  # the first poll hangs at the upstream
    second = GatewayProcess(tmp_path / "b", config).start()
    try:
        time.sleep(max(0.0, fake_dashscope.query_times[upstream_id][0] + HANG_SECONDS - 1.0 - time.time()))
        assert fake_dashscope.queries[upstream_id] == 1, "the live instance's lease was renewed: nobody else polled meanwhile"
        first.stop(signal.SIGKILL)
        killed = time.time()

        def finished() -> bool:
            url = f"{second.url}/dashscope/v1/tasks/{task_id}"
            return bool(
                requests.get(url, headers={"Authorization": f"Bearer {key['key']}"}, timeout=10).json()["output"]["task_status"]
                == "SUCCEEDED"
            )

        assert eventually(finished, 10)
        assert time.time() - killed < LEASE + 4, "taken over once the dead instance's lease lapsed"
    finally:
        first.stop()
        second.stop()


def test_a_receiver_that_stays_down_gets_backed_off_retries_then_failed_and_a_manual_retry(
    tmp_path: Path, fake_dashscope: FakeDashScope, webhook_receiver: WebhookReceiver
) -> None:
    """The hour of a receiver answering 500, in short: retries back off (doubling), the delivery log
    keeps each attempt, the delivery ends `failed` when the retry period is over, and an operator's
    retry after the receiver is mended delivers it."""
    config = _config(f"sqlite:///{tmp_path}/anygate.db", fake_dashscope)
    config["tasks"] |= {"webhook_backoff_seconds": 0.2, "webhook_retry_seconds": 2.0}
    gateway = GatewayProcess(tmp_path, config).start()
    try:
        key = gateway.create_key()
        hook = f"down-{time.time_ns()}"
        body = {"model": "wan-ok", **BODY, "callback_url": f"{webhook_receiver.url}/hook/{hook}"}  # type: ignore[attr-defined]
        created = requests.post(gateway.url + VIDEO, json=body, headers={"Authorization": f"Bearer {key['key']}"}, timeout=10)
        task_id = created.json()["output"]["task_id"]

        def log() -> list[dict[str, Any]]:
            return list(requests.get(f"{gateway.url}/admin/v1/tasks/{task_id}", headers=ADMIN, timeout=10).json()["webhooks"])

        assert eventually(lambda: [w["state"] for w in log()] == ["failed", "failed"], 10)
        first = log()[0]
        tries = [d.received for d in webhook_receiver.at(hook) if d.headers["X-Anygate-Event-Id"] == first["id"]]
        gaps = [later - earlier for earlier, later in zip(tries, tries[1:], strict=False)]
        assert first["attempts"] == len(tries) >= 3 and first["last_status"] == 500
        assert gaps[-1] > 2 * gaps[0], f"the retries back off: {gaps}"
        webhook_receiver.mend(hook)
        retried = requests.post(f"{gateway.url}/admin/v1/tasks/{task_id}/webhooks/{first['id']}/retry", headers=ADMIN, timeout=10)
        assert retried.status_code == 200
        assert eventually(lambda: log()[0]["state"] == "delivered")
        assert webhook_receiver.at(hook)[-1].headers["X-Anygate-Event-Id"] == first["id"]
    finally:
        gateway.stop()
