"""OpenAI's Videos API with the official `openai` SDK, over the Kling and DashScope providers: create
(the SDK's multipart form), retrieve, poll to the end, download the content, and the webhook; and
OpenAI image generation over DashScope's image models."""

from __future__ import annotations

import base64
import json
import time
from collections.abc import Iterator

import openai
import pytest
from openai import BadRequestError, OpenAI

from tests.fakes.dashscope_upstream import IMAGE_BYTES, IMAGE_PATH, FakeDashScope
from tests.fakes.dashscope_upstream import UPSTREAM_KEY as DASHSCOPE_KEY
from tests.fakes.kling_upstream import API_KEY, VIDEO_BYTES, FakeKling
from tests.fakes.kling_upstream import IMAGE_URL as KLING_IMAGE_URL
from tests.fakes.webhook_receiver import WebhookReceiver
from tests.gateway_process import GatewayProcess, anygate
from tests.integration.usage import eventually

pytestmark = pytest.mark.filterwarnings("ignore:The Sora API:DeprecationWarning")  # the SDK warns of OpenAI's own video API
PNG = bytes.fromhex("89504e470d0a1a0a0000000d49484452000000010000000108060000001f15c489")


@pytest.fixture(scope="module")
def gateway(
    tmp_path_factory: pytest.TempPathFactory, fake_kling: FakeKling, fake_dashscope: FakeDashScope
) -> Iterator[GatewayProcess]:
    workdir = tmp_path_factory.mktemp("videos")
    config = {
        "database": f"sqlite:///{workdir}/anygate.db",
        "providers": {
            "kling": {"type": "kling", "base_url": fake_kling.url, "api_key": API_KEY},  # type: ignore[attr-defined]
            "dashscope": {"type": "dashscope", "base_url": f"{fake_dashscope.url}/api/v1", "api_key": DASHSCOPE_KEY},  # type: ignore[attr-defined]
        },
        "models": {
            "kling-3.0": [{"provider": "kling", "model": "kling-ok", "task_price": 0.4}],
            "kling-v3-omni": [{"provider": "kling", "model": "kling-v3-omni", "task_price": 0.6}],
            "kling-text": [{"provider": "kling", "model": "kling-ok", "task_price": 0.4, "tasks": ["text2video"]}],
            "wan-video": [{"provider": "dashscope", "model": "wan-ok", "task_price": 0.5}],
            "qwen-image": [{"provider": "dashscope", "model": "qwen-image-plus", "task_price": 0.04}],
        },
        "tasks": {"poll_interval_seconds": 0.2, "webhook_allow_private": True},
        "fetch_allow_private": True,  # the fakes' asset URLs are on loopback
    }
    process = GatewayProcess(workdir, config).start()
    yield process
    process.stop()


@pytest.fixture(scope="module")
def client(gateway: GatewayProcess) -> OpenAI:
    return OpenAI(base_url=gateway.url + "/openai/v1", api_key=str(gateway.create_key()["key"]), max_retries=0, timeout=20)


def test_a_kling_video_from_create_to_download(client: OpenAI, fake_kling: FakeKling, webhook_receiver: WebhookReceiver) -> None:
    hook = f"video-{time.time_ns()}"
    video = client.videos.create(
        model="kling-3.0",
        prompt="a fox in the snow",
        seconds="8",
        size="720x1280",  # type: ignore[arg-type]
        extra_body={"callback_url": f"{webhook_receiver.url}/hook/{hook}"},  # type: ignore[attr-defined]
    )
    assert video.object == "video" and video.status == "queued" and video.model == "kling-3.0"
    sent = {
        "model_name": "kling-ok",
        "prompt": "a fox in the snow",
        "duration": "8",
        "aspect_ratio": "9:16",
        "external_task_id": video.id,
    }
    assert fake_kling.requests[-1]["body"] == sent
    done = client.videos.poll(video.id, poll_interval_ms=100)
    assert done.status == "completed" and done.progress == 100 and done.id == video.id
    assert client.videos.download_content(video.id).content == VIDEO_BYTES
    assert eventually(lambda: [d.body["type"] for d in webhook_receiver.at(hook)] == ["video.completed"])
    assert webhook_receiver.at(hook)[0].body["data"] == {"id": video.id}


def test_an_image_reference_makes_image2video(client: OpenAI, fake_kling: FakeKling) -> None:
    video = client.videos.create(model="kling-3.0", prompt="it moves", input_reference=("first.png", PNG, "image/png"))
    sent = fake_kling.requests[-1]
    assert sent["path"] == "/v1/videos/image2video" and sent["body"]["image"] and not sent["body"]["image"].startswith("data:")
    assert client.videos.poll(video.id, poll_interval_ms=100).status == "completed"


def test_first_and_last_frames_reach_kling(client: OpenAI, fake_kling: FakeKling) -> None:
    frames = [
        {"url": "https://img.example/first.png", "role": "first_frame"},
        {"url": "https://img.example/last.png", "role": "last_frame"},
    ]
    client.videos.create(model="kling-3.0", prompt="from here to there", extra_body={"frame_images": frames})  # type: ignore[arg-type]
    sent = fake_kling.requests[-1]
    assert sent["path"] == "/v1/videos/image2video"
    assert sent["body"]["image"] == frames[0]["url"] and sent["body"]["image_tail"] == frames[1]["url"]
    client.videos.create(model="kling-v3-omni", prompt="from here to there", extra_body={"frame_images": frames, "sound": "off"})  # type: ignore[arg-type]
    sent = fake_kling.requests[-1]
    assert sent["path"] == "/v1/videos/omni-video", "an Omni model goes to Kling's Omni route"
    assert sent["body"]["image_list"] == [
        {"image_url": frames[0]["url"], "type": "first_frame"},
        {"image_url": frames[1]["url"], "type": "end_frame"},
    ]
    assert sent["body"]["model_name"] == "kling-v3-omni" and sent["body"]["sound"] == "off"
    with pytest.raises(BadRequestError):
        client.videos.create(model="kling-3.0", prompt="x", extra_body={"frame_images": [{"role": "first_frame"}]})  # type: ignore[arg-type]
    sent_before = len(fake_kling.requests)
    with pytest.raises(BadRequestError) as text_only:
        client.videos.create(model="kling-text", prompt="x", extra_body={"frame_images": frames[:1]})  # type: ignore[arg-type]
    assert "The model 'kling-text' does not run 'image2video' tasks" in str(text_only.value)
    assert len(fake_kling.requests) == sent_before, "nothing was submitted"


def test_a_dashscope_video(client: OpenAI, fake_dashscope: FakeDashScope) -> None:
    video = client.videos.create(model="wan-video", prompt="a cat", seconds="4")  # type: ignore[arg-type]
    assert fake_dashscope.requests[-1]["body"] == {
        "model": "wan-ok",
        "input": {"prompt": "a cat"},
        "parameters": {"size": "1280*720", "duration": 4},
    }
    assert client.videos.poll(video.id, poll_interval_ms=100).status == "completed"


def test_content_before_completion_and_unknown_ids(client: OpenAI) -> None:
    video = client.videos.create(model="kling-3.0", prompt="slowly")
    with pytest.raises(openai.BadRequestError):
        client.videos.download_content(video.id)
    with pytest.raises(openai.NotFoundError):
        client.videos.retrieve("video_missing")
    with pytest.raises(openai.BadRequestError):
        client.videos.create(model="kling-3.0", prompt="")


def test_openai_images_over_kling(client: OpenAI, fake_kling: FakeKling) -> None:
    """A Kling image task, submitted and waited for within the call, answered as OpenAI images."""
    answer = client.images.generate(model="kling-3.0", prompt="a fox in the snow", size="1792x1024", n=1)
    assert answer.data is not None and answer.data[0].url == KLING_IMAGE_URL
    sent = [r for r in fake_kling.requests if r["path"] == "/v1/images/generations"][-1]["body"]
    assert (
        sent["model_name"] == "kling-ok"
        and sent["prompt"] == "a fox in the snow"
        and sent["aspect_ratio"] == "16:9"
        and sent["n"] == 1
    )


def test_openai_images_over_dashscope(client: OpenAI, fake_dashscope: FakeDashScope) -> None:
    result = client.images.generate(model="qwen-image", prompt="a poster", size="1024x1024")
    assert result.data is not None and (result.data[0].url or "").endswith(IMAGE_PATH)
    assert fake_dashscope.requests[-1]["body"] == {
        "model": "qwen-image-plus",
        "input": {"messages": [{"role": "user", "content": [{"text": "a poster"}]}]},
        "parameters": {"watermark": False, "size": "1024*1024"},
    }
    inline = client.images.generate(model="qwen-image", prompt="a poster", response_format="b64_json")
    assert inline.data is not None and base64.b64decode(inline.data[0].b64_json or "") == IMAGE_BYTES


def test_verify_runs_a_task_round_trip(gateway: GatewayProcess, client: OpenAI) -> None:
    result = anygate("verify", "--base-url", gateway.url, "--key", client.api_key, "--json", check=False)
    outcomes = {r["name"]: (r["outcome"], r["detail"]) for r in json.loads(result.stdout)}
    assert outcomes["media task"][0] == "PASS" and outcomes["media task"][1].endswith("completed"), outcomes["media task"]
    assert outcomes["callbacks"][0] == "PASS" and outcomes["callbacks"][1].startswith("1 received; signatures not checked"), (
        outcomes["callbacks"]
    )
