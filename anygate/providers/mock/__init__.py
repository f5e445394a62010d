"""The `mock` provider type: offline and deterministic, speaking the OpenAI chat wire format in process."""
