"""Media and music tasks: the provider and family contracts, the store, the poller, webhooks and billing."""
