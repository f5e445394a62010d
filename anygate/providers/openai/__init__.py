"""The `openai` provider type: OpenAI itself, and any server that speaks its API exactly (each
OpenAI-compatible server with quirks of its own has a type of its own, with a profile)."""
