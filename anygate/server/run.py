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

from aiohttp import web

from anygate.config import Settings
from anygate.logs import counted, setup_logging
from anygate.server.app import create_app
from anygate.server.listener import GuardedSite
from anygate.server.preflight import without_password

log = logging.getLogger("anygate")


def _install_uvloop() -> None:
    try:
        import uvloop
    except ImportError:
        return
    asyncio.set_event_loop_policy(uvloop.EventLoopPolicy())


def _serve_one(settings: Settings, host: str, port: int, reuse_port: bool, metrics_dir: str | None = None) -> None:
    setup_logging()  # again in a spawned worker, which starts with no logging set up
    _install_uvloop()
    loop = asyncio.new_event_loop()
    asyncio.set_event_loop(loop)
    main = loop.create_task(_serve_until_stopped(create_app(settings, metrics_dir), settings, host, port, reuse_port))
    try:
        loop.run_until_complete(main)
    except (web.GracefulExit, KeyboardInterrupt):  # SIGTERM or SIGINT: finish what is in flight, then stop
        pass
    finally:
        main.cancel()
        loop.run_until_complete(asyncio.gather(main, return_exceptions=True))
        loop.run_until_complete(loop.shutdown_asyncgens())
        loop.close()


async def _serve_until_stopped(app: web.Application, settings: Settings, host: str, port: int, reuse_port: bool) -> None:
    """Serve `app` (aiohttp's runner, the listener's bounds) until cancelled, then shut down gracefully."""
    runner = web.AppRunner(
        app, handle_signals=True, access_log=None, shutdown_timeout=settings.server.shutdown_grace_seconds, keepalive_timeout=75
    )
    await runner.setup()
    try:
        await GuardedSite(runner, host, port, reuse_port, settings.server).start()
        log.info("anygate listening on http://%s:%d (process %d)", host, port, os.getpid())
        while True:
            await asyncio.sleep(3600)
    finally:
        await runner.cleanup()
        log.info("anygate stopped (process %d): requests in flight finished, usage written", os.getpid())


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
        ctx.Process(target=_serve_one, args=(settings, host, port, True, metrics_dir), daemon=False) for _ in range(workers)
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
