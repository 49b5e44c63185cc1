"""disputes: the data layer (cases, grades, assignments, sessions, resolutions, follow-ups, feedback,
evaluations, hazard reports, and the audit of contact reads).

Times are aware datetimes stored as UTC (``UTCDateTime``); every record carries when its fact happened
(``reported_at``, ``graded_at``, ``resolved_at``, ``held_on``...) as well as when it was recorded
(``created_at``).
"""
from __future__ import annotations

from datetime import date, datetime

from sqlalchemy import JSON, Boolean, Date, ForeignKey, Index, Integer, String, Text, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import UTCDateTime, make_base

Base = make_base()


class Case(Base):
    """A trouble a resident raised (群众烦心事): intake, grade, handler, status and counters."""

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
    reporter_name: Mapped[str | None] = mapped_column(String(100))  # private: masked in every view
    reporter_phone: Mapped[str | None] = mapped_column(String(30))  # private: masked in every view
    photos: Mapped[list] = mapped_column(JSON, default=list)  # media references (ids or URLs), never bytes
    households_affected: Mapped[int | None] = mapped_column(Integer)
    duplicate_candidates: Mapped[list] = mapped_column(JSON, default=list)  # open case ids at registration
    status: Mapped[str] = mapped_column(String(30), default="received")
    grade: Mapped[str | None] = mapped_column(String(10))
    scale: Mapped[int | None] = mapped_column(Integer)
    difficulty: Mapped[int | None] = mapped_column(Integer)
    social_impact: Mapped[int | None] = mapped_column(Integer)
    deadline_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    escalated_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    assignee_kind: Mapped[str | None] = mapped_column(String(30))
    assignee_id: Mapped[str | None] = mapped_column(String(64))
    resolution_count: Mapped[int] = mapped_column(Integer, default=0)
    reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    evaluation_reopen_count: Mapped[int] = mapped_column(Integer, default=0)
    resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # the latest resolution's time
    ended_at: Mapped[datetime | None] = mapped_column(UTCDateTime)  # referred or closed unresolved
    end_reason: Mapped[str | None] = mapped_column(String(60))
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    resolutions: Mapped[list["Resolution"]] = relationship(back_populates="case", order_by="Resolution.resolution_no")

    __table_args__ = (Index("ix_cases_reported", "reported_at", "id"),
                      Index("ix_cases_estate_sub_status", "estate", "subcategory", "status"))


class GradeChange(Base):
    """One grading of a case: the factors, the suggested and the set grade, and the reason for an override."""

    __tablename__ = "grade_changes"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    scale: Mapped[int] = mapped_column(Integer)
    difficulty: Mapped[int] = mapped_column(Integer)
    social_impact: Mapped[int] = mapped_column(Integer)
    suggested_grade: Mapped[str] = mapped_column(String(10))
    grade: Mapped[str] = mapped_column(String(10))
    previous_grade: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(500))
    deadline_at: Mapped[datetime] = mapped_column(UTCDateTime)
    graded_by: Mapped[str] = mapped_column(String(64))
    graded_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Assignment(Base):
    """Who handles a case from ``assigned_at``: a grid worker, the mediation team or a deliberation group."""

    __tablename__ = "assignments"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    assignee_kind: Mapped[str] = mapped_column(String(30))
    assignee_id: Mapped[str] = mapped_column(String(64))
    assigned_by: Mapped[str] = mapped_column(String(64))
    assigned_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class NightTalkSession(Base):
    """A night-talk session (府西夜话): an evening deliberation meeting held in an estate."""

    __tablename__ = "sessions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    held_on: Mapped[date] = mapped_column(Date)
    estate: Mapped[str] = mapped_column(String(100))
    attendees: Mapped[int] = mapped_column(Integer)
    notes: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    heard: Mapped[list["SessionCase"]] = relationship(order_by="SessionCase.id")

    __table_args__ = (Index("ix_sessions_held", "held_on", "id"),)


class SessionCase(Base):
    """A case heard at a session (the link back from the session into the case)."""

    __tablename__ = "session_cases"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    session_id: Mapped[str] = mapped_column(ForeignKey("sessions.id"))
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)

    __table_args__ = (UniqueConstraint("session_id", "case_id"),)


class Resolution(Base):
    """What was decided for a case (one per round; ``resolution_no`` 1, 2… per reopening)."""

    __tablename__ = "resolutions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"))
    resolution_no: Mapped[int] = mapped_column(Integer)
    session_id: Mapped[str | None] = mapped_column(ForeignKey("sessions.id"), index=True)
    text: Mapped[str] = mapped_column(String(2000))
    responsible_party: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date | None] = mapped_column(Date)
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


class Evaluation(Base):
    """The reporter's rating (1–5) of one resolution, given once (evaluation desk, 评议台)."""

    __tablename__ = "evaluations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    resolution_id: Mapped[str] = mapped_column(ForeignKey("resolutions.id"), unique=True)
    resolution_no: Mapped[int] = mapped_column(Integer)
    rating: Mapped[int] = mapped_column(Integer)
    comment: Mapped[str | None] = mapped_column(String(1000))
    reopened: Mapped[bool] = mapped_column(Boolean)
    evaluated_by: Mapped[str] = mapped_column(String(64))
    evaluated_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class FollowUp(Base):
    """A supervision-post task following a resolution to completion, due on an Asia/Shanghai day."""

    __tablename__ = "follow_ups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    resolution_id: Mapped[str] = mapped_column(ForeignKey("resolutions.id"))
    resolution_no: Mapped[int] = mapped_column(Integer)
    task: Mapped[str] = mapped_column(String(1000))
    responsible_party: Mapped[str | None] = mapped_column(String(200))
    due_on: Mapped[date] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(12), default="open")  # open | done
    progress: Mapped[list] = mapped_column(JSON, default=list)  # [{"note", "at", "by"}]
    completed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    overdue_published_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_follow_ups_open_due", "status", "due_on"),)


class Feedback(Base):
    """A progress note, reply or resident message on a case; public ones appear on the feedback wall."""

    __tablename__ = "feedback"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(20))  # progress | reply | message | note
    public: Mapped[bool] = mapped_column(Boolean)
    text: Mapped[str] = mapped_column(String(4000))
    author: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_feedback_public_at", "public", "at", "id"),)


class HazardReport(Base):
    """A hazard photo report (随手拍): a safety hazard with a photo reference and a location."""

    __tablename__ = "hazard_reports"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    reporter_person_id: Mapped[str] = mapped_column(String(64), index=True)
    estate: Mapped[str] = mapped_column(String(100))
    grid: Mapped[str | None] = mapped_column(String(100))
    location: Mapped[str] = mapped_column(String(300))  # the exact spot stays here, never on events
    description: Mapped[str | None] = mapped_column(String(2000))
    photo: Mapped[str] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(12), default="pending")  # pending | verified | rejected
    reported_at: Mapped[datetime] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decision_note: Mapped[str | None] = mapped_column(String(1000))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_hazard_reports_reported", "reported_at", "id"),)


class TimelineEntry(Base):
    """Every step and note on a case: who, when, what (the case history)."""

    __tablename__ = "case_timeline"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    kind: Mapped[str] = mapped_column(String(40))
    detail: Mapped[dict | None] = mapped_column(JSON)
    actor: Mapped[str] = mapped_column(String(64))
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ContactRead(Base):
    """Audit: who read a reporter's unmasked contact, when, for which case (kept for ever)."""

    __tablename__ = "contact_reads"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    case_id: Mapped[str] = mapped_column(ForeignKey("cases.id"), index=True)
    reader: Mapped[str] = mapped_column(String(64))
    purpose: Mapped[str | None] = mapped_column(String(200))
    read_at: Mapped[datetime] = mapped_column(UTCDateTime)
