"""The Gemini client family: generateContent, streamGenerateContent, countTokens and models under /gemini."""

from anygate.protocols.gemini.codec import GEMINI
from anygate.protocols.gemini.errors import error_response
from anygate.protocols.gemini.generate import count_tokens, generate_content, stream_generate_content
from anygate.protocols.gemini.models import list_models, retrieve_model
from anygate.server.family import Family, Route

_MODEL = "/gemini/{version:v1beta|v1}/models/{model}"

FAMILY = Family(
    name="gemini",
    prefix="/gemini/",
    render_error=error_response,
    wires=(GEMINI,),
    routes=[
        Route("GET", "/gemini/{version:v1beta|v1}/models", list_models, "Gemini list models: the models this key may use"),
        Route("GET", _MODEL, retrieve_model, "Gemini get a model"),
        Route("POST", _MODEL + ":generateContent", generate_content, "Gemini generateContent"),
        Route(
            "POST",
            _MODEL + ":streamGenerateContent",
            stream_generate_content,
            "Gemini streamGenerateContent: SSE with ?alt=sse, else a JSON array",
            mode="sync+stream",
        ),
        Route("POST", _MODEL + ":countTokens", count_tokens, "Gemini token counting"),
    ],
)
