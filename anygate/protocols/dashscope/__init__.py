"""The DashScope client family under /dashscope/v1: image generation, video tasks, task queries."""

from anygate.protocols.dashscope.errors import error_response
from anygate.protocols.dashscope.routes import DashScopeTasks, get_task, image_generation, video_synthesis
from anygate.server.family import Family, Route

FAMILY = Family(
    name="dashscope",
    prefix="/dashscope/",
    render_error=error_response,
    routes=[
        Route(
            "POST",
            "/dashscope/v1/services/aigc/multimodal-generation/generation",
            image_generation,
            "DashScope image generation (synchronous)",
        ),
        Route(
            "POST",
            "/dashscope/v1/services/aigc/video-generation/video-synthesis",
            video_synthesis,
            "DashScope video synthesis: a task",
            mode="async-task",
        ),
        Route("GET", "/dashscope/v1/tasks/{task_id}", get_task, "DashScope task query", mode="poll"),
    ],
)
TASK_FAMILY = DashScopeTasks()
