"""A running gateway (the real `anygate serve`) in front of the fake OpenAI upstream and `mock`."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest

from tests.fakes.anthropic_upstream import UPSTREAM_KEY as ANTHROPIC_KEY
from tests.fakes.anthropic_upstream import FakeAnthropic
from tests.fakes.gemini_upstream import UPSTREAM_KEY as GEMINI_KEY
from tests.fakes.gemini_upstream import FakeGemini
from tests.fakes.openai_upstream import UPSTREAM_KEY, FakeOpenAI
from tests.gateway_process import GatewayProcess

SCENARIOS = ["tools", "nousage", "cut", "stream-error", "slow", "drip", "html", "400", "401", "404", "429", "500", "503", "529"]


CLAUDE_SCENARIOS = ["echo", "tools", "think", "think-tools", "stream-error", "400", "529"]
GEMINI_SCENARIOS = ["echo", "tools", "think", "400", "503"]

ADMIN_KEY = "admin-secret-for-tests"
_QUICK = {"first_byte_timeout_seconds": 1, "idle_timeout_seconds": 1, "timeout_seconds": 10}  # the fakes answer at once


def gateway_config(
    database: str, fake_url: str, anthropic_url: str = "http://127.0.0.1:9", gemini_url: str = "http://127.0.0.1:9"
) -> dict[str, Any]:
    """A config with the fake upstreams, an unreachable one, and mock; one public model per scenario."""
    models: dict[str, Any] = {
        "gpt-test": [{"provider": "fake", "model": "up-echo", "input_price": 1.0, "output_price": 2.0}],
        "down-model": [{"provider": "down", "model": "anything"}],
        "mock-fast": [{"provider": "mock", "model": "mock-fast", "input_price": 0.5, "output_price": 1.0}],
        "other-model": [{"provider": "mock", "model": "mock-other"}],
    }
    for scenario in SCENARIOS:
        models[f"scenario-{scenario}"] = [{"provider": "fake", "model": f"up-{scenario}"}]
    models["fallback"] = [
        {"provider": "fake", "model": "up-500", "priority": 0},
        {"provider": "claude", "model": "claude-echo", "priority": 1},
    ]
    models["hang-fallback"] = [  # hangs before its headers, then another family answers
        {"provider": "fake", "model": "up-hang", "priority": 0},
        {"provider": "claude", "model": "claude-echo", "priority": 1},
    ]
    models["mute-fallback"] = [  # sends a stream's headers and nothing more, then another family answers
        {"provider": "claude", "model": "claude-mute", "priority": 0},
        {"provider": "gemini", "model": "gemini-echo", "priority": 1},
    ]
    for fault in ("stall", "drop"):
        models[f"claude-{fault}"] = [{"provider": "claude", "model": f"claude-{fault}"}]
        models[f"gemini-{fault}"] = [{"provider": "gemini", "model": f"gemini-{fault}"}]
        models[f"scenario-{fault}"] = [{"provider": "fake", "model": f"up-{fault}"}]
    models["gpt-native"] = [{"provider": "native", "model": "up-echo", "input_price": 1.0, "output_price": 2.0}]
    models["claude-alias"] = [{"provider": "claude", "model": "claude-echo"}]  # a public id unlike the upstream's
    models["gemini-alias"] = [
        {"provider": "gemini", "model": "gemini-echo", "display_name": "Gemini Alias", "created_at": "2025-02-05"}
    ]
    models["native-cut"] = [{"provider": "native", "model": "up-cut"}]
    for odd in ("same-id", "long-id", "no-id", "output-object"):
        models[f"native-{odd}"] = [{"provider": "native", "model": f"up-{odd}"}]
    models["native-fallback"] = [
        {"provider": "native", "model": "up-500", "priority": 0},
        {"provider": "claude", "model": "claude-echo", "priority": 1},
    ]
    models["embed-openai"] = [{"provider": "fake", "model": "text-embedding-3-small", "input_price": 0.02, "output_price": 0}]
    models["embed-gemini"] = [{"provider": "gemini", "model": "gemini-embedding-001"}]
    models["image-openai"] = [{"provider": "fake", "model": "gpt-image-1", "input_price": 5.0, "output_price": 40.0}]
    models["brief-drip"] = [{"provider": "brief", "model": "up-drip"}]
    models["breaker"] = [
        {"provider": "fake", "model": "up-503", "weight": 100},
        {"provider": "fake", "model": "up-echo", "weight": 1},
    ]
    for scenario in GEMINI_SCENARIOS:
        models[f"gemini-{scenario}"] = [
            {"provider": "gemini", "model": f"gemini-{scenario}", "input_price": 0.3, "output_price": 2.5}
        ]
    for scenario in CLAUDE_SCENARIOS:
        models[f"claude-{scenario}"] = [
            {"provider": "claude", "model": f"claude-{scenario}", "input_price": 3.0, "output_price": 15.0}
        ]
    return {
        "database": database,
        "admin_key": ADMIN_KEY,
        "fetch_allow_private": True,  # the fakes serve images on loopback
        "providers": {
            "fake": {"type": "openai", "base_url": f"{fake_url}/v1", "api_key": UPSTREAM_KEY, **_QUICK},
            "native": {"type": "openai", "base_url": f"{fake_url}/v1", "api_key": UPSTREAM_KEY, "responses_api": True, **_QUICK},
            "brief": {"type": "openai", "base_url": f"{fake_url}/v1", "api_key": UPSTREAM_KEY, "timeout_seconds": 1},
            "down": {"type": "openai", "base_url": "http://127.0.0.1:9/v1", "api_key": "sk-down"},
            "mock": {"type": "mock"},
            "claude": {"type": "anthropic", "base_url": anthropic_url, "api_key": ANTHROPIC_KEY, **_QUICK},
            "gemini": {"type": "gemini", "base_url": gemini_url, "api_key": GEMINI_KEY, **_QUICK},
        },
        "models": models,
    }


@pytest.fixture(scope="module", params=["sqlite", "postgresql"])
def gateway(
    request: pytest.FixtureRequest,
    tmp_path_factory: pytest.TempPathFactory,
    fake_openai: FakeOpenAI,
    fake_anthropic: FakeAnthropic,
    fake_gemini: FakeGemini,
) -> Iterator[GatewayProcess]:
    """The gateway on each database backend, started once per test module. (Once per session would
    save ~45 start-ups, but made test_limits' concurrency test flaky on PostgreSQL: see the session-4
    note.)"""
    workdir = tmp_path_factory.mktemp("gateway")
    database = f"sqlite:///{workdir}/anygate.db" if request.param == "sqlite" else request.getfixturevalue("postgres_url")
    config = gateway_config(database, fake_openai.url, fake_anthropic.url, fake_gemini.url)  # type: ignore[attr-defined]
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def api_key(gateway: GatewayProcess) -> str:
    """A fresh key on the gateway, allowed every model."""
    return str(gateway.create_key()["key"])
