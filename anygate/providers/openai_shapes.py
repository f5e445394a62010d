"""OpenAI's embeddings and images shapes, for providers that answer them from another API (Gemini, DashScope, mock)."""

from __future__ import annotations

import base64
import struct
import time
from typing import Any

from anygate.core.errors import ErrorKind, GatewayError


def embedding_texts(body: dict[str, Any]) -> list[str]:
    """The texts of an embeddings body's `input` (a string or an array of strings); token arrays
    cannot be embedded by a provider that reads text."""
    value = body.get("input")
    texts = [value] if isinstance(value, str) else value
    if not isinstance(texts, list) or not texts or not all(isinstance(t, str) for t in texts):
        raise GatewayError(
            ErrorKind.INVALID_REQUEST,
            "'input' must be a string or a non-empty array of strings for this model's provider (token arrays are not supported)",
            param="input",
        )
    if any(not t for t in texts):
        raise GatewayError(ErrorKind.INVALID_REQUEST, "'input' cannot contain an empty string", param="input")
    return texts


def embeddings_response(vectors: list[list[float]], model: str, prompt_tokens: int, encoding_format: Any) -> dict[str, Any]:
    """An OpenAI embeddings list: floats, or base64 of little-endian float32 when the client asked for it
    (the `openai` SDK does, by default)."""
    encode = encoding_format == "base64"
    return {
        "object": "list",
        "data": [
            {
                "object": "embedding",
                "index": i,
                "embedding": base64.b64encode(struct.pack(f"<{len(v)}f", *v)).decode() if encode else v,
            }
            for i, v in enumerate(vectors)
        ],
        "model": model,
        "usage": {"prompt_tokens": prompt_tokens, "total_tokens": prompt_tokens},
    }


def images_response(images: list[tuple[str, str]], response_format: Any) -> dict[str, Any]:
    """An OpenAI images answer from (media type, base64) pairs: `b64_json`, or data URLs when the client
    asked for `url` (the gateway keeps no files to link to)."""
    if response_format == "url":
        data = [{"url": f"data:{media};base64,{b64}"} for media, b64 in images]
    else:
        data = [{"b64_json": b64} for _, b64 in images]
    return {"created": int(time.time()), "data": data}


def images_response_urls(urls: list[str]) -> dict[str, Any]:
    """An OpenAI images answer that links to images hosted upstream."""
    return {"created": int(time.time()), "data": [{"url": url} for url in urls]}
