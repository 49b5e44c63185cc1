"""points: the data layer. A double-entry ledger in TigerBeetle's shape (accounts with posted and pending
sums, immutable transfers with client-chosen ids), versioned scoring rules with cap counters, the points
supermarket (catalogue items, redemptions), used-item donations, and the caring-merchant alliance.

Balances are columns, not sums: a balance reads in constant time however long the ledger. A resident's or a
merchant's account may never be debited beyond its credits (``debits_must_not_exceed_credits``); the
community's issuing account may (its negative balance is the points in circulation).

Every limited number (account sums, stock, per-person item counters, cap counters) is changed only by atomic
conditional UPDATEs in ``domain/``; the CHECK constraints below are the last line of defence, not the rule.
"""
from __future__ import annotations

from datetime import date, datetime
from decimal import Decimal

from sqlalchemy import (JSON, Boolean, CheckConstraint, Date, ForeignKey, Index, Integer, String,
                        UniqueConstraint)
from sqlalchemy.orm import Mapped, mapped_column

from shared.db import MoneyType, UTCDateTime, make_base

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
        Index("ix_accounts_kind_created", "kind", "created_at", "id"),
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
    kind: Mapped[str] = mapped_column(String(30))  # credit | redemption | correction
    rule_code: Mapped[str | None] = mapped_column(String(60))
    rule_version: Mapped[int | None] = mapped_column(Integer)
    category: Mapped[str | None] = mapped_column(String(30))
    cause_event_id: Mapped[str | None] = mapped_column(String(64), index=True)
    cause_key: Mapped[str | None] = mapped_column(String(200), unique=True)
    redemption_id: Mapped[str | None] = mapped_column(String(36), index=True)
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
        Index("ix_transfers_kind_time", "kind", "state", "occurred_at"),
    )


class Rule(Base):
    """A scoring rule version. A change is a new version; past credits keep the version they were made under.

    ``trigger``: the event type or activity that earns points (derived from ``unit``); ``unit``: ``case``,
    ``report``, ``hour``, ``appraisal``, ``service_hour``, ``service_count``, ``manual``;
    ``roles``/``activities``: who or what qualifies.
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


class CapCounter(Base):
    """Points a holder earned under one rule code in one Asia/Shanghai day (``2024-09-10``) or month
    (``2024-09``): the atomic counter that keeps caps exact under concurrent credits."""

    __tablename__ = "cap_counters"

    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    rule_code: Mapped[str] = mapped_column(String(60), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    earned: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("earned >= 0", name="non_negative"),)


class CreditDecision(Base):
    """Why an event earned less than its rule's points, or nothing: capped, refused, duplicate."""

    __tablename__ = "credit_decisions"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    cause_event_id: Mapped[str | None] = mapped_column(String(64), index=True)
    person_id: Mapped[str | None] = mapped_column(String(64), index=True)
    account_id: Mapped[str | None] = mapped_column(String(36), index=True)
    rule_code: Mapped[str] = mapped_column(String(60))
    rule_version: Mapped[int | None] = mapped_column(Integer)
    outcome: Mapped[str] = mapped_column(String(20))  # capped | refused | duplicate
    requested: Mapped[int] = mapped_column(Integer)
    granted: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    occurred_at: Mapped[datetime] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class Merchant(Base):
    """A shop of the caring-merchant alliance. ``ref`` is its natural key (``M-01``); ``operator_person_id`` is
    the shopkeeper whose token (role ``merchant``, ``sub`` = that person_id) acts for the shop."""

    __tablename__ = "merchants"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    ref: Mapped[str] = mapped_column(String(40), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    trade: Mapped[str | None] = mapped_column(String(40))
    operator_person_id: Mapped[str | None] = mapped_column(String(64), unique=True)
    active: Mapped[bool] = mapped_column(Boolean, default=True)
    joined_on: Mapped[date | None] = mapped_column(Date)
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class CatalogueItem(Base):
    """An item of the points supermarket with its points price label (明码标分).

    ``stock`` is what can still be reserved; ``reserved`` is held by pending redemptions (on the shelf, not
    yet handed over). ``merchant_id`` is set for an alliance merchant's offer, ``donation_id`` for a donated
    used item.
    """

    __tablename__ = "catalogue_items"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    sku: Mapped[str] = mapped_column(String(60), unique=True)
    name: Mapped[str] = mapped_column(String(100))
    category: Mapped[str] = mapped_column(String(40), default="goods")
    points_price: Mapped[int] = mapped_column(Integer)
    stock: Mapped[int] = mapped_column(Integer, default=0)
    reserved: Mapped[int] = mapped_column(Integer, default=0)
    low_stock_threshold: Mapped[int] = mapped_column(Integer, default=5)
    per_person_limit: Mapped[int | None] = mapped_column(Integer)
    limit_period: Mapped[str] = mapped_column(String(10), default="month")  # day | month | ever
    active_from: Mapped[datetime | None] = mapped_column(UTCDateTime)
    active_to: Mapped[datetime | None] = mapped_column(UTCDateTime)
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"), index=True)
    donation_id: Mapped[str | None] = mapped_column(String(36))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)
    updated_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        CheckConstraint("stock >= 0 AND reserved >= 0", name="non_negative_stock"),
        CheckConstraint("points_price >= 1", name="positive_price"),
    )


class StockAdjustment(Base):
    """A restock or write-off of an item, with who, when and why (kept for the audit)."""

    __tablename__ = "stock_adjustments"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("catalogue_items.id"), index=True)
    change: Mapped[int] = mapped_column(Integer)
    reason: Mapped[str] = mapped_column(String(300))
    created_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)


class ItemLimitCounter(Base):
    """Units of one item a holder took in one period (``2024-11-26``, ``2024-11`` or ``ever``)."""

    __tablename__ = "item_limit_counters"

    item_id: Mapped[str] = mapped_column(ForeignKey("catalogue_items.id"), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), primary_key=True)
    period_key: Mapped[str] = mapped_column(String(10), primary_key=True)
    quantity: Mapped[int] = mapped_column(Integer, default=0)

    __table_args__ = (CheckConstraint("quantity >= 0", name="non_negative"),)


class Redemption(Base):
    """A redemption: ``reserved`` (points and stock held) → ``redeemed`` (handed over) | ``cancelled`` |
    ``expired`` (points and stock returned)."""

    __tablename__ = "redemptions"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    account_id: Mapped[str] = mapped_column(ForeignKey("accounts.id"), index=True)
    person_id: Mapped[str] = mapped_column(String(64), index=True)
    merchant_id: Mapped[str | None] = mapped_column(ForeignKey("merchants.id"))
    status: Mapped[str] = mapped_column(String(20))
    points: Mapped[int] = mapped_column(Integer)
    reserved_at: Mapped[datetime] = mapped_column(UTCDateTime)
    expires_at: Mapped[datetime] = mapped_column(UTCDateTime)
    redeemed_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    voided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    void_reason: Mapped[str | None] = mapped_column(String(20))
    created_by: Mapped[str | None] = mapped_column(String(64))
    finished_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (
        Index("ix_redemptions_status_expires", "status", "expires_at"),
        Index("ix_redemptions_created", "created_at", "id"),
    )


class RedemptionLine(Base):
    __tablename__ = "redemption_lines"

    id: Mapped[int] = mapped_column(Integer, primary_key=True, autoincrement=True)
    redemption_id: Mapped[str] = mapped_column(ForeignKey("redemptions.id"), index=True)
    item_id: Mapped[str] = mapped_column(ForeignKey("catalogue_items.id"))
    sku: Mapped[str] = mapped_column(String(60))
    quantity: Mapped[int] = mapped_column(Integer)
    points_price: Mapped[int] = mapped_column(Integer)
    limit_period_key: Mapped[str | None] = mapped_column(String(10))

    __table_args__ = (CheckConstraint("quantity >= 1", name="positive_quantity"),)


class ItemDonation(Base):
    """A used item donated for points: ``received`` → ``listed`` (condition checked, appraised, donor credited,
    shelved with a label) or ``rejected`` (with the reason)."""

    __tablename__ = "item_donations"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    donor_person_id: Mapped[str] = mapped_column(String(64), index=True)
    name: Mapped[str] = mapped_column(String(100))
    description: Mapped[str | None] = mapped_column(String(500))
    status: Mapped[str] = mapped_column(String(20))
    received_at: Mapped[datetime] = mapped_column(UTCDateTime)
    received_by: Mapped[str | None] = mapped_column(String(64))
    condition: Mapped[str | None] = mapped_column(String(20))
    appraised_points: Mapped[int | None] = mapped_column(Integer)
    credited_points: Mapped[int | None] = mapped_column(Integer)
    transfer_id: Mapped[str | None] = mapped_column(String(64))
    item_id: Mapped[str | None] = mapped_column(ForeignKey("catalogue_items.id"))
    reason: Mapped[str | None] = mapped_column(String(300))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    decided_by: Mapped[str | None] = mapped_column(String(64))
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_item_donations_created", "created_at", "id"),)


class ServiceRecord(Base):
    """A merchant's service to the community (hours and/or a count), ``submitted`` → ``confirmed`` by staff
    (credited by the merchant_service rules) or ``rejected``."""

    __tablename__ = "service_records"

    id: Mapped[str] = mapped_column(String(36), primary_key=True)
    merchant_id: Mapped[str] = mapped_column(ForeignKey("merchants.id"), index=True)
    service_hours: Mapped[Decimal | None] = mapped_column(MoneyType)  # hours, exact decimal (two places)
    service_count: Mapped[int | None] = mapped_column(Integer)
    description: Mapped[str] = mapped_column(String(300))
    served_at: Mapped[datetime] = mapped_column(UTCDateTime)
    status: Mapped[str] = mapped_column(String(20))
    points: Mapped[int | None] = mapped_column(Integer)
    reason: Mapped[str | None] = mapped_column(String(300))
    recorded_by: Mapped[str | None] = mapped_column(String(64))
    decided_by: Mapped[str | None] = mapped_column(String(64))
    decided_at: Mapped[datetime | None] = mapped_column(UTCDateTime)
    created_at: Mapped[datetime] = mapped_column(UTCDateTime)

    __table_args__ = (Index("ix_service_records_merchant_time", "merchant_id", "served_at", "id"),)
