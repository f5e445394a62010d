"""The `together` provider type: Together AI's OpenAI-compatible API, with embeddings and images."""
