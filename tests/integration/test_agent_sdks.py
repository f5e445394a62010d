"""The agent frameworks people build on, as clients of the real gateway on a model of each upstream
family: LangChain (ChatOpenAI over chat and Responses, ChatAnthropic, ChatGoogleGenerativeAI), the
OpenAI Agents SDK (Responses and chat models, run whole and streamed) and the Vercel AI SDK (a node
script in clients/, installed by `make clients`).

Each asks about a file: the (fake) model calls the framework's `read_file` tool, the framework runs
it and sends the result back, and the answer quotes the file.
"""

from __future__ import annotations

import asyncio
import json
import subprocess
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from tests.agents import UPSTREAMS, agent_gateway
from tests.conftest import REQUIRE_SERVICES
from tests.fakes.agent_upstream import FakeAgentUpstream
from tests.gateway_process import GatewayProcess

MARKER = "anygate-marker-3307"
MODELS = list(UPSTREAMS)
CLIENTS = Path(__file__).parent.parent.parent / "clients"


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, FakeAgentUpstream, str]]:
    for gateway, fake in agent_gateway(tmp_path_factory.mktemp("agent-sdks")):
        yield gateway, fake, str(gateway.create_key()["key"])


@pytest.fixture
def marker(tmp_path: Path) -> Path:
    path = tmp_path / "marker.txt"
    path.write_text(MARKER + "\n")
    return path


def read_file(file_path: str) -> str:
    """Read a text file and return its content."""
    return Path(file_path).read_text()


def _quoted(answer: Any) -> None:
    text = answer if isinstance(answer, str) else json.dumps(answer)
    assert "The file says:" in text and MARKER in text, text


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("flavour", ["openai-chat", "openai-responses", "anthropic", "google"])
def test_langchain_tool_loop(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str], marker: Path, model: str, flavour: str
) -> None:
    from langchain_core.messages import AIMessageChunk, BaseMessage, HumanMessage, ToolMessage
    from langchain_core.tools import tool

    gateway, _, key = agents
    llm: Any
    if flavour.startswith("openai"):
        from langchain_openai import ChatOpenAI

        llm = ChatOpenAI(
            model=model, base_url=gateway.url + "/openai/v1", api_key=key, use_responses_api=flavour == "openai-responses"
        )  # type: ignore[arg-type]
    elif flavour == "anthropic":
        from langchain_anthropic import ChatAnthropic

        llm = ChatAnthropic(model_name=model, base_url=gateway.url + "/anthropic", api_key=key, max_retries=0)  # type: ignore[call-arg,arg-type]
    else:
        from langchain_google_genai import ChatGoogleGenerativeAI

        llm = ChatGoogleGenerativeAI(model=model, api_key=key, base_url=gateway.url + "/gemini", max_retries=0)
    reader = tool(read_file)
    bound = llm.bind_tools([reader])
    messages: list[BaseMessage] = [HumanMessage(f"Show the content of the file {marker}")]
    call = bound.invoke(messages)  # whole
    assert [c["name"] for c in call.tool_calls] == ["read_file"]
    messages += [call, *(ToolMessage(reader.invoke(c["args"]), tool_call_id=c["id"]) for c in call.tool_calls)]
    final: AIMessageChunk | None = None
    for chunk in bound.stream(messages):  # streamed
        final = chunk if final is None else final + chunk
    assert final is not None
    _quoted(final.text)


@pytest.mark.parametrize("model", MODELS)
@pytest.mark.parametrize("wire", ["responses", "chat"])
def test_openai_agents_sdk_run(
    agents: tuple[GatewayProcess, FakeAgentUpstream, str], marker: Path, model: str, wire: str
) -> None:
    from agents import Agent, OpenAIChatCompletionsModel, OpenAIResponsesModel, Runner, function_tool, set_tracing_disabled
    from openai import AsyncOpenAI

    gateway, _, key = agents
    set_tracing_disabled(True)  # traces would go to OpenAI's platform

    async def run() -> tuple[str, str]:
        client = AsyncOpenAI(base_url=gateway.url + "/openai/v1", api_key=key, max_retries=0)
        chosen: Any = OpenAIResponsesModel(model, client) if wire == "responses" else OpenAIChatCompletionsModel(model, client)
        agent = Agent(name="reader", instructions="Answer from the files.", tools=[function_tool(read_file)], model=chosen)
        prompt = f"Show the content of the file {marker}"
        whole = await Runner.run(agent, prompt)
        streamed = Runner.run_streamed(agent, prompt)
        async for _ in streamed.stream_events():
            pass
        return str(whole.final_output), str(streamed.final_output)

    whole, streamed = asyncio.run(run())
    _quoted(whole)
    _quoted(streamed)


@pytest.mark.parametrize("model", MODELS)
def test_vercel_ai_sdk(agents: tuple[GatewayProcess, FakeAgentUpstream, str], marker: Path, model: str) -> None:
    gateway, _, key = agents
    if not (CLIENTS / "node_modules" / "ai").exists():
        message = "the Vercel AI SDK is not installed in clients/node_modules: `make clients` installs it"
        if REQUIRE_SERVICES:
            pytest.fail(message + "; ANYGATE_REQUIRE_SERVICES=1 says it must be")
        pytest.skip(message)
    result = subprocess.run(
        ["node", str(CLIENTS / "vercel-ai.mjs"), gateway.url, key, model, str(marker)],
        capture_output=True,
        text=True,
        timeout=120,
    )
    assert result.returncode == 0, result.stdout + result.stderr
    answers = json.loads(result.stdout)
    assert set(answers) == {"openai-responses", "openai-chat", "openai-compatible", "anthropic", "google"}
    for provider, texts in answers.items():
        assert len(texts) == 2, provider  # generateText, then streamText
        for text in texts:
            _quoted(text)
