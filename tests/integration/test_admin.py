"""The admin API's keys and usage, with the admin key: create, use, change limits, revoke; totals."""

from __future__ import annotations

import time
from typing import Any

import pytest
import requests

from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY
from tests.integration.usage import eventually

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _admin(gateway: GatewayProcess, method: str, path: str, body: Any = None, **params: str) -> requests.Response:
    return requests.request(method, gateway.url + "/admin/v1" + path, json=body, params=params, headers=ADMIN, timeout=10)


def _chat(gateway: GatewayProcess, key: str) -> int:
    body = {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]}
    return requests.post(gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10).status_code


def test_a_key_from_creation_to_revocation(gateway: GatewayProcess) -> None:
    created = _admin(gateway, "POST", "/keys", {"name": "team-a", "models": ["mock-fast"], "budget_usd": 5})
    assert created.status_code == 201, created.text
    key = created.json()
    assert key["key"].startswith("ag-") and key["webhook_secret"].startswith("whsec_") and key["models"] == ["mock-fast"]
    assert _chat(gateway, key["key"]) == 200
    assert key["id"] in [k["id"] for k in _admin(gateway, "GET", "/keys").json()["data"]]
    changed = _admin(gateway, "PATCH", f"/keys/{key['id']}", {"rpm": 1, "expires_at": "2999-01-01T00:00:00Z"})
    assert changed.status_code == 200 and changed.json()["rpm"] == 1 and changed.json()["expires_at"] == "2999-01-01T00:00:00Z"
    time.sleep(2.5)  # the key cache refreshes every 2 s
    assert [_chat(gateway, key["key"]) for _ in range(2)][-1] == 429, "the new limit holds"
    shown = _admin(gateway, "GET", f"/keys/{key['id']}").json()
    assert shown["rpm"] == 1 and "key" not in shown and "webhook_secret" not in shown
    assert _admin(gateway, "DELETE", f"/keys/{key['id']}").json()["status"] == "revoked"
    assert eventually(lambda: _chat(gateway, key["key"]) == 401)
    totals = _admin(gateway, "GET", "/usage", key_id=key["id"]).json()["data"]
    assert totals[0]["model"] == "mock-fast" and totals[0]["requests"] >= 2 and totals[0]["budget_usd"] == 5
    days = _admin(gateway, "GET", "/usage", key_id=key["id"], group="day").json()["data"]
    assert days[0]["day"] == time.strftime("%Y-%m-%d", time.gmtime()) and days[0]["requests"] == totals[0]["requests"]


def test_bad_admin_requests(gateway: GatewayProcess, api_key: str) -> None:
    assert _admin(gateway, "POST", "/keys", {"rpm": 5}).status_code == 400
    bad = _admin(gateway, "POST", "/keys", {"name": "x", "rpm": -1})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "rpm"
    assert _admin(gateway, "PATCH", "/keys/key_missing", {"rpm": 1}).status_code == 404
    assert _admin(gateway, "PATCH", "/keys/key_missing", {"colour": "red"}).status_code == 400
    assert _admin(gateway, "GET", "/usage", group="week").status_code == 400
    refused = requests.get(gateway.url + "/admin/v1/keys", headers={"Authorization": f"Bearer {api_key}"}, timeout=10)
    assert refused.status_code == 401


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("expires_at", "0001-01-01T00:00:00+14:00"),  # year 0 in UTC: it broke the key list for good
        ("expires_at", "1969-12-31T00:00:00Z"),
        ("expires_at", "9999-12-31T23:59:59-14:00"),
        ("tpm", 10_000_000_000),  # past the column: a database error
        ("rpm", 2**31),
        ("max_concurrency", 0),
    ],
)
def test_values_out_of_range_are_refused_at_the_edge(gateway: GatewayProcess, field: str, value: Any) -> None:
    bad = _admin(gateway, "POST", "/keys", {"name": "edge", field: value})
    assert bad.status_code == 400 and bad.json()["error"]["param"] == field
    assert _admin(gateway, "GET", "/keys").status_code == 200
    assert _admin(gateway, "POST", "/keys", {"name": "edge", "tpm": 2**31 - 1, "expires_at": "8999-12-31T00:00:00Z"}).status_code == 201
    assert gateway.cli("keys", "list").returncode == 0
