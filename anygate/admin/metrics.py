"""GET /metrics: the Prometheus scrape, for the admin key or the metrics token (every worker's counts)."""

from __future__ import annotations

import hmac

from sqlalchemy import func, select

from anygate.auth.extract import key_from_request
from anygate.core.errors import ErrorKind, GatewayError
from anygate.metrics import counter, render
from anygate.server import web
from anygate.server.gateway import Gateway
from anygate.store.tables import Task, WebhookDelivery

_BREAKER_VALUES = {"closed": 0, "half_open": 1, "open": 2}


def check_scraper(request: web.Request, gateway: Gateway) -> None:
    """404 when neither an admin key nor a metrics token is configured; 401 for any other caller."""
    allowed = [s for s in (gateway.settings.admin_key, gateway.settings.metrics_token) if s]
    if not allowed:
        raise GatewayError(ErrorKind.NOT_FOUND, "/metrics is disabled: set admin_key or metrics_token in the configuration")
    given = (key_from_request(request) or "").encode()
    if not any(hmac.compare_digest(given, secret.encode()) for secret in allowed):
        raise GatewayError(ErrorKind.AUTHENTICATION, "Invalid metrics token")


async def scrape(gateway: Gateway) -> str:
    """The metrics text: this process's counts, breaker states, and task and webhook counts from the database."""
    breakers = [
        (
            ((("model", t.public_model), ("provider", t.provider.name), ("upstream_model", t.model))),
            _BREAKER_VALUES[t.breaker.state.value],
        )
        for t in gateway.models.targets()
    ]
    async with gateway.engine.connect() as conn:
        tasks = list(await conn.execute(select(Task.family, Task.state, func.count()).group_by(Task.family, Task.state)))
        hooks = list(await conn.execute(select(WebhookDelivery.state, func.count()).group_by(WebhookDelivery.state)))
    extra = [
        *counter("anygate_breaker_state", "Circuit breaker per target: 0 closed, 1 half-open, 2 open.", breakers, "gauge"),
        *counter(
            "anygate_tasks", "Tasks by family and state.", [((("family", f), ("state", s)), n) for f, s, n in tasks], "gauge"
        ),
        *counter("anygate_webhook_deliveries", "Webhook deliveries by state.", [((("state", s),), n) for s, n in hooks], "gauge"),
    ]
    metrics = await gateway.all_metrics()
    return render(metrics, extra)
