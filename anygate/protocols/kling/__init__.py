"""The Kling client family under /transtreams/kling/v1: video and image tasks and their queries."""

from anygate.protocols.kling.errors import error_response
from anygate.protocols.kling.routes import ROUTES, KlingTasks, querier, submitter
from anygate.server.family import Family, Route

FAMILY = Family(
    name="kling",
    prefix="/transtreams/kling/",
    render_error=error_response,
    routes=[
        route
        for path, kind in ROUTES
        for route in (
            Route("POST", f"/transtreams/kling/v1/{path}", submitter(kind), f"Kling {kind}: a task", mode="async-task"),
            Route("GET", f"/transtreams/kling/v1/{path}/{{task_id}}", querier(kind), f"Kling {kind} task query", mode="poll"),
        )
    ],
)
TASK_FAMILY = KlingTasks()
