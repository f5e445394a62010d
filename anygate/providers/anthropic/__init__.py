"""The `anthropic` provider type: Anthropic's Messages API."""
