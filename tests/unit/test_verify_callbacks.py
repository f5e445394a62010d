"""`anygate verify` when the gateway will not call back this machine: the task still runs, and the
callbacks step says why it was skipped and what to do."""

from __future__ import annotations

import json
from typing import Any

import pytest

from anygate.verify.checks import Checklist, Options
from anygate.verify.http import Answer, Client, Skipped


class _Gateway(Client):
    """Refuses any task body that names a callback, as a gateway refusing private hosts does."""

    def __init__(self, refusal: dict[str, Any], status: int) -> None:
        super().__init__("http://gateway.invalid", "ag-key")
        self.refusal, self.status, self.bodies = refusal, status, []  # type: ignore[var-annotated]

    def call(self, method: str, path: str, body: Any = None, auth: Any = "bearer", key: str | None = None) -> Answer:
        self.bodies.append(body)
        if "callback_url" in body or "callBackUrl" in body:
            return Answer(self.status, {}, json.dumps(self.refusal).encode())
        return Answer(200, {}, b'{"id": "video_1", "status": "queued"}')


@pytest.mark.parametrize(
    ("refusal", "status", "field"),
    [
        (
            {"error": {"message": "cannot use the callback URL: the host is private", "type": "invalid_request_error"}},
            400,
            "callback_url",
        ),
        (
            {"code": 400, "msg": "cannot use the callback URL: the host is private", "data": None},
            200,
            "callBackUrl",
        ),  # Suno's shape
    ],
)
def test_a_refused_callback_url_is_dropped_and_the_callbacks_step_skipped(
    refusal: dict[str, Any], status: int, field: str
) -> None:
    gateway = _Gateway(refusal, status)
    checklist = Checklist(gateway, Options(key_source="ANYGATE_API_KEY"))
    try:
        answer = checklist._create("/openai/v1/videos", {"model": "v"}, field, "media")
        assert answer.json() == {"id": "video_1", "status": "queued"}
        assert [sorted(b) for b in gateway.bodies] == [sorted(["model", field]), ["model"]]
        with pytest.raises(
            Skipped, match=r"refused the callback URL http://127\.0\.0\.1:\d+/anygate-verify/media \(cannot use the callback URL"
        ):
            checklist.callbacks()
    finally:
        assert checklist.receiver is not None
        checklist.receiver.close()


def test_another_400_is_not_taken_for_a_refused_callback() -> None:
    gateway = _Gateway({"error": {"message": "'prompt' is required"}}, 400)
    checklist = Checklist(gateway, Options(key_source="ANYGATE_API_KEY"))
    try:
        assert checklist._create("/openai/v1/videos", {"model": "v"}, "callback_url", "media").status == 400
        assert len(gateway.bodies) == 1 and checklist.callback_refused is None and checklist.tasks_called_back == []
    finally:
        assert checklist.receiver is not None
        checklist.receiver.close()
