"""The Suno API's own limits on a song request, by upstream model."""

from __future__ import annotations

import pytest

from anygate.core.errors import GatewayError
from anygate.protocols.suno.validation import check_song

SONG = {"customMode": True, "instrumental": False, "title": "t", "style": "s", "prompt": "p"}


@pytest.mark.parametrize(
    ("model", "field", "limit"),
    [("V4", "title", 80), ("V3_5", "style", 200), ("V4", "prompt", 3000), ("V5", "title", 100), ("V4_5PLUS", "prompt", 5000)],
)
def test_each_field_is_held_to_the_models_limit(model: str, field: str, limit: int) -> None:
    check_song("generate", {**SONG, field: "x" * limit}, model)
    with pytest.raises(GatewayError, match=f"'{field}' is longer than {limit} characters") as refused:
        check_song("generate", {**SONG, field: "x" * (limit + 1)}, model)
    assert refused.value.status == 400 and refused.value.param == field


def test_only_song_routes_are_checked_and_a_text_field_must_be_text() -> None:
    check_song("wav-generate", {}, "V5")
    check_song("upload-extend", {**SONG, "customMode": False, "style": 7}, "V5")  # ignored outside custom mode
    with pytest.raises(GatewayError, match="'style' must be a string"):
        check_song("upload-cover", {**SONG, "style": 7}, "V5")
