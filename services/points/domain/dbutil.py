"""Small SQL helpers both databases understand (no Flask, no pika)."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def _insert(session: Session, model):
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    return dialect.insert(model.__table__).on_conflict_do_nothing()


def insert_ignore(session: Session, model, **values) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING``: create a counter row unless a twin (or a racing request) has."""
    session.execute(_insert(session, model).values(**values))


def insert_ignore_many(session: Session, model, rows: list[dict]) -> None:
    """:func:`insert_ignore` for many rows in one statement execution (``executemany``); rows already there
    (or inserted by a racing transaction) are left as they are."""
    if rows:
        session.connection().execute(_insert(session, model), rows)
