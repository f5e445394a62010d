"""A transcript (verbose_json or json) written as OpenAI writes its other formats: text, SRT, WebVTT."""

from __future__ import annotations

from typing import Any


def _stamp(seconds: float, separator: str) -> str:
    millis = round(max(seconds, 0.0) * 1000)
    hours, millis = divmod(millis, 3_600_000)
    minutes, millis = divmod(millis, 60_000)
    secs, millis = divmod(millis, 1000)
    return f"{hours:02d}:{minutes:02d}:{secs:02d}{separator}{millis:03d}"


def _segments(answer: dict[str, Any]) -> list[tuple[float, float, str]]:
    segments = [s for s in answer.get("segments") or [] if isinstance(s, dict)]
    if not segments:  # json has no timing: the whole text as one cue over the whole duration
        return [(0.0, float(answer.get("duration") or 0.0), str(answer.get("text") or ""))]
    return [(float(s.get("start") or 0.0), float(s.get("end") or 0.0), str(s.get("text") or "").strip()) for s in segments]


def rendered(answer: dict[str, Any], kind: str) -> str:
    """The transcript as `text`, `srt` or `vtt`."""
    if kind == "text":
        return str(answer.get("text") or "") + "\n"
    if kind == "srt":
        cues = [
            f"{n}\n{_stamp(a, ',')} --> {_stamp(b, ',')}\n{text}\n" for n, (a, b, text) in enumerate(_segments(answer), start=1)
        ]
        return "\n".join(cues) + "\n"
    cues = [f"{_stamp(a, '.')} --> {_stamp(b, '.')}\n{text}\n" for a, b, text in _segments(answer)]
    return "WEBVTT\n\n" + "\n".join(cues) + "\n"
