"""The `groq` provider type: GroqCloud's OpenAI-compatible API (no logprobs or logit_bias; audio,
files and batches as OpenAI has them)."""
