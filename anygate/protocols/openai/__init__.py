"""The OpenAI client family: chat completions and the models list under /openai/v1."""

from anygate.protocols.openai.chat import chat_completions
from anygate.protocols.openai.errors import error_response
from anygate.protocols.openai.models import list_models
from anygate.server.family import Family, Route

FAMILY = Family(
    name="openai",
    prefix="/openai/",
    render_error=error_response,
    routes=[
        Route("GET", "/openai/v1/models", list_models, "OpenAI list models: the models this key may use"),
        Route(
            "POST",
            "/openai/v1/chat/completions",
            chat_completions,
            "OpenAI chat completions, streamed with stream:true",
            mode="sync+stream",
        ),
    ],
)
