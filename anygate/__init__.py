"""anygate: one AI API gateway for the OpenAI, Anthropic, Gemini, media and music API families."""

__version__ = "0.1.0"
