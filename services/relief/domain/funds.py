"""Funds of the paying bodies: the city, or one county, per campaign (its donations in minus its disbursements out).

Amounts are kept here as integer fen (1 yuan = 100 fen) so that the database does the arithmetic exactly on
PostgreSQL and SQLite alike. A disbursement takes its amount with ONE conditional UPDATE whose WHERE carries the
limit (``donated_fen - committed_fen >= :amount``): two requests can never both take the last yuan, on either
database, without row locks (PITFALLS.md: ``with_for_update`` does nothing on SQLite).
"""
from __future__ import annotations

from decimal import Decimal

from sqlalchemy import select, update
from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session

from ..models import Fund

LEVELS = ("city", "county")


def body_of(level: str, county: str | None) -> str:
    """The paying body's key: ``city`` or ``county:<name>``."""
    return "city" if level == "city" else f"county:{county}"


def to_fen(amount: Decimal) -> int:
    fen = amount * 100
    if fen != fen.to_integral_value():
        raise ValueError("amount has more than two decimals")
    return int(fen)


def from_fen(fen: int) -> Decimal:
    return (Decimal(int(fen)) / 100).quantize(Decimal("0.01"))


def _ensure(session: Session, campaign_id: str, level: str, county: str | None) -> str:
    body = body_of(level, county)
    values = dict(campaign_id=campaign_id, body=body, level=level, county=county if level == "county" else None,
                  donated_fen=0, committed_fen=0)
    dialect = session.get_bind().dialect.name
    insert = postgresql.insert if dialect == "postgresql" else sqlite.insert
    session.execute(insert(Fund).values(**values).on_conflict_do_nothing(index_elements=["campaign_id", "body"]))
    return body


def add_donation(session: Session, campaign_id: str, level: str, county: str | None, amount: Decimal) -> None:
    """Credit a donation to its body's funds (creating the body's row on its first donation)."""
    body = _ensure(session, campaign_id, level, county)
    session.execute(update(Fund).where(Fund.campaign_id == campaign_id, Fund.body == body)
                    .values(donated_fen=Fund.donated_fen + to_fen(amount)).execution_options(synchronize_session=False))


def take(session: Session, campaign_id: str, level: str, county: str | None, amount: Decimal) -> bool:
    """Commit ``amount`` of the body's funds to a disbursement; False (nothing changed) if not enough is left."""
    fen = to_fen(amount)
    result = session.execute(
        update(Fund).where(Fund.campaign_id == campaign_id, Fund.body == body_of(level, county),
                           Fund.donated_fen - Fund.committed_fen >= fen)
        .values(committed_fen=Fund.committed_fen + fen).execution_options(synchronize_session=False))
    return result.rowcount == 1


def lock_bodies(session: Session, campaign_id: str, bodies: set[str]) -> None:
    """Lock the funds rows of ``bodies`` in one order (by body) until the transaction ends (PostgreSQL; SQLite
    serialises writers and ignores it). A transaction that takes several bodies' funds calls this first, so two
    such transactions wait for each other instead of deadlocking. It checks nothing: :func:`take` does."""
    if bodies:
        session.execute(select(Fund.body).where(Fund.campaign_id == campaign_id, Fund.body.in_(sorted(bodies)))
                        .order_by(Fund.body).with_for_update())


def available(session: Session, campaign_id: str, level: str, county: str | None) -> Decimal:
    row = session.execute(select(Fund.donated_fen, Fund.committed_fen).where(
        Fund.campaign_id == campaign_id, Fund.body == body_of(level, county))).first()
    return from_fen(row[0] - row[1]) if row else Decimal("0.00")


def all_funds(session: Session, campaign_id: str) -> list[dict]:
    """Every body's ``donated``, ``committed`` and ``available`` yuan (now), city first then counties by name."""
    rows = session.scalars(select(Fund).where(Fund.campaign_id == campaign_id)).all()
    rows = sorted(rows, key=lambda f: (f.level != "city", f.county or ""))
    return [{"level": f.level, "county": f.county, "donated": from_fen(f.donated_fen),
             "committed": from_fen(f.committed_fen), "available": from_fen(f.donated_fen - f.committed_fen)}
            for f in rows]
