"""The points supermarket's catalogue: items with a points price label (明码标分), stock, per-person limits,
an active window and, for an alliance merchant's offer, the merchant.

``sku`` is the natural key. Stock is changed only by atomic conditional UPDATEs (here: stock adjustments;
in ``redemptions``: reserve, hand over, void), so it never goes below zero under concurrent requests.
"""
from __future__ import annotations

from datetime import datetime

from sqlalchemy import and_, or_, select, update
from sqlalchemy.orm import Session

from shared.errors import Conflict, NotFound, Unprocessable, field_error
from shared.ids import uuid7
from shared.timeutil import utcnow

from ..models import CatalogueItem, Merchant, StockAdjustment
from .merchants import get_merchant

DESCRIPTIVE = ("name", "category", "points_price", "low_stock_threshold", "per_person_limit", "limit_period",
               "active_from", "active_to", "merchant_id")
LIMIT_PERIODS = ("day", "month", "ever")


def get_item(session: Session, sku: str) -> CatalogueItem:
    item = session.scalars(select(CatalogueItem).where(CatalogueItem.sku == sku)).first()
    if item is None:
        raise NotFound("No such catalogue item.")
    return item


def _window_ok(data: dict) -> None:
    if data.get("active_from") and data.get("active_to") and data["active_to"] <= data["active_from"]:
        raise Unprocessable("active_to must be after active_from.", errors=field_error("active_to", "after active_from"))


def create(session: Session, data: dict, by: str, merchant: Merchant | None = None) -> tuple[CatalogueItem, bool]:
    """List an item; return ``(item, created)``. ``stock`` is the initial stock (units on the shelf).

    The same ``sku`` with the same description again creates nothing and leaves the stock as it is (a replayed
    import); with another description it is 409 (change an item with PATCH, its stock with an adjustment).
    ``merchant_ref`` names the merchant offering it (a merchant's own token always offers its own).
    """
    _window_ok(data)
    data = dict(data)
    ref = data.pop("merchant_ref", None)
    if merchant is None and ref:
        merchant = get_merchant(session, ref)
    data["merchant_id"] = merchant.id if merchant else None
    data.setdefault("category", "goods")
    data.setdefault("low_stock_threshold", 5)
    data.setdefault("limit_period", "month")
    existing = session.scalars(select(CatalogueItem).where(CatalogueItem.sku == data["sku"])).first()
    if existing is not None:
        if all(getattr(existing, f) == data.get(f) for f in DESCRIPTIVE):
            return existing, False
        raise Conflict(f"Item {data['sku']} exists with another description.", code="sku-exists")
    now = utcnow()
    item = CatalogueItem(id=uuid7(), reserved=0, created_by=by, created_at=now, updated_at=now, **data)
    session.add(item)
    session.flush()
    return item, True


def update_item(session: Session, sku: str, data: dict, merchant: Merchant | None = None) -> CatalogueItem:
    """Change an item's label, limits, window or description (not its stock). A merchant changes only its own
    offers (another's answers 404). Reserved redemptions keep the price they were reserved at."""
    item = get_item(session, sku)
    if merchant is not None and item.merchant_id != merchant.id:
        raise NotFound("No such catalogue item.")
    merged = {f: data.get(f, getattr(item, f)) for f in ("active_from", "active_to")}
    _window_ok(merged)
    for key, value in data.items():
        setattr(item, key, value)
    item.updated_at = utcnow()
    session.flush()
    return item


def adjust_stock(session: Session, sku: str, change: int, reason: str, by: str,
                 merchant: Merchant | None = None) -> CatalogueItem:
    """Add (restock, positive) or remove (write-off, negative) ``change`` units atomically; never below zero.

    Errors: 404, 409 (not that many units unreserved on the shelf).
    """
    item = get_item(session, sku)
    if merchant is not None and item.merchant_id != merchant.id:
        raise NotFound("No such catalogue item.")
    done = session.execute(update(CatalogueItem).where(CatalogueItem.id == item.id,
                                                       CatalogueItem.stock + change >= 0)
                           .values(stock=CatalogueItem.stock + change, updated_at=utcnow())
                           .execution_options(synchronize_session=False))
    if done.rowcount != 1:
        raise Conflict("Not that many units in stock.", code="out-of-stock")
    session.add(StockAdjustment(id=uuid7(), item_id=item.id, change=change, reason=reason, created_by=by,
                                created_at=utcnow()))
    session.refresh(item)
    return item


def on_offer(item: CatalogueItem, at: datetime) -> bool:
    """Whether ``item`` is in its active window at ``at``."""
    return (item.active_from is None or item.active_from <= at) and (item.active_to is None or at < item.active_to)


def list_stmt(*, merchant: Merchant | None = None, available_at: datetime | None = None):
    stmt = select(CatalogueItem)
    if merchant is not None:
        stmt = stmt.where(CatalogueItem.merchant_id == merchant.id)
    if available_at is not None:
        stmt = stmt.where(CatalogueItem.stock > 0,
                          or_(CatalogueItem.active_from.is_(None), CatalogueItem.active_from <= available_at),
                          or_(CatalogueItem.active_to.is_(None), CatalogueItem.active_to > available_at))
    return stmt


def low_stock_stmt(at: datetime):
    """Items in their active window whose unreserved stock is at or below their alert threshold."""
    return select(CatalogueItem).where(
        CatalogueItem.stock <= CatalogueItem.low_stock_threshold,
        or_(CatalogueItem.active_to.is_(None), CatalogueItem.active_to > at),
        and_(CatalogueItem.donation_id.is_(None)))
