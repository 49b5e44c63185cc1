"""Mechanisms the jobmarket rules share: counters, get-or-create rows, the record's own time, lookups."""
from __future__ import annotations

from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from shared.errors import NotFound, Unprocessable, field_error
from shared.timeutil import utcnow

from ..models import Counter, Worker

#: A record's own time may run ahead of the server clock by this much (clock skew of a staff tablet).
CLOCK_SKEW = timedelta(minutes=5)


def insert_ignore(session: Session, model, values: dict) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING``: create a row unless a twin (or a racing request) already did."""
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(model).values(**values).on_conflict_do_nothing())


def next_value(session: Session, name: str) -> int:
    """Take the next number of counter ``name`` (1, 2, ...) atomically; it is rolled back with the transaction."""
    insert_ignore(session, Counter, {"name": name, "value": 0})
    return session.execute(update(Counter).where(Counter.name == name).values(value=Counter.value + 1)
                           .returning(Counter.value)).scalar_one()


def own_time(at: datetime | None, field: str, now: datetime | None = None) -> datetime:
    """The moment a record happened: ``at`` when given (history, back-office entry), else now.

    Raises 422 naming ``field`` when ``at`` lies in the future (beyond a few minutes of clock skew).
    """
    now = now or utcnow()
    if at is None:
        return now
    if at > now + CLOCK_SKEW:
        raise Unprocessable(f"{field} lies in the future.", errors=field_error(field, "Must not be in the future."))
    return at


def worker_by_ref(session: Session, ref: str, field: str | None = None) -> Worker:
    """A worker by card number (``W-0001``), registry ``person_id`` or id.

    With ``field`` an unknown worker is a 422 naming that field (a reference in a body); else 404.
    """
    worker = session.scalars(select(Worker).where(
        (Worker.card_no == ref) | (Worker.person_id == ref) | (Worker.id == ref))).first()
    if worker is None:
        if field:
            raise Unprocessable("No worker with this card number.", errors=field_error(field, "Unknown worker."))
        raise NotFound("No such worker.")
    return worker
