"""The HTTP server: the route table, authentication, error rendering and the app's lifecycle."""
