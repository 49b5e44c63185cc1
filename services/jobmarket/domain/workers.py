"""Workers, their daily sign-in, and employers (the market's two sides).

Source: the seed practice (运城零工市场 "520"): day labourers come to the market in the morning, sign in, and
are matched with employers. A worker is known by the market card number (``W-0001``); the registry
``person_id`` is optional. Name and phone are private (never on an event, shown to the worker and staff only).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import select
from sqlalchemy.orm import Session

from shared.errors import Conflict, NotFound, field_error
from shared.ids import uuid7
from shared.timeutil import local_day, utcnow

from ..models import Employer, SignIn, Worker
from .common import next_value, own_time

def register_worker(session: Session, data: dict, actor: str) -> Worker:
    """Register a gig worker. ``data``: ``card_no`` (``W-0001``; the next free one when absent), optional
    ``person_id``, ``name``, ``phone``, ``skills`` (codes), ``registered_at`` (aware; default now).

    Raises 409 when the card number or person_id is already registered.
    """
    card_no = data.get("card_no")
    if card_no is None:
        card_no = f"W-{next_value(session, 'worker_card'):04d}"
        while session.scalar(select(Worker.id).where(Worker.card_no == card_no)) is not None:
            card_no = f"W-{next_value(session, 'worker_card'):04d}"
    if session.scalar(select(Worker.id).where(Worker.card_no == card_no)) is not None:
        raise Conflict("This market card number is already registered.", code="card-taken",
                       errors=field_error("card_no", "Already registered."))
    if data.get("person_id") and session.scalar(
            select(Worker.id).where(Worker.person_id == data["person_id"])) is not None:
        raise Conflict("A worker with this person_id is already registered.", code="person-registered",
                       errors=field_error("person_id", "Already registered."))
    now = utcnow()
    worker = Worker(id=uuid7(), card_no=card_no, person_id=data.get("person_id"), name=data.get("name"),
                    phone=data.get("phone"), skills=sorted(set(data.get("skills") or [])), lock_seq=0,
                    registered_at=own_time(data.get("registered_at"), "registered_at", now),
                    created_by=actor, created_at=now)
    session.add(worker)
    session.flush()
    return worker


def update_worker(session: Session, worker: Worker, data: dict) -> Worker:
    """Change a worker's ``name``, ``phone``, ``skills`` or ``person_id`` (409 if the person_id is taken)."""
    if "person_id" in data and data["person_id"] and data["person_id"] != worker.person_id:
        if session.scalar(select(Worker.id).where(Worker.person_id == data["person_id"])) is not None:
            raise Conflict("A worker with this person_id is already registered.", code="person-registered",
                           errors=field_error("person_id", "Already registered."))
    for key in ("name", "phone", "person_id"):
        if key in data:
            setattr(worker, key, data[key])
    if "skills" in data:
        worker.skills = sorted(set(data["skills"]))
    session.flush()
    return worker


def sign_in(session: Session, worker: Worker, at: datetime | None, actor: str) -> SignIn:
    """Record the worker's sign-in on the Asia/Shanghai day of ``at`` (default now), numbered from 1 each day.

    Raises 409 when the worker already signed in that day (their first sign-in stands).
    """
    now = utcnow()
    at = own_time(at, "signed_in_at", now)
    day = local_day(at)
    existing = session.scalars(select(SignIn).where(SignIn.worker_id == worker.id, SignIn.day == day)).first()
    if existing is not None:
        raise Conflict(f"Already signed in on {day} as number {existing.seq}.", code="already-signed-in")
    row = SignIn(id=uuid7(), worker_id=worker.id, day=day, seq=next_value(session, f"sign_in:{day.isoformat()}"),
                 signed_in_at=at, created_at=now)
    session.add(row)
    session.flush()
    return row


def register_employer(session: Session, data: dict, actor: str) -> Employer:
    """Register an employer: ``name``, ``kind`` (person | company), private ``phone``, ``account_sub`` (the
    login id of the employer's user, who then posts and sees the employer's jobs). 409 if the login is taken."""
    if data.get("account_sub") and session.scalar(
            select(Employer.id).where(Employer.account_sub == data["account_sub"])) is not None:
        raise Conflict("This login already belongs to an employer.", code="account-taken",
                       errors=field_error("account_sub", "Already used."))
    employer = Employer(id=uuid7(), name=data["name"], kind=data.get("kind", "person"), phone=data.get("phone"),
                        account_sub=data.get("account_sub"), created_by=actor, created_at=utcnow())
    session.add(employer)
    session.flush()
    return employer


def employer_of(session: Session, account_sub: str) -> Employer | None:
    return session.scalars(select(Employer).where(Employer.account_sub == account_sub)).first()


def get_employer(session: Session, employer_id: str) -> Employer:
    employer = session.get(Employer, employer_id)
    if employer is None:
        raise NotFound("No such employer.")
    return employer

