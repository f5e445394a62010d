"""The admin API's routes; its errors take the OpenAI shape."""

from __future__ import annotations

from anygate.admin import keys
from anygate.admin.providers import list_providers
from anygate.admin.requests import recent_requests, request_detail
from anygate.admin.tasks import list_tasks, retry_webhook, show_task
from anygate.protocols.openai.errors import error_response
from anygate.server import web
from anygate.server.call import Call
from anygate.server.endpoints import admin_index
from anygate.server.family import Family, Route


async def endpoints(_: web.Request, __: Call) -> web.Response:
    """The operator's route index."""
    return web.json_response(admin_index(FAMILY))


FAMILY = Family(
    name="admin",
    prefix="/admin/",
    render_error=error_response,
    routes=[
        Route("GET", "/admin/v1/endpoints", endpoints, "This index of the admin API, metrics and dashboard", auth="admin"),
        Route("GET", "/admin/v1/keys", keys.list_all, "Every key", auth="admin"),
        Route("POST", "/admin/v1/keys", keys.create, "Create a key (shown once, with its webhook secret)", auth="admin"),
        Route("GET", "/admin/v1/keys/{key_id}", keys.show, "One key", auth="admin"),
        Route("PATCH", "/admin/v1/keys/{key_id}", keys.change, "Change a key's limits, budget, models or expiry", auth="admin"),
        Route("DELETE", "/admin/v1/keys/{key_id}", keys.revoke, "Revoke a key", auth="admin"),
        Route("GET", "/admin/v1/usage", keys.usage, "Usage and spend by key and model, or by day", auth="admin"),
        Route(
            "GET",
            "/admin/v1/requests",
            recent_requests,
            "The latest calls, refused ones included (?key_id=, ?model=, ?provider=, ?family=, ?status=429|4xx|error, ?since=, ?until=, ?limit=)",
            auth="admin",
        ),
        Route(
            "GET",
            "/admin/v1/requests/{request_id}",
            request_detail,
            "One call: timings, attempts, tokens, cost, error",
            auth="admin",
        ),
        Route(
            "GET",
            "/admin/v1/providers",
            list_providers,
            "Providers: health, targets, circuit breakers, recent calls and failures",
            auth="admin",
        ),
        Route("GET", "/admin/v1/tasks", list_tasks, "Tasks, newest first (?key_id=, ?state=, ?limit=)", auth="admin"),
        Route("GET", "/admin/v1/tasks/{task_id}", show_task, "One task with its webhook delivery log", auth="admin"),
        Route(
            "POST",
            "/admin/v1/tasks/{task_id}/webhooks/{event_id}/retry",
            retry_webhook,
            "Send a task's webhook again",
            auth="admin",
        ),
    ],
)
