"""Two-yuan nap beds: reservations made in advance, first come first served, lobby seats as the fallback.

Source: the seed practice (2元午休、床位、预约): beds are few, so a bed is reserved the day before; when they are
full the worker rests free on the lobby seats (not reservable).

Rules (SQLite and PostgreSQL alike, by each record's own time):

- A request for ``nap_on`` must be made before that Asia/Shanghai day begins, at most ``nap_booking_days``
  ahead; one standing request per worker per day (409 for a second).
- A bed is taken with ONE atomic conditional statement, ``UPDATE nap_days SET reserved = reserved + 1 WHERE
  nap_on = :d AND reserved < (beds in service)``; then the lowest free bed number is held (unique per day).
  Never more reservations than beds; racing requests for the last bed give exactly one.
- A refused request is recorded too (``status = refused``, ``reason = beds_full``) and the answer offers a
  free lobby seat.
- Cancelling frees the bed (the counter goes down; a later request may take it).
- A reservation not checked in by the deadline (``nap_checkin_deadline`` on the nap day) is released by the
  worker's schedule, acting only on reservations due by wall-clock time. Requests for a day close before it
  begins, so a release never hands a bed to a request made before it (the seed's history replays safely).
"""
from __future__ import annotations

from datetime import date, datetime, timedelta

from sqlalchemy import func, select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import SHANGHAI, day_start, local_day, utcnow

from .. import policy as policy_mod
from ..models import NapBed, NapDay, NapReservation, Worker
from .common import insert_ignore, own_time

HOLDING = ("reserved", "checked_in")


def add_bed(session: Session, label: str | None) -> NapBed:
    """Add a bed to the nap room; it gets the next bed number (1, 2, ...)."""
    number = (session.scalar(select(func.max(NapBed.bed_no))) or 0) + 1
    bed = NapBed(id=uuid7(), bed_no=number, label=label, in_service=True, created_at=utcnow())
    session.add(bed)
    session.flush()
    return bed


def set_bed_service(session: Session, bed_no: int, in_service: bool) -> NapBed:
    """Take a bed out of service (no new reservations count on it) or put it back. 404 for an unknown bed."""
    bed = session.scalars(select(NapBed).where(NapBed.bed_no == bed_no)).first()
    if bed is None:
        raise NotFound("No such bed.")
    bed.in_service = in_service
    session.flush()
    return bed


def beds_in_service(session: Session) -> int:
    return int(session.scalar(select(func.count()).select_from(NapBed).where(NapBed.in_service.is_(True))))


def deadline(nap_on: date, policy=None) -> datetime:
    """The moment (aware) after which an unclaimed reservation of ``nap_on`` is released."""
    policy = policy or policy_mod.current()
    t = policy.nap_checkin_deadline
    return datetime(nap_on.year, nap_on.month, nap_on.day, t.hour, t.minute, tzinfo=SHANGHAI)


def request_bed(session: Session, worker: Worker, nap_on: date, requested_at: datetime | None,
                actor: str) -> NapReservation:
    """Ask for a bed on ``nap_on``. Returns the request, ``reserved`` with a ``bed_no`` or ``refused``
    (``reason = beds_full``, ``lobby_seat_offered = true``); both are recorded.

    Raises 422 (``nap_on``) when the day has begun at ``requested_at`` or lies beyond the booking window,
    409 ``already-requested`` when the worker already holds a bed that day.
    Publishes ``jobmarket.nap_reservation.made.v1`` or ``.refused.v1``.
    """
    policy = policy_mod.current()
    now = utcnow()
    at = own_time(requested_at, "requested_at", now)
    if at >= day_start(nap_on):
        raise Unprocessable("Beds are reserved in advance, before the day begins.",
                            errors=field_error("nap_on", "Must be a later day than the request."))
    if nap_on > local_day(at) + timedelta(days=policy.nap_booking_days):
        raise Unprocessable("That day is beyond the booking window.",
                            errors=field_error("nap_on", f"At most {policy.nap_booking_days} days ahead."))
    if session.scalar(select(NapReservation.id).where(NapReservation.nap_on == nap_on,
                                                      NapReservation.active_worker_id == worker.id)):
        raise Conflict("This worker already holds a bed that day.", code="already-requested")
    insert_ignore(session, NapDay, {"nap_on": nap_on, "reserved": 0})
    beds = select(func.count()).select_from(NapBed).where(NapBed.in_service.is_(True)).scalar_subquery()
    taken = session.execute(update(NapDay).where(NapDay.nap_on == nap_on, NapDay.reserved < beds)
                            .values(reserved=NapDay.reserved + 1).returning(NapDay.reserved)).scalar_one_or_none()
    row = NapReservation(id=uuid7(), nap_on=nap_on, worker_id=worker.id, price=policy.nap_price, requested_at=at,
                         created_by=actor, created_at=now, lobby_seat_offered=False)
    if taken is None:
        row.status, row.reason, row.lobby_seat_offered = "refused", "beds_full", True
        session.add(row)
        session.flush()
        outbox.publish(session, "jobmarket.nap_reservation.refused.v1", {
            "reservation_id": row.id, "nap_on": nap_on.isoformat(), "worker_person_id": worker.event_ref,
            "reason": "beds_full", "lobby_seat_offered": True, "requested_at": at.isoformat()},
            subject=f"nap-days/{nap_on.isoformat()}", time=at)
        return row
    held = set(session.scalars(select(NapReservation.held_bed_no).where(
        NapReservation.nap_on == nap_on, NapReservation.held_bed_no.is_not(None))).all())
    free = session.scalars(select(NapBed.bed_no).where(NapBed.in_service.is_(True), NapBed.bed_no.not_in(held or [0]))
                           .order_by(NapBed.bed_no).limit(1)).first()
    if free is None:  # beds went out of service while reserved: the counter said yes, the room says no
        raise Conflict("No bed is free although the count allows one; try again.", code="no-free-bed")
    row.status, row.bed_no, row.held_bed_no, row.active_worker_id = "reserved", free, free, worker.id
    session.add(row)
    session.flush()
    outbox.publish(session, "jobmarket.nap_reservation.made.v1", {
        "reservation_id": row.id, "nap_on": nap_on.isoformat(), "worker_person_id": worker.event_ref,
        "bed_no": free, "requested_at": at.isoformat(), "price": f"{row.price:.2f}"},
        subject=f"nap-days/{nap_on.isoformat()}", time=at)
    return row


def get(session: Session, reservation_id: str) -> NapReservation:
    row = session.get(NapReservation, reservation_id)
    if row is None:
        raise NotFound("No such reservation.")
    return row


def _leave(session: Session, row: NapReservation, status: str, at: datetime, from_states: tuple) -> bool:
    """Move a holding reservation to ``status`` atomically and free its bed; False if it was not holding.

    A cancellation gives the place back to later requests (the day's counter goes down). A release does not:
    it happens on the nap day, when requests for that day are closed, and a history replay may still bring
    requests made before it (they must meet the beds as they were then).
    """
    stamp = {"cancelled": "cancelled_at", "released": "released_at"}[status]
    done = session.execute(update(NapReservation).where(NapReservation.id == row.id,
                                                        NapReservation.status.in_(from_states))
                           .values(status=status, held_bed_no=None, active_worker_id=None, **{stamp: at})
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        return False
    if status == "cancelled":
        session.execute(update(NapDay).where(NapDay.nap_on == row.nap_on).values(reserved=NapDay.reserved - 1))
    session.refresh(row)
    return True


def cancel(session: Session, row: NapReservation, at: datetime | None) -> NapReservation:
    """Cancel a reservation that is not yet used; its bed is free for the next request. 409 otherwise."""
    at = own_time(at, "cancelled_at")
    if not _leave(session, row, "cancelled", at, ("reserved",)):
        raise Conflict(f"A reservation that is {row.status} cannot be cancelled.", code="not-cancellable")
    return row


def check_in(session: Session, row: NapReservation, at: datetime | None) -> NapReservation:
    """The worker arrives for the nap: only on the nap day and by the deadline (422 ``checked_in_at``),
    only while reserved (409)."""
    at = own_time(at, "checked_in_at")
    if local_day(at) != row.nap_on or at > deadline(row.nap_on):
        raise Unprocessable("Check in on the nap day, by the deadline.",
                            errors=field_error("checked_in_at", "Must be on the nap day, by the deadline."))
    done = session.execute(update(NapReservation).where(NapReservation.id == row.id,
                                                        NapReservation.status == "reserved")
                           .values(status="checked_in", checked_in_at=at)
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict(f"A reservation that is {row.status} cannot be checked in.", code="not-reserved")
    session.refresh(row)
    return row


def release_unclaimed(session: Session, now: datetime | None = None) -> int:
    """Release every reservation still ``reserved`` whose deadline has passed by wall-clock ``now``.

    Each release is one conditional update, so two workers (or a check-in racing it) never both act.
    Returns how many were released.
    """
    now = now or utcnow()
    policy = policy_mod.current()
    t = policy.nap_checkin_deadline
    # the last nap day whose deadline has passed by now
    last_due = local_day(now) if now.astimezone(SHANGHAI).time() >= t else local_day(now) - timedelta(days=1)
    released = 0
    for row in session.scalars(select(NapReservation).where(NapReservation.status == "reserved",
                                                            NapReservation.nap_on <= last_due)).all():
        if _leave(session, row, "released", deadline(row.nap_on, policy), ("reserved",)):
            released += 1
    return released
