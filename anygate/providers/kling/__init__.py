"""The `kling` provider type: Kling's own API (video and image tasks)."""
