"""disputes: the data layer (cases, their participants and resolutions, the case timeline)."""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import UTCDateTime, make_base

Base = make_base()


class Case(Base):
    __tablename__ = "cases"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(64), unique=True)  # the intake's own reference, if any
    channel: Mapped[str] = mapped_column(String(40))
    category: Mapped[str] = mapped_column(String(30))
    subcategory: Mapped[str | None] = mapped_column(String(40))
    estate: Mapped[str] = mapped_column(String(100))
    grid: Mapped[str | None] = mapped_column(String(100))
    summary: Mapped[str] = mapped_column(String(500))
    description: Mapped[str | None] = mapped_column(Text)
    reporter_person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(30), default="received")
    grade: Mapped[str | None] = mapped_column(String(10))
    resolution_count: Mapped[int] = mapped_column(Integer, default=0)
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    resolutions: Mapped[list["Resolution"]] = relationship(back_populates="case", order_by="Resolution.resolution_no")

    __table_args__ = (Index("ix_cases_reported", "reported_at", "id"),)


class Resolution(Base):
    """What was decided for a case (one per round; ``resolution_no`` 1, 2… per reopening)."""

    __tablename__ = "resolutions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    resolution_no: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[str | None] = mapped_column(String(36))
    text: Mapped[str] = mapped_column(String(2000))
    resolved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    case: Mapped[Case] = relationship(back_populates="resolutions")
    participants: Mapped[list["ResolutionParticipant"]] = relationship(cascade="all, delete-orphan")

    __table_args__ = (UniqueConstraint("case_id", "resolution_no"),)


class ResolutionParticipant(Base):
    __tablename__ = "resolution_participants"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    resolution_id: Mapped[str] = mapped_column(ForeignKey("resolutions.id"))
    person_id: Mapped[str] = mapped_column(String(64))
    role: Mapped[str] = mapped_column(String(30))

    __table_args__ = (UniqueConstraint("resolution_id", "person_id"),)


class TimelineEntry(Base):
    """Every step and note on a case: who, when, what (the case history)."""

    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict | None] = mapped_column(__import__("sqlalchemy").JSON)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
