"""Limits shared by the workers of one instance (`serve --workers N` without Redis), so that N workers
enforce a key's limits once, not N times.

Each key's counts per window and its requests in flight live in one memory-mapped file of the
instance's folder, read and changed under an exclusive file lock (as the workers share their
breakers). The tables have a fixed size: a key's slot is one of a few after its hash, and a slot whose
window has passed, or with nothing in flight, is taken for another key. A slot counts the requests in
flight of each worker apart, and a worker's count is dropped once its process is gone, so a worker
that dies does not hold its slots for ever.
"""

from __future__ import annotations

import fcntl
import hashlib
import logging
import mmap
import os
import struct
import time
from pathlib import Path

from anygate.auth.keys import KeyRecord
from anygate.auth.limits import Window, take, taken_back

log = logging.getLogger(__name__)

MAX_WORKERS = 256
WINDOW_SLOTS = 1 << 16
FLIGHT_SLOTS = 1 << 12
PROBES = 32  # slots looked at after a key's hash
WARN_EVERY_SECONDS = 10.0
_PID = struct.Struct("<i")
_WINDOW = struct.Struct("<16siqqq")  # key id digest, window seconds, window number, requests, tokens
_FLIGHT = struct.Struct("<16sI")  # key id digest, requests in flight in all (then one count a worker)
_COUNT = struct.Struct("<H")
_FLIGHT_SIZE = _FLIGHT.size + MAX_WORKERS * _COUNT.size
_WINDOWS_AT = MAX_WORKERS * _PID.size
_FLIGHTS_AT = _WINDOWS_AT + WINDOW_SLOTS * _WINDOW.size
FILE_SIZE = _FLIGHTS_AT + FLIGHT_SLOTS * _FLIGHT_SIZE
_EMPTY = bytes(16)


class TableFull(Exception):
    """No slot is free near a key's hash."""


class WorkerLimiter:
    """Limits kept in the instance's shared file; this worker holds one of its worker places."""

    def __init__(self, directory: str) -> None:
        path = Path(directory) / "limits"
        self._file = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
        self._places: dict[str, tuple[bytes, list[int], list[int]]] = {}  # key id -> digest, its slots' offsets
        self._warned_at = -WARN_EVERY_SECONDS
        with self._locked():
            if os.fstat(self._file).st_size < FILE_SIZE:
                os.ftruncate(self._file, FILE_SIZE)  # zero bytes: nothing counted, no worker
            self._table = mmap.mmap(self._file, FILE_SIZE)
            self.worker = self._claim_place()

    def _claim_place(self) -> int:
        """The first worker place that is free or whose process is gone, taken for this process (the
        counts a gone one left are dropped)."""
        for worker in range(MAX_WORKERS):
            (pid,) = _PID.unpack_from(self._table, worker * _PID.size)
            if pid == 0 or not _alive(pid):
                if pid != 0:
                    for slot in range(FLIGHT_SLOTS):
                        self._drop(_FLIGHTS_AT + slot * _FLIGHT_SIZE, worker)
                _PID.pack_into(self._table, worker * _PID.size, os.getpid())
                return worker
        raise RuntimeError(f"more than {MAX_WORKERS} workers share one instance's limits")

    async def check(self, key: KeyRecord, tokens: int) -> Window:
        now = time.time()
        with self._locked():
            slots: dict[int, tuple[int, list[int]]] = {}  # window seconds -> (offset, counts)

            def counts_of(seconds: int, number: int) -> list[int]:
                offset, counts = self._window(key.id, seconds, number, now)
                slots[seconds] = (offset, counts)
                return counts

            try:
                window = take(key, tokens, now, counts_of)
            except TableFull:
                self._full()
                return Window(True, 0, 0, 0.0)
            for seconds, (offset, counts) in slots.items():
                _WINDOW.pack_into(self._table, offset, self._digest(key.id), seconds, *counts)
        return window

    def correct(self, key: KeyRecord, tokens: int) -> None:
        if all(tokens_cap is None for _, _, tokens_cap in key.caps):
            return
        now = time.time()
        with self._locked():
            for seconds, _, tokens_cap in key.caps:
                found = self._find_window(key.id, seconds) if tokens_cap is not None else None
                if found is not None:
                    offset, counts = found
                    if taken_back(counts, seconds, now, tokens):
                        _WINDOW.pack_into(self._table, offset, self._digest(key.id), seconds, *counts)

    async def acquire(self, key: KeyRecord) -> int | None:
        if key.max_concurrency is None:
            return 0
        with self._locked():
            try:
                offset = self._flight(key.id)
            except TableFull:
                self._full()
                return 0
            _, taken = _FLIGHT.unpack_from(self._table, offset)
            if taken >= key.max_concurrency:
                for worker in range(MAX_WORKERS):
                    if worker != self.worker and self._count(offset, worker):
                        (pid,) = _PID.unpack_from(self._table, worker * _PID.size)
                        if not _alive(pid):
                            self._drop(offset, worker)
                _, taken = _FLIGHT.unpack_from(self._table, offset)
                if taken >= key.max_concurrency:
                    return None
            self._add(offset, key.id, 1)
        return int(taken) + 1

    def release(self, key_id: str) -> None:
        with self._locked():
            offset = self._find_flight(key_id)
            if offset is not None and self._count(offset, self.worker) > 0:
                self._add(offset, key_id, -1)

    async def close(self) -> None:
        """Give up this worker's place (its calls have ended)."""
        with self._locked():
            _PID.pack_into(self._table, self.worker * _PID.size, 0)
        self._table.close()
        os.close(self._file)

    # the windows' table

    def _window(self, key_id: str, seconds: int, number: int, now: float) -> tuple[int, list[int]]:
        """The offset and counts ([window number, requests, tokens]) of the key's slot for windows of
        `seconds`: its own, or a free one, taken (counted from nothing)."""
        found = self._find_window(key_id, seconds)
        if found is not None:
            return found
        digest, windows, _ = self._place(key_id)
        for offset in windows:
            held, held_seconds, held_number, _, _ = _WINDOW.unpack_from(self._table, offset)
            if held == _EMPTY or held_number < int(now // held_seconds):
                _WINDOW.pack_into(
                    self._table, offset, digest, seconds, number, 0, 0
                )  # taken now: the key's other window looks next
                return offset, [number, 0, 0]
        raise TableFull

    def _find_window(self, key_id: str, seconds: int) -> tuple[int, list[int]] | None:
        digest, windows, _ = self._place(key_id)
        for offset in windows:
            held, held_seconds, *counts = _WINDOW.unpack_from(self._table, offset)
            if held == digest and held_seconds == seconds:
                return offset, counts
        return None

    # the in-flight table

    def _flight(self, key_id: str) -> int:
        """The offset of the key's in-flight slot: its own, or a free one (then made its own)."""
        found = self._find_flight(key_id)
        if found is not None:
            return found
        digest, _, flights = self._place(key_id)
        for offset in flights:
            if _FLIGHT.unpack_from(self._table, offset)[1] == 0:
                self._table[offset : offset + _FLIGHT_SIZE] = bytes(_FLIGHT_SIZE)
                _FLIGHT.pack_into(self._table, offset, digest, 0)
                return offset
        raise TableFull

    def _find_flight(self, key_id: str) -> int | None:
        """The offset of the key's own in-flight slot (which another key may take while it holds none)."""
        digest, _, flights = self._place(key_id)
        for offset in flights:
            if _FLIGHT.unpack_from(self._table, offset)[0] == digest:
                return offset
        return None

    def _count(self, offset: int, worker: int) -> int:
        return int(_COUNT.unpack_from(self._table, offset + _FLIGHT.size + worker * _COUNT.size)[0])

    def _add(self, offset: int, key_id: str, change: int) -> None:
        """Add `change` to this worker's count of the slot and to its total."""
        _, taken = _FLIGHT.unpack_from(self._table, offset)
        _FLIGHT.pack_into(self._table, offset, self._digest(key_id), taken + change)
        at = offset + _FLIGHT.size + self.worker * _COUNT.size
        _COUNT.pack_into(self._table, at, _COUNT.unpack_from(self._table, at)[0] + change)

    def _drop(self, offset: int, worker: int) -> None:
        """Take a gone worker's count out of the slot."""
        count = self._count(offset, worker)
        if count:
            held, taken = _FLIGHT.unpack_from(self._table, offset)
            _FLIGHT.pack_into(self._table, offset, held, max(taken - count, 0))
            _COUNT.pack_into(self._table, offset + _FLIGHT.size + worker * _COUNT.size, 0)

    # both

    def _place(self, key_id: str) -> tuple[bytes, list[int], list[int]]:
        """The key id's digest and the offsets of the slots it may have in each table, in probing order."""
        place = self._places.get(key_id)
        if place is None:
            if len(self._places) > 100_000:
                self._places.clear()
            digest = hashlib.blake2b(key_id.encode(), digest_size=16).digest()
            first = int.from_bytes(digest[:4], "little")
            windows = [_WINDOWS_AT + (first + probe) % WINDOW_SLOTS * _WINDOW.size for probe in range(PROBES)]
            flights = [_FLIGHTS_AT + (first + probe) % FLIGHT_SLOTS * _FLIGHT_SIZE for probe in range(PROBES)]
            place = self._places[key_id] = (digest, windows, flights)
        return place

    def _digest(self, key_id: str) -> bytes:
        return self._place(key_id)[0]

    def _full(self) -> None:
        now = time.monotonic()
        if now - self._warned_at >= WARN_EVERY_SECONDS:
            self._warned_at = now
            log.error("the workers' shared limits table is full near a key: its call goes through unchecked")

    def _locked(self) -> _FileLock:
        return _FileLock(self._file)


class _FileLock:
    """The table's exclusive lock, for a `with` block (a class: cheaper than a generator's context)."""

    __slots__ = ("_file",)

    def __init__(self, file: int) -> None:
        self._file = file

    def __enter__(self) -> None:
        fcntl.flock(self._file, fcntl.LOCK_EX)

    def __exit__(self, *_: object) -> None:
        fcntl.flock(self._file, fcntl.LOCK_UN)


def _alive(pid: int) -> bool:
    """Whether a process `pid` exists."""
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return True
