"""The AI music (Suno API) client family under /suno: create routes and record queries."""

from anygate.protocols.suno.errors import error_response
from anygate.protocols.suno.routes import SunoTasks, creator, querier
from anygate.providers.suno.adapter import RECORDS, SYNC, TASKS
from anygate.server.family import Family, Route

FAMILY = Family(
    name="suno",
    prefix="/suno/",
    render_error=error_response,
    routes=[
        *(Route("POST", f"/suno/{route}", creator(route), f"Suno {route}: a task", mode="async-task") for route in TASKS),
        *(Route("POST", f"/suno/{route}", creator(route), f"Suno {route} (answered at once)") for route in SYNC),
        *(
            Route("GET", f"/suno/query/{group}", querier(group), f"Suno {group} record, by ?taskId=", mode="poll")
            for group in RECORDS
        ),
    ],
)
TASK_FAMILY = SunoTasks()
