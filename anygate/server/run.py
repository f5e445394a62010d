"""Running the gateway: one process, or several worker processes sharing the port (SO_REUSEPORT)."""

from __future__ import annotations

import asyncio
import logging
import multiprocessing
import os
import shutil
import signal
import sys
import tempfile
from types import FrameType

from anygate.config import Settings
from anygate.logs import counted, setup_logging
from anygate.server.app import App
from anygate.server.listener import HttpServer
from anygate.server.preflight import without_password

log = logging.getLogger("anygate")


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


PARENT_CHECK_SECONDS = 1.0  # how often a worker looks whether its parent is still there


def _serve_one(
    settings: Settings, host: str, port: int, reuse_port: bool, metrics_dir: str | None = None, parent: int | None = None
) -> None:
    setup_logging()  # again in a spawned worker, which starts with no logging set up
    _install_uvloop()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    try:
        app = App(settings, metrics_dir)
        loop.run_until_complete(_serve_until_stopped(app, settings, host, port, reuse_port, parent))
    finally:
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve_until_stopped(
    app: App, settings: Settings, host: str, port: int, reuse_port: bool, parent: int | None = None
) -> None:
    """Serve `app` until SIGTERM or SIGINT (or, for a worker, until its `parent` process is gone: one
    killed with SIGKILL could not pass a signal on, and its workers would keep the port), then stop
    gracefully: no new connections, the requests in flight given the grace period, the gateway's usage
    written."""
    loop = asyncio.get_running_loop()
    stop = asyncio.Event()
    for signum in (signal.SIGTERM, signal.SIGINT):
        loop.add_signal_handler(signum, stop.set)
    if parent is not None:
        _watch_parent(loop, parent, stop)
    server = HttpServer(app.handle, settings.server)
    await app.start()
    try:
        await server.start(host, port, reuse_port)
        log.info("anygate listening on http://%s:%d (process %d)", host, port, os.getpid())
        await stop.wait()
        server.stop_listening()
        app.stopping()
        await server.finish(settings.server.shutdown_grace_seconds)
    finally:
        await app.stop()
        log.info("anygate stopped (process %d): requests in flight finished, usage written", os.getpid())


def _watch_parent(loop: asyncio.AbstractEventLoop, parent: int, stop: asyncio.Event) -> None:
    """Set `stop` once the process is no longer the child of `parent` (it was orphaned)."""
    if os.getppid() != parent:
        log.warning("the parent process %d is gone: this worker (process %d) stops", parent, os.getpid())
        stop.set()
        return
    loop.call_later(PARENT_CHECK_SECONDS, _watch_parent, loop, parent, stop)


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve until SIGINT or SIGTERM (the database already migrated, by the preflight); a stop finishes
    requests in flight and writes all usage first."""
    providers = ", ".join(f"{name} ({config.type})" for name, config in settings.providers.items()) or "none"
    log.info(
        "anygate starting on http://%s:%d with %s: config %s; database %s; redis %s; providers %s; %s",
        host,
        port,
        counted(workers, "worker"),
        settings.source,
        without_password(settings.database),
        without_password(settings.redis) if settings.redis else "none (limits in memory)",
        providers,
        counted(len(settings.models), "model"),
    )
    if not settings.models:
        log.warning("no models are configured: every call will answer 404 (add some under models: in the config)")
    if workers <= 1:
        _serve_one(settings, host, port, reuse_port=False)
        return
    ctx = multiprocessing.get_context("spawn")
    metrics_dir = tempfile.mkdtemp(prefix="anygate-metrics-")  # the workers' metrics, added up at each scrape
    children = [
        ctx.Process(target=_serve_one, args=(settings, host, port, True, metrics_dir, os.getpid()), daemon=False)
        for _ in range(workers)
    ]
    for child in children:
        child.start()

    def forward(signum: int, _: FrameType | None) -> None:
        for child in children:
            if child.is_alive() and child.pid:
                os.kill(child.pid, signum)

    signal.signal(signal.SIGTERM, forward)
    signal.signal(signal.SIGINT, forward)
    for child in children:
        child.join()
    shutil.rmtree(metrics_dir, ignore_errors=True)
    sys.exit(max((c.exitcode or 0) for c in children))
