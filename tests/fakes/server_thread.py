"""Running a server on a loopback port in a background thread: an aiohttp app (fake upstream servers),
or the gateway's own app on its own server."""

from __future__ import annotations

import asyncio
import socket
import threading

from aiohttp import web

from anygate.server.app import App
from anygate.server.listener import HttpServer


def free_port() -> int:
    """A TCP port on 127.0.0.1 that is free right now."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


class ServerThread:
    """An aiohttp application served on 127.0.0.1 from its own thread and event loop."""

    def __init__(self, app: web.Application) -> None:
        self.app = app
        self.port = 0  # chosen by the kernel when it starts: a port picked before could be taken by then
        self._loop = asyncio.new_event_loop()
        self._runner: web.AppRunner | None = None
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.port}"

    def start(self) -> ServerThread:
        """Start serving; returns once the port accepts connections."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(10)
        return self

    async def _start(self) -> None:
        self._runner = web.AppRunner(self.app, access_log=None)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", self.port).start()
        self.port = self._runner.addresses[0][1]

    def stop(self) -> None:
        """Stop serving and end the thread."""
        if self._runner is not None:
            asyncio.run_coroutine_threadsafe(self._runner.cleanup(), self._loop).result(10)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)


class GatewayThread:
    """The gateway's app on its own HTTP server, served on 127.0.0.1 from its own thread and event loop."""

    def __init__(self, app: App) -> None:
        self.app = app
        self.server = HttpServer(app.handle, app.settings.server)
        self._loop = asyncio.new_event_loop()
        self._thread = threading.Thread(target=self._loop.run_forever, daemon=True)

    @property
    def url(self) -> str:
        """The server's base URL."""
        return f"http://127.0.0.1:{self.server.port}"

    def start(self) -> GatewayThread:
        """Start the gateway and serve; returns once the port accepts connections."""
        self._thread.start()
        asyncio.run_coroutine_threadsafe(self._start(), self._loop).result(30)
        return self

    async def _start(self) -> None:
        await self.app.start()
        await self.server.start("127.0.0.1", 0)

    async def _stop(self) -> None:
        self.server.stop_listening()
        await self.server.finish(5)
        await self.app.stop()

    def stop(self) -> None:
        """Stop serving, stop the gateway and end the thread."""
        asyncio.run_coroutine_threadsafe(self._stop(), self._loop).result(30)
        self._loop.call_soon_threadsafe(self._loop.stop)
        self._thread.join(10)
