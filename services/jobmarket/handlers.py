"""jobmarket: the worker's subscriptions and scheduled jobs (who reacts to what, on one screen).

jobmarket consumes no events. Its schedules run in the worker process, one worker at a time (advisory lock
on PostgreSQL, ``shared.worker.run_exclusive``), and act only on items due by wall-clock time; each item is
claimed with a conditional update, so it is handled exactly once even if two rounds overlap:

- ``release-unclaimed-beds``: nap reservations not checked in by the deadline are released;
- ``tool-overdue``: loans past due publish ``jobmarket.tool.overdue.v1`` once per loan;
- ``expire-tool-holds``: holds past their time free the tool.
"""
from __future__ import annotations

from shared.db import unit_of_work

from .domain import naps, tools


def _in_transaction(rule):
    def job(engine, settings) -> int:
        with unit_of_work(engine) as session:
            count = rule(session)
            session.commit()
            return count
    job.__name__ = rule.__name__
    return job


release_unclaimed_beds = _in_transaction(naps.release_unclaimed)
publish_tool_overdue = _in_transaction(tools.notify_overdue)
expire_tool_holds = _in_transaction(tools.expire_holds)

SUBSCRIPTIONS: dict = {}

SCHEDULES = [
    ("release-unclaimed-beds", 60, release_unclaimed_beds),
    ("tool-overdue", 60, publish_tool_overdue),
    ("expire-tool-holds", 300, expire_tool_holds),
]
