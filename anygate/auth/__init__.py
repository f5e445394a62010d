"""API keys: creation, hashing, lookup with an in-memory cache, and request authentication."""
