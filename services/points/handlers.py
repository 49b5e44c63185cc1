"""points: event handlers and the worker's subscriptions (who reacts to what, on one screen).

Each handler runs inside the consumer's transaction, with the event id recorded in the inbox in the same
transaction; it stages its own events (``points.credited.v1``) in the outbox.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy.orm import Session

from shared import outbox

from .domain import scoring

RESOLVED = "disputes.case.resolved.v1"


def _credited(session: Session, event: dict, rule, result) -> None:
    if result.transfer_id is None:
        return
    account = scoring.account_of(session, result.person_id)
    outbox.publish(session, "points.credited.v1", {
        "entry_id": result.transfer_id, "account_id": account.id, "person_id": result.person_id,
        "merchant_id": None, "points": result.granted, "rule": rule.code, "rule_version": rule.version,
        "category": rule.category, "cause_event_id": event["id"],
        "credited_at": datetime.now().astimezone().isoformat()}, subject=f"accounts/{account.id}")


def on_case_resolved(session: Session, event: dict) -> None:
    """Credit each participant whose role a ``disputes.case.resolved.v1`` rule lists, once per case and person.

    Source: the seed's practice (points.json: ``dispute_mediation``, 20 points per resolved case for mediators,
    volunteers and building heads, at most 200 a month). ``resolution_no`` > 1 credits nobody twice: the
    cause key is the case and the person, not the resolution.
    """
    data = event["data"]
    at = datetime.fromisoformat(data["resolved_at"])
    for rule in scoring.rules_for_trigger(session, RESOLVED, at):
        seen = set()
        for participant in data["participants"]:
            person_id, role = participant["person_id"], participant["role"]
            if role not in (rule.roles or []) or person_id in seen:
                continue
            seen.add(person_id)
            result = scoring.credit(session, rule=rule, person_id=person_id, points=rule.points or 0, at=at,
                                    cause_key=f"{rule.code}:case:{data['case_id']}:{person_id}",
                                    cause_event_id=event["id"])
            _credited(session, event, rule, result)


EVENT_HANDLERS = {RESOLVED: on_case_resolved}

SUBSCRIPTIONS = {"points.credits": EVENT_HANDLERS}
