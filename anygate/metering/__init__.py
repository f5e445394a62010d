"""Usage records and spend: queued on the request path, written in batches off it."""
