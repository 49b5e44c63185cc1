"""The case lifecycle as one explicit table: (action, current status) → next status.

received → graded → assigned → in_mediation → resolved / referred / closed; resolved → reopened → … again.
Anything not in the table is refused with 409 ``invalid-transition``. Source: issue 3 and the seed practice
(a case raised at a night talk may be heard and decided there at once, so ``hear`` and ``resolve`` also start
from ``received``; the backbone's resolve flow relies on it).
"""
from __future__ import annotations

from shared.errors import Conflict

STATUSES = ("received", "graded", "assigned", "in_mediation", "resolved", "referred", "closed", "reopened")
OPEN_STATUSES = ("received", "graded", "assigned", "in_mediation", "reopened")
ENDED_STATUSES = ("resolved", "referred", "closed")

TRANSITIONS: dict[str, dict[str, str]] = {
    # grading keeps a case's place once it is past "received"; a regrade is allowed until it ends
    "grade": {"received": "graded", "graded": "graded", "assigned": "assigned",
              "in_mediation": "in_mediation", "reopened": "reopened"},
    "assign": {"graded": "assigned", "assigned": "assigned", "in_mediation": "in_mediation",
               "reopened": "assigned"},
    "start_mediation": {"graded": "in_mediation", "assigned": "in_mediation", "reopened": "in_mediation"},
    "hear": {"received": "in_mediation", "graded": "in_mediation", "assigned": "in_mediation",
             "in_mediation": "in_mediation", "reopened": "in_mediation"},
    "resolve": {"received": "resolved", "graded": "resolved", "assigned": "resolved",
                "in_mediation": "resolved", "reopened": "resolved"},
    "refer": {"graded": "referred", "assigned": "referred", "in_mediation": "referred", "reopened": "referred"},
    "close": {"received": "closed", "graded": "closed", "assigned": "closed", "in_mediation": "closed",
              "reopened": "closed"},
    "reopen": {"resolved": "reopened"},
}


def next_status(action: str, status: str) -> str:
    """The status after ``action`` from ``status``; raises 409 ``invalid-transition`` if the table has none."""
    target = TRANSITIONS[action].get(status)
    if target is None:
        raise Conflict(f"A case that is {status} cannot take the action {action}.", code="invalid-transition",
                       status_now=status, action=action)
    return target
