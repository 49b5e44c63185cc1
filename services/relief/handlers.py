"""relief: the worker's subscriptions and scheduled jobs.

relief consumes no events (its facts come from staff over HTTP); its worker runs the outbox relay that
publishes ``relief.*`` events. Notice windows and shift times are judged by each record's own dates when a
step is recorded, so nothing needs to run on a timer.
"""
SUBSCRIPTIONS: dict = {}
