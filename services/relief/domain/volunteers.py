"""Volunteer services: activities, shifts with a capacity, sign-up, check-in and check-out with hours.

Source: the seed practice — volunteers deliver meals to elderly people who cannot go out, give free haircuts on
the first Monday of each month, and join environment clean-ups; each check-out earns points in the points
service through ``relief.volunteer_shift.completed.v1``.

- A shift is never over-booked: a sign-up takes a place with ONE conditional UPDATE
  (``booked = booked + 1 WHERE booked < capacity``); a cancellation gives it back.
- Times are the record's own: a sign-up up to the shift's end; check-in from one hour before the shift starts
  until it ends; check-out after check-in and at most 24 hours later.
- Hours: the time between check-in and check-out, in hours rounded half up to two decimals ("2.00").
"""
from __future__ import annotations

from datetime import datetime, timedelta
from decimal import ROUND_HALF_UP, Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import to_local, utcnow

from ..models import ShiftSignup, VolunteerActivity, VolunteerShift
from . import audit
from .common import transition

ACTIVITY_KINDS = ("meal_delivery", "haircut", "environment_cleanup")
EARLY_CHECK_IN = timedelta(hours=1)
LONGEST = timedelta(hours=24)


def create_activity(session: Session, data: dict, actor: str) -> VolunteerActivity:
    """An activity: ``kind`` (meal_delivery, haircut, environment_cleanup), ``title``, ``community``?, ``description``?"""
    activity = VolunteerActivity(id=uuid7(), kind=data["kind"], title=data["title"], community=data.get("community"),
                                 description=data.get("description"), created_by=actor, created_at=utcnow())
    session.add(activity)
    session.flush()
    audit.record(session, actor, "activity.created", "activity", activity.id, {"kind": activity.kind})
    return activity


def get_activity(session: Session, activity_id: str) -> VolunteerActivity:
    activity = session.get(VolunteerActivity, activity_id)
    if activity is None:
        raise NotFound("No such activity.")
    return activity


def create_shift(session: Session, activity_id: str, data: dict, actor: str) -> VolunteerShift:
    """A shift: ``starts_at`` < ``ends_at`` (at most 24 hours), ``capacity`` (≥ 1), ``place``?  422 otherwise."""
    activity = get_activity(session, activity_id)
    if data["ends_at"] <= data["starts_at"] or data["ends_at"] - data["starts_at"] > LONGEST:
        raise Unprocessable("A shift ends after it starts, within 24 hours.",
                            errors=field_error("ends_at", "After starts_at, at most 24 hours later."))
    shift = VolunteerShift(id=uuid7(), activity_id=activity.id, starts_at=data["starts_at"], ends_at=data["ends_at"],
                           capacity=data["capacity"], booked=0, place=data.get("place"), created_by=actor,
                           created_at=utcnow())
    session.add(shift)
    session.flush()
    audit.record(session, actor, "shift.created", "shift", shift.id,
                 {"activity_id": activity.id, "starts_at": shift.starts_at, "capacity": shift.capacity})
    return shift


def get_shift(session: Session, shift_id: str) -> VolunteerShift:
    shift = session.get(VolunteerShift, shift_id)
    if shift is None:
        raise NotFound("No such shift.")
    return shift


def get_signup(session: Session, signup_id: str) -> ShiftSignup:
    signup = session.get(ShiftSignup, signup_id)
    if signup is None:
        raise NotFound("No such sign-up.")
    return signup


def _take_place(session: Session, shift: VolunteerShift) -> None:
    taken = session.execute(update(VolunteerShift).where(VolunteerShift.id == shift.id,
                                                         VolunteerShift.booked < VolunteerShift.capacity)
                            .values(booked=VolunteerShift.booked + 1).execution_options(synchronize_session=False))
    if taken.rowcount != 1:
        raise Conflict("This shift is full.", code="shift-full")


def sign_up(session: Session, shift_id: str, person_id: str, signed_up_at: datetime | None, actor: str) -> ShiftSignup:
    """Put ``person_id`` on the shift. 409 ``shift-full``, 409 ``already-signed-up``, 409 ``shift-over``."""
    shift = get_shift(session, shift_id)
    at = signed_up_at or utcnow()
    if at > shift.ends_at:
        raise Conflict("This shift was over by then.", code="shift-over")
    signup = session.scalars(select(ShiftSignup).where(ShiftSignup.shift_id == shift.id,
                                                       ShiftSignup.person_id == person_id)).first()
    if signup is not None and signup.status != "cancelled":
        raise Conflict("Already signed up for this shift.", code="already-signed-up", signup_id=signup.id)
    _take_place(session, shift)
    if signup is not None:
        transition(session, signup, ("cancelled",), "signed_up", "Already signed up for this shift.",
                   signed_up_at=at, checked_in_at=None, checked_out_at=None, hours=None)
    else:
        signup = ShiftSignup(id=uuid7(), shift_id=shift.id, person_id=person_id, status="signed_up", signed_up_at=at,
                             created_by=actor, created_at=utcnow())
        session.add(signup)
        session.flush()
    audit.record(session, actor, "shift.signed_up", "signup", signup.id, {"shift_id": shift.id, "person_id": person_id})
    session.refresh(shift)
    return signup


def cancel(session: Session, signup_id: str, actor: str) -> ShiftSignup:
    """Give the place back (only before check-in; 409 otherwise)."""
    signup = get_signup(session, signup_id)
    transition(session, signup, ("signed_up",), "cancelled", f"A sign-up that is {signup.status} cannot be cancelled.")
    session.execute(update(VolunteerShift).where(VolunteerShift.id == signup.shift_id, VolunteerShift.booked > 0)
                    .values(booked=VolunteerShift.booked - 1).execution_options(synchronize_session=False))
    audit.record(session, actor, "shift.cancelled", "signup", signup.id, {"shift_id": signup.shift_id})
    return signup


def check_in(session: Session, signup_id: str, at: datetime | None, actor: str) -> ShiftSignup:
    """Arrival: from an hour before the shift starts until it ends (422 otherwise); 409 unless signed up."""
    signup = get_signup(session, signup_id)
    shift = signup.shift
    at = at or utcnow()
    if not (shift.starts_at - EARLY_CHECK_IN <= at <= shift.ends_at):
        raise Unprocessable("Check-in is from an hour before the shift until its end.",
                            errors=field_error("at", "Within the shift's time."))
    transition(session, signup, ("signed_up",), "checked_in", f"A sign-up that is {signup.status} cannot check in.",
               checked_in_at=at)
    audit.record(session, actor, "shift.checked_in", "signup", signup.id, {"at": at})
    return signup


def hours_between(start: datetime, end: datetime) -> Decimal:
    """Hours between two moments, rounded half up to two decimals (the one rounding rule for hours)."""
    seconds = Decimal(int((end - start).total_seconds()))
    return (seconds / Decimal(3600)).quantize(Decimal("0.01"), rounding=ROUND_HALF_UP)


def check_out(session: Session, signup_id: str, at: datetime | None, actor: str) -> ShiftSignup:
    """Departure: after check-in, within 24 hours (422). Records ``hours`` and publishes
    ``relief.volunteer_shift.completed.v1`` (once: the move checked_in → completed is one conditional UPDATE)."""
    signup = get_signup(session, signup_id)
    at = at or utcnow()
    if signup.status != "checked_in":
        raise Conflict(f"A sign-up that is {signup.status} cannot check out.", code="invalid-transition")
    if not (signup.checked_in_at < at <= signup.checked_in_at + LONGEST):
        raise Unprocessable("Check-out is after check-in, within 24 hours.",
                            errors=field_error("at", "After check-in, at most 24 hours later."))
    hours = hours_between(signup.checked_in_at, at)
    transition(session, signup, ("checked_in",), "completed", f"A sign-up that is {signup.status} cannot check out.",
               checked_out_at=at, hours=hours)
    shift = signup.shift
    audit.record(session, actor, "shift.checked_out", "signup", signup.id, {"at": at, "hours": hours})
    outbox.publish(session, "relief.volunteer_shift.completed.v1", {
        "shift_id": shift.id, "person_id": signup.person_id, "activity": shift.activity.kind, "hours": str(hours),
        "completed_at": to_local(at).isoformat(), "started_at": to_local(signup.checked_in_at).isoformat(),
        "activity_id": shift.activity_id, "signup_id": signup.id,
    }, subject=f"volunteer-shifts/{shift.id}", time=at)
    return signup


def signups_stmt(shift_id: str | None = None, person_id: str | None = None):
    stmt = select(ShiftSignup)
    if shift_id:
        stmt = stmt.where(ShiftSignup.shift_id == shift_id)
    if person_id:
        stmt = stmt.where(ShiftSignup.person_id == person_id)
    return stmt


def shifts_stmt(activity_id: str | None = None):
    stmt = select(VolunteerShift)
    if activity_id:
        stmt = stmt.where(VolunteerShift.activity_id == activity_id)
    return stmt
