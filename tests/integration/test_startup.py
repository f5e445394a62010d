"""What an operator sees when the gateway starts, fails to start, or stops: one clear line for each
expected failure (no traceback), the start-up's details without secrets, and a useful `GET /`."""

from __future__ import annotations

import socket
from pathlib import Path
from typing import Any

import requests
import yaml

from anygate import __version__
from tests.fakes.server_thread import free_port
from tests.gateway_process import GatewayProcess, anygate


def _config(tmp_path: Path, **extra: Any) -> Path:
    path = tmp_path / "anygate.yaml"
    path.write_text(
        yaml.safe_dump({"database": f"sqlite:///{tmp_path}/anygate.db", "providers": {"mock": {"type": "mock"}}, **extra})
    )
    return path


def test_a_busy_port_is_one_line_and_exit_1(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = anygate("serve", "--config", str(_config(tmp_path)), "--port", str(port), "--workers", "2", check=False)
    assert result.returncode == 1
    assert (
        result.stderr.strip()
        == f"error: 127.0.0.1:{port} is in use (another anygate, or another server?): stop it or choose --port"
    )
    assert "Traceback" not in result.stdout + result.stderr


def test_a_database_out_of_reach_is_one_line_without_its_password(tmp_path: Path) -> None:
    config = _config(tmp_path, database=f"postgresql://anygate:hunter2@127.0.0.1:{free_port()}/gateway")
    for command in (["serve", "--port", str(free_port())], ["keys", "list"]):
        result = anygate(*command, "--config", str(config), check=False)
        assert result.returncode == 1, result.stdout
        lines = [
            line for line in result.stderr.strip().splitlines() if not line.startswith("database: ")
        ]  # the CLI names it first
        assert len(lines) == 1 and lines[0].startswith("error: the database postgresql://anygate:***@127.0.0.1:"), lines
        assert "hunter2" not in result.stderr and "Traceback" not in result.stderr


def test_start_up_and_stop_are_logged_with_what_an_operator_needs(tmp_path: Path) -> None:
    gateway = GatewayProcess(
        tmp_path, {"database": f"sqlite:///{tmp_path}/anygate.db", "providers": {"mock": {"type": "mock"}}}
    ).start()
    try:
        root = requests.get(gateway.url + "/", timeout=5).json()
        assert root["version"] == __version__ and root["links"]["endpoints"] == "/api-endpoints.json"
        assert root["sdk_base_urls"]["openai"] == "/openai/v1"
        disabled = requests.get(gateway.url + "/admin/v1/keys", timeout=5)  # no admin_key here: how to turn it on
        message = disabled.json()["error"]["message"]
        assert disabled.status_code == 404 and "admin_key: ${ANYGATE_ADMIN_KEY} in its configuration file" in message
        assert "the ANYGATE_ADMIN_KEY environment variable" in message and "restart" in message
    finally:
        assert gateway.stop() == 0
    log = gateway.log()
    starting = next(line for line in log.splitlines() if "anygate starting" in line)
    assert (
        f"database sqlite:///{tmp_path}/anygate.db" in starting and "providers mock (mock)" in starting and "0 models" in starting
    )
    assert f"on http://127.0.0.1:{gateway.port} with 1 worker:" in starting
    assert "no models are configured" in log
    assert (
        log.index("anygate starting")
        < log.index(f"anygate listening on http://127.0.0.1:{gateway.port}")
        < log.index("anygate stopped")
    )


def test_version() -> None:
    assert anygate("--version").stdout.strip() == f"anygate {__version__}"


def test_config_check_refuses_what_serve_could_not_use_and_warns_of_no_models(tmp_path: Path) -> None:
    bad = anygate("config", "check", "--config", str(_config(tmp_path, database="mysql://u:p@db/anygate")), check=False)
    assert (
        bad.returncode == 2 and "database: 'mysql' is not a database this gateway uses" in bad.stderr and ":p@" not in bad.stderr
    )
    empty = tmp_path / "empty.yaml"
    empty.write_text("# nothing yet\n")
    refused = anygate("config", "check", "--config", str(empty), check=False)
    assert refused.returncode == 2 and "the file is empty" in refused.stderr
    bare = anygate("config", "check", "--config", str(_config(tmp_path)))
    assert bare.stdout.strip().endswith(": 1 provider, 0 models") and "warning: no models are configured" in bare.stderr


def test_config_check_connect_reaches_each_service(tmp_path: Path, fake_openai: Any) -> None:
    dead = free_port()
    config = _config(
        tmp_path,
        providers={
            "a-up": {"type": "openai", "base_url": fake_openai.url + "/v1"},
            "b-gone": {"type": "openai", "base_url": f"http://127.0.0.1:{dead}/v1"},
        },
        models={"m": [{"provider": "a-up", "model": "x"}]},
    )
    result = anygate("config", "check", "--config", str(config), "--connect", check=False)
    lines = result.stdout.strip().splitlines()
    assert result.returncode == 1, result.stdout
    assert lines[0].endswith(": 2 providers, 1 model") and lines[1] == f"reachable: database sqlite:///{tmp_path}/anygate.db"
    assert lines[2] == f"reachable: provider a-up {fake_openai.url}/v1"
    assert lines[3].startswith(f"unreachable: provider b-gone http://127.0.0.1:{dead}/v1: ") and len(lines) == 4


def test_a_cli_command_names_its_database_and_says_when_it_made_a_new_one(tmp_path: Path) -> None:
    first = anygate("keys", "list", "--json", cwd=tmp_path)
    assert first.stdout.strip() == "[]"
    assert first.stderr.splitlines()[0] == f"database: sqlite:///./anygate.db ({tmp_path.resolve()}/anygate.db)"
    assert f"note: {tmp_path.resolve()}/anygate.db did not exist: it was made now, empty." in first.stderr.replace("\n", " ")
    again = anygate("keys", "list", "--json", cwd=tmp_path)
    assert "did not exist" not in again.stderr and again.stderr.startswith("database: ")


def test_the_cli_refuses_keys_and_ids_that_do_not_exist(tmp_path: Path) -> None:
    config = str(_config(tmp_path, models={"chat": [{"provider": "mock", "model": "mock-chat"}]}))
    unknown = anygate("keys", "create", "--config", config, "--name", "x", "--models", "chat,ghost", check=False)
    assert unknown.returncode == 2 and "--models: ghost is not configured (configured: chat)" in unknown.stderr
    past = anygate("keys", "create", "--config", config, "--name", "x", "--expires", "2020-01-01", check=False)
    assert past.returncode == 2 and "--expires: '2020-01-01'" in past.stderr
    usage = anygate("usage", "--config", config, "--key", "key_ghost", check=False)
    assert usage.returncode == 1 and "no key with id 'key_ghost'" in usage.stderr
