"""The `openai` provider type: OpenAI itself, and any server that speaks its API exactly (each
OpenAI-compatible server with quirks of its own has a type of its own, with a profile)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import OPENAI

ADAPTER = compatible("openai", OPENAI)
