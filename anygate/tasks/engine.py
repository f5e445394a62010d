"""The task engine: submits tasks (budget reserved, row committed before the client sees the id),
polls them in the background with back-off until they end or their deadline passes, queues the
webhooks each change calls for, and delivers them. Every instance runs it; leases share the work."""

from __future__ import annotations

import asyncio
import logging
import secrets
import time
from types import SimpleNamespace
from typing import Any

import orjson
from sqlalchemy.ext.asyncio import AsyncEngine

from anygate.auth.keys import KeyRecord
from anygate.config import TasksConfig
from anygate.core.errors import GatewayError
from anygate.core.outbound import Outbound
from anygate.core.public_url import check_public_url
from anygate.core.usage import Usage
from anygate.metering.budget import reserve
from anygate.metering.record import usage_row
from anygate.periodic import Periodic
from anygate.store.tables import Task, WebhookDelivery
from anygate.tasks.contract import FINISHED, Polled, TaskFamily, TaskState, TaskStatus, TaskView
from anygate.tasks.store import (
    Outcome,
    claim_deliveries,
    claim_tasks,
    find_task,
    forget_intent,
    held,
    insert_task,
    next_poll_at,
    record_poll,
    submitted,
    view,
)
from anygate.tasks.targets import TaskModels, TaskTarget
from anygate.tasks.webhooks import deliver

log = logging.getLogger(__name__)
MAX_POLL_GAP_SECONDS = 60.0
TICK_SECONDS = 0.5
HOLD_MARGIN_SECONDS = 86400.0  # a task's budget hold outlives its deadline by this much
IDLE_SCAN_SECONDS = 5.0  # how soon work this instance was not told of (another's, a lapsed lease) is found
SUBMITTING = "SUBMITTING"  # the upstream status of an intent: the submit is under way
SUBMIT_LOST = "SUBMIT_LOST"
_SUBMIT_LOST_ERROR = (
    "the gateway stopped while submitting this task and the upstream has no task it can match to it; nothing was charged"
)


class TaskEngine:
    """Submit, poll, bill and notify; `start` runs the background work, `stop` ends it."""

    def __init__(
        self,
        engine: AsyncEngine,
        settings: TasksConfig,
        models: TaskModels,
        families: dict[str, TaskFamily],
    ) -> None:
        self._engine = engine
        self._settings = settings
        self.models = models
        self._families = families
        self._outbound: Outbound | None = None
        tick = min(settings.poll_interval_seconds, TICK_SECONDS)
        self._poller = Periodic(self._poll_due, IDLE_SCAN_SECONDS, "polling tasks", tick)
        self._deliverer = Periodic(self._deliver_due, IDLE_SCAN_SECONDS, "delivering webhooks", tick)

    def start(self, outbound: Outbound) -> None:
        """Start polling and delivering in the background."""
        self._outbound = outbound
        self._poller.due(0.0)  # at once: tasks and deliveries left by an earlier run may be due
        self._deliverer.due(0.0)
        self._poller.start()
        self._deliverer.start()

    async def stop(self) -> None:
        """Stop the background work; leases lapse, so another instance (or the next start) resumes it."""
        await self._poller.stop()
        await self._deliverer.stop()

    async def check_callback(self, url: str | None) -> None:
        """400 for a callback URL the gateway may not call."""
        if url is not None:
            await check_public_url(url, self._settings.webhook_allow_private, "callback URL")

    async def submit(
        self,
        key: KeyRecord,
        family: str,
        kind: str,
        target: TaskTarget,
        body: dict[str, Any],
        upstream_body: dict[str, Any],
        callback_url: str | None,
        idempotency_key: str | None = None,
    ) -> TaskView:
        """Reserve the task's price, record the intent, submit it upstream, record its answer; its view.

        The reservation is a budget hold named by the task's id, released when the task is billed. The
        intent (a task row with no upstream id, leased while the submit runs) is committed before the
        upstream is asked, so a submit cut off by a crash is found by the poller and reconciled, never
        lost; a submit the upstream refuses leaves nothing behind. IntegrityError: the key already has
        a task with this idempotency key."""
        task_id = secrets.token_hex(16)
        hold = None
        if key.budget_usd is not None and target.price:
            seconds = self._settings.deadline_seconds + HOLD_MARGIN_SECONDS
            hold = await reserve(self._engine, key.id, key.budget_usd, target.price, seconds, task_id)
        now = time.time()
        lease = self._settings.lease_seconds
        row = {
            "id": task_id,
            "key_id": key.id,
            "family": family,
            "kind": kind,
            "public_model": target.public_model,
            "provider": target.provider.name,
            "upstream_model": target.model,
            "upstream_id": "",
            "state": TaskState.PENDING.value,
            "upstream_status": SUBMITTING,
            "progress": 0,
            "request": orjson.dumps(body).decode(),
            "result": None,
            "error": None,
            "callback_url": callback_url,
            "polls": 0,
            "cost_usd": target.price,
            "billing": "reserved",
            "created_at": now,
            "updated_at": now,
            "deadline_at": now + self._settings.deadline_seconds,
            "next_poll_at": now,
            "lease_until": now + lease,
            "idempotency_key": idempotency_key,
        }
        try:
            await insert_task(self._engine, row)
        except BaseException:
            await forget_intent(self._engine, task_id, hold)
            raise
        try:
            async with held(self._engine, Task, [task_id], lease):
                answer = await target.provider.submit(kind, upstream_body, task_id)
        except Exception:  # refused or failed: the client is told so, and nothing is kept or held
            await forget_intent(self._engine, task_id, hold)
            raise
        # cancelled (shutdown): the intent stays, its lease lapses, the poller reconciles it
        status = answer.status
        now = time.time()
        next_poll = now + self._settings.poll_interval_seconds
        values = {
            "upstream_id": answer.upstream_id,
            "state": status.state.value,
            "upstream_status": status.upstream_status,
            "progress": status.progress,
            "result": orjson.dumps(answer.raw).decode(),
            "error": status.error,
            "updated_at": now,
            "next_poll_at": next_poll,
        }
        if not await submitted(self._engine, task_id, values):
            log.warning(
                "task %s was reconciled while its submit ran; upstream task %s is not followed", task_id, answer.upstream_id
            )
            return view(await find_task(self._engine, task_id, key.id))
        self._poller.due(next_poll)
        return view(SimpleNamespace(**(row | values)))

    def deliver_soon(self) -> None:
        """Look for due webhook deliveries now (one was queued or retried from elsewhere)."""
        self._deliverer.due(time.time())

    async def _poll_due(self) -> None:
        providers = self.models.provider_names()
        lease = self._settings.lease_seconds
        while tasks := await claim_tasks(self._engine, providers, lease):
            async with held(self._engine, Task, [t.id for t in tasks], lease):
                await asyncio.gather(*(self._poll(task) for task in tasks))
        soonest = await next_poll_at(self._engine, providers)  # tasks this instance was not told of included
        if soonest is not None:
            self._poller.due(soonest)

    async def _poll(self, task: Any) -> None:
        try:
            await self._poll_one(task)
        except Exception:  # one broken task must not stop the others; its lease lapses and it is tried again
            log.warning("polling task %s failed", task.id, exc_info=True)

    async def _poll_one(self, task: Any) -> None:
        before = TaskStatus(TaskState(task.state), task.upstream_status, task.progress, task.error)
        now = time.time()
        gap = min(
            self._settings.poll_interval_seconds * 1.5 ** min(task.polls, 12),
            max(MAX_POLL_GAP_SECONDS, self._settings.poll_interval_seconds),
        )
        provider = self.models.provider(task.provider)
        result: dict[str, Any] | None = None
        upstream_id = None  # found for a submit that was cut off
        if now >= task.deadline_at or provider is None:  # without its provider, a task is claimed only at its deadline
            missing = "" if provider else f" (no instance that polled it has provider '{task.provider}' configured)"
            status = TaskStatus(
                TaskState.FAILED, "DEADLINE_EXCEEDED", task.progress, f"the task did not finish before its deadline{missing}"
            )
        else:
            try:
                if task.upstream_id:
                    polled = await provider.query(task.kind, task.upstream_id)
                elif found := await provider.find(task.kind, orjson.loads(task.request), task.id):
                    upstream_id, polled = found.upstream_id, Polled(found.status, found.raw)
                else:
                    polled = Polled(TaskStatus(TaskState.FAILED, SUBMIT_LOST, 0, _SUBMIT_LOST_ERROR))
            except GatewayError as err:  # the upstream failed this time: keep the state, look again later
                log.info("polling task %s: %s", task.id, err.message)
                await record_poll(self._engine, task, Outcome(before, None, now + gap, []), None)
                self._poller.due(now + gap)
                return
            status, result = polled.status, polled.raw or None
        after = view(task)
        after.state, after.upstream_status, after.progress, after.error = (
            status.state,
            status.upstream_status,
            status.progress,
            status.error,
        )
        if result is not None:
            after.result = result
        changed = (before.state, before.upstream_status) != (status.state, status.upstream_status)
        webhooks = self._webhooks(task, after, before) if changed and task.callback_url else []
        usage = None
        if status.state is TaskState.SUCCEEDED:  # the record that settles the task: its price, once
            models = (task.public_model, task.provider, task.upstream_model)
            latency = (now - task.created_at) * 1000.0
            usage = usage_row(now, task.id, task.key_id, task.family, models, Usage(), task.cost_usd, latency, 200, 1)
        next_poll = now + gap if status.state not in FINISHED else now
        await record_poll(self._engine, task, Outcome(status, result, next_poll, webhooks, upstream_id), usage)
        if status.state not in FINISHED:
            self._poller.due(next_poll)
        if webhooks:
            self.deliver_soon()

    def _webhooks(self, task: Any, after: TaskView, before: TaskStatus) -> list[dict[str, Any]]:
        family = self._families.get(task.family)
        if family is None:
            return []
        now = time.time()
        return [
            {
                "id": "evt_" + secrets.token_hex(16),
                "task_id": task.id,
                "key_id": task.key_id,
                "url": task.callback_url,
                "event": event,
                "payload": orjson.dumps(payload).decode(),
                "state": "pending",
                "attempts": 0,
                "created_at": now + order * 1e-6,  # events of one change keep their order
                "next_attempt_at": now,
                "lease_until": 0.0,
            }
            for order, (event, payload) in enumerate(family.events(after, before))
        ]

    async def _deliver_due(self) -> None:
        assert self._outbound is not None
        lease = self._settings.lease_seconds
        while deliveries := await claim_deliveries(self._engine, lease):
            async with held(self._engine, WebhookDelivery, [d.id for d in deliveries], lease):
                retries = await asyncio.gather(*(deliver(self._engine, self._outbound, self._settings, d) for d in deliveries))
            for at in retries:
                if at is not None:
                    self._deliverer.due(at)
