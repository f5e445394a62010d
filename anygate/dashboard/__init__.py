"""The dashboard at /dashboard: a static page (no third-party assets) that drives the admin API."""
