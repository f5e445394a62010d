"""AI music (Suno API) through the real gateway against the fake Suno: music tasks through text, first
and complete callbacks, follow-up routes that name an earlier task by the gateway's id, record
queries, failures, and errors in the Suno shape."""

from __future__ import annotations

import json
import time
from collections.abc import Iterator
from typing import Any

import pytest
import requests

from tests.fakes.suno_upstream import AUDIO_URL, UPSTREAM_KEY, WAV_URL, FakeSuno
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.gateway_process import GatewayProcess
from tests.integration.usage import eventually

SONG = {
    "customMode": True,
    "instrumental": False,
    "model": "suno-v5",
    "title": "Summer Breeze",
    "style": "pop",
    "prompt": "[Verse]\nla la",
}


@pytest.fixture(scope="module")
def gateway(tmp_path_factory: pytest.TempPathFactory, fake_suno: FakeSuno) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("suno")
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "providers": {"suno": {"type": "suno", "base_url": fake_suno.url, "api_key": UPSTREAM_KEY}},  # type: ignore[attr-defined]
        "models": {
            "suno-v5": [
                {
                    "provider": "suno",
                    "model": "V5",
                    "task_price": 0.1,
                    "route_prices": {"wav-generate": 0.004, "style-generate": 0.002},
                }
            ]
        },
        "tasks": {"poll_interval_seconds": 0.2, "webhook_allow_private": True, "webhook_backoff_seconds": 0.2},
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def key(gateway: GatewayProcess) -> dict[str, Any]:
    return gateway.create_key()


def _post(gateway: GatewayProcess, key: str, route: str, body: dict[str, Any]) -> requests.Response:
    return requests.post(f"{gateway.url}/suno/{route}", json=body, headers={"Authorization": f"Bearer {key}"}, timeout=10)


def _record(gateway: GatewayProcess, key: str, group: str, task_id: str) -> requests.Response:
    return requests.get(
        f"{gateway.url}/suno/query/{group}", params={"taskId": task_id}, headers={"Authorization": f"Bearer {key}"}, timeout=10
    )


def _until(gateway: GatewayProcess, key: str, group: str, task_id: str, field: str = "status") -> dict[str, Any]:
    deadline = time.time() + 10
    while time.time() < deadline:
        data: dict[str, Any] = _record(gateway, key, group, task_id).json()["data"]
        if data[field] == "SUCCESS" or data[field].endswith("FAILED"):
            return data
        time.sleep(0.1)
    raise AssertionError(f"{group} task {task_id} did not finish")


def test_a_song_goes_through_text_first_and_complete(
    gateway: GatewayProcess, key: dict[str, Any], fake_suno: FakeSuno, webhook_receiver: WebhookReceiver
) -> None:
    hook = f"suno-{time.time_ns()}"
    created = _post(gateway, key["key"], "generate", {**SONG, "callBackUrl": f"{webhook_receiver.url}/hook/{hook}"})  # type: ignore[attr-defined]
    assert created.status_code == 200 and created.json()["code"] == 200 and created.json()["msg"] == "success"
    task_id = created.json()["data"]["taskId"]
    assert task_id not in fake_suno.tasks
    sent = fake_suno.requests[-1]["body"]
    assert sent["model"] == "V5" and sent["callBackUrl"].endswith(".invalid/suno"), "the upstream never learns the client's URL"
    data = _until(gateway, key["key"], "task", task_id)
    assert data["taskId"] == task_id and data["response"]["taskId"] == task_id
    assert data["response"]["sunoData"][0]["audioUrl"] == AUDIO_URL
    assert eventually(lambda: [d.body["callbackType"] for d in webhook_receiver.at(hook)] == ["text", "first", "complete"])
    complete = webhook_receiver.at(hook)[-1].body
    assert complete["code"] == 200 and complete["task_id"] == task_id and complete["msg"] == "All generated successfully."
    assert complete["data"][0]["audio_url"] == AUDIO_URL and complete["data"][0]["duration"] == 198.44


def test_follow_up_routes_name_the_song_by_the_gateway_id(
    gateway: GatewayProcess, key: dict[str, Any], fake_suno: FakeSuno
) -> None:
    song = _post(gateway, key["key"], "generate", SONG).json()["data"]["taskId"]
    _until(gateway, key["key"], "task", song)
    wav = _post(gateway, key["key"], "wav-generate", {"taskId": song, "audioId": "e231"})
    assert wav.status_code == 200, wav.text
    assert fake_suno.requests[-1]["body"]["taskId"] in fake_suno.tasks and fake_suno.requests[-1]["body"]["taskId"] != song
    wav_done = _until(gateway, key["key"], "wav", wav.json()["data"]["taskId"], "successFlag")
    assert wav_done["response"]["audioWavUrl"] == WAV_URL
    assert _record(gateway, key["key"], "task", wav.json()["data"]["taskId"]).status_code == 404, "a wav task is queried as wav"
    lyrics = _post(gateway, key["key"], "timestamped-lyrics", {"taskId": song, "audioId": "e231"})
    assert lyrics.status_code == 200 and lyrics.json()["data"]["alignedWords"][0]["word"] == "la"


def test_cover_art_ends_with_its_numeric_flag_and_calls_back(
    gateway: GatewayProcess, key: dict[str, Any], webhook_receiver: WebhookReceiver
) -> None:
    """Suno's cover record says `successFlag: 0/1/2/3` (numbers, unlike the other records' words):
    the task ends, the record keeps the number (no stray `status`), and the callback is sent."""
    song = _post(gateway, key["key"], "generate", SONG).json()["data"]["taskId"]
    _until(gateway, key["key"], "task", song)
    hook = f"cover-{time.time_ns()}"
    cover = _post(gateway, key["key"], "generate-cover", {"taskId": song, "callBackUrl": f"{webhook_receiver.url}/hook/{hook}"})  # type: ignore[attr-defined]
    assert cover.status_code == 200, cover.text
    cover_id = cover.json()["data"]["taskId"]
    assert eventually(lambda: _record(gateway, key["key"], "cover", cover_id).json()["data"]["successFlag"] == 1)
    data = _record(gateway, key["key"], "cover", cover_id).json()["data"]
    assert data["taskId"] == cover_id and "status" not in data and data["response"]["images"][0] == "https://x/cover-1.png"
    assert eventually(lambda: [d.body["callbackType"] for d in webhook_receiver.at(hook)] == ["complete"])
    assert webhook_receiver.at(hook)[0].body["data"] == {
        "task_id": cover_id,
        "images": ["https://x/cover-1.png", "https://x/cover-2.png"],
    }


def test_each_routes_callback_carries_that_routes_result(
    gateway: GatewayProcess, key: dict[str, Any], webhook_receiver: WebhookReceiver
) -> None:
    """As AnyInt's example: `callbackType`, `task_id` and `data` at the top level; `data` as the Suno
    API's callback of the route has it (WAV `audioWavUrl`, vocal removal `vocal_removal_info`, lyrics)."""
    song = _post(gateway, key["key"], "generate", SONG).json()["data"]["taskId"]
    _until(gateway, key["key"], "task", song)
    hooks = {}
    for route, body in (
        ("wav-generate", {"taskId": song, "audioId": "e231"}),
        ("vocal-removal", {"taskId": song, "audioId": "e231"}),
        ("generate-lyrics", {"prompt": "the sea"}),
    ):
        hook = f"{route}-{time.time_ns()}"
        created = _post(gateway, key["key"], route, {**body, "callBackUrl": f"{webhook_receiver.url}/hook/{hook}"})  # type: ignore[attr-defined]
        assert created.status_code == 200, created.text
        hooks[route] = (hook, created.json()["data"]["taskId"])
    for hook, _ in hooks.values():
        assert eventually(lambda hook=hook: bool(webhook_receiver.at(hook)))  # type: ignore[misc]
    bodies = {route: webhook_receiver.at(hook)[-1].body for route, (hook, _) in hooks.items()}
    wav_id, vocal_id, lyrics_id = (task_id for _, task_id in hooks.values())
    assert bodies["wav-generate"] == {
        "code": 200, "msg": "All generated successfully.", "callbackType": "complete", "task_id": wav_id,
        "data": {"audioWavUrl": WAV_URL, "task_id": wav_id},
    }  # fmt: skip
    assert bodies["vocal-removal"]["data"] == {
        "task_id": vocal_id,
        "vocal_removal_info": {"instrumental_url": WAV_URL, "vocal_url": AUDIO_URL},
    }
    assert bodies["generate-lyrics"]["task_id"] == lyrics_id and bodies["generate-lyrics"]["callbackType"] == "complete"
    assert bodies["generate-lyrics"]["data"] == [
        {"error_message": "", "text": "[Verse]\nla la", "title": "Song", "status": "complete"}
    ]


def test_a_route_answered_at_once_shows_no_upstream_task_id_or_credit(
    gateway: GatewayProcess, key: dict[str, Any], fake_suno: FakeSuno
) -> None:
    answer = _post(gateway, key["key"], "style-generate", {"content": "Pop, Mysterious"})
    assert answer.status_code == 200, answer.text
    data = answer.json()["data"]
    assert data["result"] == "Pop, Mysterious, with haunting synths" and data["taskId"] == answer.headers["x-request-id"]
    assert "creditsRemaining" not in data and "creditsConsumed" not in data, (
        "the operator's Suno balance is not the caller's business"
    )


def test_lyrics_need_no_model(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    created = _post(gateway, key["key"], "generate-lyrics", {"prompt": "a song about the sea"})
    data = _until(gateway, key["key"], "lyrics", created.json()["data"]["taskId"])
    assert data["response"]["data"][0]["text"].startswith("[Verse]")


def test_a_failed_song_calls_back_with_an_error_and_costs_nothing(
    gateway: GatewayProcess, webhook_receiver: WebhookReceiver
) -> None:
    key = gateway.create_key()
    hook = f"suno-fail-{time.time_ns()}"
    created = _post(
        gateway, key["key"], "generate", {**SONG, "prompt": "please fail", "callBackUrl": f"{webhook_receiver.url}/hook/{hook}"}
    )  # type: ignore[attr-defined]
    data = _until(gateway, key["key"], "task", created.json()["data"]["taskId"])
    assert data["status"] == "GENERATE_AUDIO_FAILED" and data["errorMessage"] == "Audio generation failed"
    assert eventually(lambda: [d.body["callbackType"] for d in webhook_receiver.at(hook)] == ["text", "error"])
    assert webhook_receiver.at(hook)[-1].body["code"] != 200
    time.sleep(0.6)
    assert json.loads(gateway.cli("usage", "--key", key["id"], "--json").stdout) == []


def test_errors_in_suno_shape(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    unknown = _record(gateway, key["key"], "task", "no-such-task")
    assert unknown.status_code == 404 and unknown.json()["code"] == 404 and unknown.json()["data"] is None
    other = gateway.create_key()["key"]
    song = _post(gateway, key["key"], "generate", SONG).json()["data"]["taskId"]
    assert _record(gateway, other, "task", song).status_code == 404
    assert _post(gateway, other, "wav-generate", {"taskId": song, "audioId": "x"}).status_code == 404
    bad = _post(gateway, key["key"], "generate", {**SONG, "model": "V9"})
    assert bad.status_code == 404 and "V9" in bad.json()["msg"]


@pytest.mark.parametrize(
    ("change", "message"),
    [
        ({"customMode": "yes"}, "'customMode' is required and must be true or false"),
        ({"instrumental": None}, "'instrumental' is required and must be true or false"),
        ({"style": ""}, "'style' is required"),
        ({"title": None}, "'title' is required"),
        ({"prompt": ""}, "'prompt' is required"),  # the lyrics of a sung song in custom mode
        ({"title": "t" * 101}, "'title' is longer than 100 characters"),
        ({"style": "s" * 1001}, "'style' is longer than 1000 characters"),
        ({"prompt": "p" * 5001}, "'prompt' is longer than 5000 characters"),
        ({"customMode": False, "prompt": "p" * 501}, "'prompt' is longer than 500 characters"),
        ({"customMode": False, "prompt": None}, "'prompt' is required"),
        ({"callBackUrl": "ftp://example.com/hook"}, "'callBackUrl' must be an http or https URL"),
        ({"model": "no-such-song-model"}, "The model 'no-such-song-model' does not exist or is not served here"),
    ],
)
def test_song_requests_the_upstream_would_refuse_are_refused_first(
    gateway: GatewayProcess, key: dict[str, Any], fake_suno: FakeSuno, change: dict[str, Any], message: str
) -> None:
    sent = len(fake_suno.requests)
    answer = _post(gateway, key["key"], "generate", {**SONG, **change})
    assert answer.json()["code"] in (400, 404) and answer.json()["msg"] == message and answer.json()["data"] is None
    assert len(fake_suno.requests) == sent, "nothing reached the upstream"


def test_an_instrumental_needs_no_lyrics_and_a_simple_song_needs_no_style(gateway: GatewayProcess, key: dict[str, Any]) -> None:
    instrumental = _post(gateway, key["key"], "generate", {**SONG, "instrumental": True, "prompt": ""})
    assert instrumental.json()["code"] == 200, instrumental.text
    simple = _post(
        gateway, key["key"], "generate", {"customMode": False, "instrumental": False, "model": "suno-v5", "prompt": "p" * 500}
    )
    assert simple.json()["code"] == 200, simple.text


def test_routes_are_billed_at_their_own_prices(gateway: GatewayProcess) -> None:
    key = gateway.create_key()
    song = _post(gateway, key["key"], "generate", SONG).json()["data"]["taskId"]
    _until(gateway, key["key"], "task", song)
    wav = _post(gateway, key["key"], "wav-generate", {"taskId": song, "audioId": "e231"}).json()["data"]["taskId"]
    _until(gateway, key["key"], "wav", wav, "successFlag")
    assert _post(gateway, key["key"], "style-generate", {"content": "Pop"}).json()["code"] == 200
    assert _post(gateway, key["key"], "timestamped-lyrics", {"taskId": song, "audioId": "e231"}).json()["code"] == 200
    time.sleep(0.6)
    rows = json.loads(gateway.cli("usage", "--key", key["id"], "--json").stdout)
    assert sum(r["cost_usd"] for r in rows) == pytest.approx(0.1 + 0.004 + 0.002)  # the lookup of timestamps is free
