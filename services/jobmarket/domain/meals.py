"""The five-yuan lunch: meal days with a capacity, numbered tickets, serving in number order, the tariff.

Source: the seed practice (5元午餐、餐号): lunch costs a worker 5 yuan while the real cost is about 9, the
market paying the difference (subsidy); about 30 portions a day, more on busy days; tickets are numbered from 1
each day and called out in order from 11:30.

Rules, held on SQLite and PostgreSQL alike and by a record's own times (history obeys them too):

- A ticket belongs to the Asia/Shanghai day of its ``issued_at`` (00:30 Beijing time is the new day, whatever
  the server's time zone).
- Its number comes from the meal day's counter with ONE atomic conditional statement,
  ``UPDATE meal_days SET issued = issued + 1 WHERE served_on = :d AND issued < capacity RETURNING issued``, in
  the ticket's own transaction: numbers are consecutive from 1, never given twice, never beyond capacity (a
  failed insert rolls the counter back with it). PostgreSQL's row lock makes racing requests queue on the
  row; SQLite's ``BEGIN IMMEDIATE`` serialises writers.
- One ticket per worker per day (checked, and a unique constraint backs it up).
- Serving calls the next number: ``UPDATE meal_days SET called = called + 1 WHERE called < issued RETURNING
  called`` names the ticket served.
- Money: each ticket keeps the price and cost in effect on its day; subsidy = cost − price, exact decimals.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import local_day, utcnow

from .. import policy as policy_mod
from ..models import MealDay, MealTariff, MealTicket, Worker
from .common import insert_ignore, own_time


class MealsSoldOut(Conflict):
    code = "meals-sold-out"


def tariff_on(session: Session, day: date, policy=None) -> tuple[Decimal, Decimal]:
    """(price, cost) per meal in yuan in effect on ``day``: the newest tariff from on or before it, else the
    configured default."""
    row = session.scalars(select(MealTariff).where(MealTariff.effective_from <= day)
                          .order_by(MealTariff.effective_from.desc()).limit(1)).first()
    if row is not None:
        return row.price, row.cost
    policy = policy or policy_mod.current()
    return policy.meal_price, policy.meal_cost


def set_tariff(session: Session, data: dict, actor: str) -> MealTariff:
    """Record the price and cost per meal (yuan) from ``effective_from`` on. Tickets already issued keep theirs.

    Raises 422 (``cost``) when the cost is below the price (the market subsidises, it does not profit);
    409 when a tariff already starts that day.
    """
    if data["cost"] < data["price"]:
        raise Unprocessable("The cost of a meal is below its price.", errors=field_error("cost", "Must be ≥ price."))
    if session.scalar(select(MealTariff.id).where(MealTariff.effective_from == data["effective_from"])):
        raise Conflict("A tariff already starts on that day.", code="tariff-exists")
    row = MealTariff(effective_from=data["effective_from"], price=data["price"], cost=data["cost"],
                     created_by=actor, created_at=utcnow())
    session.add(row)
    session.flush()
    return row


def ensure_day(session: Session, served_on: date, actor: str, policy=None) -> None:
    """Create the meal day with the default capacity unless it exists (race-safe)."""
    policy = policy or policy_mod.current()
    now = utcnow()
    insert_ignore(session, MealDay, {"served_on": served_on, "capacity": policy.meal_capacity, "issued": 0,
                                     "called": 0, "created_by": actor, "created_at": now, "updated_at": now})


def create_day(session: Session, served_on: date, capacity: int | None, actor: str) -> MealDay:
    """Open a meal day with ``capacity`` portions (default: the configured 30). 409 if it exists."""
    if session.get(MealDay, served_on) is not None:
        raise Conflict(f"The meal day {served_on} exists; change its capacity instead.", code="meal-day-exists")
    now = utcnow()
    day = MealDay(served_on=served_on, capacity=capacity or policy_mod.current().meal_capacity, issued=0, called=0,
                  created_by=actor, created_at=now, updated_at=now)
    session.add(day)
    session.flush()
    return day


def get_day(session: Session, served_on: date) -> MealDay:
    day = session.get(MealDay, served_on)
    if day is None:
        raise NotFound("No such meal day.")
    return day


def set_capacity(session: Session, served_on: date, capacity: int) -> MealDay:
    """Set the day's capacity (staff raise it on busy days). 409 when below the tickets already issued."""
    get_day(session, served_on)
    done = session.execute(update(MealDay).where(MealDay.served_on == served_on, MealDay.issued <= capacity)
                           .values(capacity=capacity, updated_at=utcnow())
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("More tickets are issued than this capacity.", code="capacity-below-issued")
    day = session.get(MealDay, served_on)
    session.refresh(day)
    return day


def issue_ticket(session: Session, worker: Worker, actor: str, *, issued_at: datetime | None = None,
                 served_on: date | None = None, served_at: datetime | None = None) -> MealTicket:
    """Issue the next numbered ticket of the day of ``issued_at`` (default now) to ``worker``.

    ``served_on``, when given, must be that day (422 otherwise). ``served_at`` (history: a ticket issued and
    served) also calls the number, which must then be the next to call (409 ``not-next-number``, field
    ``served_at``, otherwise). Raises :class:`MealsSoldOut` (409) at capacity, 409 ``ticket-exists`` (field
    ``worker``) for a second ticket that day. Publishes ``jobmarket.meal_ticket.issued.v1``.
    """
    now = utcnow()
    issued_at = own_time(issued_at, "issued_at", now)
    day = local_day(issued_at)
    if served_on is not None and served_on != day:
        raise Unprocessable(f"A ticket issued at that time belongs to {day}.",
                            errors=field_error("served_on", f"Must be {day}, the Asia/Shanghai day of issued_at."))
    if served_at is not None:
        _check_served_at(served_at, issued_at, day, now)
    held = session.scalar(select(MealTicket.ticket_no).where(MealTicket.served_on == day,
                                                             MealTicket.worker_id == worker.id))
    if held is not None:
        raise Conflict(f"This worker already has ticket {held} on {day}.", code="ticket-exists",
                       errors=field_error("worker", f"Holds ticket {held} of {day}."))
    number = _take_number(session, day, actor, now)
    if served_at is not None:
        called = session.execute(update(MealDay).where(MealDay.served_on == day, MealDay.called == number - 1)
                                 .values(called=number).execution_options(synchronize_session=False))
        if called.rowcount != 1:
            raise Conflict("Earlier numbers of the day have not been called yet.", code="not-next-number",
                           errors=field_error("served_at", "Earlier numbers of the day are not served yet."))
    price, cost = tariff_on(session, day)
    # one INSERT with the final state (served or not): no second UPDATE of the new row
    ticket = MealTicket(id=uuid7(), served_on=day, ticket_no=number, worker_id=worker.id, price=price, cost=cost,
                        status="issued" if served_at is None else "served", issued_at=issued_at,
                        served_at=served_at, created_by=actor, created_at=now)
    session.add(ticket)
    outbox.publish(session, "jobmarket.meal_ticket.issued.v1", {
        "ticket_id": ticket.id, "served_on": day.isoformat(), "ticket_no": number,
        "worker_person_id": worker.event_ref, "price": f"{price:.2f}", "subsidy": f"{cost - price:.2f}",
        "issued_at": issued_at.isoformat()}, subject=f"meal-days/{day.isoformat()}", time=issued_at)
    session.flush()
    return ticket


def _take_number(session: Session, day: date, actor: str, now: datetime) -> int:
    """The day's next number from its counter (ONE atomic conditional UPDATE); a day not opened yet is opened
    with the default capacity first (race-safe), so the common case costs one statement, not two."""
    take = (update(MealDay).where(MealDay.served_on == day, MealDay.issued < MealDay.capacity)
            .values(issued=MealDay.issued + 1, updated_at=now).returning(MealDay.issued))
    number = session.execute(take).scalar_one_or_none()
    if number is None and session.scalar(select(MealDay.served_on).where(MealDay.served_on == day)) is None:
        ensure_day(session, day, actor)
        number = session.execute(take).scalar_one_or_none()
    if number is None:
        raise MealsSoldOut(f"All meals of {day} are given out.", served_on=day.isoformat())
    return number


def _check_served_at(served_at: datetime, issued_at: datetime, day: date, now: datetime) -> None:
    own_time(served_at, "served_at", now)
    if served_at < issued_at or local_day(served_at) != day:
        raise Unprocessable("A meal is served after its ticket is issued, on the same day.",
                            errors=field_error("served_at", "Must be after issued_at, on the same day."))


def call_next(session: Session, served_on: date, served_at: datetime | None) -> MealTicket:
    """Serving: call the next number of the day and mark its ticket served (at ``served_at``, default now).

    Raises 404 for an unknown day, 409 ``no-ticket-waiting`` when every issued number has been called,
    422 (``served_at``) when that time is before the ticket's issue or on another day.
    """
    get_day(session, served_on)
    now = utcnow()
    number = session.execute(update(MealDay).where(MealDay.served_on == served_on, MealDay.called < MealDay.issued)
                             .values(called=MealDay.called + 1).returning(MealDay.called)).scalar_one_or_none()
    if number is None:
        raise Conflict("No ticket is waiting to be called.", code="no-ticket-waiting")
    ticket = session.scalars(select(MealTicket).where(MealTicket.served_on == served_on,
                                                      MealTicket.ticket_no == number)).one()
    at = served_at or now
    _check_served_at(at, ticket.issued_at, served_on, now)
    ticket.status, ticket.served_at = "served", at
    session.flush()
    return ticket
