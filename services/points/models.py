"""points: the data layer. A double-entry ledger in TigerBeetle's shape (accounts with posted and pending
sums, immutable transfers with client-chosen ids) plus versioned scoring rules.

Balances are columns, not sums: a balance reads in constant time however long the ledger. A resident's or a
merchant's account may never be debited beyond its credits (``debits_must_not_exceed_credits``); the
community's issuing account may (its negative balance is the points in circulation).
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import JSON, Boolean, CheckConstraint, ForeignKey, Index, Integer, String, UniqueConstraint
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import UTCDateTime, make_base

Base = make_base()

ACCOUNT_KINDS = ("resident", "merchant", "issuing", "supermarket")
CATEGORIES = ("estate_governance", "civility_campaign", "recycling", "volunteer_service")


class Account(Base):
    __tablename__ = "accounts"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    kind: Mapped[str] = mapped_column(String(20))
    person_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    merchant_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    code: Mapped[str | None] = mapped_column(String(40), unique=True)  # system accounts: "issuing", "supermarket"
    debits_must_not_exceed_credits: Mapped[bool] = mapped_column(Boolean, default=True)
    debits_posted: Mapped[int] = mapped_column(Integer, default=0)
    credits_posted: Mapped[int] = mapped_column(Integer, default=0)
    debits_pending: Mapped[int] = mapped_column(Integer, default=0)
    credits_pending: Mapped[int] = mapped_column(Integer, default=0)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("NOT debits_must_not_exceed_credits OR debits_posted + debits_pending <= credits_posted",
                        name="no_overdraft"),
        CheckConstraint("debits_posted >= 0 AND credits_posted >= 0 AND debits_pending >= 0 AND credits_pending >= 0",
                        name="non_negative_sums"),
    )

    @property
    def balance(self) -> int:
        """Posted balance in points."""
        return self.credits_posted - self.debits_posted

    @property
    def available(self) -> int:
        """What can still be spent: the posted balance less pending debits (reserved redemptions)."""
        return self.credits_posted - self.debits_posted - self.debits_pending


class Transfer(Base):
    """One immutable movement of points from ``debit_account_id`` to ``credit_account_id``.

    ``state``: ``posted`` (single-phase), ``pending`` (two-phase: reserved), ``posted_pending`` / ``voided``
    for the second phase (they reference ``pending_id``). ``cause_key`` is unique: the natural key that makes
    a credit happen once (for instance one mediation credit per rule, case and person).
    """

    __tablename__ = "transfers"

    id: Mapped[str] = mapped_column(String(64), primary_key=True)
    debit_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    credit_account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"))
    amount: Mapped[int] = mapped_column(Integer)
    state: Mapped[str] = mapped_column(String(20), default="posted")
    pending_id: Mapped[str | None] = mapped_column(ForeignKey("transfers.id"))
    kind: Mapped[str] = mapped_column(String(30))  # credit | redemption | correction | ...
    rule_code: Mapped[str | None] = mapped_column(String(60))
    rule_version: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(30))
    cause_event_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cause_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    note: Mapped[str | None] = mapped_column(String(500))
    created_by: Mapped[str | None] = mapped_column(String(64))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("amount > 0", name="positive_amount"),
        CheckConstraint("debit_account_id <> credit_account_id", name="distinct_accounts"),
        Index("ix_transfers_debit_time", "debit_account_id", "occurred_at", "id"),
        Index("ix_transfers_credit_time", "credit_account_id", "occurred_at", "id"),
        Index("ix_transfers_rule_time", "rule_code", "credit_account_id", "occurred_at"),
    )


class Rule(Base):
    """A scoring rule version. A change is a new version; past credits keep the version they were made under.

    ``trigger``: the event type or activity that earns points; ``unit``: ``case``, ``report``, ``hour``,
    ``appraisal``, ``service_hour``, ``manual``; ``roles``/``activities``: who or what qualifies.
    """

    __tablename__ = "rules"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    code: Mapped[str] = mapped_column(String(60))
    version: Mapped[int] = mapped_column(Integer)
    category: Mapped[str] = mapped_column(String(30))
    trigger: Mapped[str] = mapped_column(String(120))
    unit: Mapped[str] = mapped_column(String(20))
    points: Mapped[int | None] = mapped_column(Integer)
    roles: Mapped[list] = mapped_column(JSON, default=list)
    activities: Mapped[list] = mapped_column(JSON, default=list)
    cap_per_person_per_day: Mapped[int | None] = mapped_column(Integer)
    cap_per_person_per_month: Mapped[int | None] = mapped_column(Integer)
    valid_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    valid_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    retired_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (UniqueConstraint("code", "version"),)


class CreditDecision(Base):
    """Why an event earned less than its rule's points, or nothing: capped, refused, not eligible."""

    __tablename__ = "credit_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cause_event_id: Mapped[str | None] = mapped_column(String(64), index=True)
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    rule_code: Mapped[str] = mapped_column(String(60))
    rule_version: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # capped | refused | duplicate
    requested: Mapped[int] = mapped_column(Integer)
    granted: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
