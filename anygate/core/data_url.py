"""`data:` URLs, the way OpenAI carries inline images."""

from __future__ import annotations

import re

_DATA_URL = re.compile(r"^data:([\w.+-]+/[\w.+-]+)?(;[^,]*)?;base64,(.*)$", re.S)


def split_data_url(url: str) -> tuple[str, str] | None:
    """(media type, base64 data) of a base64 data URL, or None for any other URL."""
    match = _DATA_URL.match(url)
    if match is None:
        return None
    return match.group(1) or "application/octet-stream", match.group(3)


def make_data_url(media_type: str | None, data: str) -> str:
    """A base64 data URL."""
    return f"data:{media_type or 'application/octet-stream'};base64,{data}"
