"""relief: the worker's subscriptions and scheduled jobs."""
SUBSCRIPTIONS: dict = {}
