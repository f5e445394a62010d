"""The `ollama` provider type: an Ollama server's OpenAI-compatible API under /v1 (thinking models
answer with `reasoning`), with embeddings."""
