"""Google Vertex AI: Gemini (generateContent) and Anthropic's Claude (rawPredict) under a project's
location, with OAuth tokens from a service account's key or Application Default Credentials."""
