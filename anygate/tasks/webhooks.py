"""Delivering task webhooks: signed, retried with exponential back-off, logged per attempt.

Each delivery carries `X-Anygate-Event-Id` (the same on every retry, so receivers can drop copies),
`X-Anygate-Timestamp` (Unix seconds) and `X-Anygate-Signature: sha256=<hex>`, the HMAC-SHA256 of
`<timestamp>.<body>` under the key's webhook secret. To verify: recompute it over the raw body, compare
in constant time, and refuse timestamps more than a few minutes old.
"""

from __future__ import annotations

import hashlib
import hmac
import time
from typing import Any

import aiohttp

from anygate.config import TasksConfig
from anygate.core.errors import ErrorKind, GatewayError
from anygate.core.outbound import Outbound
from anygate.tasks.store import record_attempt

_TIMEOUT = aiohttp.ClientTimeout(total=15, connect=5)
MAX_BACKOFF_SECONDS = 600.0


def _refused(why: str) -> GatewayError:
    return GatewayError(ErrorKind.INVALID_REQUEST, f"cannot use the callback URL: {why}")


def signature(secret: str, timestamp: str, body: bytes) -> str:
    """The `X-Anygate-Signature` value for `body` sent at `timestamp`."""
    digest = hmac.new(secret.encode(), timestamp.encode() + b"." + body, hashlib.sha256).hexdigest()
    return f"sha256={digest}"


async def deliver(engine: Any, outbound: Outbound, settings: TasksConfig, delivery: Any) -> float | None:
    """One attempt at a leased delivery, its outcome stored; when the next attempt is due, or None
    when there will be none (taken, or given up)."""
    body = delivery.payload.encode()
    timestamp = str(int(time.time()))
    headers = {
        "Content-Type": "application/json",
        "User-Agent": "anygate-webhooks",
        "X-Anygate-Event-Id": delivery.id,
        "X-Anygate-Event": delivery.event,
        "X-Anygate-Timestamp": timestamp,
        "X-Anygate-Signature": signature(delivery.webhook_secret or "", timestamp, body),
    }
    status: int | None = None
    error: str | None = None
    try:
        resp = await outbound.open(
            delivery.url,
            _refused,
            allow_private=settings.webhook_allow_private,
            timeout=_TIMEOUT,
            method="POST",
            data=body,
            headers=headers,
        )
        status = resp.status
        resp.release()
    except GatewayError as err:  # refused now (the name may resolve elsewhere than at submit): never sent
        await record_attempt(engine, delivery.id, {"state": "failed", "last_error": err.message})
        return None
    except (aiohttp.ClientError, TimeoutError) as exc:
        error = f"{type(exc).__name__}: {exc}"[:500]
    now = time.time()
    if status is not None and 200 <= status < 300:
        await record_attempt(engine, delivery.id, {"state": "delivered", "last_status": status, "delivered_at": now})
        return None
    wait = min(settings.webhook_backoff_seconds * 2.0**delivery.attempts, MAX_BACKOFF_SECONDS)
    gave_up = now + wait - delivery.created_at > settings.webhook_retry_seconds
    values = {"last_status": status, "last_error": error or f"HTTP {status}", "next_attempt_at": now + wait}
    await record_attempt(engine, delivery.id, {**values, "state": "failed" if gave_up else "pending"})
    return None if gave_up else now + wait
