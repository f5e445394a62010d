"""`anygate verify` against running gateways: every step of the guide passes where it applies (a media
and a music task with their signed callbacks, a 403, a 429), a bad key fails, and each step says what
it sent and what it expected."""

from __future__ import annotations

import json
import os
import re
from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.kling_upstream import API_KEY as KLING_KEY
from tests.fakes.kling_upstream import FakeKling
from tests.fakes.suno_upstream import UPSTREAM_KEY as SUNO_KEY
from tests.fakes.suno_upstream import FakeSuno
from tests.gateway_process import GatewayProcess, anygate


def _verify(gateway: GatewayProcess, *args: str, key: str | None = None) -> tuple[int, Any]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANYGATE_")} | ({"ANYGATE_API_KEY": key} if key else {})
    saved = dict(os.environ)
    os.environ.clear()
    os.environ.update(env)
    try:
        result = anygate("verify", "--base-url", gateway.url, *args, check=False)
    finally:
        os.environ.clear()
        os.environ.update(saved)
    try:
        return result.returncode, json.loads(result.stdout)
    except ValueError:
        return result.returncode, result.stdout + result.stderr


@pytest.fixture(scope="module")
def full(tmp_path_factory: pytest.TempPathFactory, fake_kling: FakeKling, fake_suno: FakeSuno) -> Iterator[GatewayProcess]:
    """A gateway with chat, a Kling video model and a Suno music model, calling back to loopback."""
    workdir = tmp_path_factory.mktemp("verify")
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "admin_key": "admin-verify",
        "providers": {
            "mock": {"type": "mock"},
            "kling": {"type": "kling", "base_url": fake_kling.url, "api_key": KLING_KEY},  # type: ignore[attr-defined]
            "suno": {"type": "suno", "base_url": fake_suno.url, "api_key": SUNO_KEY},  # type: ignore[attr-defined]
        },
        "models": {
            "chat": [{"provider": "mock", "model": "mock-chat"}],
            "kept-back": [{"provider": "mock", "model": "mock-other"}],
            "kling-video": [{"provider": "kling", "model": "kling-ok", "task_price": 0.4, "tasks": ["text2video"]}],
            "suno-v5": [{"provider": "suno", "model": "V5", "task_price": 0.1}],
        },
        "tasks": {"poll_interval_seconds": 0.2, "webhook_allow_private": True, "webhook_backoff_seconds": 0.2},
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


def test_every_step_passes_with_the_key_in_the_environment(full: GatewayProcess) -> None:
    key = full.create_key("--models", "chat,kling-video,suno-v5", "--rpm", "60")
    code, results = _verify(
        full, "--webhook-secret", key["webhook_secret"], "--forbidden-model", "kept-back", "--json", key=key["key"]
    )
    outcomes = {r["name"]: (r["outcome"], r["detail"]) for r in results}
    assert code == 0 and {o for o, _ in outcomes.values()} == {"PASS"}, [(n, d) for n, (o, d) in outcomes.items() if o != "PASS"]
    assert len(outcomes) == 18
    assert outcomes["media task"][1].startswith("kling-video: video ") and outcomes["music task"][1].startswith("suno-v5: ")
    assert outcomes["callbacks"][1].endswith("received, every signature right")
    assert outcomes["forbidden model -> 403"][1] == "403 model_not_allowed"
    assert re.fullmatch(r"429 at request \d+ \(limit 60 a minute\); Retry-After \d+ s", outcomes["rate limit -> 429"][1])
    text = next(r for r in results if r["name"] == "text call")
    assert (
        text["sent"] == "POST /openai/v1/chat/completions model=chat" and text["expected"] == "200, a message with text and usage"
    )


def test_a_wrong_webhook_secret_fails_its_step_and_a_key_may_come_from_the_command_line(full: GatewayProcess) -> None:
    key = full.create_key()
    code, results = _verify(full, "--key", key["key"], "--webhook-secret", "whsec_wrong", "--json")
    outcomes = {r["name"]: (r["outcome"], r["detail"]) for r in results}
    assert code == 1
    assert outcomes["API key"] == ("PASS", "given with --key; ANYGATE_API_KEY keeps it out of shell history and process lists")
    assert outcomes["callbacks"][0] == "FAIL" and "wrong signature" in outcomes["callbacks"][1]
    assert outcomes["forbidden model -> 403"][0] == "SKIP" and outcomes["rate limit -> 429"][0] == "SKIP"


def test_steps_that_do_not_apply_are_skipped(gateway: GatewayProcess, api_key: str) -> None:
    code, results = _verify(gateway, "--model", "mock-fast", "--json", key=api_key)
    outcomes = {r["name"]: r["outcome"] for r in results}
    assert code == 0, results
    skipped = {name for name, outcome in outcomes.items() if outcome == "SKIP"}
    assert skipped == {"media task", "music task", "callbacks", "forbidden model -> 403", "rate limit -> 429"}
    assert set(outcomes.values()) == {"PASS", "SKIP"}


def test_verify_fails_with_a_bad_key_and_needs_one(gateway: GatewayProcess) -> None:
    code, results = _verify(gateway, "--json", key="ag-wrong")
    outcomes = {r["name"]: (r["outcome"], r["detail"]) for r in results}
    assert (
        code == 1 and outcomes["models list"][0] == "FAIL" and "the gateway refuses this key (401" in outcomes["models list"][1]
    )
    assert {o for name, (o, _) in outcomes.items() if name not in ("API key", "models list", "bad key -> 401")} == {"SKIP"}
    assert outcomes["bad key -> 401"][0] == "PASS"
    code, output = _verify(gateway)
    assert code == 2 and "no key: set ANYGATE_API_KEY" in output
