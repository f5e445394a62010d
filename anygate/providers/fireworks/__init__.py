"""The `fireworks` provider type: Fireworks AI's OpenAI-compatible inference API, with embeddings."""
