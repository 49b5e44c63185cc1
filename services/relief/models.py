"""relief: the data layer (campaigns, donations, funds, applications and their vetting, disbursements,
volunteer activities and shifts, meal delivery, the audit log).

Money is yuan, exact (``MoneyType``). The per-body funds counters are integer fen (分, 1/100 yuan): they are
changed by atomic conditional UPDATEs, and SQLite would do that arithmetic in floating point on decimal text.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, BigInteger, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String, Text,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column, relationship

from shared.db import MoneyType, UTCDateTime, make_base

Base = make_base()


class Campaign(Base):
    """A charity campaign (送温暖、献爱心) with its period, the levels that collect, and the notice window."""

    __tablename__ = "campaigns"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    name: Mapped[str] = mapped_column(String(200))
    opens_on: Mapped[date] = mapped_column(Date)
    closes_on: Mapped[date] = mapped_column(Date)
    levels: Mapped[list] = mapped_column(JSON)
    notice_days: Mapped[int] = mapped_column(Integer, default=7)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_campaigns_created", "created_at", "id"),)


class Donation(Base):
    """One gift to a campaign. ``receipt_no`` is the natural key: a list imported twice records it once."""

    __tablename__ = "donations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    receipt_no: Mapped[str] = mapped_column(String(64), unique=True)
    ref: Mapped[str | None] = mapped_column(String(64))
    donor_kind: Mapped[str] = mapped_column(String(20))
    donor_name: Mapped[str] = mapped_column(String(200))
    donor_person_id: Mapped[str | None] = mapped_column(String(64))
    level: Mapped[str] = mapped_column(String(10))
    county: Mapped[str | None] = mapped_column(String(40))
    amount: Mapped[Decimal] = mapped_column(MoneyType)
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_donations_campaign_received", "campaign_id", "received_at", "id"),)


class CaringUnit(Base):
    """An organisation honoured as a caring unit (爱心单位) of a campaign."""

    __tablename__ = "caring_units"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    name: Mapped[str] = mapped_column(String(200))
    citation: Mapped[str | None] = mapped_column(String(500))
    recognised_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("campaign_id", "name"),)


class Fund(Base):
    """The money of one paying body in one campaign: the city, or one county. Integer fen.

    ``donated_fen`` grows with each donation; ``committed_fen`` with each disbursement issued (taken by one
    conditional UPDATE whose WHERE carries the limit). The CHECK is a second line of defence.
    """

    __tablename__ = "funds"

    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"), primary_key=True)
    body: Mapped[str] = mapped_column(String(60), primary_key=True)  # "city" or "county:<name>"
    level: Mapped[str] = mapped_column(String(10))
    county: Mapped[str | None] = mapped_column(String(40))
    donated_fen: Mapped[int] = mapped_column(BigInteger, default=0)
    committed_fen: Mapped[int] = mapped_column(BigInteger, default=0)

    __table_args__ = (CheckConstraint("committed_fen >= 0 AND committed_fen <= donated_fen", name="within_funds"),)


class Application(Base):
    """An application for temporary assistance and where its vetting stands.

    ``status``: submitted → surveyed → appraised → in_notice → approved | rejected (a not-supported appraisal
    goes straight to a rejection). The ID-card number is stored encrypted (Fernet) with a keyed HMAC for finding
    duplicates and a masked form for public views; ``active_key`` (campaign + HMAC) is unique while the
    application is not rejected, so one person has one live application per campaign even under concurrency.
    """

    __tablename__ = "applications"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    ref: Mapped[str | None] = mapped_column(String(64), unique=True)
    applicant_name: Mapped[str] = mapped_column(String(50))
    applicant_person_id: Mapped[str | None] = mapped_column(String(64))
    id_number_cipher: Mapped[str] = mapped_column(Text)
    id_number_hmac: Mapped[str] = mapped_column(String(64), index=True)
    id_number_masked: Mapped[str] = mapped_column(String(18))
    active_key: Mapped[str | None] = mapped_column(String(110), unique=True)
    phone: Mapped[str] = mapped_column(String(20))
    county: Mapped[str] = mapped_column(String(40))
    level: Mapped[str] = mapped_column(String(10))
    assistance_type: Mapped[str] = mapped_column(String(30))
    household_size: Mapped[int] = mapped_column(Integer)
    household_monthly_income: Mapped[Decimal] = mapped_column(MoneyType)
    household_notes: Mapped[str | None] = mapped_column(String(2000))
    requested_amount: Mapped[Decimal] = mapped_column(MoneyType)
    granted_amount: Mapped[Decimal | None] = mapped_column(MoneyType)
    applied_on: Mapped[date | None] = mapped_column(Date)
    status: Mapped[str] = mapped_column(String(20))
    notice_starts_on: Mapped[date | None] = mapped_column(Date)
    notice_ends_on: Mapped[date | None] = mapped_column(Date)
    decided_on: Mapped[date | None] = mapped_column(Date)
    decision_reason: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    survey: Mapped["HouseholdSurvey | None"] = relationship(uselist=False, lazy="selectin")
    appraisal: Mapped["DemocraticAppraisal | None"] = relationship(uselist=False, lazy="selectin")
    objections: Mapped[list["Objection"]] = relationship(order_by="Objection.created_at", lazy="selectin")

    __table_args__ = (
        Index("ix_applications_campaign_created", "campaign_id", "created_at", "id"),
        Index("ix_applications_notice", "campaign_id", "notice_starts_on"),
    )


class HouseholdSurvey(Base):
    """入户调查: who visited, when, what they found."""

    __tablename__ = "household_surveys"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), unique=True)
    surveyed_on: Mapped[date] = mapped_column(Date)
    surveyors: Mapped[str] = mapped_column(String(200))
    findings: Mapped[str] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class DemocraticAppraisal(Base):
    """民主评议: the date, how many took part, and the outcome (supported / not_supported)."""

    __tablename__ = "democratic_appraisals"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), unique=True)
    appraised_on: Mapped[date] = mapped_column(Date)
    participants: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))
    notes: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Objection(Base):
    """An objection raised during the public notice, and how it was handled (dismissed or upheld)."""

    __tablename__ = "objections"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), index=True)
    raised_on: Mapped[date] = mapped_column(Date)
    text: Mapped[str] = mapped_column(String(2000))
    handled_on: Mapped[date | None] = mapped_column(Date)
    outcome: Mapped[str | None] = mapped_column(String(20))
    finding: Mapped[str | None] = mapped_column(String(2000))
    recorded_by: Mapped[str] = mapped_column(String(64))
    handled_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Disbursement(Base):
    """救助金发放: the payment of an approved application by its paying body (``body``), one per application.

    ``status``: issued → paid | failed; failed → issued again by a reissue (``attempt_no`` + 1). The amount
    was taken from the body's funds when issued and stays committed through failures and reissues.
    """

    __tablename__ = "disbursements"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    application_id: Mapped[str] = mapped_column(ForeignKey("applications.id"), unique=True)
    campaign_id: Mapped[str] = mapped_column(ForeignKey("campaigns.id"))
    body: Mapped[str] = mapped_column(String(60))
    level: Mapped[str] = mapped_column(String(10))
    county: Mapped[str | None] = mapped_column(String(40))
    assistance_type: Mapped[str] = mapped_column(String(30))
    amount: Mapped[Decimal] = mapped_column(MoneyType)
    status: Mapped[str] = mapped_column(String(10))
    attempt_no: Mapped[int] = mapped_column(Integer, default=1)
    issued_on: Mapped[date | None] = mapped_column(Date)
    paid_on: Mapped[date | None] = mapped_column(Date)
    failure_reason: Mapped[str | None] = mapped_column(String(60))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    attempts: Mapped[list["PaymentAttempt"]] = relationship(order_by="PaymentAttempt.attempt_no", lazy="selectin")

    __table_args__ = (Index("ix_disbursements_campaign_created", "campaign_id", "created_at", "id"),)


class PaymentAttempt(Base):
    """One attempt to pay a disbursement and how it ended (``paid`` or ``failed`` with a reason code)."""

    __tablename__ = "payment_attempts"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    disbursement_id: Mapped[str] = mapped_column(ForeignKey("disbursements.id"))
    attempt_no: Mapped[int] = mapped_column(Integer)
    outcome: Mapped[str | None] = mapped_column(String(10))
    reason: Mapped[str | None] = mapped_column(String(60))
    settled_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    recorded_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("disbursement_id", "attempt_no"),)


class AuditEntry(Base):
    """Who did what to which record, and when; also every read of unmasked personal data. Kept forever."""

    __tablename__ = "audit_log"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    at: Mapped[datetime] = mapped_column(UTCDateTime)
    actor: Mapped[str] = mapped_column(String(64))
    action: Mapped[str] = mapped_column(String(60))
    entity: Mapped[str] = mapped_column(String(40))
    entity_id: Mapped[str] = mapped_column(String(64))
    detail: Mapped[dict | None] = mapped_column(JSON)

    __table_args__ = (Index("ix_audit_at", "at", "id"), Index("ix_audit_entity", "entity", "entity_id"))


class VolunteerActivity(Base):
    """A volunteer activity: a meal delivery round, a free haircut session, an environment clean-up."""

    __tablename__ = "volunteer_activities"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(30))
    title: Mapped[str] = mapped_column(String(200))
    community: Mapped[str | None] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(2000))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_activities_created", "created_at", "id"),)


class VolunteerShift(Base):
    """A time slot of an activity with a capacity; ``booked`` counts live sign-ups (never above capacity)."""

    __tablename__ = "volunteer_shifts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    activity_id: Mapped[str] = mapped_column(ForeignKey("volunteer_activities.id"), index=True)
    starts_at: Mapped[datetime] = mapped_column(UTCDateTime)
    ends_at: Mapped[datetime] = mapped_column(UTCDateTime)
    capacity: Mapped[int] = mapped_column(Integer)
    booked: Mapped[int] = mapped_column(Integer, default=0)
    place: Mapped[str | None] = mapped_column(String(200))
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    activity: Mapped[VolunteerActivity] = relationship(lazy="joined")

    __table_args__ = (
        CheckConstraint("booked >= 0 AND booked <= capacity", name="within_capacity"),
        Index("ix_shifts_starts", "starts_at", "id"),
    )


class ShiftSignup(Base):
    """A volunteer on a shift: signed_up → checked_in → completed (with hours), or cancelled."""

    __tablename__ = "shift_signups"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    shift_id: Mapped[str] = mapped_column(ForeignKey("volunteer_shifts.id"))
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    status: Mapped[str] = mapped_column(String(20))
    signed_up_at: Mapped[datetime] = mapped_column(UTCDateTime)
    checked_in_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    checked_out_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    hours: Mapped[Decimal | None] = mapped_column(MoneyType)  # exact, two decimals (not money)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    shift: Mapped[VolunteerShift] = relationship(lazy="joined")

    __table_args__ = (UniqueConstraint("shift_id", "person_id"), Index("ix_signups_created", "created_at", "id"))


class MealRecipient(Base):
    """An elderly person who cannot go out and gets meals delivered (失能、半失能老人)."""

    __tablename__ = "meal_recipients"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    name: Mapped[str] = mapped_column(String(50))
    person_id: Mapped[str | None] = mapped_column(String(64))
    phone: Mapped[str | None] = mapped_column(String(20))
    address: Mapped[str] = mapped_column(String(200))
    community: Mapped[str | None] = mapped_column(String(100))
    care_level: Mapped[str] = mapped_column(String(20))
    diet_notes: Mapped[str | None] = mapped_column(String(500))
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_recipients_created", "created_at", "id"),)


class MealOrder(Base):
    """A meal for a recipient on a day; the delivery shift that carried it; the welfare flag if needed."""

    __tablename__ = "meal_orders"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    recipient_id: Mapped[str] = mapped_column(ForeignKey("meal_recipients.id"))
    served_on: Mapped[date] = mapped_column(Date)
    meal: Mapped[str] = mapped_column(String(10))
    status: Mapped[str] = mapped_column(String(20))  # ordered | delivered | no_answer
    shift_id: Mapped[str | None] = mapped_column(ForeignKey("volunteer_shifts.id"))
    delivered_by: Mapped[str | None] = mapped_column(String(64))
    delivery_reported_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    welfare_flag: Mapped[bool] = mapped_column(Boolean, default=False)
    alert_kind: Mapped[str | None] = mapped_column(String(20))
    welfare_note: Mapped[str | None] = mapped_column(String(500))
    welfare_resolved_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("recipient_id", "served_on", "meal"),
                      Index("ix_meal_orders_day", "served_on", "id"))
