"""OpenAI's images and videos requests as Kling's tasks: image generation, and text-to-video,
image-to-video or Omni video."""

from __future__ import annotations

from typing import Any

from anygate.core.data_url import split_data_url
from anygate.providers.base import VideoAsk

_IMAGE_RATIOS = {
    "1024x1024": "1:1",
    "1536x1024": "3:2",
    "1024x1536": "2:3",
    "1792x1024": "16:9",
    "1024x1792": "9:16",
    "1280x720": "16:9",
    "720x1280": "9:16",
}
_VIDEO_RATIOS = {"1280x720": "16:9", "1920x1080": "16:9", "720x1280": "9:16", "1080x1920": "9:16", "1024x1024": "1:1"}


def image_body(body: dict[str, Any], model: str) -> dict[str, Any]:
    """An OpenAI images request (with its prompt) as Kling's image generation takes it."""
    out: dict[str, Any] = {"model_name": model, "prompt": body["prompt"], "n": body.get("n", 1)}
    out["aspect_ratio"] = body.get("aspect_ratio") or _IMAGE_RATIOS.get(str(body.get("size")), "1:1")
    for name in ("negative_prompt", "resolution", "image", "image_reference", "image_fidelity"):
        if name in body:
            out[name] = body[name]
    return out


def _image(image: str) -> str:
    inline = split_data_url(image)
    return inline[1] if inline else image  # Kling takes a URL or bare base64


def video_kind(ask: VideoAsk, model: str, kinds: frozenset[str]) -> str:
    """Kling's route for the request: omni-video for an Omni model, else image2video when it brings a
    frame, else text2video."""
    if "omni-video" in kinds and ("omni" in model.lower() or not kinds & {"text2video", "image2video"}):
        return "omni-video"
    return "image2video" if ask.first_frame or ask.last_frame else "text2video"


def video_body(ask: VideoAsk, model: str, kind: str) -> dict[str, Any]:
    """The body of a video task of `kind` for an OpenAI videos request."""
    out: dict[str, Any] = {
        "model_name": model,
        "prompt": ask.prompt,
        "duration": str(ask.seconds),
        "aspect_ratio": ask.body.get("aspect_ratio") or _VIDEO_RATIOS.get(ask.size, "16:9"),
    }
    for name in ("mode", "negative_prompt", "sound", "generate_audio", "cfg_scale"):
        if name in ask.body:
            out[name] = ask.body[name]
    if kind == "omni-video":
        frames = [(ask.first_frame, "first_frame"), (ask.last_frame, "end_frame")]
        listed = [{"image_url": _image(url), "type": role} for url, role in frames if url]
        if listed:
            out["image_list"] = listed
        return out
    if ask.first_frame:
        out["image"] = _image(ask.first_frame)
    if ask.last_frame:
        out["image_tail"] = _image(ask.last_frame)
    return out
