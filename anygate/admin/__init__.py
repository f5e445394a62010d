"""The admin API under /admin/v1, for the holder of the configured admin key."""
