"""The `xai` provider type: xAI's Grok API, OpenAI-compatible (its reasoning models answer with
`reasoning_content`); it draws images too."""
