"""The README's "First call" works as pasted: the shell snippet (a key into KEY, then curl) and each
SDK snippet, against the gateway `make run` starts (the built-in default), run from its folder."""

from __future__ import annotations

import os
import re
import subprocess
import sys
import time
import urllib.request
from pathlib import Path

import pytest

from tests.fakes.server_thread import free_port

ROOT = Path(__file__).resolve().parents[2]
BIN = Path(sys.executable).parent


def _first_call_snippets() -> list[tuple[str, str]]:
    text = (ROOT / "README.md").read_text()
    section = text.split("## First call", 1)[1].split("\n## ", 1)[0]
    return re.findall(r"```(sh|python)\n(.*?)```", section, re.S)


@pytest.fixture(scope="module")
def default_gateway(tmp_path_factory: pytest.TempPathFactory) -> object:
    folder = tmp_path_factory.mktemp("first-call")
    port = free_port()
    env = {k: v for k, v in os.environ.items() if not k.startswith("ANYGATE_") and not k.endswith("_API_KEY")}
    proc = subprocess.Popen(
        [str(BIN / "anygate"), "serve", "--port", str(port)],
        cwd=folder,
        env=env,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    deadline = time.time() + 30
    while time.time() < deadline:
        try:
            urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=1).close()
            break
        except OSError:
            time.sleep(0.1)
    yield folder, port, env
    proc.terminate()
    proc.wait(30)


def test_the_first_call_works_as_pasted(default_gateway: tuple[Path, int, dict[str, str]]) -> None:
    folder, port, env = default_gateway
    snippets = _first_call_snippets()
    assert [kind for kind, _ in snippets] == ["sh", "python", "python", "python"]
    (folder / ".venv").mkdir(exist_ok=True)
    if not (folder / ".venv" / "bin").exists():
        (folder / ".venv" / "bin").symlink_to(BIN)  # the snippets name .venv/bin, as in a clone
    shell = snippets[0][1].replace("8080", str(port)) + '\nprintf "\\nKEY=%s\\n" "$KEY"\n'
    ran = subprocess.run(
        ["bash", "-euo", "pipefail", "-c", shell], cwd=folder, env=env, capture_output=True, text=True, timeout=60
    )
    assert ran.returncode == 0, ran.stderr
    assert '"content":"hello"' in ran.stdout.replace(" ", "")
    key = re.search(r"^KEY=(ag-\S+)$", ran.stdout, re.M)
    assert key is not None, ran.stdout
    for _, code in snippets[1:]:
        answer = subprocess.run(
            [sys.executable, "-c", code.replace("8080", str(port))],
            env={**env, "KEY": key.group(1)},
            capture_output=True,
            text=True,
            timeout=60,
        )
        assert answer.returncode == 0, answer.stderr
        assert answer.stdout.strip() == "hi", code
