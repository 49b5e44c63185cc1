"""Credits: from other services' events (one per cause, exactly once) and manual credits by staff, all under
the scoring rules and their caps. Each credit publishes ``points.credited.v1`` in the same transaction.

Cause keys (the natural key that makes a credit happen once, whatever event id carried it):
``<rule>:case:<case_id>:<person_id>`` (once per case and person, however many resolutions),
``<rule>:report:<report_id>``, ``<rule>:shift:<shift_id>:<person_id>`` (a shift has several volunteers),
``<rule>:donation:<donation_id>``, ``<rule>:service:<record_id>``, ``manual:<credit_id>``.
"""
from __future__ import annotations

from datetime import datetime
from decimal import Decimal

from sqlalchemy.orm import Session

from shared import outbox
from shared.consumer import Batched
from shared.errors import NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Account, Rule
from . import ledger, scoring
from .scoring import CreditRequest, CreditResult

RESOLVED = "disputes.case.resolved.v1"
HAZARD_VERIFIED = "disputes.hazard_report.verified.v1"
SHIFT_COMPLETED = "relief.volunteer_shift.completed.v1"
APPRAISAL = "points.item_donation.appraisal"
SERVICE_RECORD = "points.merchant.service_record"
MANUAL = "points.manual_credit"

#: unit of a rule → what triggers it (an event type we consume, or one of our own steps)
TRIGGERS = {"case": RESOLVED, "report": HAZARD_VERIFIED, "hour": SHIFT_COMPLETED, "appraisal": APPRAISAL,
            "service_hour": SERVICE_RECORD, "service_count": SERVICE_RECORD, "manual": MANUAL}


def announce(session: Session, rule: Rule, result: CreditResult, cause_event_id: str | None) -> None:
    """Publish ``points.credited.v1`` for a credit that moved points (nothing for refused/duplicate)."""
    if result.transfer_id is None:
        return
    account = result.account
    outbox.publish(session, "points.credited.v1", {
        "entry_id": result.transfer_id, "account_id": account.id, "person_id": account.person_id,
        "merchant_id": account.merchant_id, "points": result.granted, "rule": rule.code,
        "rule_version": rule.version, "category": rule.category, "cause_event_id": cause_event_id,
        "credited_at": utcnow().isoformat()}, subject=f"accounts/{account.id}")


def _credit_events(session: Session, events: list[dict], requests_of) -> None:
    """Credit every request ``requests_of(session, event)`` makes for ``events`` at once (one
    :func:`scoring.credit_many`), and announce each credit."""
    requests = [request for event in events for request in requests_of(session, event)]
    for request, result in zip(requests, scoring.credit_many(session, requests)):
        announce(session, request.rule, result, request.cause_event_id)


def _case_requests(session: Session, event: dict) -> list[CreditRequest]:
    data = event["data"]
    at = datetime.fromisoformat(data["resolved_at"])
    requests = []
    for rule in scoring.rules_for_trigger(session, RESOLVED, at):
        seen = set()
        for participant in data["participants"]:
            person_id, role = participant["person_id"], participant["role"]
            if role not in (rule.roles or []) or person_id in seen:
                continue
            seen.add(person_id)
            requests.append(CreditRequest(rule=rule, person_id=person_id, points=rule.points or 0, at=at,
                                          cause_key=f"{rule.code}:case:{data['case_id']}:{person_id}",
                                          cause_event_id=event["id"]))
    return requests


@Batched
def on_case_resolved(session: Session, events: list[dict]) -> None:
    """Credit each participant whose role a ``case`` rule lists, once per case and person.

    Source: the seed's practice (points.json ``dispute_mediation``: 20 points per resolved case for mediators,
    volunteers and building heads, at most 200 a month). ``resolution_no`` > 1 credits nobody twice: the cause
    key is the case and the person, not the resolution. Time: ``resolved_at``. Set-based: a consumer batch of
    these events is credited at once (``on_case_resolved(session, event)`` handles one).
    """
    _credit_events(session, events, _case_requests)


def _report_requests(session: Session, event: dict) -> list[CreditRequest]:
    data = event["data"]
    at = datetime.fromisoformat(data["verified_at"])
    return [CreditRequest(rule=rule, person_id=data["reporter_person_id"], points=rule.points or 0, at=at,
                          cause_key=f"{rule.code}:report:{data['report_id']}", cause_event_id=event["id"])
            for rule in scoring.rules_for_trigger(session, HAZARD_VERIFIED, at)]


@Batched
def on_hazard_report_verified(session: Session, events: list[dict]) -> None:
    """Credit the reporter of a verified hazard photo report under each ``report`` rule, once per report.

    Source: points.json ``hazard_photo_report`` (5 points per verified report, at most 20 a day). The day is
    the Asia/Shanghai day of ``verified_at``. Set-based like :func:`on_case_resolved`.
    """
    _credit_events(session, events, _report_requests)


def _shift_requests(session: Session, event: dict) -> list[CreditRequest]:
    data = event["data"]
    at = datetime.fromisoformat(data["completed_at"])
    hours = Decimal(data["hours"])
    return [CreditRequest(rule=rule, person_id=data["person_id"], points=scoring.hours_points(hours, rule.points or 0),
                          at=at, cause_key=f"{rule.code}:shift:{data['shift_id']}:{data['person_id']}",
                          cause_event_id=event["id"])
            for rule in scoring.rules_for_trigger(session, SHIFT_COMPLETED, at)
            if data["activity"] in (rule.activities or [])]


@Batched
def on_volunteer_shift_completed(session: Session, events: list[dict]) -> None:
    """Credit a volunteer for a completed shift under the ``hour`` rule listing its activity, once per shift and
    volunteer (relief publishes one event per volunteer checked out, all with the shift's ``shift_id``).

    ``hours`` is a decimal string; points = floor(hours × points per hour) (points.json: ``hours_rounding:
    floor to whole points``). Time: ``completed_at``. Set-based like :func:`on_case_resolved`.
    """
    _credit_events(session, events, _shift_requests)


def units_points(rule: Rule, *, hours: Decimal | None, quantity: int | None, points: int | None) -> int:
    """Points a manual credit is worth under ``rule``: hours for ``hour``/``service_hour`` rules (floor),
    a count for per-unit rules, an appraised value for ``appraisal`` rules. 422 naming the missing field."""
    if rule.unit in ("hour", "service_hour"):
        if hours is None:
            raise Unprocessable(f"Rule {rule.code} pays per hour: give hours.", errors=field_error("hours", "required"))
        return scoring.hours_points(hours, rule.points or 0)
    if rule.unit == "appraisal" or rule.points is None:
        if points is None:
            raise Unprocessable(f"Rule {rule.code} pays an appraised value: give points.",
                                errors=field_error("points", "required"))
        return points
    return (quantity or 1) * rule.points


def manual_credit(session: Session, data: dict, by: str) -> dict:
    """Credit a resident (``person_id``) or a merchant (``merchant_ref``) by hand under rule ``rule`` at
    ``occurred_at`` (default now), with a ``reason``; the rule's points and caps apply as for events.

    Returns ``{credit_id, outcome, requested, granted, entry_id, reason, ...}`` (points integers).
    Errors: 422 (no such rule active at that time, wrong units); 404 (no such merchant).
    """
    from .merchants import get_merchant
    at = data.get("occurred_at") or utcnow()
    rule = scoring.active_rule(session, data["rule"], at)
    if rule is None:
        raise Unprocessable(f"No rule {data['rule']} is in force at {at.isoformat()}.",
                            errors=field_error("rule", "no such rule in force at occurred_at"))
    if data.get("merchant_ref"):
        merchant = get_merchant(session, data["merchant_ref"])
        account, holder = ledger.merchant_account(session, merchant.id), merchant.id
    else:
        account, holder = ledger.resident_account(session, data["person_id"]), data["person_id"]
    requested = units_points(rule, hours=data.get("hours"), quantity=data.get("quantity"), points=data.get("points"))
    credit_id = uuid7()
    result = scoring.credit_account(session, rule=rule, account=account, holder=holder, points=requested, at=at,
                                    cause_key=f"manual:{credit_id}", cause_event_id=None, note=data["reason"],
                                    created_by=by)
    announce(session, rule, result, None)
    return {"credit_id": credit_id, "outcome": result.outcome, "requested": requested, "granted": result.granted,
            "entry_id": result.transfer_id, "reason": result.reason, "rule": rule.code,
            "rule_version": rule.version, "account_id": account.id, "person_id": account.person_id,
            "merchant_ref": data.get("merchant_ref"), "occurred_at": at}


__all__ = ["TRIGGERS", "announce", "manual_credit", "on_case_resolved", "on_hazard_report_verified",
           "on_volunteer_shift_completed", "NotFound"]
