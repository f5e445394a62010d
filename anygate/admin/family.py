"""The admin API's routes; its errors take the OpenAI shape."""

from __future__ import annotations

from anygate.admin.providers import list_providers
from anygate.protocols.openai.errors import error_response
from anygate.server.family import Family, Route

FAMILY = Family(
    name="admin",
    prefix="/admin/",
    render_error=error_response,
    routes=[
        Route("GET", "/admin/v1/providers", list_providers, "Providers, their targets and circuit breakers", auth="admin"),
    ],
)
