"""Faults any fake upstream can be told to make, by the last word of the upstream model id.

`-hang` never sends its headers; `-mute` sends the headers of a stream, then nothing; `-stall` stops
after the first chunk and stays silent; `-drop` closes the connection after the first chunk; `-pause`
is silent for PAUSE_SECONDS after the first chunk, then goes on (a reasoning model thinking mid-stream). A fake
waits out a hang until the gateway goes away (counted in `disconnects`), so no handler outlives a test.
"""

from __future__ import annotations

import asyncio
import time

from aiohttp import web

HANG_SECONDS = 30.0
PAUSE_SECONDS = 1.5


class Faults:
    """The fault behaviour of one fake server, and how often a caller left it hanging."""

    def __init__(self) -> None:
        self.disconnects = 0

    async def before_headers(self, model: str, request: web.Request) -> bool:
        """Hang here for `-hang`; True when the fake must give up on its answer."""
        if model.endswith("-hang"):
            await self._hang(request)
            return True
        return False

    async def after_headers(self, model: str, request: web.Request) -> bool:
        """Hang here for `-mute`, once a stream's headers are out; True when the stream must end there."""
        if model.endswith("-mute"):
            await self._hang(request)
            return True
        return False

    async def after_chunk(self, model: str, request: web.Request) -> bool:
        """After a stream's first chunk: hang for `-stall`, cut the connection for `-drop`; True when the
        stream must end there."""
        if model.endswith("-stall"):
            await self._hang(request)
            return True
        if model.endswith("-pause"):
            await asyncio.sleep(PAUSE_SECONDS)
            return request.transport is None or request.transport.is_closing()
        if model.endswith("-drop"):
            assert request.transport is not None
            request.transport.close()
            return True
        return False

    async def _hang(self, request: web.Request) -> None:
        deadline = time.monotonic() + HANG_SECONDS
        while time.monotonic() < deadline:
            if request.transport is None or request.transport.is_closing():
                self.disconnects += 1
                return
            await asyncio.sleep(0.05)
