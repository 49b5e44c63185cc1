"""The caring-merchant alliance: merchant profiles (natural key ``ref``), their service records confirmed by
staff and credited by the merchant service rules, and the monthly settlement.

Source: the seed article (30 shops offer goods and services for points and earn points for their service
hours and counts; points.json ``merchant_service``: 5 points per service hour).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Merchant, ServiceRecord
from . import credits, ledger, scoring

PROFILE_FIELDS = ("name", "trade", "operator_person_id", "joined_on")


def get_merchant(session: Session, ref: str) -> Merchant:
    """The merchant with ``ref``; 404 if none."""
    merchant = session.scalars(select(Merchant).where(Merchant.ref == ref)).first()
    if merchant is None:
        raise NotFound("No such merchant.")
    return merchant


def merchant_of(session: Session, person_id: str) -> Merchant | None:
    """The shop whose operator is ``person_id`` (a token with role ``merchant`` acts for it)."""
    return session.scalars(select(Merchant).where(Merchant.operator_person_id == person_id)).first()


def create(session: Session, data: dict, by: str) -> tuple[Merchant, bool]:
    """Register an alliance merchant and open its points account; return ``(merchant, created)``.

    The same ``ref`` with the same profile again creates nothing (a replayed import); with another profile
    it is 409 (change a profile with PATCH).
    """
    existing = session.scalars(select(Merchant).where(Merchant.ref == data["ref"])).first()
    if existing is not None:
        if all(getattr(existing, f) == data.get(f) for f in PROFILE_FIELDS):
            return existing, False
        raise Conflict(f"Merchant {data['ref']} exists with another profile.", code="merchant-exists")
    merchant = Merchant(id=uuid7(), ref=data["ref"], active=True, created_by=by, created_at=utcnow(),
                        **{f: data.get(f) for f in PROFILE_FIELDS})
    session.add(merchant)
    session.flush()
    ledger.merchant_account(session, merchant.id)
    return merchant, True


def update_profile(session: Session, ref: str, data: dict) -> Merchant:
    merchant = get_merchant(session, ref)
    for key, value in data.items():
        setattr(merchant, key, value)
    session.flush()
    return merchant


def record_service(session: Session, merchant: Merchant, data: dict, by: str) -> ServiceRecord:
    """Record a service the merchant gave: ``service_hours`` (decimal hours) and/or ``service_count``.

    Status ``submitted`` until staff confirm it. 422 if neither hours nor a count is given.
    """
    if data.get("service_hours") is None and data.get("service_count") is None:
        raise Unprocessable("Give service_hours or service_count.", errors=field_error("service_hours", "required"))
    if not merchant.active:
        raise Conflict("The merchant has left the alliance.", code="merchant-inactive")
    record = ServiceRecord(id=uuid7(), merchant_id=merchant.id, service_hours=data.get("service_hours"),
                           service_count=data.get("service_count"), description=data["description"],
                           served_at=data.get("served_at") or utcnow(), status="submitted", recorded_by=by,
                           created_at=utcnow())
    session.add(record)
    session.flush()
    return record


def get_record(session: Session, record_id: str, merchant: Merchant | None = None) -> ServiceRecord:
    record = session.get(ServiceRecord, record_id)
    if record is None or (merchant is not None and record.merchant_id != merchant.id):
        raise NotFound("No such service record.")
    return record


def _claim(session: Session, record_id: str, status: str, by: str, reason: str | None = None) -> ServiceRecord:
    record = get_record(session, record_id)
    done = session.execute(update(ServiceRecord).where(ServiceRecord.id == record_id,
                                                       ServiceRecord.status == "submitted")
                           .values(status=status, decided_by=by, decided_at=utcnow(), reason=reason)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"The service record is already {record.status}.", code="already-decided")
    session.refresh(record)
    return record


def confirm(session: Session, record_id: str, by: str) -> ServiceRecord:
    """Staff confirm a service record: the merchant is credited by every ``service_hour`` rule (floor of
    hours × points per hour) and ``service_count`` rule (count × points) in force at ``served_at``, within the
    caps, once per record. Errors: 404, 409 (already decided)."""
    record = _claim(session, record_id, "confirmed", by)
    account = ledger.merchant_account(session, record.merchant_id)
    total = 0
    for rule in scoring.rules_for_trigger(session, credits.SERVICE_RECORD, record.served_at):
        if rule.unit == "service_hour" and record.service_hours is not None:
            points = scoring.hours_points(record.service_hours, rule.points or 0)
        elif rule.unit == "service_count" and record.service_count is not None:
            points = record.service_count * (rule.points or 0)
        else:
            continue
        result = scoring.credit_account(session, rule=rule, account=account, holder=record.merchant_id,
                                        points=points, at=record.served_at,
                                        cause_key=f"{rule.code}:service:{record.id}", cause_event_id=None,
                                        note=record.description[:500], created_by=by)
        credits.announce(session, rule, result, None)
        total += result.granted
    record.points = total
    session.flush()
    return record


def reject(session: Session, record_id: str, reason: str, by: str) -> ServiceRecord:
    """Staff reject a service record with a reason (nothing is credited). Errors: 404, 409."""
    return _claim(session, record_id, "rejected", by, reason)


def records_stmt(merchant: Merchant, status: str | None):
    stmt = select(ServiceRecord).where(ServiceRecord.merchant_id == merchant.id)
    return stmt.where(ServiceRecord.status == status) if status else stmt


__all__ = ["create", "get_merchant", "merchant_of", "record_service", "confirm", "reject", "datetime"]
