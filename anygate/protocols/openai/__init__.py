"""The OpenAI client family under /openai/v1: chat completions, the Responses API and the models list."""

from anygate.protocols.openai.chat import chat_completions
from anygate.protocols.openai.errors import error_response
from anygate.protocols.openai.extended import embeddings, image_generations
from anygate.protocols.openai.models import list_models, retrieve_model
from anygate.protocols.openai.responses import create_response, delete_response, get_response, list_input_items
from anygate.protocols.openai.videos import VideoTasks, create_video, get_video, video_content
from anygate.server.family import Family, Route

FAMILY = Family(
    name="openai",
    prefix="/openai/",
    render_error=error_response,
    routes=[
        Route("GET", "/openai/v1/models", list_models, "OpenAI list models: the models this key may use"),
        Route("GET", "/openai/v1/models/{model:.+}", retrieve_model, "OpenAI retrieve a model"),
        Route(
            "POST",
            "/openai/v1/chat/completions",
            chat_completions,
            "OpenAI chat completions, streamed with stream:true",
            mode="sync+stream",
        ),
        Route(
            "POST",
            "/openai/v1/responses",
            create_response,
            "OpenAI Responses API, over every upstream; streamed with stream:true; stored unless store:false",
            mode="sync+stream",
        ),
        Route("POST", "/openai/v1/embeddings", embeddings, "OpenAI embeddings, from every provider that makes them"),
        Route(
            "POST", "/openai/v1/images/generations", image_generations, "OpenAI image generation, from providers that draw"
        ),
        Route("POST", "/openai/v1/videos", create_video, "OpenAI video generation, a task over Kling or DashScope", mode="async-task"),
        Route("GET", "/openai/v1/videos/{video_id}", get_video, "A video task, as OpenAI's video object", mode="poll"),
        Route("GET", "/openai/v1/videos/{video_id}/content", video_content, "The finished video, streamed through"),
        Route("GET", "/openai/v1/responses/{response_id}", get_response, "A stored response of this key"),
        Route("DELETE", "/openai/v1/responses/{response_id}", delete_response, "Delete a stored response of this key"),
        Route(
            "GET", "/openai/v1/responses/{response_id}/input_items", list_input_items, "The input items a stored response answered"
        ),
    ],
)
TASK_FAMILY = VideoTasks()
