"""Disbursements (救助金发放): paying approved applications out of the paying body's funds.

Source: the seed practice (payments by the city or by the county that collected) and OpenG2P's entitlements
bounded by allocated funds and payment reconciliation. Rules:

- only an approved application is paid, once (one disbursement per application), at most the granted amount;
- the amount is taken from the body's funds (its donations in minus its disbursements out) by one atomic
  conditional UPDATE when the disbursement is issued: 409 ``insufficient-funds`` otherwise, however many
  requests arrive together, on SQLite and PostgreSQL;
- issued → paid (``paid_on``; publishes ``relief.disbursement.made.v1`` exactly once) or failed (a reason
  code; publishes ``relief.disbursement.failed.v1``) → reissued (attempt 2, 3…) → paid. A failed payment keeps
  its money committed: it is still owed to the applicant.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import to_local, utcnow

from ..models import Disbursement, PaymentAttempt
from . import applications, audit, funds
from .common import transition


def get(session: Session, disbursement_id: str) -> Disbursement:
    disbursement = session.get(Disbursement, disbursement_id)
    if disbursement is None:
        raise NotFound("No such disbursement.")
    return disbursement


def issue(session: Session, application_id: str, data: dict, actor: str) -> Disbursement:
    """Issue the payment of an approved application: ``amount`` (yuan > 0, at most granted), ``issued_on``?

    409 ``not-approved``, 409 ``already-disbursed``, 409 ``insufficient-funds`` (with ``available``);
    422 for an amount above the granted one or a date before the decision.
    """
    application = applications.get(session, application_id)
    if application.status != "approved":
        raise Conflict(f"Only an approved application is paid; this one is {application.status}.", code="not-approved")
    if session.scalar(select(Disbursement.id).where(Disbursement.application_id == application.id)):
        raise Conflict("This application has its disbursement already.", code="already-disbursed")
    amount = data["amount"]
    if amount > application.granted_amount:
        raise Unprocessable("More than granted.", errors=field_error("amount", f"At most {application.granted_amount}."))
    if data.get("issued_on") and data["issued_on"] < application.decided_on:
        raise Unprocessable("Issued before the decision.", errors=field_error("issued_on", f"On or after {application.decided_on}."))
    county = application.county if application.level == "county" else None
    if not funds.take(session, application.campaign_id, application.level, county, amount):
        available = funds.available(session, application.campaign_id, application.level, county)
        raise Conflict(f"The {application.level if county is None else county} funds cannot cover {amount} "
                       f"(available {available}).", code="insufficient-funds", available=str(available))
    now = utcnow()
    disbursement = Disbursement(id=uuid7(), application_id=application.id, campaign_id=application.campaign_id,
                                body=funds.body_of(application.level, county), level=application.level, county=county,
                                assistance_type=application.assistance_type, amount=amount, status="issued",
                                attempt_no=1, issued_on=data.get("issued_on"), created_by=actor, created_at=now,
                                updated_at=now)
    session.add(disbursement)
    session.flush()
    session.add(PaymentAttempt(disbursement_id=disbursement.id, attempt_no=1, recorded_by=actor, created_at=now))
    audit.record(session, actor, "disbursement.issued", "disbursement", disbursement.id,
                 {"application_id": application.id, "amount": amount, "body": disbursement.body})
    session.flush()
    session.refresh(disbursement)
    return disbursement


def _attempt(disbursement: Disbursement) -> PaymentAttempt:
    return next(a for a in disbursement.attempts if a.attempt_no == disbursement.attempt_no)


def _base(d: Disbursement) -> dict:
    return {"disbursement_id": d.id, "campaign_id": d.campaign_id, "level": d.level, "county": d.county,
            "assistance_type": d.assistance_type, "amount": str(d.amount), "application_id": d.application_id,
            "attempt_no": d.attempt_no}


def mark_paid(session: Session, disbursement_id: str, data: dict, actor: str) -> Disbursement:
    """The payment arrived: ``paid_on`` (not before the decision or the issue day). Publishes ``made.v1`` once."""
    disbursement = get(session, disbursement_id)
    decided_on = applications.get(session, disbursement.application_id).decided_on
    earliest = max(d for d in (decided_on, disbursement.issued_on) if d is not None)
    if data["paid_on"] < earliest:
        raise Unprocessable("Paid before it was decided or issued.", errors=field_error("paid_on", f"On or after {earliest}."))
    transition(session, disbursement, ("issued",), "paid",
               f"Only an issued payment can be marked paid; this one is {disbursement.status}.",
               paid_on=data["paid_on"], updated_at=utcnow())
    attempt = _attempt(disbursement)
    attempt.outcome, attempt.settled_at = "paid", utcnow()
    audit.record(session, actor, "disbursement.paid", "disbursement", disbursement.id,
                 {"paid_on": disbursement.paid_on, "attempt_no": disbursement.attempt_no})
    data_out = _base(disbursement)
    data_out["paid_on"] = disbursement.paid_on.isoformat()
    outbox.publish(session, "relief.disbursement.made.v1", data_out, subject=f"disbursements/{disbursement.id}")
    return disbursement


def mark_failed(session: Session, disbursement_id: str, data: dict, actor: str) -> Disbursement:
    """The payment failed: ``reason`` (a code such as account_closed), ``failed_at``? Publishes ``failed.v1``."""
    disbursement = get(session, disbursement_id)
    failed_at: datetime = data.get("failed_at") or utcnow()
    transition(session, disbursement, ("issued",), "failed",
               f"Only an issued payment can fail; this one is {disbursement.status}.",
               failure_reason=data["reason"], updated_at=utcnow())
    attempt = _attempt(disbursement)
    attempt.outcome, attempt.reason, attempt.settled_at = "failed", data["reason"], failed_at
    audit.record(session, actor, "disbursement.failed", "disbursement", disbursement.id,
                 {"reason": data["reason"], "attempt_no": disbursement.attempt_no, "failed_at": failed_at})
    data_out = _base(disbursement)
    data_out.update(reason=data["reason"], failed_at=to_local(failed_at).isoformat())
    outbox.publish(session, "relief.disbursement.failed.v1", data_out, subject=f"disbursements/{disbursement.id}",
                   time=failed_at)
    return disbursement


def reissue(session: Session, disbursement_id: str, actor: str) -> Disbursement:
    """Try a failed payment again (attempt + 1). Its money stays committed; 409 unless it failed."""
    disbursement = get(session, disbursement_id)
    next_no = disbursement.attempt_no + 1
    transition(session, disbursement, ("failed",), "issued",
               f"Only a failed payment is reissued; this one is {disbursement.status}.",
               attempt_no=next_no, failure_reason=None, updated_at=utcnow())
    session.add(PaymentAttempt(disbursement_id=disbursement.id, attempt_no=next_no, recorded_by=actor,
                               created_at=utcnow()))
    session.flush()
    session.expire(disbursement, ["attempts"])
    audit.record(session, actor, "disbursement.reissued", "disbursement", disbursement.id, {"attempt_no": next_no})
    return disbursement
