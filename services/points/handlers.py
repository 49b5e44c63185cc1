"""points: event handlers and the worker's subscriptions and schedules (who reacts to what, on one screen).

Each handler runs inside the consumer's transaction, with the event id recorded in the inbox in the same
transaction; it stages its own events (``points.credited.v1``) in the outbox. A redelivered event finds its id
in the inbox; the same fact under another event id finds its cause key in the ledger: one credit either way.
"""
from __future__ import annotations

from .domain import credits, redemptions

EVENT_HANDLERS = {
    credits.RESOLVED: credits.on_case_resolved,
    credits.HAZARD_VERIFIED: credits.on_hazard_report_verified,
    credits.SHIFT_COMPLETED: credits.on_volunteer_shift_completed,
}

SUBSCRIPTIONS = {"points.credits": EVENT_HANDLERS}

#: (name, every seconds, job(engine, settings)): run by one worker at a time (advisory lock on PostgreSQL)
SCHEDULES = [("expire-redemptions", 30, redemptions.expire_due)]
