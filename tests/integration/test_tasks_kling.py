"""Kling tasks through the real gateway against the fake Kling: video and image routes, Bearer and
signed-JWT upstream auth, the gateway's task ids in Kling's envelope, callbacks, errors in Kling's shape."""

from __future__ import annotations

import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.kling_upstream import ACCESS_KEY, API_KEY, IMAGE_URL, SECRET_KEY, VIDEO_PATH, FakeKling
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.gateway_process import GatewayProcess
from tests.integration.usage import eventually

BASE = "/transtreams/kling/v1"


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, fake_kling: FakeKling) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("kling")
    url = fake_kling.url  # type: ignore[attr-defined]
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "providers": {
            "kling": {"type": "kling", "base_url": url, "access_key": ACCESS_KEY, "secret_key": SECRET_KEY},
            "kling-bearer": {"type": "kling", "base_url": url, "api_key": API_KEY},
        },
        "models": {
            "kling-v3": [{"provider": "kling", "model": "kling-ok", "task_price": 0.4}],
            "kling-broken": [{"provider": "kling", "model": "kling-fail", "task_price": 0.4}],
            "kling-image": [{"provider": "kling-bearer", "model": "kling-ok", "task_price": 0.02}],
        },
        "tasks": {"poll_interval_seconds": 0.2, "webhook_allow_private": True, "webhook_backoff_seconds": 0.2},
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> str:
    return str(gateway.create_key()["key"])


def _post(gateway: GatewayProcess, key: str, path: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(gateway.url + BASE + path, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _until_finished(gateway: GatewayProcess, key: str, path: str) -> dict[str, Any]:
    deadline = time.time() + 10
    while time.time() < deadline:
        body: dict[str, Any] = requests.get(
            gateway.url + BASE + path, headers={"Authorization": f"Bearer {key}"}, timeout=10
        ).json()
        if body["data"]["task_status"] in ("succeed", "failed"):
            return body
        time.sleep(0.1)
    raise AssertionError(f"{path} did not finish")


def test_text2video_with_a_signed_jwt_and_callbacks(
    gateway: GatewayProcess, key: str, fake_kling: FakeKling, webhook_receiver: WebhookReceiver
) -> None:
    hook = f"kling-{time.time_ns()}"
    created = _post(
        gateway,
        key,
        "/videos/text2video",
        {
            "model_name": "kling-v3",
            "prompt": "a fox",
            "mode": "std",
            "duration": "5",
            "callback_url": f"{webhook_receiver.url}/hook/{hook}",
        },  # type: ignore[attr-defined]
    )
    assert created.status_code == 200, created.text
    envelope = created.json()
    assert envelope["code"] == 0 and envelope["message"] == "SUCCEED" and envelope["data"]["task_status"] == "submitted"
    task_id = envelope["data"]["task_id"]
    assert task_id not in fake_kling.tasks and fake_kling.auth[-1] == "jwt"
    sent = {"model_name": "kling-ok", "prompt": "a fox", "mode": "std", "duration": "5", "external_task_id": task_id}
    assert fake_kling.requests[-1]["body"] == sent, (
        "the gateway's task id goes up as the external id, to find a cut-off submit by"
    )
    done = _until_finished(gateway, key, f"/videos/text2video/{task_id}")
    assert done["data"]["task_id"] == task_id and done["data"]["task_result"]["videos"][0]["url"].endswith(VIDEO_PATH)
    assert eventually(lambda: [d.body["task_status"] for d in webhook_receiver.at(hook)] == ["processing", "succeed"])
    assert webhook_receiver.at(hook)[-1].body["task_result"]["videos"][0]["url"].endswith(VIDEO_PATH)
    wrong_route = requests.get(
        f"{gateway.url}{BASE}/videos/image2video/{task_id}", headers={"Authorization": f"Bearer {key}"}, timeout=10
    )
    assert wrong_route.status_code == 404 and wrong_route.json()["code"] == 1203


def test_image_generation_with_a_bearer_key(gateway: GatewayProcess, key: str, fake_kling: FakeKling) -> None:
    created = _post(gateway, key, "/images/generations", {"model": "kling-image", "prompt": "a fox", "n": 1})
    task_id = created.json()["data"]["task_id"]
    assert fake_kling.auth[-1] == "bearer"
    done = _until_finished(gateway, key, f"/images/generations/{task_id}")
    assert done["data"]["task_result"]["images"][0]["url"] == IMAGE_URL


def test_a_failed_task_says_why(gateway: GatewayProcess, key: str) -> None:
    task_id = _post(gateway, key, "/videos/omni-video", {"model_name": "kling-broken", "prompt": "x"}).json()["data"]["task_id"]
    done = _until_finished(gateway, key, f"/videos/omni-video/{task_id}")
    assert done["data"]["task_status"] == "failed" and "risk control" in done["data"]["task_status_msg"]


def test_errors_in_kling_shape(gateway: GatewayProcess, key: str) -> None:
    unknown = _post(gateway, key, "/videos/text2video", {"model_name": "no-such-model", "prompt": "x"})
    assert unknown.status_code == 404 and unknown.json()["code"] == 1203 and unknown.json()["data"] is None
    missing = _post(gateway, key, "/videos/text2video", {"prompt": "x"})
    assert missing.status_code == 400 and missing.json()["code"] == 1201 and "model_name" in missing.json()["message"]
    bad_key = _post(gateway, "ag-wrong", "/videos/text2video", {"model_name": "kling-v3"})
    assert bad_key.status_code == 401 and bad_key.json()["code"] == 1000
