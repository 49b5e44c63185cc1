"""Redemptions in the points supermarket, two-phase (TigerBeetle's pending → post / void):

1. reserve: the points (a pending transfer from the holder to the supermarket, or to the merchant whose offer
   it is) and the stock (``stock`` → ``reserved``) are taken together in one transaction, each by one atomic
   conditional UPDATE, so concurrent requests never overdraw a balance, oversell a stock or pass a per-person
   limit, on SQLite and PostgreSQL alike; if any part fails nothing is kept;
2. hand over (post): the pending transfers are posted, the reserved units leave the shelf;
   or cancel / expire (void): the points return to the account and the units to the stock.

Events: ``points.redemption.reserved.v1``, ``points.redeemed.v1`` (hand-over), ``points.redemption.voided.v1``.
"""
from __future__ import annotations

import logging
from datetime import datetime, timedelta

from sqlalchemy import select, update
from sqlalchemy.orm import Session

from shared import outbox
from shared.db import unit_of_work
from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import Account, CatalogueItem, ItemLimitCounter, Merchant, Redemption, RedemptionLine, Transfer
from . import catalogue, ledger, scoring
from .dbutil import insert_ignore

log = logging.getLogger("weizhili.points.redemptions")

#: How long a reservation holds points and stock when the request names no ``expires_at``.
DEFAULT_HOLD = timedelta(hours=72)
MAX_HOLD = timedelta(days=30)


class OutOfStock(Conflict):
    code = "out-of-stock"


class LimitReached(Conflict):
    code = "per-person-limit"


def _limit_key(item: CatalogueItem, at: datetime) -> str:
    return "ever" if item.limit_period == "ever" else scoring.period_keys(at)[item.limit_period]


def _take_limit(session: Session, item: CatalogueItem, account_id: str, key: str, quantity: int) -> None:
    insert_ignore(session, ItemLimitCounter, item_id=item.id, account_id=account_id, period_key=key, quantity=0)
    done = session.execute(update(ItemLimitCounter).where(
        ItemLimitCounter.item_id == item.id, ItemLimitCounter.account_id == account_id,
        ItemLimitCounter.period_key == key, ItemLimitCounter.quantity + quantity <= item.per_person_limit)
        .values(quantity=ItemLimitCounter.quantity + quantity).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise LimitReached(f"{item.sku}: at most {item.per_person_limit} per person per {item.limit_period}.")


def _payload(session: Session, redemption: Redemption) -> dict:
    lines = session.scalars(select(RedemptionLine).where(RedemptionLine.redemption_id == redemption.id)
                            .order_by(RedemptionLine.id)).all()
    data = {"redemption_id": redemption.id, "person_id": redemption.person_id, "points": redemption.points,
            "items": [{"sku": ln.sku, "quantity": ln.quantity, "points_price": ln.points_price} for ln in lines],
            "account_id": redemption.account_id, "merchant_id": redemption.merchant_id}
    return data


def reserve(session: Session, *, account: Account | None, person_id: str, merchant: Merchant | None,
            lines: list[dict], at: datetime | None, expires_at: datetime | None, by: str) -> Redemption:
    """Reserve ``lines`` (``[{sku, quantity}]``) for the holder of ``account`` at ``at`` (default now).

    Points: ``sum(quantity × points_price)`` at the current labels. Errors: 422 (unknown or repeated sku, a
    merchant redeeming its own offer, a bad expiry), 409 ``out-of-stock`` / ``insufficient-points`` /
    ``per-person-limit`` / ``not-on-offer`` (outside the item's active window at ``at``).
    """
    at = at or utcnow()
    expires_at = expires_at or at + DEFAULT_HOLD
    if not (at < expires_at <= at + MAX_HOLD):
        raise Unprocessable("expires_at must be after the reservation and within 30 days of it.",
                            errors=field_error("expires_at", "after reserved_at, within 30 days"))
    skus = [ln["sku"] for ln in lines]
    if len(set(skus)) != len(skus):
        raise Unprocessable("Each sku may appear once.", errors=field_error("items", "repeated sku"))
    if account is None:
        raise ledger.InsufficientPoints("Not enough points in the account for this redemption.")
    items = []
    for index, line in enumerate(lines):
        item = session.scalars(select(CatalogueItem).where(CatalogueItem.sku == line["sku"])).first()
        if item is None:
            raise Unprocessable(f"No catalogue item {line['sku']}.", errors=field_error(f"items.{index}.sku", "no such item"))
        if merchant is not None and item.merchant_id == merchant.id:
            raise Unprocessable("A merchant does not redeem its own offer.",
                                errors=field_error(f"items.{index}.sku", "own offer"))
        if not catalogue.on_offer(item, at):
            raise Conflict(f"{item.sku} is not on offer at that time.", code="not-on-offer")
        items.append((item, line["quantity"]))
    redemption_id = uuid7()
    redemption = Redemption(id=redemption_id, account_id=account.id, person_id=person_id,
                            merchant_id=merchant.id if merchant else None, status="reserved", points=0,
                            reserved_at=at, expires_at=expires_at, created_by=by, created_at=utcnow())
    session.add(redemption)
    session.flush()
    payees: dict[str, int] = {}
    total = 0
    for item, quantity in sorted(items, key=lambda pair: pair[0].id):  # one lock order: no deadlocks
        taken = session.execute(update(CatalogueItem).where(CatalogueItem.id == item.id,
                                                            CatalogueItem.stock >= quantity)
                                .values(stock=CatalogueItem.stock - quantity,
                                        reserved=CatalogueItem.reserved + quantity)
                                .execution_options(synchronize_session=False))
        if taken.rowcount != 1:
            raise OutOfStock(f"{item.sku}: not enough in stock.")
        key = None
        if item.per_person_limit is not None:
            key = _limit_key(item, at)
            _take_limit(session, item, account.id, key, quantity)
        session.add(RedemptionLine(redemption_id=redemption_id, item_id=item.id, sku=item.sku, quantity=quantity,
                                   points_price=item.points_price, limit_period_key=key))
        payee = (ledger.merchant_account(session, item.merchant_id).id if item.merchant_id
                 else ledger.system_account(session, ledger.SUPERMARKET).id)
        payees[payee] = payees.get(payee, 0) + quantity * item.points_price
        total += quantity * item.points_price
    for payee_id in sorted(payees):
        ledger.transfer(session, debit=account, credit=session.get(Account, payee_id), amount=payees[payee_id],
                        kind="redemption", occurred_at=at, pending=True, redemption_id=redemption_id,
                        created_by=by, note=f"redemption {redemption_id}")
    redemption.points = total
    session.flush()
    outbox.publish(session, "points.redemption.reserved.v1",
                   {**_payload(session, redemption), "reserved_at": at.isoformat(),
                    "expires_at": expires_at.isoformat()}, subject=f"redemptions/{redemption_id}", time=at)
    return redemption


def get(session: Session, redemption_id: str) -> Redemption:
    redemption = session.get(Redemption, redemption_id)
    if redemption is None:
        raise NotFound("No such redemption.")
    return redemption


def lines_of(session: Session, redemption_id: str) -> list[RedemptionLine]:
    return list(session.scalars(select(RedemptionLine).where(RedemptionLine.redemption_id == redemption_id)
                                .order_by(RedemptionLine.id)).all())


def _claim(session: Session, redemption: Redemption, status: str, at: datetime, by: str | None) -> None:
    if at < redemption.reserved_at:
        raise Unprocessable("The time is before the reservation.", errors=field_error("at", "before reserved_at"))
    values = {"status": status, "finished_by": by}
    values.update({"redeemed_at": at} if status == "redeemed" else {"voided_at": at, "void_reason": status})
    done = session.execute(update(Redemption).where(Redemption.id == redemption.id, Redemption.status == "reserved")
                           .values(**values).execution_options(synchronize_session=False))
    if done.rowcount != 1:
        session.refresh(redemption)
        raise Conflict(f"The redemption is already {redemption.status}.", code="not-reserved")
    session.refresh(redemption)


def _pending_transfers(session: Session, redemption_id: str) -> list[Transfer]:
    return list(session.scalars(select(Transfer).where(Transfer.redemption_id == redemption_id,
                                                       Transfer.state == "pending").order_by(Transfer.id)).all())


def hand_over(session: Session, redemption_id: str, *, at: datetime | None, by: str) -> Redemption:
    """Second phase, post: the goods are handed over at ``at`` (default now) and the held points spent.

    Publishes ``points.redeemed.v1``. Errors: 404, 409 ``not-reserved`` (already handed over, cancelled or
    expired; of two racing requests exactly one wins), 422 (``at`` before the reservation).
    """
    redemption = get(session, redemption_id)
    at = at or utcnow()
    _claim(session, redemption, "redeemed", at, by)
    entry_id = None
    for pending in _pending_transfers(session, redemption_id):
        entry_id = entry_id or ledger.post_pending(session, pending.id, occurred_at=at, created_by=by).id
    for line in lines_of(session, redemption_id):
        session.execute(update(CatalogueItem).where(CatalogueItem.id == line.item_id)
                        .values(reserved=CatalogueItem.reserved - line.quantity)
                        .execution_options(synchronize_session=False))
    outbox.publish(session, "points.redeemed.v1",
                   {**_payload(session, redemption), "entry_id": entry_id, "redeemed_at": at.isoformat()},
                   subject=f"redemptions/{redemption_id}", time=at)
    return redemption


def void(session: Session, redemption_id: str, *, reason: str, at: datetime | None, by: str | None) -> Redemption:
    """Second phase, void: ``reason`` ``cancelled`` (by the holder or staff) or ``expired`` (not collected by
    ``expires_at``). Points go back to the account, units to the stock, and the per-person limit is given back.

    Publishes ``points.redemption.voided.v1``. Errors: 404, 409 ``not-reserved``, 422 (``at`` too early).
    """
    redemption = get(session, redemption_id)
    at = at or utcnow()
    _claim(session, redemption, reason, at, by)
    for pending in _pending_transfers(session, redemption_id):
        ledger.void_pending(session, pending.id, occurred_at=at, created_by=by, note=reason)
    for line in lines_of(session, redemption_id):
        session.execute(update(CatalogueItem).where(CatalogueItem.id == line.item_id)
                        .values(reserved=CatalogueItem.reserved - line.quantity,
                                stock=CatalogueItem.stock + line.quantity)
                        .execution_options(synchronize_session=False))
        if line.limit_period_key is not None:
            session.execute(update(ItemLimitCounter).where(
                ItemLimitCounter.item_id == line.item_id, ItemLimitCounter.account_id == redemption.account_id,
                ItemLimitCounter.period_key == line.limit_period_key)
                .values(quantity=ItemLimitCounter.quantity - line.quantity)
                .execution_options(synchronize_session=False))
    outbox.publish(session, "points.redemption.voided.v1",
                   {**_payload(session, redemption), "reason": reason, "voided_at": at.isoformat()},
                   subject=f"redemptions/{redemption_id}", time=at)
    return redemption


def expire_due(engine, settings=None, *, now: datetime | None = None, batch: int = 200) -> int:
    """Scheduled job: void (reason ``expired``) every reservation whose ``expires_at`` has passed by the wall
    clock, one transaction each, recorded as voided at its ``expires_at``. Returns how many it expired.

    Safe with several workers: the status claim lets exactly one void a reservation.
    """
    now = now or utcnow()
    with unit_of_work(engine) as session:
        due = session.scalars(select(Redemption.id).where(Redemption.status == "reserved",
                                                          Redemption.expires_at <= now)
                              .order_by(Redemption.expires_at).limit(batch)).all()
    expired = 0
    for redemption_id in due:
        with unit_of_work(engine) as session:
            try:
                redemption = get(session, redemption_id)
                void(session, redemption_id, reason="expired", at=redemption.expires_at, by=None)
                session.commit()
                expired += 1
            except Conflict:
                session.rollback()  # handed over or cancelled meanwhile
    if expired:
        log.info("expired %d reservations", expired)
    return expired


def list_stmt(*, account_id: str | None = None, status: str | None = None):
    stmt = select(Redemption)
    if account_id:
        stmt = stmt.where(Redemption.account_id == account_id)
    if status:
        stmt = stmt.where(Redemption.status == status)
    return stmt
