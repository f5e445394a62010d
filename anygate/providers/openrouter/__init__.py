"""The `openrouter` provider type: OpenRouter, OpenAI-compatible; a reasoning effort goes as its
`reasoning` object, and its answers carry the thinking as `reasoning`. A client of this family may
send OpenRouter's own fields (`provider` routing, `reasoning`, `models`): they are passed as given."""
