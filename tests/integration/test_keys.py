"""Keys through the CLI and the running gateway: shown once, stored hashed, revoked and expired keys refused."""

from __future__ import annotations

import json
import time
from datetime import UTC, datetime, timedelta
from pathlib import Path

import pytest
import requests

from tests.gateway_process import GatewayProcess, anygate
from tests.integration.conftest import ADMIN_KEY

HELLO = {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]}


def _chat(gateway: GatewayProcess, headers: dict[str, str], params: dict[str, str] | None = None) -> requests.Response:
    return requests.post(gateway.url + "/openai/v1/chat/completions", json=HELLO, headers=headers, params=params, timeout=10)


def test_every_auth_style_works(gateway: GatewayProcess, api_key: str) -> None:
    for headers, params in [
        ({"Authorization": f"Bearer {api_key}"}, None),
        ({"x-api-key": api_key}, None),
        ({"x-goog-api-key": api_key}, None),
        ({}, {"key": api_key}),
    ]:
        assert _chat(gateway, headers, params).status_code == 200, (headers, params)


def test_key_is_shown_once_and_stored_only_as_a_hash(gateway: GatewayProcess) -> None:
    created = gateway.create_key("--rpm", "60", "--tpm", "1000", "--budget", "2.5", "--models", "mock-fast,gpt-test", cli=True)
    assert created["key"].startswith("ag-") and len(created["key"]) > 40
    shown = json.loads(gateway.cli("keys", "show", created["id"], "--json").stdout)
    assert "key" not in shown and created["key"] not in json.dumps(shown)
    assert shown["prefix"] == created["key"][:10]
    assert (shown["rpm"], shown["tpm"], shown["budget_usd"], shown["models"]) == (60, 1000, 2.5, ["mock-fast", "gpt-test"])
    listed = json.loads(gateway.cli("keys", "list", "--json").stdout)
    assert created["id"] in {k["id"] for k in listed}
    assert created["key"] not in gateway.cli("keys", "list").stdout
    db_file = gateway.workdir / "anygate.db"
    if db_file.exists():  # SQLite: the plaintext key is nowhere in the file
        assert created["key"].encode() not in db_file.read_bytes()


def test_revoked_key_is_refused_within_seconds_by_the_running_gateway(gateway: GatewayProcess) -> None:
    created = gateway.create_key()
    headers = {"Authorization": f"Bearer {created['key']}"}
    assert _chat(gateway, headers).status_code == 200  # now cached in the gateway
    gateway.cli("keys", "revoke", created["id"])  # another process, straight on the database
    deadline = time.time() + 8
    while time.time() < deadline and _chat(gateway, headers).status_code == 200:
        time.sleep(0.2)
    refused = _chat(gateway, headers)
    assert refused.status_code == 401 and "revoked" in refused.json()["error"]["message"]
    assert json.loads(gateway.cli("keys", "show", created["id"], "--json").stdout)["status"] == "revoked"


def test_expired_key_is_refused(gateway: GatewayProcess) -> None:
    past = (datetime.now(UTC) - timedelta(minutes=1)).isoformat()
    created = gateway.create_key("--expires", past)
    resp = _chat(gateway, {"Authorization": f"Bearer {created['key']}"})
    assert resp.status_code == 401 and "expired" in resp.json()["error"]["message"]


def test_key_created_after_start_works_at_once(gateway: GatewayProcess) -> None:
    created = gateway.create_key()
    assert _chat(gateway, {"x-api-key": created["key"]}).status_code == 200


def test_models_list_only_shows_allowed_models(gateway: GatewayProcess) -> None:
    created = gateway.create_key("--models", "mock-fast")
    resp = requests.get(gateway.url + "/openai/v1/models", headers={"Authorization": f"Bearer {created['key']}"}, timeout=10)
    created_at = resp.json()["data"][0]["created_at"]
    entry = {"id": "mock-fast", "object": "model", "created": resp.json()["data"][0]["created"], "owned_by": "mock"}
    entry |= {"display_name": "mock-fast", "type": "model", "created_at": created_at}
    assert resp.json() == {"object": "list", "data": [entry], "has_more": False, "first_id": "mock-fast", "last_id": "mock-fast"}


def test_unknown_key_id_is_a_clear_cli_error(gateway: GatewayProcess) -> None:
    result = gateway.cli("keys", "revoke", "key_nope", check=False)
    assert result.returncode == 1 and "no key with id 'key_nope'" in result.stderr


def test_health_and_endpoint_index_need_no_key(gateway: GatewayProcess) -> None:
    assert requests.get(gateway.url + "/health", timeout=5).json()["status"] == "ok"
    index = requests.get(gateway.url + "/api-endpoints.json", timeout=5).json()
    routes = {(e["method"], e["path"]) for e in index["endpoints"]}
    assert {
        ("GET", "/health"),
        ("GET", "/openai/v1/models"),
        ("GET", "/openai/v1/models/{model}"),
        ("POST", "/openai/v1/chat/completions"),
        ("POST", "/anthropic/v1/messages"),
        ("POST", "/anthropic/v1/messages/count_tokens"),
        ("GET", "/anthropic/v1/models"),
        ("POST", "/gemini/v1beta/models/{model}:streamGenerateContent"),
        ("GET", "/dashscope/v1/tasks/{task_id}"),
    } <= routes
    assert not any(path.startswith(("/admin", "/metrics", "/dashboard")) for _, path in routes), (
        "the public index lists client routes only"
    )
    assert not any(":" in path.split("{")[-1].split("}")[0] for _, path in routes if "{" in path), "no framework patterns"
    by_path = {e["path"]: e for e in index["endpoints"]}
    chat = by_path["/openai/v1/chat/completions"]
    assert chat["family"] == "openai" and chat["mode"] == "sync+stream" and chat["auth"] == ["Authorization: Bearer <key>"]
    assert by_path["/anthropic/v1/messages"]["auth"][0] == "x-api-key: <key>"
    assert by_path["/gemini/v1beta/models/{model}:generateContent"]["auth"][0] == "x-goog-api-key: <key>"
    assert (
        by_path["/dashscope/v1/tasks/{task_id}"]["mode"] == "poll" and by_path["/openai/v1/videos/{video_id}"]["mode"] == "poll"
    )
    assert requests.get(gateway.url + "/admin/v1/endpoints", timeout=5).status_code == 401
    admin = requests.get(gateway.url + "/admin/v1/endpoints", headers={"Authorization": f"Bearer {ADMIN_KEY}"}, timeout=5).json()
    assert {"/metrics", "/dashboard", "/admin/v1/keys"} <= {e["path"] for e in admin["endpoints"]}


@pytest.mark.parametrize(
    "option",
    [
        ["--tpm", "10000000000"],
        ["--rpm", "0"],
        ["--expires", "0001-01-01T00:00:00+14:00"],
        ["--budget", "nan"],
        ["--budget", "inf"],
    ],
)
def test_cli_refuses_values_out_of_range_in_one_line(tmp_path: Path, option: list[str]) -> None:
    result = anygate("keys", "create", "--name", "edge", *option, cwd=tmp_path, check=False)
    assert result.returncode == 2 and "Traceback" not in result.stderr and option[0] in result.stderr
