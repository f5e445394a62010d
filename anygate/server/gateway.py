"""The gateway's long-lived state for one worker: database, key cache, usage queue, upstream client."""

from __future__ import annotations

import asyncio
import logging
import time

import aiohttp

from anygate.auth.cache import KeyCache
from anygate.auth.limits import Limiter, MemoryLimiter, RedisLimiter
from anygate.auth.worker_limits import WorkerLimiter
from anygate.config import Settings
from anygate.core.outbound import Outbound
from anygate.core.replay_cache import ReplayCache
from anygate.logs import AccessLog, protect
from anygate.metering.spend import SpendTracker
from anygate.metering.writer import UsageWriter
from anygate.metrics import Metrics
from anygate.metrics_share import SHARE_SECONDS, SharedMetrics
from anygate.periodic import Periodic
from anygate.protocols import task_families
from anygate.providers import adapters
from anygate.providers.base import Provider
from anygate.providers.h1_client import close_pools
from anygate.routing.breaker import share_breakers
from anygate.routing.table import ModelTable
from anygate.server.call import Call
from anygate.server.preflight import without_password
from anygate.server.refusals import Refusals
from anygate.server.streaming import StreamWatch, cut_all
from anygate.store.database import create_engine, migrate
from anygate.store.retention import Retention
from anygate.tasks.contract import TaskProvider
from anygate.tasks.engine import TaskEngine
from anygate.tasks.targets import TaskModels

log = logging.getLogger(__name__)


class Gateway:
    """Everything a request needs that outlives it. Built by `create_app`, started and stopped with it."""

    def __init__(self, settings: Settings, metrics_dir: str | None = None) -> None:
        self.settings = settings
        self.started_at = int(time.time())
        self.engine = create_engine(settings.database)
        self.keys = KeyCache(self.engine)
        self.usage = UsageWriter(self.engine, sync=settings.metering.durability == "sync")
        self.spend = SpendTracker(self.engine, self.usage)
        self.retention = Retention(self.engine, settings.retention)
        protect(settings.secrets())
        self.limiter: Limiter
        if settings.redis:
            self.limiter = RedisLimiter(settings.redis, deny_on_error=settings.limits.on_redis_error == "deny")
        else:  # the workers of an instance share theirs
            self.limiter = WorkerLimiter(metrics_dir) if metrics_dir else MemoryLimiter()
        self.replay = ReplayCache()
        self.metrics = Metrics()
        self.shared_metrics = SharedMetrics(metrics_dir, self.metrics) if metrics_dir else None
        self._metrics_dir = metrics_dir
        self.refusals = Refusals(metrics_dir)
        self._sharing = Periodic(self._share, SHARE_SECONDS, "sharing metrics") if self.shared_metrics else None
        self.access = AccessLog()
        self.streams: set[Call] = set()  # the streams being written to clients
        self.stream_watch = StreamWatch(self.streams)
        self.stopping = False  # a shutdown's grace has ended: streams still open are being cut
        self.stopping_handle: asyncio.TimerHandle | None = None
        self.providers: dict[str, Provider] = {}
        self.models = ModelTable(settings, {})
        self.tasks = TaskEngine(self.engine, settings.tasks, TaskModels(settings, {}), task_families())
        self._http: aiohttp.ClientSession | None = None
        self.outbound = Outbound()  # URLs handed to the gateway: images, callbacks, upstream asset URLs

    @property
    def http(self) -> aiohttp.ClientSession:
        """The pooled client for upstream calls (open once the gateway has started)."""
        assert self._http is not None, "the gateway has not started"
        return self._http

    async def start(self) -> None:
        """Migrate the database, open the pooled upstream client, build providers, start background work."""
        await migrate(self.engine)
        if isinstance(self.limiter, RedisLimiter):
            problem = await self.limiter.problem()
            if problem:
                log.error(
                    "Redis at %s does not answer (%s): until it does, limits are %s (limits.on_redis_error)",
                    without_password(self.settings.redis or ""),
                    problem,
                    "refused with 503s" if self.settings.limits.on_redis_error == "deny" else "not enforced",
                )
        self._http = aiohttp.ClientSession(
            connector=aiohttp.TCPConnector(limit=0, ttl_dns_cache=300), skip_auto_headers=("User-Agent",)
        )
        self.outbound.start()
        known = adapters()
        task_providers: dict[str, TaskProvider] = {}
        for name, config in self.settings.providers.items():
            adapter = known.get(config.type)
            if adapter is None:
                log.warning(
                    "provider '%s': type '%s' is not available in this build yet; its models answer 503", name, config.type
                )
                continue
            if adapter.build is not None:
                self.providers[name] = adapter.build(name, config, self._http)
            if adapter.build_tasks is not None:
                task_providers[name] = adapter.build_tasks(name, config, self._http)
        self.models = ModelTable(self.settings, self.providers, task_providers=set(task_providers) - set(self.providers))
        if self._metrics_dir is not None:  # one of several workers: they share their breakers
            share_breakers(
                {f"{i}:{t.public_model}:{t.provider.name}:{t.model}": t.breaker for i, t in enumerate(self.models.targets())},
                self._metrics_dir,
            )
        self.tasks.models = TaskModels(self.settings, task_providers)
        self.tasks.start(self.outbound)
        if self._sharing is not None:
            self._sharing.start()
        await self.spend.start()
        self.stream_watch.start()
        self.keys.start()
        self.usage.start()
        self.retention.start()

    def cut_streams(self) -> None:
        """End the streams still open at the end of a shutdown's grace, each with its family's error."""
        self.stopping = True
        cut_all(self.streams)

    async def all_metrics(self) -> Metrics:
        """The counts of every worker of this instance (this worker's alone without --workers)."""
        return await self.shared_metrics.total() if self.shared_metrics else self.metrics

    async def _share(self) -> None:
        """Write this worker's metrics and refusals for the other workers to read."""
        assert self.shared_metrics is not None
        await self.shared_metrics.write()
        await self.refusals.write()

    async def stop(self) -> None:
        """Stop background work, write every queued usage record, close connections."""
        if self.stopping_handle is not None:
            self.stopping_handle.cancel()
        self.access.flush()
        self.stream_watch.stop()
        if self._sharing is not None:
            await self._sharing.stop()
        await self.tasks.stop()
        await self.retention.stop()
        await self.keys.stop()
        await self.spend.stop()
        await self.usage.close()
        await self.limiter.close()
        if self._http is not None:
            await self._http.close()
        close_pools()
        await self.outbound.close()
        await self.engine.dispose()
