"""`anygate serve --workers 2`: several processes share the port, their metrics add up, and a SIGTERM
stops them all cleanly."""

from __future__ import annotations

import json
import signal
import subprocess
import time
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import requests
from prometheus_client.parser import text_string_to_metric_families

from tests.fakes.openai_upstream import FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY, gateway_config
from tests.integration.usage import eventually


def _children(pid: int) -> list[int]:
    out = subprocess.run(["ps", "-o", "pid=", "--ppid", str(pid)], capture_output=True, text=True).stdout
    return [int(p) for p in out.split()]


def _running(pid: int) -> bool:
    """Whether `pid` is a live process (an ended one waiting to be reaped does not count)."""
    try:
        return Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()[0] != "Z"
    except FileNotFoundError:
        return False


def test_two_workers_serve_and_stop_on_sigterm(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    gateway = GatewayProcess(tmp_path, gateway_config(f"sqlite:///{tmp_path}/anygate.db", fake_openai.url))  # type: ignore[attr-defined]
    key = gateway.create_key()
    gateway.start("--workers", "2")
    assert gateway.proc is not None
    workers = _children(gateway.proc.pid)
    assert len(workers) >= 2, gateway.log()
    headers = {"Authorization": f"Bearer {key['key']}"}
    body = {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]}
    url = gateway.url + "/openai/v1/chat/completions"
    statuses = [requests.post(url, json=body, headers=headers, timeout=10).status_code for _ in range(40)]
    assert statuses == [200] * 40

    def scraped() -> float:
        text = requests.get(gateway.url + "/metrics", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10).text
        return sum(
            s.value
            for family in text_string_to_metric_families(text)
            for s in family.samples
            if s.name == "anygate_requests_total" and s.labels == {"family": "openai", "status": "200"}
        )

    assert eventually(lambda: all(scraped() == 40 for _ in range(4))), "every scrape adds up both workers"
    refused = {f"refused-{i}" for i in range(20)}  # calls that leave no usage record: each worker remembers its own
    for request_id in refused:
        assert (
            requests.post(
                url, json=body, headers={"Authorization": "Bearer ag-not-a-key-000000000", "x-request-id": request_id}, timeout=10
            ).status_code
            == 401
        )

    def listed() -> set[str]:
        calls = requests.get(
            gateway.url + "/admin/v1/requests?status=401", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=10
        ).json()["data"]
        return {c["request_id"] for c in calls}

    assert eventually(lambda: all(listed() == refused for _ in range(4))), "every listing has both workers' refusals"
    assert gateway.stop(signal.SIGTERM) == 0
    deadline = time.time() + 5  # multiprocessing's helper process notices its parent is gone a moment later
    while [p for p in workers if _running(p)] and time.time() < deadline:
        time.sleep(0.1)
    assert not [p for p in workers if _running(p)], "every worker ends with the parent"
    totals = json.loads(gateway.cli("usage", "--key", key["id"], "--json").stdout)
    assert totals[0]["requests"] == 40


def _listeners(port: int) -> int:
    """How many sockets listen on `port` (each worker has its own, SO_REUSEPORT)."""
    lines = Path("/proc/net/tcp").read_text().splitlines()[1:]
    return sum(1 for line in lines if line.split()[1].endswith(f":{port:04X}") and line.split()[3] == "0A")


def test_two_workers_share_a_breaker_a_failing_target_opens_after_five_failures_in_all(
    tmp_path: Path, fake_openai: FakeOpenAI
) -> None:
    config = gateway_config(f"sqlite:///{tmp_path}/anygate.db", fake_openai.url)  # type: ignore[attr-defined]
    config["models"]["breaker-test"] = [
        {"provider": "fake", "model": "up-500", "priority": 0},
        {"provider": "mock", "model": "mock-fast", "priority": 1},
    ]
    gateway = GatewayProcess(tmp_path, config)
    key = gateway.create_key()
    gateway.start("--workers", "2")
    try:
        assert eventually(lambda: _listeners(gateway.port) == 2, 20), "both workers listen"
        before = sum(1 for r in fake_openai.requests if r["body"].get("model") == "up-500")
        body = {"model": "breaker-test", "messages": [{"role": "user", "content": "hi"}]}
        url = gateway.url + "/openai/v1/chat/completions"
        for _ in range(30):  # a new connection each: the kernel spreads them over both workers
            with requests.Session() as session:
                assert (
                    session.post(url, json=body, headers={"Authorization": f"Bearer {key['key']}"}, timeout=10).status_code == 200
                )
        failed = sum(1 for r in fake_openai.requests if r["body"].get("model") == "up-500") - before
        assert failed == 5, f"the failing target was tried {failed} times: each worker kept its own breaker"
    finally:
        gateway.stop()


def test_two_workers_enforce_one_limit_per_key_without_redis(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """Without Redis, the workers of an instance count a key's requests, tokens and calls in flight in
    one shared table: a limit holds once for the instance, not once for each worker."""
    config = gateway_config(f"sqlite:///{tmp_path}/anygate.db", fake_openai.url)  # type: ignore[attr-defined]
    config["providers"]["patient"] = {**config["providers"]["fake"], "first_byte_timeout_seconds": 20}
    config["models"]["slow"] = [{"provider": "patient", "model": "up-slow"}]  # answers after 3 s
    gateway = GatewayProcess(tmp_path, config)
    paced = gateway.create_key("--rpm", "8")
    narrow = gateway.create_key("--concurrency", "2")
    gateway.start("--workers", "2")
    try:
        assert eventually(lambda: _listeners(gateway.port) == 2, 20), "both workers listen"
        url = gateway.url + "/openai/v1/chat/completions"

        def call(key: str, model: str) -> int:
            with requests.Session() as session:  # a new connection each: the kernel spreads them over both workers
                body = {"model": model, "messages": [{"role": "user", "content": "hi"}]}
                return session.post(url, json=body, headers={"Authorization": f"Bearer {key}"}, timeout=20).status_code

        statuses = [call(paced["key"], "mock-fast") for _ in range(16)]
        assert sorted(statuses) == [200] * 8 + [429] * 8, statuses
        with ThreadPoolExecutor(6) as pool:  # six calls at once of 3 s each, two slots
            statuses = list(pool.map(lambda _: call(narrow["key"], "slow"), range(6)))
        assert sorted(statuses) == [200] * 2 + [429] * 4, statuses
        assert call(narrow["key"], "mock-fast") == 200, "the slots came back"
    finally:
        gateway.stop()


def test_workers_stop_when_their_parent_is_killed(tmp_path: Path, fake_openai: FakeOpenAI) -> None:
    """A SIGKILL of the parent leaves it no time to pass a signal on: each worker notices it is orphaned,
    stops, and leaves the port free for the instance's restart."""
    gateway = GatewayProcess(tmp_path, gateway_config(f"sqlite:///{tmp_path}/anygate.db", fake_openai.url))  # type: ignore[attr-defined]
    gateway.start("--workers", "2")
    assert gateway.proc is not None
    assert eventually(lambda: len(_children(gateway.proc.pid)) >= 2 and _listeners(gateway.port) == 2, 20)  # type: ignore[union-attr]
    workers = _children(gateway.proc.pid)
    gateway.stop(signal.SIGKILL)
    assert eventually(lambda: not [p for p in workers if _running(p)], 10), "every worker ends after its parent"
    assert "is gone: this worker" in gateway.log()
    assert _listeners(gateway.port) == 0
    gateway.start()  # the same port, free again
    assert requests.get(gateway.url + "/health", timeout=10).status_code == 200
    gateway.stop()
