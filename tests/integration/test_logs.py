"""The gateway's logs: JSON lines, one access line per request with its id (the client's x-request-id
when given, returned either way), and no key in them."""

from __future__ import annotations

import json
import time

import pytest
import requests

from tests.gateway_process import GatewayProcess
from tests.integration.usage import eventually


def _lines(gateway: GatewayProcess) -> list[dict[str, object]]:
    return [json.loads(line) for line in gateway.log().splitlines() if line.strip()]


def test_one_json_access_line_per_request_with_its_id(gateway: GatewayProcess, api_key: str) -> None:
    given = f"trace-{time.time_ns()}"
    headers = {"Authorization": f"Bearer {api_key}", "x-request-id": given}
    body = {"model": "gpt-test", "messages": [{"role": "user", "content": "hi"}]}
    resp = requests.post(gateway.url + "/openai/v1/chat/completions", json=body, headers=headers, timeout=10)
    assert resp.status_code == 200 and resp.headers["x-request-id"] == given
    listed = requests.get(gateway.url + "/openai/v1/models", headers={"Authorization": f"Bearer {api_key}"}, timeout=10)
    assert listed.headers["x-request-id"].startswith("req_"), "a request id is returned on every route"
    refused = requests.get(gateway.url + "/openai/v1/models?key=ag-not-a-real-key-0123456789", timeout=10)
    assert refused.status_code == 401
    assert eventually(lambda: any(line.get("request_id") == given for line in _lines(gateway)))
    access = [line for line in _lines(gateway) if line["logger"] == "anygate.access"]
    mine = [line for line in access if line["request_id"] == given]
    assert len(mine) == 1 and mine[0]["status"] == 200 and mine[0]["route"] == "/openai/v1/chat/completions"
    assert (mine[0]["model"], mine[0]["provider"]) == ("gpt-test", "fake")
    assert mine[0]["level"] == "info" and mine[0]["family"] == "openai" and float(str(mine[0]["ms"])) > 0
    assert any(line["request_id"] == listed.headers["x-request-id"] for line in access)
    text = gateway.log()
    assert api_key not in text and "ag-not-a-real-key" not in text


def test_a_client_that_leaves_is_a_499_not_an_error(gateway: GatewayProcess, api_key: str) -> None:
    given = f"gone-{time.time_ns()}"
    headers = {"Authorization": f"Bearer {api_key}", "x-request-id": given}
    body = {"model": "scenario-slow", "messages": [{"role": "user", "content": "hi"}]}  # answers after 3 s
    with pytest.raises(requests.exceptions.Timeout):
        requests.post(gateway.url + "/openai/v1/chat/completions", json=body, headers=headers, timeout=0.5)
    assert eventually(
        lambda: any(line.get("request_id") == given and line["logger"] == "anygate.access" for line in _lines(gateway)), 6
    )
    (access,) = [line for line in _lines(gateway) if line.get("request_id") == given and line["logger"] == "anygate.access"]
    assert access["status"] == 499 and access["level"] != "error"
    assert not [line for line in _lines(gateway) if line.get("request_id") == given and line["level"] == "error"]


def test_an_upstream_failure_is_logged_with_its_provider_status_and_error(gateway: GatewayProcess, api_key: str) -> None:
    given = f"fails-{time.time_ns()}"
    headers = {"Authorization": f"Bearer {api_key}", "x-request-id": given}
    body = {"model": "scenario-400", "messages": [{"role": "user", "content": "hi"}]}
    assert requests.post(gateway.url + "/openai/v1/chat/completions", json=body, headers=headers, timeout=10).status_code == 400
    assert eventually(
        lambda: any(line.get("request_id") == given and line["logger"] == "anygate.access" for line in _lines(gateway))
    )
    (failed,) = [line for line in _lines(gateway) if line.get("request_id") == given and line["msg"] == "upstream failed"]
    assert failed["level"] == "warning" and (failed["model"], failed["provider"], failed["status"]) == (
        "scenario-400",
        "fake",
        400,
    )
    assert "Invalid value for 'temperature'" in str(failed["error"])
    (access,) = [line for line in _lines(gateway) if line.get("request_id") == given and line["logger"] == "anygate.access"]
    assert (access["status"], access["model"], access["provider"]) == (400, "scenario-400", "fake")
