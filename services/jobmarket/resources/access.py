"""Who may act for whom: staff act for any worker; a worker only for themself (another's record is 404)."""
from __future__ import annotations

from datetime import date

from sqlalchemy import or_, select

from shared.auth import current_principal
from shared.errors import NotFound, Unprocessable, field_error
from shared.http import db

from ..domain.common import worker_by_ref
from ..models import Worker

STAFF = ("market_staff", "admin")
WORKER = "worker"
EMPLOYER = "employer"


def path_day(value: str) -> date:
    """A day given in a URL path (``2024-03-01``); anything else names no record (404)."""
    try:
        return date.fromisoformat(value)
    except ValueError:
        raise NotFound("No such day.") from None


def is_staff() -> bool:
    return current_principal().has(*STAFF)


def own_worker() -> Worker:
    """The worker record of the calling worker (token ``sub`` = their person_id, or their card number)."""
    sub = current_principal().sub
    worker = db().scalars(select(Worker).where(or_(Worker.person_id == sub, Worker.card_no == sub))).first()
    if worker is None:
        raise NotFound("No worker is registered for this login.")
    return worker


def acting_worker(ref: str | None, field: str = "worker") -> Worker:
    """The worker a write is for: staff must name one (422 naming ``field``); a worker may name only themself."""
    if is_staff():
        if not ref:
            raise Unprocessable("Name the worker.", errors=field_error(field, "Required for staff."))
        return worker_by_ref(db(), ref, field)
    worker = own_worker()
    if ref and ref not in (worker.card_no, worker.person_id, worker.id):
        raise NotFound("No such worker.")
    return worker


def visible_worker(ref: str) -> Worker:
    """A worker record the caller may read: any for staff, only their own for a worker (else 404)."""
    if is_staff():
        return worker_by_ref(db(), ref)
    worker = own_worker()
    if ref not in (worker.card_no, worker.person_id, worker.id):
        raise NotFound("No such worker.")
    return worker


def staff_only_times(data: dict, *fields: str) -> None:
    """Past times are recorded by staff (back office, history); others act now. 422 naming the field."""
    if is_staff():
        return
    for name in fields:
        if data.get(name) is not None:
            raise Unprocessable("Only market staff record a time.", errors=field_error(name, "Staff only."))
