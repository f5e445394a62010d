"""The recorded traffic of the agent CLIs (Codex CLI 0.171, Claude Code 2.1.332, Gemini CLI 0.61:
headers and bodies of a session that asks about a file, gets a tool call, and sends its result back)
replayed through the real gateway to an upstream of each family.

Every request must be accepted and answered in the client's own stream format, with the tool the
fake model chose coming back under the client's own tool name, and the tool's result reaching the
model on the second turn.
"""

from __future__ import annotations

import json
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
import requests

from tests.agents import UPSTREAMS, agent_gateway, sse_events
from tests.fakes.agent_upstream import FakeAgentUpstream
from tests.gateway_process import GatewayProcess

FIXTURES = Path(__file__).parent.parent / "fixtures" / "agents"
MARKER = "anygate-marker-7731"


def _recorded(client: str) -> list[dict[str, Any]]:
    recorded: list[dict[str, Any]] = json.loads((FIXTURES / f"{client}.json").read_text())
    return recorded


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, FakeAgentUpstream, str]]:
    for gateway, fake in agent_gateway(tmp_path_factory.mktemp("agents")):
        yield gateway, fake, str(gateway.create_key()["key"])


def _replay(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str], client: str, turn: int, model: str
) -> list[tuple[str | None, Any]]:
    gateway, _, key = agents
    recorded = _recorded(client)[turn]
    body = {**recorded["body"]}
    path = recorded["path"]
    if client == "gemini":
        path = path.replace("/gpt-test:", f"/{model}:")
    else:
        body["model"] = model
    auth = {"codex": {"Authorization": f"Bearer {key}"}, "claude": {"x-api-key": key}, "gemini": {"x-goog-api-key": key}}[client]
    answer = requests.post(gateway.url + path, json=body, headers={**recorded["headers"], **auth}, timeout=30)
    assert answer.status_code == 200, answer.text
    assert answer.headers["Content-Type"].startswith("text/event-stream")
    return sse_events(answer.content)


MODELS = list(UPSTREAMS)


@pytest.mark.parametrize("model", MODELS)
def test_codex_turns(agents: tuple[GatewayProcess, FakeAgentUpstream, str], model: str) -> None:
    events = _replay(agents, "codex", 0, model)
    kinds = [data["type"] for _, data in events]
    assert kinds[:2] == ["response.created", "response.in_progress"] and kinds[-1] == "response.completed"
    assert [d["sequence_number"] for _, d in events] == list(range(len(events)))
    calls = [d["item"] for _, d in events if d["type"] == "response.output_item.done"]
    assert len(calls) == 1 and calls[0]["type"] == "function_call" and calls[0]["name"] == "exec_command"
    assert json.loads(calls[0]["arguments"]) == {"cmd": "cat /tmp/rec/marker.txt"}
    assert events[-1][1]["response"]["output"] == calls

    events = _replay(agents, "codex", 1, model)
    text = "".join(d["delta"] for _, d in events if d["type"] == "response.output_text.delta")
    assert text.startswith("The file says: ") and MARKER in text
    assert events[-1][1]["response"]["output"][0]["content"][0]["text"] == text


def test_codex_tools_reach_a_chat_upstream_flattened_and_hosted_ones_dropped(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str],
) -> None:
    gateway, fake, _ = agents
    _replay(agents, "codex", 0, "agent-openai")
    sent = fake.requests[-1]["body"]
    names = [t["function"]["name"] for t in sent["tools"]]
    recorded = _recorded("codex")[0]["body"]["tools"]
    namespace = next(t for t in recorded if t["type"] == "namespace")
    flat = [t["name"] for t in recorded if t["type"] == "function"]
    assert names == flat[:4] + [f"{namespace['name']}__{t['name']}" for t in namespace["tools"]] + flat[4:]
    assert "web_search" not in json.dumps(sent["tools"])
    # Codex's developer messages lead the conversation: they become the system prompt, in order
    developer = [p["text"] for i in _recorded("codex")[0]["body"]["input"] if i["role"] == "developer" for p in i["content"]]
    assert sent["messages"][: len(developer)] == [{"role": "system", "content": text} for text in developer]
    assert [m["role"] for m in sent["messages"][len(developer) :]] == ["user"]
    metrics = requests.get(
        gateway.url + "/metrics", headers={"Authorization": f"Bearer {gateway.config['admin_key']}"}, timeout=5
    ).text
    assert 'anygate_dropped_tools_total{family="openai-responses",tool="web_search"}' in metrics
    assert '"hosted tools dropped"' in gateway.log() and '"tools":["web_search"]' in gateway.log()


def test_hosted_tools_are_refused_where_the_target_says_so(agents: tuple[GatewayProcess, FakeAgentUpstream, str]) -> None:
    gateway, fake, key = agents
    before = len(fake.requests)
    recorded = _recorded("codex")[0]
    body = {**recorded["body"], "model": "agent-strict"}
    answer = requests.post(gateway.url + recorded["path"], json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30)
    assert answer.status_code == 400
    error = answer.json()["error"]
    assert error["type"] == "invalid_request_error" and error["param"] == "tools"
    assert error["message"] == "tools: web_search cannot be run by the provider of 'agent-strict'"
    assert len(fake.requests) == before  # refused before anything went upstream


@pytest.mark.parametrize(
    ("model", "search"),
    [("agent-claude", {"type": "web_search_20250305", "name": "web_search"}), ("agent-gemini", {"googleSearch": {}})],
)
def test_web_search_runs_where_the_upstream_has_its_own(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str], model: str, search: dict[str, Any]
) -> None:
    gateway, fake, key = agents
    body = {"model": model, "input": "What is new today?", "tools": [{"type": "web_search"}]}
    answer = requests.post(
        gateway.url + "/openai/v1/responses", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    assert answer.json()["output"][0]["content"][0]["text"] == "pong"
    assert fake.requests[-1]["body"]["tools"] == [search]
    request_id = answer.headers["x-request-id"]
    assert not [line for line in gateway.log().splitlines() if request_id in line and "hosted tools dropped" in line]


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("tool", ["shell", "local_shell"])
def test_shell_tools_make_a_round_trip_on_every_upstream(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str], model: str, tool: str
) -> None:
    gateway, _, key = agents
    headers = {"Authorization": f"Bearer {key}"}
    body: dict[str, Any] = {
        "model": model,
        "input": "Show the content of the file /tmp/x/marker.txt",
        "tools": [{"type": tool}],
        "store": False,
    }
    first = requests.post(gateway.url + "/openai/v1/responses", json=body, headers=headers, timeout=30).json()
    call = first["output"][0]
    if tool == "shell":
        assert call["type"] == "shell_call" and call["action"] == {"commands": ["cat /tmp/x/marker.txt"]}
        result: dict[str, Any] = {
            "type": "shell_call_output",
            "call_id": call["call_id"],
            "output": [{"stdout": MARKER, "stderr": "", "outcome": {"type": "exit", "exit_code": 0}}],
        }
    else:
        assert call["type"] == "local_shell_call" and call["action"] == {
            "type": "exec",
            "command": ["cat", "/tmp/x/marker.txt"],
            "env": {},
        }
        result = {"type": "local_shell_call_output", "call_id": call["call_id"], "output": MARKER}
    body["input"] = [{"role": "user", "content": body["input"]}, call, result]
    second = requests.post(gateway.url + "/openai/v1/responses", json=body, headers=headers, timeout=30).json()
    text = second["output"][0]["content"][0]["text"]  # Gemini gets the result as {"result": …}
    assert text.startswith("The file says: ") and MARKER in text


def test_code_execution_from_a_gemini_client_runs_at_anthropic_with_its_beta_flag(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str],
) -> None:
    gateway, fake, key = agents
    body = {"contents": [{"role": "user", "parts": [{"text": "Sum 1..100 with code"}]}], "tools": [{"codeExecution": {}}]}
    answer = requests.post(
        gateway.url + "/gemini/v1beta/models/agent-claude:generateContent", json=body, headers={"x-goog-api-key": key}, timeout=30
    )
    assert answer.status_code == 200, answer.text
    sent = fake.requests[-1]
    assert sent["body"]["tools"] == [{"type": "code_execution_20250825", "name": "code_execution"}]
    assert sent["headers"]["anthropic-beta"] == "code-execution-2025-08-25"
    answer = requests.post(
        gateway.url + "/gemini/v1beta/models/agent-openai:generateContent", json=body, headers={"x-goog-api-key": key}, timeout=30
    )
    assert answer.status_code == 200 and "tools" not in fake.requests[-1]["body"]  # no equivalent: left out
    assert '"tools":["codeExecution"]' in gateway.log()


@pytest.mark.parametrize("model", MODELS)
def test_claude_code_turns(agents: tuple[GatewayProcess, FakeAgentUpstream, str], model: str) -> None:
    events = _replay(agents, "claude", 0, model)
    names = [name for name, _ in events if name != "ping"]
    assert names[0] == "message_start" and names[-2:] == ["message_delta", "message_stop"]
    starts = [d["content_block"] for n, d in events if n == "content_block_start"]
    assert starts == [{"type": "tool_use", "id": starts[0]["id"], "name": "Read", "input": {}}]
    arguments = "".join(d["delta"]["partial_json"] for n, d in events if n == "content_block_delta")
    assert json.loads(arguments) == {"file_path": "/tmp/rec/work/marker.txt"}
    assert events[-2][1]["delta"]["stop_reason"] == "tool_use"

    events = _replay(agents, "claude", 1, model)
    text = "".join(d["delta"]["text"] for n, d in events if n == "content_block_delta")
    assert text.startswith("The file says: ") and MARKER in text
    assert events[-2][1]["delta"]["stop_reason"] == "end_turn"


def test_claude_code_system_messages_keep_their_place_on_a_chat_upstream(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str],
) -> None:
    _, fake, _ = agents
    _replay(agents, "claude", 1, "agent-openai")
    sent = fake.requests[-1]
    roles = [m["role"] for m in sent["body"]["messages"]]
    recorded = _recorded("claude")[1]["body"]["messages"]
    assert [m["role"] for m in recorded] == ["user", "system", "assistant", "user"]
    blocks = len(_recorded("claude")[1]["body"]["system"]) - 1  # less the billing line
    assert roles == ["system"] * blocks + ["user", "system", "assistant", "tool"]  # the top-level system prompt first
    assert sent["body"]["messages"][blocks + 1]["content"] == recorded[1]["content"]
    assert "anthropic-beta" not in {k.lower() for k in sent["headers"]}
    assert sent["body"]["reasoning_effort"] == "high"  # output_config.effort, with adaptive thinking


def test_claude_code_on_gemini_hoists_system_messages(agents: tuple[GatewayProcess, FakeAgentUpstream, str]) -> None:
    _, fake, _ = agents
    _replay(agents, "claude", 1, "agent-gemini")
    sent = fake.requests[-1]["body"]
    recorded = _recorded("claude")[1]["body"]
    later = recorded["messages"][1]["content"]
    system = [p["text"] for p in sent["systemInstruction"]["parts"]]
    # the system blocks, then the later message; Claude Code's billing line (it changes on every call,
    # which would defeat the upstream's prompt cache) is left out
    assert system == [b["text"] for b in recorded["system"][1:]] + [later]
    assert recorded["system"][0]["text"].startswith("x-anthropic-billing-header:")
    assert [c["role"] for c in sent["contents"]] == ["user", "model", "user"]
    assert sent["generationConfig"]["thinkingConfig"] == {"thinkingBudget": 24576}  # effort high, thoughts not shown


def test_claude_code_relayed_to_anthropic_keeps_its_beta_flags(agents: tuple[GatewayProcess, FakeAgentUpstream, str]) -> None:
    _, fake, _ = agents
    _replay(agents, "claude", 0, "agent-claude")
    sent = fake.requests[-1]
    assert sent["headers"]["anthropic-beta"] == _recorded("claude")[0]["headers"]["anthropic-beta"]
    assert [m["role"] for m in sent["body"]["messages"]] == ["user", "system"]


@pytest.mark.parametrize("model", MODELS)
def test_gemini_cli_turns(agents: tuple[GatewayProcess, FakeAgentUpstream, str], model: str) -> None:
    events = _replay(agents, "gemini", 0, model)
    calls = [
        p["functionCall"]
        for _, d in events
        for c in d.get("candidates", [])
        for p in c["content"].get("parts", [])
        if "functionCall" in p
    ]
    assert len(calls) == 1 and calls[0]["name"] == "read_file" and calls[0]["args"] == {"file_path": "/tmp/rec/work/marker.txt"}

    events = _replay(agents, "gemini", 1, model)
    text = "".join(p.get("text", "") for _, d in events for c in d.get("candidates", []) for p in c["content"].get("parts", []))
    assert text.startswith("The file says: ") and MARKER in text


def test_gemini_include_thoughts_keeps_the_default_effort(agents: tuple[GatewayProcess, FakeAgentUpstream, str]) -> None:
    _, fake, _ = agents
    _replay(agents, "gemini", 0, "agent-openai")
    assert "reasoning_effort" not in fake.requests[-1]["body"]
    _replay(agents, "gemini", 0, "agent-claude")
    assert fake.requests[-1]["body"]["thinking"] == {"type": "enabled", "budget_tokens": 8192}


# A prompt too long for the model, told in each client family's own words whichever upstream said it:
# what agent CLIs look for before they compact their history.
OVERFLOW_WORDS = {
    "openai": (
        "This model's maximum context length is 128000 tokens. However, your messages resulted in 131072 tokens.",
        "context_length_exceeded",
    ),
    "anthropic": ("prompt is too long: 131072 tokens > 128000 maximum", None),
    "gemini": ("The input token count (131072) exceeds the maximum number of tokens allowed (128000).", None),
}


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("client", ["openai", "anthropic", "gemini"])
def test_a_prompt_too_long_is_refused_in_the_clients_words(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str], client: str, model: str
) -> None:
    gateway, _, key = agents
    text = "TOO-LONG " * 3
    if client == "openai":
        body: dict[str, Any] = {"model": model, "input": text}
        answer = requests.post(
            gateway.url + "/openai/v1/responses", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=30
        )
        error = answer.json()["error"]
        got = (error["message"], error["code"])
        assert error["type"] == "invalid_request_error"
    elif client == "anthropic":
        body = {"model": model, "max_tokens": 100, "messages": [{"role": "user", "content": text}]}
        answer = requests.post(gateway.url + "/anthropic/v1/messages", json=body, headers={"x-api-key": key}, timeout=30)
        error = answer.json()["error"]
        got = (error["message"], None)
        assert error["type"] == "invalid_request_error"
    else:
        body = {"contents": [{"role": "user", "parts": [{"text": text}]}]}
        answer = requests.post(
            gateway.url + f"/gemini/v1beta/models/{model}:generateContent", json=body, headers={"x-goog-api-key": key}, timeout=30
        )
        error = answer.json()["error"]
        got = (error["message"], None)
        assert error["status"] == "INVALID_ARGUMENT"
    assert answer.status_code == 400
    assert got == OVERFLOW_WORDS[client]
