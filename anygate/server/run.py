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
from anygate.logs import setup_logging
from anygate.server.app import create_app
from anygate.store.database import create_engine, migrate

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
    web.run_app(
        create_app(settings, metrics_dir),
        host=host,
        port=port,
        reuse_port=reuse_port or None,
        access_log=None,
        print=None,
        shutdown_timeout=30,
    )


async def _migrate_once(settings: Settings) -> None:
    engine = create_engine(settings.database)
    try:
        await migrate(engine)
    finally:
        await engine.dispose()


def serve(settings: Settings, host: str, port: int, workers: int) -> None:
    """Serve until SIGINT or SIGTERM; a stop finishes requests in flight and writes all usage first."""
    log.info(
        "anygate listening on http://%s:%d with %d worker(s) (config: %s; %d providers, %d models)",
        host,
        port,
        workers,
        settings.source,
        len(settings.providers),
        len(settings.models),
    )
    if workers <= 1:
        _serve_one(settings, host, port, reuse_port=False)
        return
    asyncio.run(_migrate_once(settings))  # once, before workers race to migrate
    ctx = multiprocessing.get_context("spawn")
    metrics_dir = tempfile.mkdtemp(prefix="anygate-metrics-")  # the workers' metrics, added up at each scrape
    children = [ctx.Process(target=_serve_one, args=(settings, host, port, True, metrics_dir), daemon=False) for _ in range(workers)]
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
