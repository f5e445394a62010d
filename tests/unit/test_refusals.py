"""Refused calls kept for the dashboard: a bounded list per worker, shared with the other workers
through a folder only when it changed, read back whole."""

from __future__ import annotations

import os
from pathlib import Path

import orjson

from anygate.server.refusals import KEPT, Refusals


def _refusal(number: int) -> dict[str, object]:
    return {"request_id": f"req-{number}", "status": 401, "created_at": float(number)}


async def test_a_worker_keeps_only_its_latest_refusals() -> None:
    refusals = Refusals()
    for number in range(KEPT + 5):
        refusals.add(_refusal(number))
    kept = await refusals.latest()
    assert len(kept) == KEPT and kept[0]["request_id"] == "req-5" and kept[-1]["request_id"] == f"req-{KEPT + 4}"


async def test_workers_read_each_others_refusals(tmp_path: Path) -> None:
    mine = Refusals(str(tmp_path))
    mine.add(_refusal(1))
    (tmp_path / "99999.refused").write_bytes(orjson.dumps([_refusal(2), _refusal(3)]))  # another worker's
    (tmp_path / "99998.refused").write_bytes(b"[{half")  # one being replaced: skipped this time
    (tmp_path / "99999.json").write_bytes(b"{}")  # the metrics snapshots share the folder
    assert sorted(r["request_id"] for r in await mine.latest()) == ["req-1", "req-2", "req-3"]
    assert orjson.loads((tmp_path / f"{os.getpid()}.refused").read_bytes()) == [_refusal(1)], "read once, written for the others"


async def test_a_worker_writes_its_list_only_when_it_changed(tmp_path: Path) -> None:
    refusals = Refusals(str(tmp_path))
    own = tmp_path / f"{os.getpid()}.refused"
    await refusals.write()
    assert not own.exists(), "nothing refused, nothing written"
    refusals.add(_refusal(1))
    await refusals.write()
    assert orjson.loads(own.read_bytes()) == [_refusal(1)]
    own.write_bytes(b"[]")
    await refusals.write()
    assert own.read_bytes() == b"[]", "unchanged since: not written again"
    refusals.add(_refusal(2))
    await refusals.write()
    assert [r["request_id"] for r in orjson.loads(own.read_bytes())] == ["req-1", "req-2"]
    assert not list(tmp_path.glob("*.partial")), "written whole, then moved in place"
