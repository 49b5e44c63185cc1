"""jobmarket: the data layer (the gig-worker market "520").

Limited things carry their own counters so one atomic conditional UPDATE can take a place (service guide):
``meal_days.issued`` (tickets, bounded by ``capacity``), ``meal_days.called`` (the number called at serving),
``nap_days.reserved`` (beds held, bounded by the beds in service), ``jobs.filled`` (bounded by ``headcount``),
``counters`` (daily sign-in sequence numbers). Unique constraints back each rule up: one ticket per worker
per day, one number per day, one bed per reservation per day, one booking per worker per day.

Every record carries when it happened (``issued_at``, ``requested_at``, ``lent_at``...) beside ``created_at``.
Personal data (a worker's or employer's name and phone) stays in this database and never goes on an event.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import MoneyType, UTCDateTime, make_base

Base = make_base()


class Counter(Base):
    """A named sequence (``sign_in:2024-03-01``): taken with ``UPDATE ... SET value = value + 1 RETURNING``."""

    __tablename__ = "counters"

    name: Mapped[str] = mapped_column(String(80), primary_key=True)
    value: Mapped[int] = mapped_column(Integer, default=0)


class Worker(Base):
    """A gig worker, known by the market card number ``card_no`` (``W-0001``).

    ``person_id``: the resident registry's id when known (a worker's token carries it as ``sub``).
    ``name`` and ``phone`` are private: shown to the worker and market staff only, never on an event.
    """

    __tablename__ = "workers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    card_no: Mapped[str] = mapped_column(String(20), unique=True)
    person_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str | None] = mapped_column(String(100))
    phone: Mapped[str | None] = mapped_column(String(20))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    lock_seq: Mapped[int] = mapped_column(Integer, default=0)  # bumped to serialise a worker's tool loans
    registered_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    @property
    def event_ref(self) -> str:
        """The opaque id put on events: the registry person_id where known, else the card number."""
        return self.person_id or self.card_no


class SignIn(Base):
    """A worker's daily sign-in at the market; ``seq`` numbers them from 1 each Asia/Shanghai day."""

    __tablename__ = "sign_ins"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"))
    day: Mapped[date] = mapped_column(Date)
    seq: Mapped[int] = mapped_column(Integer)
    signed_in_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("worker_id", "day"), UniqueConstraint("day", "seq"))


class Employer(Base):
    """Someone who hires day labour. ``account_sub``: the login id (token ``sub``) of the employer's user."""

    __tablename__ = "employers"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(100))
    kind: Mapped[str] = mapped_column(String(20))  # person | company
    phone: Mapped[str | None] = mapped_column(String(20))
    account_sub: Mapped[str | None] = mapped_column(String(64), unique=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class Job(Base):
    """A job posting: ``headcount`` workers on ``work_on`` at ``place`` for ``wage_per_day`` yuan each.

    ``status``: open → filled (headcount reached) → completed; or cancelled. ``filled`` counts active
    dispatches and never exceeds ``headcount`` (atomic conditional update).
    """

    __tablename__ = "jobs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    employer_id: Mapped[str] = mapped_column(ForeignKey("employers.id"), index=True)
    title: Mapped[str] = mapped_column(String(200))
    trade: Mapped[str | None] = mapped_column(String(40))
    skills: Mapped[list] = mapped_column(JSON, default=list)
    headcount: Mapped[int] = mapped_column(Integer)
    filled: Mapped[int] = mapped_column(Integer, default=0)
    work_on: Mapped[date] = mapped_column(Date, index=True)
    place: Mapped[str] = mapped_column(String(200))
    wage_per_day: Mapped[Decimal] = mapped_column(MoneyType)
    status: Mapped[str] = mapped_column(String(20))
    days: Mapped[int | None] = mapped_column(Integer)  # working days, set at completion
    wage_total: Mapped[Decimal | None] = mapped_column(MoneyType)
    completed_on: Mapped[date | None] = mapped_column(Date)
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    posted_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)

    __table_args__ = (CheckConstraint("filled >= 0 AND filled <= headcount", name="filled_within_headcount"),)


class Dispatch(Base):
    """A worker sent to a job. ``booked_on`` is the job's day while the dispatch stands (NULL once cancelled):
    unique with the worker, so a worker is never booked twice on one day, whoever races.

    ``method``: sign_in_order | rotation | override (staff, with ``reason``).
    """

    __tablename__ = "dispatches"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    job_id: Mapped[str] = mapped_column(ForeignKey("jobs.id"), index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), index=True)
    work_on: Mapped[date] = mapped_column(Date)
    booked_on: Mapped[date | None] = mapped_column(Date)
    method: Mapped[str] = mapped_column(String(20))
    reason: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))  # dispatched | cancelled | completed
    days: Mapped[int | None] = mapped_column(Integer)
    wage: Mapped[Decimal | None] = mapped_column(MoneyType)
    paid_confirmed: Mapped[bool | None] = mapped_column(Boolean)
    paid_confirmed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    worker_rating: Mapped[int | None] = mapped_column(Integer)  # the employer's rating of the worker
    worker_rating_comment: Mapped[str | None] = mapped_column(String(500))
    employer_rating: Mapped[int | None] = mapped_column(Integer)  # the worker's rating of the employer
    employer_rating_comment: Mapped[str | None] = mapped_column(String(500))
    dispatched_at: Mapped[datetime] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("worker_id", "booked_on"), Index("ix_dispatches_worker_day", "worker_id", "work_on"))


class MealTariff(Base):
    """Price a worker pays and real cost of one meal, from ``effective_from`` (an Asia/Shanghai day) on."""

    __tablename__ = "meal_tariffs"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    effective_from: Mapped[date] = mapped_column(Date, unique=True)
    price: Mapped[Decimal] = mapped_column(MoneyType)
    cost: Mapped[Decimal] = mapped_column(MoneyType)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class MealDay(Base):
    """One lunch day: ``capacity`` portions, ``issued`` tickets (numbers 1..issued), ``called`` numbers served."""

    __tablename__ = "meal_days"

    served_on: Mapped[date] = mapped_column(Date, primary_key=True)
    capacity: Mapped[int] = mapped_column(Integer)
    issued: Mapped[int] = mapped_column(Integer, default=0)
    called: Mapped[int] = mapped_column(Integer, default=0)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (CheckConstraint("issued >= 0 AND issued <= capacity", name="issued_within_capacity"),
                      CheckConstraint("called >= 0 AND called <= issued", name="called_within_issued"))


class MealTicket(Base):
    """A numbered lunch ticket: ``price`` and ``cost`` are those in effect on ``served_on`` (kept, so a later
    tariff never rewrites history). ``status``: issued | served."""

    __tablename__ = "meal_tickets"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    served_on: Mapped[date] = mapped_column(Date)
    ticket_no: Mapped[int] = mapped_column(Integer)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), index=True)
    price: Mapped[Decimal] = mapped_column(MoneyType)
    cost: Mapped[Decimal] = mapped_column(MoneyType)
    status: Mapped[str] = mapped_column(String(10))
    issued_at: Mapped[datetime] = mapped_column(UTCDateTime)
    served_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("served_on", "ticket_no"), UniqueConstraint("served_on", "worker_id"))


class NapBed(Base):
    """A bed of the nap room; ``bed_no`` from 1. A bed out of service takes no new reservations."""

    __tablename__ = "nap_beds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    bed_no: Mapped[int] = mapped_column(Integer, unique=True)
    label: Mapped[str | None] = mapped_column(String(100))
    in_service: Mapped[bool] = mapped_column(Boolean, default=True)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NapDay(Base):
    """Beds held on ``nap_on``: ``reserved`` never exceeds the beds in service (atomic conditional update)."""

    __tablename__ = "nap_days"

    nap_on: Mapped[date] = mapped_column(Date, primary_key=True)
    reserved: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("reserved >= 0", name="reserved_non_negative"),)


class NapReservation(Base):
    """A request for a nap bed, kept whatever the answer.

    ``status``: reserved | checked_in | cancelled | released (not checked in by the deadline) | refused
    (beds full; ``lobby_seat_offered``). ``held_bed_no`` is the bed while it is held (unique per day).
    """

    __tablename__ = "nap_reservations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    nap_on: Mapped[date] = mapped_column(Date, index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), index=True)
    status: Mapped[str] = mapped_column(String(12))
    bed_no: Mapped[int | None] = mapped_column(Integer)
    held_bed_no: Mapped[int | None] = mapped_column(Integer)
    active_worker_id: Mapped[str | None] = mapped_column(String(36))  # set while reserved/checked in
    reason: Mapped[str | None] = mapped_column(String(40))
    lobby_seat_offered: Mapped[bool] = mapped_column(Boolean, default=False)
    price: Mapped[Decimal] = mapped_column(MoneyType)
    requested_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    cancelled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    released_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("nap_on", "held_bed_no"), UniqueConstraint("nap_on", "active_worker_id"),
                      Index("ix_nap_reservations_day_requested", "nap_on", "requested_at"))


class ToolKind(Base):
    """A kind of tool and its loan policy: ``loan_days`` per loan, ``limit_per_worker`` tools of it at once."""

    __tablename__ = "tool_kinds"

    kind: Mapped[str] = mapped_column(String(40), primary_key=True)
    loan_days: Mapped[int] = mapped_column(Integer)
    limit_per_worker: Mapped[int] = mapped_column(Integer)
    updated_by: Mapped[str] = mapped_column(String(64))
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Tool(Base):
    """A tool of the free-loan inventory, known by ``ref`` (``T-001``).

    ``status``: available | on_hold | on_loan | in_repair; ``condition``: good | fair | worn | damaged.
    """

    __tablename__ = "tools"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    kind: Mapped[str] = mapped_column(ForeignKey("tool_kinds.kind"), index=True)
    name: Mapped[str] = mapped_column(String(100))
    condition: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(12))
    acquired_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)


class ToolHold(Base):
    """A worker's hold on an available tool until ``expires_at``. ``status``: active | fulfilled | cancelled | expired."""

    __tablename__ = "tool_holds"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tool_id: Mapped[str] = mapped_column(ForeignKey("tools.id"), index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), index=True)
    status: Mapped[str] = mapped_column(String(10))
    active_tool_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # one active hold per tool
    held_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ToolLoan(Base):
    """A free loan: out at ``lent_at``, due back at ``due_at``; ``overdue_notified_at`` once the overdue event
    went out (exactly once per loan). ``status``: on_loan | returned."""

    __tablename__ = "tool_loans"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tool_id: Mapped[str] = mapped_column(ForeignKey("tools.id"), index=True)
    worker_id: Mapped[str] = mapped_column(ForeignKey("workers.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    status: Mapped[str] = mapped_column(String(10))
    active_tool_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # one open loan per tool
    lent_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    due_at: Mapped[datetime] = mapped_column(UTCDateTime, index=True)
    returned_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    condition_out: Mapped[str] = mapped_column(String(10))
    condition_in: Mapped[str | None] = mapped_column(String(10))
    notes_out: Mapped[str | None] = mapped_column(String(500))
    notes_in: Mapped[str | None] = mapped_column(String(500))
    overdue_notified_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ToolRepair(Base):
    """A tool out of circulation for repair from ``opened_at`` to ``closed_at``."""

    __tablename__ = "tool_repairs"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    tool_id: Mapped[str] = mapped_column(ForeignKey("tools.id"), index=True)
    active_tool_id: Mapped[str | None] = mapped_column(String(36), unique=True)  # one open repair per tool
    reason: Mapped[str] = mapped_column(String(500))
    outcome: Mapped[str | None] = mapped_column(String(500))
    opened_at: Mapped[datetime] = mapped_column(UTCDateTime)
    closed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
