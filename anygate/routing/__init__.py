"""Public model ids to upstream targets."""
