"""Streams after their first chunk: a silence is judged by the idle timeout, not the first-byte one (a
reasoning model that goes quiet mid-stream for longer than the first-byte limit but shorter than the
idle one is not cut; a longer silence is cut at the idle limit), on every upstream family; a client
that leaves during a silence frees the upstream at once; a same-family stream cut before its usage is
billed for what it carried."""

from __future__ import annotations

import asyncio
import signal
import threading
import time
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests
from sqlalchemy import select

from anygate.store.database import create_engine
from anygate.store.tables import UsageRecord
from tests.fakes.anthropic_upstream import UPSTREAM_KEY as ANTHROPIC_KEY
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.faults import PAUSE_SECONDS
from tests.fakes.gemini_upstream import UPSTREAM_KEY as GEMINI_KEY
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import UPSTREAM_KEY as OPENAI_KEY
from tests.fakes.openai_upstream import FakeOpenAI
from tests.gateway_process import GatewayProcess
from tests.integration.usage import eventually

PATIENT = {"first_byte_timeout_seconds": 0.8, "idle_timeout_seconds": PAUSE_SECONDS + 3}
IMPATIENT = {"first_byte_timeout_seconds": PAUSE_SECONDS + 3, "idle_timeout_seconds": 0.5}


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, fake_anthropic: FakeAnthropic, fake_gemini: FakeGemini
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("timeouts")
    providers = {}
    models = {}
    for mood, timeouts in (("patient", PATIENT), ("impatient", IMPATIENT)):
        providers[f"claude-{mood}"] = {"type": "anthropic", "base_url": fake_anthropic.url, "api_key": ANTHROPIC_KEY, **timeouts}  # type: ignore[attr-defined]
        providers[f"gemini-{mood}"] = {"type": "gemini", "base_url": fake_gemini.url, "api_key": GEMINI_KEY, **timeouts}  # type: ignore[attr-defined]
        models[f"claude-{mood}"] = [{"provider": f"claude-{mood}", "model": "claude-pause"}]
        models[f"gemini-{mood}"] = [{"provider": f"gemini-{mood}", "model": "gemini-pause"}]
    waiting = {"first_byte_timeout_seconds": 10, "idle_timeout_seconds": 60}  # only the client's leaving can end it early
    providers["claude-waiting"] = {"type": "anthropic", "base_url": fake_anthropic.url, "api_key": ANTHROPIC_KEY, **waiting}  # type: ignore[attr-defined]
    models["claude-stall"] = [{"provider": "claude-waiting", "model": "claude-stall"}]
    models["claude-drop"] = [{"provider": "claude-patient", "model": "claude-drop", "input_price": 3, "output_price": 15}]
    models["gemini-drop"] = [{"provider": "gemini-patient", "model": "gemini-drop", "input_price": 3, "output_price": 15}]
    process = GatewayProcess(
        workdir, {"database": f"sqlite:///{workdir}/anygate.db", "providers": providers, "models": models}
    ).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> str:
    return str(gateway.create_key(cli=True)["key"])


def _stream(gateway: GatewayProcess, key: str, path: str, body: dict[str, object]) -> str:
    with requests.post(
        gateway.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, stream=True, timeout=30
    ) as resp:
        assert resp.status_code == 200
        return b"".join(resp.iter_content(chunk_size=None)).decode()


CALLS = {
    "anthropic, same family": ("/anthropic/v1/messages", "claude", "event: message_stop", "event: error"),
    "gemini, same family": ("/gemini/v1beta/models/{model}:streamGenerateContent?alt=sse", "gemini", '"finishReason"', '"error"'),
    "openai client, anthropic upstream": ("/openai/v1/chat/completions", "claude", "[DONE]", '"error"'),
}


def _body(path: str, model: str) -> dict[str, object]:
    if "gemini" in path:
        return {"contents": [{"parts": [{"text": "hi"}]}]}
    return {"model": model, "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "hi"}]}


@pytest.mark.parametrize("call", list(CALLS))
def test_a_pause_shorter_than_the_idle_timeout_does_not_cut_the_stream(gateway: GatewayProcess, key: str, call: str) -> None:
    path, upstream, ended, _ = CALLS[call]
    model = f"{upstream}-patient"
    text = _stream(gateway, key, path.format(model=model), _body(path, model))
    assert ended in text, f"the stream was cut during a {PAUSE_SECONDS} s pause with a first-byte limit of 0.8 s: {text[-300:]}"


@pytest.mark.parametrize("call", list(CALLS))
def test_a_pause_longer_than_the_idle_timeout_ends_the_stream_at_that_limit(gateway: GatewayProcess, key: str, call: str) -> None:
    path, upstream, ended, error = CALLS[call]
    model = f"{upstream}-impatient"
    text = _stream(gateway, key, path.format(model=model), _body(path, model))
    assert ended not in text and error in text, f"the {PAUSE_SECONDS} s pause outlasted the 0.5 s idle limit: {text[-300:]}"


@pytest.mark.parametrize("path", ["/anthropic/v1/messages", "/openai/v1/chat/completions"])
def test_a_client_that_leaves_while_the_upstream_is_silent_closes_the_upstream_at_once(
    gateway: GatewayProcess, key: str, fake_anthropic: FakeAnthropic, path: str
) -> None:
    before = fake_anthropic.faults.disconnects
    body = {"model": "claude-stall", "max_tokens": 50, "stream": True, "messages": [{"role": "user", "content": "hi"}]}
    with requests.post(
        gateway.url + path, json=body, headers={"Authorization": f"Bearer {key}"}, stream=True, timeout=10
    ) as resp:
        next(resp.iter_content(chunk_size=None))  # the stream has begun; the upstream now says nothing for 30 s
    assert eventually(lambda: fake_anthropic.faults.disconnects == before + 1, 3), (
        "the upstream connection was closed within a second or so"
    )


def test_a_same_family_stream_cut_before_its_usage_is_billed_for_what_it_carried(gateway: GatewayProcess, key: str) -> None:
    for path, model in (
        ("/anthropic/v1/messages", "claude-drop"),
        ("/gemini/v1beta/models/gemini-drop:streamGenerateContent?alt=sse", "gemini-drop"),
    ):
        _stream(gateway, key, path, _body(path, model))  # the upstream closes the connection after its first chunk
    rows = _usage(gateway.config["database"], ("claude-drop", "gemini-drop"))
    assert {r.public_model for r in rows} == {"claude-drop", "gemini-drop"}
    for row in rows:
        assert row.estimated and row.input_tokens > 0 and row.cost_usd > 0, row  # the prompt, at least: not 0 tokens, $0


def _usage(database: str, models: tuple[str, ...]) -> list[Any]:
    async def read() -> list[Any]:
        engine = create_engine(database)
        try:
            async with engine.connect() as conn:
                return list(await conn.execute(select(UsageRecord.__table__).where(UsageRecord.public_model.in_(models))))
        finally:
            await engine.dispose()

    deadline = time.time() + 5
    while time.time() < deadline:
        time.sleep(0.6)  # the usage queue is written every half second
        if len(rows := asyncio.run(read())) >= len(models):
            return rows
    return []


SHUTDOWN_GRACE = 3.0
CUT_AT_SHUTDOWN = {  # model: (path, the family's error marker)
    "claude-stall": ("/anthropic/v1/messages", "event: error"),
    "gemini-stall": ("/gemini/v1beta/models/gemini-stall:streamGenerateContent?alt=sse", '"error"'),
    "up-stall": ("/openai/v1/chat/completions", '"error"'),
    "claude-translated-stall": ("/openai/v1/chat/completions", '"error"'),
}


def test_streams_open_at_the_end_of_the_shutdown_grace_end_with_their_familys_error_and_a_503(
    tmp_path: Path, fake_anthropic: FakeAnthropic, fake_gemini: FakeGemini, fake_openai: FakeOpenAI
) -> None:
    waiting = {"first_byte_timeout_seconds": 10, "idle_timeout_seconds": 60}
    providers = {
        "claude": {"type": "anthropic", "base_url": fake_anthropic.url, "api_key": ANTHROPIC_KEY, **waiting},  # type: ignore[attr-defined]
        "gemini": {"type": "gemini", "base_url": fake_gemini.url, "api_key": GEMINI_KEY, **waiting},  # type: ignore[attr-defined]
        "openai": {"type": "openai", "base_url": f"{fake_openai.url}/v1", "api_key": OPENAI_KEY, **waiting},  # type: ignore[attr-defined]
    }
    models = {
        "claude-stall": [{"provider": "claude", "model": "claude-stall"}],
        "claude-translated-stall": [{"provider": "claude", "model": "claude-stall"}],
        "gemini-stall": [{"provider": "gemini", "model": "gemini-stall"}],
        "up-stall": [{"provider": "openai", "model": "up-stall"}],
        "claude-pause": [{"provider": "claude", "model": "claude-pause"}],  # ends within the grace
    }
    config = {
        "database": f"sqlite:///{tmp_path}/anygate.db",
        "admin_key": "admin-for-the-shutdown-test",
        "server": {"shutdown_grace_seconds": SHUTDOWN_GRACE},
        "providers": providers,
        "models": models,
    }
    gateway = GatewayProcess(tmp_path, config).start()
    key = str(gateway.create_key()["key"])
    texts: dict[str, str] = {}
    begun = {model: threading.Event() for model in [*CUT_AT_SHUTDOWN, "claude-pause"]}

    def stream(model: str) -> None:
        path = CUT_AT_SHUTDOWN.get(model, ("/anthropic/v1/messages", ""))[0]
        with requests.post(
            gateway.url + path, json=_body(path, model), headers={"Authorization": f"Bearer {key}"}, stream=True, timeout=30
        ) as resp:
            chunks = resp.iter_content(chunk_size=None)
            first = next(chunks)
            begun[model].set()
            texts[model] = (first + b"".join(chunks)).decode()

    threads = [threading.Thread(target=stream, args=(model,)) for model in begun]
    for thread in threads:
        thread.start()
    assert all(event.wait(10) for event in begun.values()), [m for m, e in begun.items() if not e.is_set()]
    assert gateway.proc is not None
    gateway.proc.send_signal(signal.SIGTERM)
    stopped = time.time()
    assert gateway.proc.wait(SHUTDOWN_GRACE + 5) == 0
    assert time.time() - stopped < SHUTDOWN_GRACE + 2, "the gateway stopped at the end of its grace period"
    for thread in threads:
        thread.join(5)
    assert "event: message_stop" in texts["claude-pause"], "a stream that ended within the grace was left to end"
    for model, (_, error) in CUT_AT_SHUTDOWN.items():
        assert error in texts[model] and "shutting down" in texts[model], (model, texts[model][-300:])
    statuses = {row.public_model: row.status for row in _usage(config["database"], tuple(begun))}  # type: ignore[arg-type]
    assert statuses == {**dict.fromkeys(CUT_AT_SHUTDOWN, 503), "claude-pause": 200}
