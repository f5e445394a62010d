"""What the agent-client tests share: a gateway whose models sit on the agent fake in each upstream
family, and a reader of the event streams the gateway answers with."""

from __future__ import annotations

from collections.abc import Iterator
from pathlib import Path
from typing import Any

import orjson

from tests.fakes.agent_upstream import FakeAgentUpstream
from tests.fakes.server_thread import ServerThread
from tests.gateway_process import GatewayProcess

ADMIN_KEY = "admin-secret-for-agent-tests"
# public model -> the upstream family behind it (and `agent-strict`, an OpenAI chat target that refuses hosted tools)
UPSTREAMS = {"agent-openai": "openai", "agent-claude": "anthropic", "agent-gemini": "gemini"}


def agent_gateway(workdir: Path) -> Iterator[tuple[GatewayProcess, FakeAgentUpstream]]:
    """The gateway in front of one agent fake serving every family, on SQLite, until the generator ends."""
    fake = FakeAgentUpstream()
    server = ServerThread(fake.app).start()
    quick = {"first_byte_timeout_seconds": 5, "idle_timeout_seconds": 5}
    config: dict[str, Any] = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "admin_key": ADMIN_KEY,
        "providers": {
            "openai": {"type": "openai", "base_url": f"{server.url}/v1", "api_key": "sk-agent-openai", **quick},
            "anthropic": {"type": "anthropic", "base_url": server.url, "api_key": "sk-agent-anthropic", **quick},
            "gemini": {"type": "gemini", "base_url": server.url, "api_key": "sk-agent-gemini", **quick},
        },
        "models": {model: [{"provider": family, "model": f"up-{model}"}] for model, family in UPSTREAMS.items()},
    }
    config["models"]["agent-strict"] = [{"provider": "openai", "model": "up-agent-strict", "hosted_tools": "refuse"}]
    gateway = GatewayProcess(workdir, config).start()
    try:
        yield gateway, fake
    finally:
        gateway.stop()
        server.stop()


def sse_events(raw: bytes) -> list[tuple[str | None, Any]]:
    """The (event name, parsed data) pairs of an event stream; `[DONE]` comes as its string."""
    events: list[tuple[str | None, Any]] = []
    for block in raw.replace(b"\r\n", b"\n").split(b"\n\n"):
        name, data = None, []
        for line in block.split(b"\n"):
            if line.startswith(b"event:"):
                name = line[6:].strip().decode()
            elif line.startswith(b"data:"):
                data.append(line[5:].strip())
        if data:
            payload = b"\n".join(data)
            events.append((name, payload.decode() if payload == b"[DONE]" else orjson.loads(payload)))
    return events
