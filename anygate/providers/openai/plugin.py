"""The registration of the `openai` provider type (the registry imports this module)."""

from anygate.providers.openai.adapter import compatible
from anygate.providers.openai.profile import OPENAI

ADAPTER = compatible("openai", OPENAI)
