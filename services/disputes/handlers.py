"""disputes: the worker's subscriptions (none yet: disputes only publishes) and scheduled jobs."""
SUBSCRIPTIONS: dict = {}
