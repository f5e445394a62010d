"""A call leaves no reference cycle behind: everything it made is freed by reference counting as soon
as it ends. A cycle per call (a closure that schedules itself held each stream's call and request)
fills the collector's oldest generation, whose full passes then stall the event loop for 100 ms and
more under load (bench/RESULTS.md, 2026-12-01)."""

from __future__ import annotations

import gc
import time
from collections import Counter
from collections.abc import Iterator
from pathlib import Path

import httpx
import pytest

from anygate.config import settings_from_data
from anygate.server.app import App
from tests.fakes.server_thread import GatewayThread

ADMIN = "admin-garbage-test-key-0123456789"


@pytest.fixture
def served(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Iterator[tuple[httpx.Client, str, str]]:
    monkeypatch.setattr("anygate.server.streaming.WATCH_SECONDS", 0.05)  # a stream's client watch ends soon after it
    config = settings_from_data(
        {
            "database": f"sqlite:///{tmp_path}/anygate.db",
            "admin_key": ADMIN,
            "providers": {"mock": {"type": "mock"}},
            "models": {"mock-fast": [{"provider": "mock", "model": "mock-fast", "input_price": 1, "output_price": 2}]},
        },
        "garbage.yaml",
    )
    server = GatewayThread(App(config)).start()
    client = httpx.Client(timeout=30)
    created = client.post(server.url + "/admin/v1/keys", json={"name": "g"}, headers={"Authorization": f"Bearer {ADMIN}"})
    yield client, server.url, created.json()["key"]
    client.close()
    server.stop()


def test_calls_whole_and_streamed_leave_no_cyclic_garbage(served: tuple[httpx.Client, str, str]) -> None:
    client, base, key = served
    headers = {"Authorization": f"Bearer {key}", "x-api-key": key}
    chat = {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]}
    calls = [
        ("/openai/v1/chat/completions", chat),
        ("/openai/v1/chat/completions", {**chat, "stream": True}),
        ("/anthropic/v1/messages", {**chat, "max_tokens": 20, "stream": True}),  # translated
    ]
    for path, body in calls:  # once each first: caches and lazily built objects are made here
        assert client.post(base + path, json=body, headers=headers).status_code == 200
    gc.collect()
    gc.disable()
    try:
        for _ in range(10):
            for path, body in calls:
                assert client.post(base + path, json=body, headers=headers).status_code == 200
        time.sleep(0.3)  # the watches of the last streams have looked once more and ended
        gc.set_debug(gc.DEBUG_SAVEALL)
        gc.collect()
        # the gateway's own objects (the test's httpx client makes cycles of its own)
        left = Counter(
            f"{type(o).__module__}.{type(o).__qualname__}"
            for o in gc.garbage
            if type(o).__module__.startswith(("anygate", "aiohttp"))
        )
    finally:
        gc.set_debug(0)
        gc.garbage.clear()
        gc.enable()
    per_call = {name: count for name, count in left.items() if count >= 10}  # what each of the 30 calls left
    assert per_call == {}, f"objects left in reference cycles by every call: {left.most_common(12)}"
