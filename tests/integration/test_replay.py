"""What a client family cannot carry between turns is kept by the gateway and replayed to the upstream,
also when the next turn reaches another instance (or a restarted one) on the same database."""

from __future__ import annotations

from collections.abc import Iterator
from typing import Any

import pytest
from openai import OpenAI

from tests.fakes.anthropic_upstream import SIGNATURE as CLAUDE_SIGNATURE
from tests.fakes.anthropic_upstream import THOUGHT, FakeAnthropic
from tests.fakes.gemini_upstream import SIGNATURE as GEMINI_SIGNATURE
from tests.fakes.gemini_upstream import FakeGemini
from tests.gateway_process import GatewayProcess

TOOLS: list[Any] = [{"type": "function", "function": {"name": "get_weather", "parameters": {"type": "object"}}}]


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess, api_key: str) -> OpenAI:
    return OpenAI(base_url=gateway.url + "/openai/v1", api_key=api_key, max_retries=0)


@pytest.fixture(scope="module")
def other_client(gateway: GatewayProcess, api_key: str, tmp_path_factory: pytest.TempPathFactory) -> Iterator[OpenAI]:
    """A client of a second instance on the same database."""
    other = GatewayProcess(tmp_path_factory.mktemp("other"), gateway.config).start()
    yield OpenAI(base_url=other.url + "/openai/v1", api_key=api_key, max_retries=0)
    other.stop()


def _first_turn(client: OpenAI, model: str, stream: bool) -> list[tuple[str, str]]:
    """The (id, name) of each tool call of a first turn."""
    ask: list[Any] = [{"role": "user", "content": "weather?"}]
    if not stream:
        message = client.chat.completions.create(model=model, messages=ask, tools=TOOLS).choices[0].message
        return [(c.id, c.function.name) for c in message.tool_calls or []]  # type: ignore[union-attr]
    chunks = client.chat.completions.create(model=model, messages=ask, tools=TOOLS, stream=True)
    return [
        (d.id, d.function.name)
        for c in chunks
        for ch in c.choices
        for d in ch.delta.tool_calls or []
        if d.id and d.function and d.function.name
    ]


def _second_turn(client: OpenAI, model: str, calls: list[tuple[str, str]]) -> None:
    history: list[Any] = [
        {"role": "user", "content": "weather?"},
        {
            "role": "assistant",
            "content": None,
            "tool_calls": [{"id": i, "type": "function", "function": {"name": n, "arguments": "{}"}} for i, n in calls],
        },
        *({"role": "tool", "tool_call_id": i, "content": '{"sky": "clear"}'} for i, _ in calls),
    ]
    client.chat.completions.create(model=model, messages=history, tools=TOOLS)


@pytest.mark.parametrize("stream", [False, True])
def test_gemini_thought_signature_comes_back_on_the_replayed_call(client: OpenAI, fake_gemini: FakeGemini, stream: bool) -> None:
    _second_turn(client, "gemini-tools", _first_turn(client, "gemini-tools", stream))
    model_turn = fake_gemini.requests[-1]["body"]["contents"][1]
    assert model_turn["role"] == "model"
    assert model_turn["parts"][0]["thoughtSignature"] == GEMINI_SIGNATURE
    assert "thoughtSignature" not in model_turn["parts"][1]
    results = fake_gemini.requests[-1]["body"]["contents"][2]["parts"]
    assert [r["functionResponse"]["name"] for r in results] == ["get_weather", "get_time"]


@pytest.mark.parametrize("stream", [False, True])
def test_anthropic_thinking_comes_back_before_the_replayed_tool_use(
    client: OpenAI, fake_anthropic: FakeAnthropic, stream: bool
) -> None:
    _second_turn(client, "claude-think-tools", _first_turn(client, "claude-think-tools", stream))
    assistant = fake_anthropic.requests[-1]["body"]["messages"][1]
    assert assistant["role"] == "assistant"
    assert assistant["content"][0] == {"type": "thinking", "thinking": THOUGHT, "signature": CLAUDE_SIGNATURE}
    assert assistant["content"][1]["type"] == "tool_use"


def test_anthropic_thinking_reaches_openai_clients_as_reasoning_content(client: OpenAI) -> None:
    first = client.chat.completions.create(
        model="claude-think-tools", messages=[{"role": "user", "content": "weather?"}], tools=TOOLS
    )
    assert (first.choices[0].message.model_extra or {})["reasoning_content"] == THOUGHT
    chunks = list(
        client.chat.completions.create(
            model="claude-think-tools", messages=[{"role": "user", "content": "weather?"}], tools=TOOLS, stream=True
        )
    )
    assert "".join((c.choices[0].delta.model_extra or {}).get("reasoning_content") or "" for c in chunks if c.choices) == THOUGHT


@pytest.mark.parametrize("stream", [False, True])
def test_the_next_turn_on_another_instance_gets_the_signatures_and_thinking_back(
    client: OpenAI, other_client: OpenAI, fake_gemini: FakeGemini, fake_anthropic: FakeAnthropic, stream: bool
) -> None:
    _second_turn(other_client, "gemini-tools", _first_turn(client, "gemini-tools", stream))
    assert fake_gemini.requests[-1]["body"]["contents"][1]["parts"][0]["thoughtSignature"] == GEMINI_SIGNATURE
    _second_turn(other_client, "claude-think-tools", _first_turn(client, "claude-think-tools", stream))
    assistant = fake_anthropic.requests[-1]["body"]["messages"][1]
    assert assistant["content"][0] == {"type": "thinking", "thinking": THOUGHT, "signature": CLAUDE_SIGNATURE}
