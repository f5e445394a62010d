"""A circuit breaker per target: after consecutive failures the target is left out for a cool-down,
then one call probes it; a success closes the breaker, a failure opens it again. A probe that never
reports back (its client left) lets another one through after a further cool-down.

The workers of one instance share their breakers (`share_breakers`): each breaker's state lives in a
slot of one memory-mapped file, read without a lock on every call and changed under an exclusive
file lock, so a failing target opens after the same number of failures and gets one probe at a time,
however many workers there are. Instances do not share them: a breaker stands for this instance's
path to the upstream, and a Redis round trip on every call would cost more than the probes it saves.
"""

from __future__ import annotations

import fcntl
import mmap
import os
import struct
import time
from collections.abc import Iterator
from contextlib import contextmanager
from enum import StrEnum
from pathlib import Path
from typing import Any

FAILURES_TO_OPEN = 5
COOL_DOWN_SECONDS = 30.0
_SLOT = struct.Struct("<iid")  # state, consecutive failures, when it last opened or began probing (monotonic: one clock per host)


class BreakerState(StrEnum):
    """Where a breaker stands."""

    CLOSED = "closed"
    OPEN = "open"
    HALF_OPEN = "half_open"


_STATES = list(BreakerState)
_CODES = {state: code for code, state in enumerate(_STATES)}


class Breaker:
    """Counts a target's consecutive failures and decides whether to try it."""

    def __init__(self, failures_to_open: int = FAILURES_TO_OPEN, cool_down: float = COOL_DOWN_SECONDS) -> None:
        self._failures_to_open = failures_to_open
        self._cool_down = cool_down
        self._slots: Any = bytearray(_SLOT.size)  # this process's own, until shared
        self._offset = 0
        self._lock_file: int | None = None

    def share(self, slots: mmap.mmap, offset: int, lock_file: int) -> None:
        """Keep the state in `slots` at `offset`, shared with the other workers (changed under `lock_file`)."""
        self._slots, self._offset, self._lock_file = slots, offset, lock_file

    @property
    def state(self) -> BreakerState:
        """Where it stands now."""
        return _STATES[int(_SLOT.unpack_from(self._slots, self._offset)[0])]

    @property
    def failures(self) -> int:
        """Failures in a row."""
        return int(_SLOT.unpack_from(self._slots, self._offset)[1])

    def allows(self, now: float | None = None) -> bool:
        """Whether to send the next call; after the cool-down, one probe gets through."""
        if _SLOT.unpack_from(self._slots, self._offset)[0] == 0:  # closed: the common case, no lock
            return True
        now = time.monotonic() if now is None else now
        with self._locked():
            code, failures, since = _SLOT.unpack_from(self._slots, self._offset)
            if code == 0:
                return True
            if now - since < self._cool_down:
                return False  # open and cooling down, or a probe is out
            _SLOT.pack_into(self._slots, self._offset, _CODES[BreakerState.HALF_OPEN], failures, now)
            return True

    def success(self) -> None:
        """The target answered: close."""
        code, failures, _ = _SLOT.unpack_from(self._slots, self._offset)
        if code or failures:
            with self._locked():
                _SLOT.pack_into(self._slots, self._offset, 0, 0, 0.0)

    def failure(self, now: float | None = None) -> None:
        """The target failed: open after enough failures in a row, or at once when probing."""
        now = time.monotonic() if now is None else now
        with self._locked():
            code, failures, since = _SLOT.unpack_from(self._slots, self._offset)
            failures += 1
            if _STATES[code] is BreakerState.HALF_OPEN or (code == 0 and failures >= self._failures_to_open):
                code, since = _CODES[BreakerState.OPEN], now
            _SLOT.pack_into(self._slots, self._offset, code, failures, since)

    @contextmanager
    def _locked(self) -> Iterator[None]:
        if self._lock_file is None:
            yield
            return
        fcntl.flock(self._lock_file, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(self._lock_file, fcntl.LOCK_UN)


def share_breakers(breakers: dict[str, Breaker], directory: str) -> None:
    """Put each breaker, named the same in every worker, in one file of `directory` that all the
    workers of the instance map (the first to come makes it; slots go by sorted name)."""
    path = Path(directory) / "breakers"
    names = sorted(breakers)
    size = max(len(names), 1) * _SLOT.size
    descriptor = os.open(path, os.O_RDWR | os.O_CREAT, 0o600)
    fcntl.flock(descriptor, fcntl.LOCK_EX)
    try:
        if os.fstat(descriptor).st_size < size:
            os.ftruncate(descriptor, size)  # zero bytes: every breaker closed
    finally:
        fcntl.flock(descriptor, fcntl.LOCK_UN)
    slots = mmap.mmap(descriptor, size)
    for index, name in enumerate(names):
        breakers[name].share(slots, index * _SLOT.size, descriptor)
