"""The mock's audio and moderation answers, in OpenAI's shapes: speech as silent WAV, transcripts that
say what was heard (how many bytes), moderation that flags a few words."""

from __future__ import annotations

import math
import struct
import time
from typing import Any

import orjson

from anygate.core.errors import invalid_request
from anygate.providers.base import Reply, Upload

_RATE = 8000  # samples a second of the silent speech (8-bit mono)
_SECONDS_A_CHARACTER = 0.06
_MAX_SPEECH_SECONDS = 60
_HEARD_BYTES_A_SECOND = 32000  # a transcribed file's length, as 16 kHz 16-bit mono
_FLAGGED = {"kill": "violence", "hate": "hate", "bomb": "illicit/violent"}
CATEGORIES = (
    "harassment", "harassment/threatening", "hate", "hate/threatening", "illicit", "illicit/violent", "self-harm",
    "self-harm/instructions", "self-harm/intent", "sexual", "sexual/minors", "violence", "violence/graphic",
)  # fmt: skip


def speech(body: dict[str, Any]) -> Reply:
    """Silence as long as the text would take to say (a WAV whatever the format asked)."""
    text = body.get("input")
    if not isinstance(text, str) or not text:
        raise invalid_request("'input' is required", param="input")
    if len(text) > 4096:
        raise invalid_request("'input' may be at most 4096 characters", param="input")
    samples = int(_RATE * min(len(text) * _SECONDS_A_CHARACTER, _MAX_SPEECH_SECONDS))
    header = b"RIFF" + struct.pack("<I", 36 + samples) + b"WAVEfmt " + struct.pack("<IHHIIHH", 16, 1, 1, _RATE, _RATE, 1, 8)
    wav = header + b"data" + struct.pack("<I", samples) + b"\x80" * samples

    async def chunks() -> Any:
        for at in range(0, len(wav), 16384):
            yield wav[at : at + 16384]

    return Reply(chunks=chunks(), content_type="audio/wav")


async def transcript(upload: Upload, task: str) -> Reply:
    """What was 'heard' in the file, in the response_format asked for."""
    size = 0
    async for chunk in upload.chunks:
        size += len(chunk)
    fields = dict(upload.fields + await upload.rest())
    seconds = max(1, math.ceil(size / _HEARD_BYTES_A_SECOND))
    text = f"Mock {'transcription' if task == 'transcribe' else 'translation'} of {upload.filename} ({size} bytes)."
    kind = fields.get("response_format", "json")
    if kind == "text":
        return Reply(body=text.encode() + b"\n", content_type="text/plain")
    if kind in ("srt", "vtt"):
        stamp = f"00:00:00{',' if kind == 'srt' else '.'}000 --> 00:00:{min(seconds, 59):02d}{',' if kind == 'srt' else '.'}000"
        lines = ["1", stamp, text] if kind == "srt" else ["WEBVTT", "", stamp, text]
        return Reply(body=("\n".join(lines) + "\n\n").encode(), content_type="text/plain")
    if kind == "verbose_json":
        segment = {"id": 0, "seek": 0, "start": 0.0, "end": float(seconds), "text": text, "tokens": [], "temperature": 0.0,
                   "avg_logprob": 0.0, "compression_ratio": 1.0, "no_speech_prob": 0.0}  # fmt: skip
        answer = {"task": task, "language": "english", "duration": float(seconds), "text": text, "segments": [segment]}
        return Reply(body=orjson.dumps({**answer, "usage": {"type": "duration", "seconds": seconds}}))
    if kind != "json":
        raise invalid_request(f"Invalid value for 'response_format': {kind}", param="response_format")
    return Reply(body=orjson.dumps({"text": text, "usage": {"type": "duration", "seconds": seconds}}))


def moderation(body: dict[str, Any]) -> Reply:
    """Each input flagged when it holds one of a few words."""
    given = body.get("input")
    inputs = [given] if isinstance(given, str) else given
    if not isinstance(inputs, list) or not inputs:
        raise invalid_request("'input' must be a string or an array", param="input")
    results = []
    for item in inputs:
        text = item if isinstance(item, str) else str(item.get("text", "")) if isinstance(item, dict) else ""
        hits = {category for word, category in _FLAGGED.items() if word in text.lower()}
        results.append(
            {
                "flagged": bool(hits),
                "categories": {c: c in hits for c in CATEGORIES},
                "category_scores": {c: 0.9 if c in hits else 0.0001 for c in CATEGORIES},
                "category_applied_input_types": {c: ["text"] for c in CATEGORIES},
            }
        )
    model = body.get("model") or "omni-moderation-latest"
    return Reply(body=orjson.dumps({"id": f"modr-mock{time.time_ns()}", "model": model, "results": results}))
