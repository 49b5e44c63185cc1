"""Small SQL helpers both databases understand (no Flask, no pika)."""
from __future__ import annotations

from sqlalchemy.dialects import postgresql, sqlite
from sqlalchemy.orm import Session


def insert_ignore(session: Session, model, **values) -> None:
    """``INSERT ... ON CONFLICT DO NOTHING``: create a counter row unless a twin (or a racing request) has."""
    dialect = postgresql if session.get_bind().dialect.name == "postgresql" else sqlite
    session.execute(dialect.insert(model).values(**values).on_conflict_do_nothing())
