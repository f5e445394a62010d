"""The agent CLIs as they ship (pinned in clients/package.json, installed by `make clients`), run
headless with their default settings against the real gateway, on a model of each upstream family.

Each run asks about a file: the (fake) model calls the CLI's own file or shell tool, the CLI runs it
and sends the result back, and the model's streamed answer quotes the file. A CLI that prints that
answer has done a streamed text turn and a whole tool round trip through the gateway.
"""

from __future__ import annotations

import os
import subprocess
from collections.abc import Iterator
from pathlib import Path

import pytest

from tests.agents import UPSTREAMS, agent_gateway
from tests.conftest import REQUIRE_SERVICES
from tests.fakes.agent_upstream import FakeAgentUpstream
from tests.gateway_process import GatewayProcess

BIN = Path(__file__).parent.parent.parent / "clients" / "node_modules" / ".bin"
MARKER = "anygate-marker-5120"


@pytest.fixture(scope="module")
def agents(tmp_path_factory: pytest.TempPathFactory) -> Iterator[tuple[GatewayProcess, FakeAgentUpstream, str]]:
    for gateway, fake in agent_gateway(tmp_path_factory.mktemp("agent-clis")):
        yield gateway, fake, str(gateway.create_key()["key"])


def _cli(name: str) -> Path:
    path = BIN / name
    if not path.exists():
        message = f"{name} is not installed in clients/node_modules: `make clients` installs the agent CLIs"
        if REQUIRE_SERVICES:
            pytest.fail(message + "; ANYGATE_REQUIRE_SERVICES=1 says they must be")
        pytest.skip(message)
    return path


def _workdir(tmp_path: Path) -> tuple[Path, Path]:
    """A fresh home and a project folder holding the file to ask about."""
    home, work = tmp_path / "home", tmp_path / "work"
    home.mkdir()
    work.mkdir()
    (work / "marker.txt").write_text(MARKER + "\n")
    return home, work


def _run(command: list[str], env: dict[str, str], cwd: Path) -> str:
    base = {k: v for k, v in os.environ.items() if not k.endswith(("_API_KEY", "_BASE_URL", "_AUTH_TOKEN"))}
    result = subprocess.run(
        command, env={**base, **env}, cwd=cwd, capture_output=True, text=True, timeout=120, stdin=subprocess.DEVNULL
    )
    assert result.returncode == 0, f"{command[0]} failed ({result.returncode}):\n{result.stdout}\n{result.stderr}"
    return result.stdout


def _answered(output: str, fake: FakeAgentUpstream, before: int) -> None:
    assert "The file says:" in output and MARKER in output, output
    assert len(fake.requests) - before >= 2  # the turn that called the tool, and the one that got its result


@pytest.mark.parametrize("model", list(UPSTREAMS))
def test_codex_exec(agents: tuple[GatewayProcess, FakeAgentUpstream, str], tmp_path: Path, model: str) -> None:
    gateway, fake, key = agents
    codex = _cli("codex")
    home, work = _workdir(tmp_path)
    (home / "config.toml").write_text(
        f'model = "{model}"\nmodel_provider = "anygate"\n\n[model_providers.anygate]\nname = "anygate"\n'
        f'base_url = "{gateway.url}/openai/v1"\nenv_key = "ANYGATE_API_KEY"\nwire_api = "responses"\n'
    )
    before = len(fake.requests)
    prompt = f"Show the content of the file {work}/marker.txt"
    output = _run(
        [str(codex), "exec", "--skip-git-repo-check", prompt],  # its default sandbox (read-only) runs `cat`
        {"CODEX_HOME": str(home), "HOME": str(home), "ANYGATE_API_KEY": key},
        work,
    )
    _answered(output, fake, before)


@pytest.mark.parametrize("model", list(UPSTREAMS))
def test_claude_code_print(agents: tuple[GatewayProcess, FakeAgentUpstream, str], tmp_path: Path, model: str) -> None:
    gateway, fake, key = agents
    claude = _cli("claude")
    home, work = _workdir(tmp_path)
    env = {
        "HOME": str(home),
        "ANTHROPIC_BASE_URL": gateway.url + "/anthropic",
        "ANTHROPIC_API_KEY": key,
        "DISABLE_TELEMETRY": "1",
        "CLAUDE_CODE_DISABLE_NONESSENTIAL_TRAFFIC": "1",
    }
    before = len(fake.requests)
    output = _run([str(claude), "-p", f"Show the content of the file {work}/marker.txt", "--model", model], env, work)
    _answered(output, fake, before)


@pytest.mark.parametrize("model", list(UPSTREAMS))
def test_gemini_cli_prompt(agents: tuple[GatewayProcess, FakeAgentUpstream, str], tmp_path: Path, model: str) -> None:
    gateway, fake, key = agents
    gemini = _cli("gemini")
    home, work = _workdir(tmp_path)
    (home / ".gemini").mkdir()
    (home / ".gemini" / "settings.json").write_text('{"security": {"auth": {"selectedType": "gemini-api-key"}}}')
    env = {
        "HOME": str(home),
        "GEMINI_API_KEY": key,
        "GOOGLE_GEMINI_BASE_URL": gateway.url + "/gemini",
        "GEMINI_CLI_TRUST_WORKSPACE": "true",
    }
    before = len(fake.requests)
    output = _run([str(gemini), "-p", f"Show the content of the file {work}/marker.txt", "-m", model], env, work)
    _answered(output, fake, before)
