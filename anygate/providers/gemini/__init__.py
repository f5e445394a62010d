"""The `gemini` provider type: Google's Generative Language API."""
