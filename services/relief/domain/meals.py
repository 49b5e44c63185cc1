"""Meal delivery (爱心食堂、送餐上门): elderly recipients, daily orders, the delivery shift that carried each one,
and the welfare flag when a delivery finds nobody answering (or the person unwell).

Source: the seed practice — the community canteen delivers meals by volunteers to elderly people who cannot go
out (care level ``dependent`` or ``semi_dependent``). A delivery that finds cause for concern raises
``relief.meal_delivery.welfare_alert.v1`` at once, with opaque ids only (who and where stay here).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import local_day, to_local, utcnow

from ..models import MealOrder, MealRecipient, ShiftSignup
from . import audit, volunteers
from .common import transition
from .personal import mask_name

CARE_LEVELS = ("dependent", "semi_dependent")
MEALS = ("lunch", "dinner")
OUTCOMES = ("delivered", "no_answer")
CONCERNS = ("unwell", "fall", "other")


def create_recipient(session: Session, data: dict, actor: str) -> MealRecipient:
    """A recipient: ``name``, ``address``, ``care_level``, ``diet_notes``?, ``phone``?, ``person_id``?, ``community``?"""
    recipient = MealRecipient(id=uuid7(), name=data["name"], person_id=data.get("person_id"), phone=data.get("phone"),
                              address=data["address"], community=data.get("community"), care_level=data["care_level"],
                              diet_notes=data.get("diet_notes"), active=True, created_by=actor, created_at=utcnow())
    session.add(recipient)
    session.flush()
    audit.record(session, actor, "recipient.created", "recipient", recipient.id,
                 {"name": mask_name(recipient.name), "care_level": recipient.care_level})
    return recipient


def get_recipient(session: Session, recipient_id: str) -> MealRecipient:
    recipient = session.get(MealRecipient, recipient_id)
    if recipient is None:
        raise NotFound("No such recipient.")
    return recipient


def read_recipient(session: Session, recipient_id: str, actor: str) -> MealRecipient:
    """The recipient with name, phone and address unmasked; the read is audited."""
    recipient = get_recipient(session, recipient_id)
    audit.record(session, actor, "recipient.personal_data_read", "recipient", recipient.id)
    return recipient


def update_recipient(session: Session, recipient_id: str, data: dict, actor: str) -> MealRecipient:
    """Change ``care_level``, ``diet_notes``, ``address``, ``phone`` or ``active``; each change is audited."""
    recipient = get_recipient(session, recipient_id)
    changed = {}
    for key, value in data.items():
        if getattr(recipient, key) != value:
            setattr(recipient, key, value)
            changed[key] = value if key in ("care_level", "diet_notes", "active") else "(changed)"
    if changed:
        audit.record(session, actor, "recipient.updated", "recipient", recipient.id, changed)
    session.flush()
    return recipient


def place_order(session: Session, data: dict, actor: str) -> MealOrder:
    """A meal for ``recipient_id`` on ``served_on`` (``meal`` lunch or dinner). 409 if ordered already or the
    recipient is no longer served."""
    recipient = get_recipient(session, data["recipient_id"])
    if not recipient.active:
        raise Conflict("This recipient is no longer served.", code="recipient-inactive")
    if session.scalar(select(MealOrder.id).where(MealOrder.recipient_id == recipient.id,
                                                 MealOrder.served_on == data["served_on"],
                                                 MealOrder.meal == data["meal"])):
        raise Conflict("This meal is ordered already.", code="duplicate-order")
    order = MealOrder(id=uuid7(), recipient_id=recipient.id, served_on=data["served_on"], meal=data["meal"],
                      status="ordered", welfare_flag=False, created_by=actor, created_at=utcnow())
    session.add(order)
    session.flush()
    audit.record(session, actor, "meal_order.placed", "meal_order", order.id,
                 {"recipient_id": recipient.id, "served_on": order.served_on, "meal": order.meal})
    return order


def get_order(session: Session, order_id: str) -> MealOrder:
    order = session.get(MealOrder, order_id)
    if order is None:
        raise NotFound("No such meal order.")
    return order


def record_delivery(session: Session, order_id: str, data: dict, actor: str, volunteer: str | None = None) -> MealOrder:
    """How the delivery went: ``shift_id`` (a meal_delivery shift on the order's day), ``outcome`` (delivered or
    no_answer), ``concern``? (unwell, fall, other), ``reported_at``? (that day), ``note``?.

    ``volunteer``: when a volunteer reports, they must be checked in (or out) on that shift (404 otherwise).
    ``no_answer`` or a concern sets the welfare flag and publishes ``relief.meal_delivery.welfare_alert.v1``.
    409 if the delivery is recorded already.
    """
    order = get_order(session, order_id)
    shift = volunteers.get_shift(session, data["shift_id"])
    if shift.activity.kind != "meal_delivery":
        raise Unprocessable("Not a meal delivery shift.", errors=field_error("shift_id", "A meal_delivery shift."))
    if local_day(shift.starts_at) != order.served_on:
        raise Unprocessable("The shift is on another day.", errors=field_error("shift_id", f"A shift on {order.served_on}."))
    if volunteer is not None and not session.scalar(select(ShiftSignup.id).where(
            ShiftSignup.shift_id == shift.id, ShiftSignup.person_id == volunteer,
            ShiftSignup.status.in_(("checked_in", "completed")))):
        raise NotFound("No such shift of yours.")
    at: datetime = data.get("reported_at") or utcnow()
    if local_day(at) != order.served_on:
        raise Unprocessable("Reported on another day.", errors=field_error("reported_at", f"On {order.served_on}."))
    concern = data.get("concern")
    flag = data["outcome"] == "no_answer" or concern is not None
    transition(session, order, ("ordered",), data["outcome"], f"The delivery is recorded already ({order.status}).",
               shift_id=shift.id, delivered_by=volunteer or actor, delivery_reported_at=at, welfare_flag=flag,
               alert_kind=("no_answer" if data["outcome"] == "no_answer" else concern) if flag else None,
               welfare_note=data.get("note"))
    audit.record(session, actor, "meal_order.delivery_recorded", "meal_order", order.id,
                 {"shift_id": shift.id, "outcome": data["outcome"], "concern": concern})
    if flag:
        outbox.publish(session, "relief.meal_delivery.welfare_alert.v1", {
            "order_id": order.id, "recipient_id": order.recipient_id, "shift_id": shift.id,
            "reported_at": to_local(at).isoformat(), "alert_kind": order.alert_kind}, subject=f"meal-orders/{order.id}", time=at)
    return order


def resolve_welfare(session: Session, order_id: str, data: dict, actor: str) -> MealOrder:
    """The community checked on the person: ``resolved_at``?, ``note``. 409 unless flagged and open."""
    order = get_order(session, order_id)
    at = data.get("resolved_at") or utcnow()
    done = session.execute(update(MealOrder).where(MealOrder.id == order.id, MealOrder.welfare_flag.is_(True),
                                                   MealOrder.welfare_resolved_at.is_(None))
                           .values(welfare_resolved_at=at, welfare_note=data["note"])
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("No open welfare flag on this order.", code="invalid-transition")
    session.refresh(order)
    audit.record(session, actor, "meal_order.welfare_resolved", "meal_order", order.id, {"at": at})
    return order


def orders_stmt(served_on: date | None = None, recipient_id: str | None = None, flagged: bool | None = None):
    stmt = select(MealOrder)
    if served_on:
        stmt = stmt.where(MealOrder.served_on == served_on)
    if recipient_id:
        stmt = stmt.where(MealOrder.recipient_id == recipient_id)
    if flagged is not None:
        stmt = stmt.where(MealOrder.welfare_flag.is_(flagged))
    return stmt
