"""Used-item donations for points (旧物捐赠换积分): intake → condition check and appraisal → the donor is
credited under the ``appraisal`` rule (``used_item_donation`` in the seed) and the item is listed in the points
supermarket with its points price label; or the item is rejected with the reason.

Events: ``points.item_donation.appraised.v1`` and the donor's ``points.credited.v1``.
"""
from __future__ import annotations

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import CatalogueItem, ItemDonation
from . import credits, ledger, scoring

CONDITIONS = ("new", "like_new", "good", "fair", "poor", "unsafe")


def intake(session: Session, data: dict, by: str) -> ItemDonation:
    """Record an item a resident brought in (status ``received``) at ``received_at`` (default now)."""
    donation = ItemDonation(id=uuid7(), donor_person_id=data["donor_person_id"], name=data["name"],
                            description=data.get("description"), status="received",
                            received_at=data.get("received_at") or utcnow(), received_by=by, created_at=utcnow())
    session.add(donation)
    session.flush()
    return donation


def get(session: Session, donation_id: str) -> ItemDonation:
    donation = session.get(ItemDonation, donation_id)
    if donation is None:
        raise NotFound("No such item donation.")
    return donation


def _claim(session: Session, donation: ItemDonation, values: dict) -> None:
    at = values["decided_at"]
    if at < donation.received_at:
        raise Unprocessable("The decision cannot precede the intake.", errors=field_error("decided_at", "before received_at"))
    done = session.execute(update(ItemDonation).where(ItemDonation.id == donation.id,
                                                      ItemDonation.status == "received")
                           .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(donation)
        raise Conflict(f"The donation is already {donation.status}.", code="already-decided")
    session.refresh(donation)


def appraise(session: Session, donation_id: str, data: dict, by: str) -> ItemDonation:
    """Accept a donation after its condition check: credit the donor and list the item.

    ``points``: the appraised value (integer points); the donor gets it under the ``appraisal`` rule in force
    at ``decided_at`` (a rule with fixed ``points`` pays those instead), within that rule's caps.
    ``points_price``: the label on the shelf (default: the appraised value); ``sku`` (default
    ``DONATED-<id>``). Errors: 404, 409 (already decided; sku taken), 422 (no appraisal rule in force; a
    condition that cannot be listed).
    """
    donation = get(session, donation_id)
    at = data.get("decided_at") or utcnow()
    if data["condition"] in ("poor", "unsafe"):
        raise Unprocessable("An item in that condition is rejected, not listed.",
                            errors=field_error("condition", "reject it instead"))
    rules = scoring.rules_for_trigger(session, credits.APPRAISAL, at)
    if not rules:
        raise Unprocessable("No used-item donation rule is in force at that time.",
                            errors=field_error("decided_at", "no appraisal rule in force"))
    sku = data.get("sku") or f"DONATED-{donation.id[-12:].upper()}"
    if session.scalar(select(CatalogueItem.id).where(CatalogueItem.sku == sku)) is not None:
        raise Conflict(f"The sku {sku} is taken.", code="sku-exists")
    _claim(session, donation, {"status": "listed", "condition": data["condition"], "decided_at": at,
                               "decided_by": by, "appraised_points": data["points"]})
    rule = rules[0]
    result = scoring.credit(session, rule=rule, person_id=donation.donor_person_id,
                            points=rule.points if rule.points is not None else data["points"], at=at,
                            cause_key=f"{rule.code}:donation:{donation.id}", cause_event_id=None,
                            note=donation.name, created_by=by)
    credits.announce(session, rule, result, None)
    item = CatalogueItem(id=uuid7(), sku=sku, name=donation.name, category=data.get("category") or "used_item",
                         points_price=data.get("points_price") or data["points"], stock=1, reserved=0,
                         low_stock_threshold=0, limit_period="month", donation_id=donation.id, created_by=by,
                         active_from=at, created_at=utcnow(), updated_at=utcnow())
    session.add(item)
    session.flush()
    donation.item_id, donation.credited_points, donation.transfer_id = item.id, result.granted, result.transfer_id
    session.flush()
    outbox.publish(session, "points.item_donation.appraised.v1", {
        "donation_id": donation.id, "donor_person_id": donation.donor_person_id, "points": data["points"],
        "sku": sku, "appraised_at": at.isoformat()}, subject=f"item-donations/{donation.id}", time=at)
    return donation


def reject(session: Session, donation_id: str, data: dict, by: str) -> ItemDonation:
    """Refuse a donation after its condition check, with the ``reason``. Nothing is credited or listed."""
    donation = get(session, donation_id)
    _claim(session, donation, {"status": "rejected", "condition": data["condition"], "reason": data["reason"],
                               "decided_at": data.get("decided_at") or utcnow(), "decided_by": by})
    return donation


def list_stmt(*, status: str | None = None, donor_person_id: str | None = None):
    stmt = select(ItemDonation)
    if status:
        stmt = stmt.where(ItemDonation.status == status)
    if donor_person_id:
        stmt = stmt.where(ItemDonation.donor_person_id == donor_person_id)
    return stmt


__all__ = ["intake", "appraise", "reject", "get", "list_stmt", "CONDITIONS", "ledger"]
