"""The checks the Suno API makes of a song request before it takes it, made here first (so that a bad
request is a clear 400 that costs nothing, not a task that fails later): `customMode` and
`instrumental` are booleans; in custom mode `style` and `title` are required (and `prompt`, the lyrics,
unless instrumental); otherwise `prompt` is; each within the length the upstream model allows; a
`callBackUrl` is an http(s) URL."""

from __future__ import annotations

from typing import Any

from anygate.core.errors import invalid_request

SONG_ROUTES = {"generate", "upload-cover", "upload-extend"}  # the routes with custom and non-custom modes
_OLDER = {"V3_5", "V4"}  # models with the shorter limits
_LIMITS = {  # field -> (older models, newer models), in characters
    "prompt": (3000, 5000),
    "style": (200, 1000),
    "title": (80, 100),
}
NON_CUSTOM_PROMPT = 500


def _text(body: dict[str, Any], name: str, required: bool, limit: int) -> None:
    value = body.get(name)
    if value is None or value == "":
        if required:
            raise invalid_request(f"'{name}' is required", name)
        return
    if not isinstance(value, str):
        raise invalid_request(f"'{name}' must be a string", name)
    if len(value) > limit:
        raise invalid_request(f"'{name}' is longer than {limit} characters", name)


def check_callback_url(body: dict[str, Any]) -> None:
    """A `callBackUrl`, when given, is an http or https URL."""
    url = body.get("callBackUrl")
    if url is not None and (not isinstance(url, str) or not url.startswith(("http://", "https://"))):
        raise invalid_request("'callBackUrl' must be an http or https URL", "callBackUrl")


def check_song(route: str, body: dict[str, Any], upstream_model: str) -> None:
    """400 for a song request the Suno API would refuse."""
    if route not in SONG_ROUTES:
        return
    for flag in ("customMode", "instrumental"):
        if not isinstance(body.get(flag), bool):
            raise invalid_request(f"'{flag}' is required and must be true or false", flag)
    newer = 0 if upstream_model in _OLDER else 1
    if body["customMode"]:
        _text(body, "style", True, _LIMITS["style"][newer])
        _text(body, "title", True, _LIMITS["title"][newer])
        _text(body, "prompt", not body["instrumental"], _LIMITS["prompt"][newer])
    else:
        _text(body, "prompt", True, NON_CUSTOM_PROMPT)
