"""`anygate verify` against the running gateway: every check passes where it applies, a bad key fails."""

from __future__ import annotations

import json

from tests.gateway_process import GatewayProcess, anygate


def test_verify_passes_against_a_working_gateway(gateway: GatewayProcess, api_key: str) -> None:
    result = anygate("verify", "--base-url", gateway.url, "--key", api_key, "--model", "mock-fast", "--json", check=False)
    outcomes = {r["name"]: r["outcome"] for r in json.loads(result.stdout)}
    assert result.returncode == 0, result.stdout
    assert outcomes.pop("task round trip") == "SKIP", "no video model in this configuration"
    assert set(outcomes.values()) == {"PASS"} and len(outcomes) == 8


def test_verify_fails_with_a_bad_key(gateway: GatewayProcess) -> None:
    result = anygate("verify", "--base-url", gateway.url, "--key", "ag-wrong", check=False)
    assert result.returncode == 1 and "FAIL" in result.stdout and "models list" in result.stdout
