"""Reports: points issued and redeemed by rule, category and period; what is outstanding; the honour roll; low
stock; the merchants' monthly settlement. Periods are Asia/Shanghai days and months of the records' own times.

Definitions (the seed's expected figures read from :func:`summary`):
- issued: posted credits from the issuing account (``kind = credit``) whose ``occurred_at`` is in the window;
- redeemed: redemption points handed over (posted) in the window; ``redemptions``: redemptions handed over;
- outstanding: everything issued up to the window's end minus everything redeemed up to it;
- catalogue stock: units on the shelf per sku (unreserved plus reserved, i.e. not yet handed over), now.
"""
from __future__ import annotations

from collections import defaultdict
from datetime import datetime, timedelta
from decimal import Decimal

from sqlalchemy import func, select
from sqlalchemy.orm import Session

from shared.timeutil import SHANGHAI, utcnow

from ..models import (Account, CatalogueItem, Merchant, Redemption, RedemptionLine, ServiceRecord, Transfer)
from . import ledger

CREDITED = (Transfer.kind == "credit", Transfer.state == "posted")
REDEEMED = (Transfer.kind == "redemption", Transfer.state == "post")


def _window(stmt, column, start: datetime | None, end: datetime | None):
    if start is not None:
        stmt = stmt.where(column >= start)
    if end is not None:
        stmt = stmt.where(column < end)
    return stmt


def _period(moment: datetime, group_by: str) -> str:
    local = moment.astimezone(SHANGHAI)
    return local.strftime("%Y-%m-%d" if group_by == "day" else "%Y-%m")


def summary(session: Session, start: datetime | None, end: datetime | None, group_by: str | None) -> dict:
    """The points report for ``[start, end)`` (either open). Points are integers; see the module docstring."""
    by_rule: dict[str, int] = {}
    by_category: dict[str, int] = {}
    for code, category, points in session.execute(_window(
            select(Transfer.rule_code, Transfer.category, func.sum(Transfer.amount)).where(*CREDITED)
            .group_by(Transfer.rule_code, Transfer.category), Transfer.occurred_at, start, end)):
        by_rule[code] = by_rule.get(code, 0) + int(points)
        by_category[category] = by_category.get(category, 0) + int(points)
    redeemed = int(session.scalar(_window(select(func.coalesce(func.sum(Transfer.amount), 0)).where(*REDEEMED),
                                          Transfer.occurred_at, start, end)))
    redeemed_by_category: dict[str, int] = {}
    for category, points in session.execute(_window(
            select(CatalogueItem.category, func.sum(RedemptionLine.quantity * RedemptionLine.points_price))
            .join(RedemptionLine, RedemptionLine.item_id == CatalogueItem.id)
            .join(Redemption, Redemption.id == RedemptionLine.redemption_id)
            .where(Redemption.status == "redeemed").group_by(CatalogueItem.category),
            Redemption.redeemed_at, start, end)):
        redeemed_by_category[category] = int(points)
    count = session.scalar(_window(select(func.count()).select_from(Redemption).where(Redemption.status == "redeemed"),
                                   Redemption.redeemed_at, start, end))
    issued_to_end = int(session.scalar(_window(select(func.coalesce(func.sum(Transfer.amount), 0)).where(*CREDITED),
                                               Transfer.occurred_at, None, end)))
    redeemed_to_end = int(session.scalar(_window(select(func.coalesce(func.sum(Transfer.amount), 0))
                                                 .where(*REDEEMED), Transfer.occurred_at, None, end)))
    reserved_count, reserved_points = session.execute(
        select(func.count(), func.coalesce(func.sum(Redemption.points), 0)).where(Redemption.status == "reserved")).one()
    out = {
        "from": start, "to": end,
        "issued_by_rule": dict(sorted(by_rule.items())), "issued_by_category": dict(sorted(by_category.items())),
        "issued_total": sum(by_rule.values()), "redeemed_total": redeemed,
        "redeemed_by_category": dict(sorted(redeemed_by_category.items())), "redemptions": int(count),
        "outstanding_total": issued_to_end - redeemed_to_end,
        "reserved": {"redemptions": int(reserved_count), "points": int(reserved_points)},
        "catalogue_stock": {sku: int(stock) for sku, stock in session.execute(
            select(CatalogueItem.sku, CatalogueItem.stock + CatalogueItem.reserved).order_by(CatalogueItem.sku))},
        "merchants": int(session.scalar(select(func.count()).select_from(Merchant).where(Merchant.active.is_(True)))),
        "accounts": {kind: int(n) for kind, n in session.execute(
            select(Account.kind, func.count()).group_by(Account.kind).order_by(Account.kind))},
        "periods": None,
    }
    if group_by:
        out["periods"] = _series(session, start, end, group_by)
    return out


def _series(session: Session, start, end, group_by: str) -> list[dict]:
    rows: dict[str, dict] = defaultdict(lambda: {"issued_by_rule": defaultdict(int), "issued_total": 0,
                                                 "redeemed_total": 0})
    for moment, code, amount in session.execute(_window(select(Transfer.occurred_at, Transfer.rule_code,
                                                               Transfer.amount).where(*CREDITED),
                                                        Transfer.occurred_at, start, end)):
        row = rows[_period(moment, group_by)]
        row["issued_by_rule"][code] += amount
        row["issued_total"] += amount
    for moment, amount in session.execute(_window(select(Transfer.occurred_at, Transfer.amount).where(*REDEEMED),
                                                  Transfer.occurred_at, start, end)):
        rows[_period(moment, group_by)]["redeemed_total"] += amount
    return [{"period": key, "issued_by_rule": dict(sorted(v["issued_by_rule"].items())),
             "issued_total": v["issued_total"], "redeemed_total": v["redeemed_total"]}
            for key, v in sorted(rows.items())]


def honour_roll(session: Session, start, end, category: str | None, limit: int) -> list[dict]:
    """Residents ranked by points credited in ``[start, end)`` (optionally one category): the top ``limit``."""
    earned = func.sum(Transfer.amount).label("points")
    stmt = (select(Account.person_id, earned, func.count(Transfer.id))
            .join(Account, Account.id == Transfer.credit_account_id)
            .where(*CREDITED, Account.kind == "resident")
            .group_by(Account.person_id).order_by(earned.desc(), Account.person_id).limit(limit))
    if category:
        stmt = stmt.where(Transfer.category == category)
    rows = session.execute(_window(stmt, Transfer.occurred_at, start, end)).all()
    return [{"rank": i + 1, "person_id": pid, "points": int(points), "credits": int(n)}
            for i, (pid, points, n) in enumerate(rows)]


def month_bounds(month: str) -> tuple[datetime, datetime]:
    year, mon = (int(part) for part in month.split("-"))
    start = datetime(year, mon, 1, tzinfo=SHANGHAI)
    return start, (start + timedelta(days=32)).replace(day=1)


def settlement(session: Session, merchant: Merchant, month: str) -> dict:
    """A merchant's settlement for an Asia/Shanghai ``month`` (``YYYY-MM``), in points:
    opening and closing posted balances, points earned by rule (service records), points received for its
    offers redeemed (handed over), points it spent in the supermarket, and its confirmed service hours/count."""
    start, end = month_bounds(month)
    account = ledger.merchant_account(session, merchant.id)
    in_month = (Transfer.occurred_at >= start, Transfer.occurred_at < end)
    earned = {code: int(points) for code, points in session.execute(
        select(Transfer.rule_code, func.sum(Transfer.amount)).where(
            *CREDITED, *in_month, Transfer.credit_account_id == account.id).group_by(Transfer.rule_code))}

    def redeemed(column) -> tuple[int, int]:
        points, count = session.execute(select(func.coalesce(func.sum(Transfer.amount), 0),
                                               func.count(func.distinct(Transfer.redemption_id)))
                                        .where(*REDEEMED, *in_month, column == account.id)).one()
        return int(points), int(count)

    received, offers = redeemed(Transfer.credit_account_id)
    spent, own = redeemed(Transfer.debit_account_id)
    hours, count = Decimal("0.00"), 0
    for row_hours, row_count in session.execute(  # summed in Python: SQLite would sum decimal text as floats
            select(ServiceRecord.service_hours, ServiceRecord.service_count)
            .where(ServiceRecord.merchant_id == merchant.id, ServiceRecord.status == "confirmed",
                   ServiceRecord.served_at >= start, ServiceRecord.served_at < end)):
        hours += row_hours or 0
        count += row_count or 0
    opening = ledger.balance_as_of(session, account.id, start - timedelta(microseconds=1))
    closing = ledger.balance_as_of(session, account.id, end - timedelta(microseconds=1))
    return {"merchant_ref": merchant.ref, "merchant_name": merchant.name, "month": month, "account_id": account.id,
            "opening_balance": opening, "closing_balance": closing, "earned_by_rule": earned,
            "earned_total": sum(earned.values()), "received_for_offers": received, "offers_redeemed": offers,
            "spent_in_supermarket": spent, "own_redemptions": own,
            "service_hours": hours, "service_count": int(count), "generated_at": utcnow()}
