"""The admin API's keys and usage, with the admin key: create, use, change limits, revoke; totals."""

from __future__ import annotations

import json
import threading
import time
import uuid
from datetime import UTC, datetime
from typing import Any

import pytest
import requests

from tests.gateway_process import GatewayProcess
from tests.integration.conftest import ADMIN_KEY
from tests.integration.usage import eventually, fresh_minute

ADMIN = {"Authorization": f"Bearer {ADMIN_KEY}"}


def _admin(gateway: GatewayProcess, method: str, path: str, body: Any = None, **params: str) -> requests.Response:
    return requests.request(method, gateway.url + "/admin/v1" + path, json=body, params=params, headers=ADMIN, timeout=10)


def _chat(gateway: GatewayProcess, key: str) -> int:
    body = {"model": "mock-fast", "messages": [{"role": "user", "content": "hi"}]}
    return requests.post(
        gateway.url + "/openai/v1/chat/completions", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10
    ).status_code


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
    fresh_minute()
    assert [_chat(gateway, key["key"]) for _ in range(2)][-1] == 429, "the new limit holds"
    shown = _admin(gateway, "GET", f"/keys/{key['id']}").json()
    assert shown["rpm"] == 1 and "key" not in shown and "webhook_secret" not in shown
    assert _admin(gateway, "DELETE", f"/keys/{key['id']}").json()["status"] == "revoked"
    assert eventually(lambda: _chat(gateway, key["key"]) == 401)

    def recorded() -> bool:
        rows = _admin(gateway, "GET", "/usage", key_id=key["id"]).json()["data"]
        return bool(rows) and rows[0]["requests"] >= 2

    assert eventually(recorded), "records are written in batches"
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
    assert (
        _admin(gateway, "POST", "/keys", {"name": "edge", "tpm": 2**31 - 1, "expires_at": "8999-12-31T00:00:00Z"}).status_code
        == 201
    )
    assert gateway.cli("keys", "list").returncode == 0


def _call(
    gateway: GatewayProcess, key: str, model: str, request_id: str, raw: bytes | None = None, stream: bool = False
) -> requests.Response:
    headers = {"Authorization": f"Bearer {key}", "x-request-id": request_id, "Content-Type": "application/json"}
    body = {"model": model, "messages": [{"role": "user", "content": "hi"}], "stream": stream}
    return requests.post(
        gateway.url + "/openai/v1/chat/completions",
        data=raw if raw is not None else json.dumps(body),
        headers=headers,
        timeout=20,
    )


def _listed(gateway: GatewayProcess, **params: str) -> list[dict[str, Any]]:
    answer = _admin(gateway, "GET", "/requests", **params)
    assert answer.status_code == 200, answer.text
    return list(answer.json()["data"])


def test_every_call_is_listed_refused_ones_too_and_filtered(gateway: GatewayProcess) -> None:
    tag = uuid.uuid4().hex[:10]
    created = _admin(
        gateway, "POST", "/keys", {"name": "listed", "models": ["mock-fast", "fallback", "down-model"], "rpm": 3}
    ).json()
    key = created["key"]
    time.sleep(2.5)  # the key cache refreshes every 2 s
    fresh_minute()  # the rpm of 3 is met within one minute
    outcomes = {
        "ok": _call(gateway, key, "mock-fast", f"{tag}-ok").status_code,
        "fallback": _call(gateway, key, "fallback", f"{tag}-fallback").status_code,
        "down": _call(gateway, key, "down-model", f"{tag}-down").status_code,
        "over": _call(gateway, key, "mock-fast", f"{tag}-over").status_code,
        "forbidden": _call(gateway, key, "gpt-test", f"{tag}-forbidden").status_code,
        "unknown": _call(gateway, key, "no-such-model", f"{tag}-unknown").status_code,
        "bad-json": _call(gateway, key, "mock-fast", f"{tag}-bad-json", raw=b'{"model": ').status_code,
        "bad-key": _call(gateway, "ag-no-such-key-000000000000", "mock-fast", f"{tag}-bad-key").status_code,
    }
    assert outcomes == {
        "ok": 200,
        "fallback": 200,
        "down": 502,
        "over": 429,
        "forbidden": 403,
        "unknown": 404,
        "bad-json": 400,
        "bad-key": 401,
    }

    def mine() -> dict[str, dict[str, Any]]:
        return {c["request_id"].removeprefix(f"{tag}-"): c for c in _listed(gateway, key_id=created["id"])}

    assert eventually(lambda: len(mine()) == 7), mine().keys()  # the usage records are written within a second
    calls = mine()
    assert {name: c["status"] for name, c in calls.items()} == {k: v for k, v in outcomes.items() if k != "bad-key"}
    assert [c["metered"] for c in calls.values()] == [False, False, False, False, True, True, True], "newest first"
    assert calls["over"]["public_model"] == "mock-fast" and "rate limit" in calls["over"]["error"].lower()
    assert "gpt-test" in calls["forbidden"]["error"] and "no-such-model" in calls["unknown"]["error"]
    assert calls["bad-json"]["error"] and calls["bad-json"]["cost_usd"] == 0 and calls["bad-json"]["provider"] == ""
    assert calls["down"]["provider"] == "down" and "down" in calls["down"]["error"] and calls["ok"]["error"] is None

    unauthenticated = [c for c in _listed(gateway, status="401") if c["request_id"] == f"{tag}-bad-key"]
    assert (
        len(unauthenticated) == 1
        and unauthenticated[0]["key_id"] is None
        and unauthenticated[0]["route"] == "/openai/v1/chat/completions"
    )

    assert {c["status"] for c in _listed(gateway, key_id=created["id"], status="4xx")} == {400, 403, 404, 429}
    assert {c["status"] for c in _listed(gateway, key_id=created["id"], status="error")} == {400, 403, 404, 429, 502}
    assert {c["status"] for c in _listed(gateway, key_id=created["id"], status="ok")} == {200}
    assert {c["request_id"] for c in _listed(gateway, key_id=created["id"], model="mock-fast")} == {f"{tag}-ok", f"{tag}-over"}
    assert {c["provider"] for c in _listed(gateway, key_id=created["id"], provider="claude")} == {"claude"}
    middle = calls["down"]["created_at"]
    after = {c["request_id"] for c in _listed(gateway, key_id=created["id"], since=_iso(middle))}
    before = {c["request_id"] for c in _listed(gateway, key_id=created["id"], until=_iso(middle))}
    assert f"{tag}-ok" in before and f"{tag}-ok" not in after and f"{tag}-unknown" in after and not before & after
    assert len(_listed(gateway, key_id=created["id"], limit="2")) == 2

    for bad in ({"status": "teapot"}, {"status": "99"}, {"since": "yesterday"}, {"limit": "many"}):
        refused = _admin(gateway, "GET", "/requests", **bad)
        assert refused.status_code == 400 and refused.json()["error"]["param"] == next(iter(bad)), bad


def _iso(stamp: float) -> str:
    return datetime.fromtimestamp(stamp, UTC).isoformat(timespec="microseconds")


def test_a_calls_detail_has_its_timings_attempts_tokens_cost_and_error(gateway: GatewayProcess, api_key: str) -> None:
    tag = uuid.uuid4().hex[:10]
    assert _call(gateway, api_key, "fallback", f"{tag}-fallback").status_code == 200
    assert _call(gateway, api_key, "gpt-test", f"{tag}-stream", stream=True).status_code == 200
    assert _call(gateway, api_key, "scenario-400", f"{tag}-upstream-400").status_code == 400
    assert _call(gateway, api_key, "no-such-model", f"{tag}-unknown").status_code == 404

    def detail(name: str) -> dict[str, Any] | None:
        answer = _admin(gateway, "GET", f"/requests/{tag}-{name}")
        return answer.json() if answer.status_code == 200 else None

    assert eventually(
        lambda: detail("fallback") is not None and detail("stream") is not None and detail("upstream-400") is not None
    )
    fallback = detail("fallback")
    assert fallback is not None and fallback["attempts"] == 2 and fallback["provider"] == "claude" and fallback["status"] == 200
    [failed] = fallback["failures"]
    assert (failed["provider"], failed["model"]) == ("fake", "up-500") and failed["status"] >= 500 and "500" in failed["error"]
    assert 0 < fallback["upstream_ms"] <= fallback["latency_ms"] and fallback["first_byte_ms"] is None
    assert (
        fallback["input_tokens"] > 0
        and fallback["output_tokens"] > 0
        and fallback["metered"] is True
        and fallback["error"] is None
    )

    stream = detail("stream")
    assert stream is not None and 0 < stream["first_byte_ms"] <= stream["latency_ms"] and stream["failures"] == []
    assert stream["cost_usd"] == pytest.approx((stream["input_tokens"] * 1.0 + stream["output_tokens"] * 2.0) / 1_000_000)

    upstream_400 = detail("upstream-400")
    assert (
        upstream_400 is not None
        and upstream_400["status"] == 400
        and "temperature" in upstream_400["error"]
        and upstream_400["metered"] is True
    )

    unknown = detail("unknown")
    assert (
        unknown is not None and unknown["metered"] is False and unknown["attempts"] == 0 and "no-such-model" in unknown["error"]
    )
    missing = _admin(gateway, "GET", "/requests/never-sent-0")
    assert missing.status_code == 404 and "never-sent-0" in missing.json()["error"]["message"]
    at = fallback["created_at"]
    assert _admin(gateway, "GET", f"/requests/{tag}-fallback", at=str(at)).json()["attempts"] == 2, (
        "found around the time the list gives"
    )
    elsewhen = _admin(gateway, "GET", f"/requests/{tag}-fallback", at=str(at - 3600))
    assert elsewhen.status_code == 404 and "around ?at=" in elsewhen.json()["error"]["message"]
    bad = _admin(gateway, "GET", f"/requests/{tag}-fallback", at="yesterday")
    assert bad.status_code == 400 and bad.json()["error"]["param"] == "at"
    assert _call(gateway, api_key, "mock-fast", f"{tag}-plain").status_code == 200
    assert eventually(lambda: detail("plain") is not None)
    plain = detail("plain")
    assert plain is not None and (
        plain["attempts"],
        plain["upstream_ms"],
        plain["first_byte_ms"],
        plain["failures"],
        plain["error"],
    ) == (1, None, None, [], None)
    assert plain["latency_ms"] > 0 and plain["metered"] is True, "a plain call keeps no detail, only its latency"


def test_providers_show_their_health_breakers_and_latest_failure(gateway: GatewayProcess, api_key: str) -> None:
    tag = uuid.uuid4().hex[:10]
    assert _call(gateway, api_key, "down-model", f"{tag}-down").status_code == 502
    assert _call(gateway, api_key, "mock-fast", f"{tag}-ok").status_code == 200

    def providers() -> dict[str, dict[str, Any]]:
        return {p["name"]: p for p in _admin(gateway, "GET", "/providers").json()["data"]}

    assert eventually(lambda: (providers()["down"]["recent"]["last_failure"] or {}).get("request_id") == f"{tag}-down")
    shown = providers()
    down, mock = shown["down"], shown["mock"]
    assert down["health"] in ("degraded", "down") and down["recent"]["failures"] >= 1 and down["recent"]["seconds"] == 900
    assert down["recent"]["last_failure"]["status"] == 502 and "down" in down["recent"]["last_failure"]["error"]
    assert [t["model"] for t in down["targets"]] == ["down-model"] and down["targets"][0]["breaker"]["failures"] >= 1
    assert (
        mock["health"] == "ok"
        and mock["recent"]["requests"] >= 1
        and mock["recent"]["failures"] == 0
        and mock["recent"]["last_failure"] is None
    )
    assert mock["recent"]["mean_latency_ms"] > 0 and mock["available"] is True
    assert {"chat", "embeddings", "images", "files"} <= set(mock["serves"]) and set(shown["claude"]["serves"]) == {
        "chat",
        "count_tokens",
    }


def test_keys_show_their_spend_and_calls_in_flight(gateway: GatewayProcess) -> None:
    created = _admin(gateway, "POST", "/keys", {"name": "busy"}).json()

    def shown() -> dict[str, Any]:
        return next(k for k in _admin(gateway, "GET", "/keys").json()["data"] if k["id"] == created["id"])

    assert (shown()["in_flight"], shown()["spent_usd"]) == (0, 0.0)
    slow = threading.Thread(target=_call, args=(gateway, created["key"], "scenario-slow", "slow-" + uuid.uuid4().hex[:8]))
    slow.start()
    assert eventually(lambda: shown()["in_flight"] == 1, seconds=2.5), "the slow call is in flight"
    slow.join()
    assert shown()["in_flight"] == 0
    assert _call(gateway, created["key"], "gpt-test", "priced-" + uuid.uuid4().hex[:8]).status_code == 200
    assert eventually(lambda: shown()["spent_usd"] > 0)


def test_a_key_names_only_configured_models(gateway: GatewayProcess) -> None:
    refused = _admin(gateway, "POST", "/keys", {"name": "typo", "models": ["mock-fast", "mock-fats"]})
    assert (
        refused.status_code == 400
        and refused.json()["error"]["param"] == "models"
        and "mock-fats is not configured" in refused.json()["error"]["message"]
    )
    key = _admin(gateway, "POST", "/keys", {"name": "fine", "models": ["mock-fast"]}).json()
    assert (
        _admin(gateway, "PATCH", f"/keys/{key['id']}", {"models": ["nope", "nah"]})
        .json()["error"]["message"]
        .endswith("nope, nah are not configured here")
    )
    assert _admin(gateway, "PATCH", f"/keys/{key['id']}", {"models": None}).json()["models"] is None
