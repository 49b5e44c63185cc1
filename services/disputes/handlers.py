"""disputes: the worker's subscriptions (none: disputes only publishes) and scheduled jobs.

SCHEDULES (run by ``shared.worker`` on one worker at a time, acting on items due by wall-clock time):
- ``escalate-overdue-cases``: open cases past their handling deadline are escalated once (timeline entry);
- ``publish-overdue-follow-ups``: ``disputes.follow_up.overdue.v1`` once per follow-up past its due day.
"""
from __future__ import annotations

from shared.db import unit_of_work
from shared.timeutil import utcnow

from .domain import grading, supervision

SUBSCRIPTIONS: dict = {}


def escalate_overdue_cases(engine, settings) -> int:
    """Escalate open cases whose deadline passed (one transaction); returns how many."""
    with unit_of_work(engine) as session:
        count = grading.escalate_overdue(session, utcnow())
        session.commit()
    return count


def publish_overdue_follow_ups(engine, settings) -> int:
    """Stage ``disputes.follow_up.overdue.v1`` for follow-ups past their due day (one transaction)."""
    with unit_of_work(engine) as session:
        count = supervision.publish_overdue(session, utcnow())
        session.commit()
    return count


SCHEDULES = [
    ("escalate-overdue-cases", 300, escalate_overdue_cases),
    ("publish-overdue-follow-ups", 300, publish_overdue_follow_ups),
]
