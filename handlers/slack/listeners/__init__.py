"""One `register(app, services, ...)` per Slack surface."""
