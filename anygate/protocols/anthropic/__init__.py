"""The Anthropic client family: Messages, token counting and the models list under /anthropic/v1."""

from anygate.protocols.anthropic.codec import ANTHROPIC
from anygate.protocols.anthropic.errors import error_response
from anygate.protocols.anthropic.messages import count_tokens, messages
from anygate.protocols.anthropic.models import list_models, retrieve_model
from anygate.server.family import Family, Route

FAMILY = Family(
    name="anthropic",
    prefix="/anthropic/",
    render_error=error_response,
    wires=(ANTHROPIC,),
    routes=[
        Route(
            "GET",
            "/anthropic/v1/models",
            list_models,
            "Anthropic list models: the models this key may use (limit, after_id, before_id)",
        ),
        Route("GET", "/anthropic/v1/models/{model_id:.+}", retrieve_model, "Anthropic get a model"),
        Route("POST", "/anthropic/v1/messages", messages, "Anthropic Messages, streamed with stream:true", mode="sync+stream"),
        Route("POST", "/anthropic/v1/messages/count_tokens", count_tokens, "Anthropic token counting"),
    ],
)
