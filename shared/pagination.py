"""Cursor pagination: a bounded ``limit``, a stable order (time, then id), each row exactly once across pages.

A cursor is the opaque, URL-safe encoding of the last row's (time, id). ``limit`` is 1–200 (default 50):
SQLite would return every row for a negative limit and PostgreSQL would fail (flask-sqlalchemy#336).
"""
from __future__ import annotations

import base64
import json
from datetime import datetime

from marshmallow import ValidationError, validates
from sqlalchemy import and_, or_, select, union_all
from sqlalchemy.orm import aliased

from . import schemas as s

MAX_LIMIT = 200


class PageArgs(s.Schema):
    """Query arguments of every list endpoint."""

    limit = s.QueryInteger(load_default=50, minimum=1, maximum=MAX_LIMIT)
    cursor = s.String(load_default=None, max_length=200, metadata={"description": "next_cursor of the previous page"})

    @validates("cursor")
    def _cursor(self, value, **_):
        if value is not None:
            decode_cursor(value)


def page_schema(item_schema, name: str | None = None):
    """A response schema ``{"items": [item], "next_cursor": str | null}``."""
    attrs = {
        "items": s.List(s.Nested(item_schema), required=True, max_items=MAX_LIMIT),
        "next_cursor": s.String(allow_none=True, max_length=400,
                                metadata={"description": "pass as ?cursor= for the next page; null on the last"}),
    }
    cls_name = name or f"{getattr(item_schema, '__name__', type(item_schema).__name__)}Page"
    return type(cls_name, (s.Schema,), attrs)


def encode_cursor(moment: datetime, ident: str) -> str:
    raw = json.dumps([moment.isoformat(), str(ident)]).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> tuple[datetime, str]:
    try:
        padded = cursor + "=" * (-len(cursor) % 4)
        moment, ident = json.loads(base64.urlsafe_b64decode(padded.encode()))
        parsed = datetime.fromisoformat(moment)
        if parsed.tzinfo is None or not isinstance(ident, str):
            raise ValueError
        return parsed, ident
    except Exception as exc:  # noqa: BLE001 - any malformed cursor is the caller's error
        raise ValidationError("Not a valid cursor.", field_name="cursor") from exc


def paginate(session, stmt, time_col, id_col, args: dict, *, descending: bool = False) -> dict:
    """Run ``stmt`` one page at a time ordered by (``time_col``, ``id_col``); return ``{items, next_cursor}``.

    ``stmt`` may be a list of disjoint statements selecting the same entity (the branches of an OR, such as a
    ledger's debit side and credit side): each branch is read in index order up to the page size and the
    branches are merged by the database (UNION ALL), so a page costs the same however long the history —
    an OR across two indexes would make the database gather and sort every matching row first.
    """
    limit = args.get("limit", 50)
    cursor = args.get("cursor")
    branches = list(stmt) if isinstance(stmt, (list, tuple)) else [stmt]
    if cursor:
        moment, ident = decode_cursor(cursor)
        try:  # an integer id compares as an integer ('10' > '9'; PostgreSQL refuses integer > varchar)
            if id_col.type.python_type is int:
                ident = int(ident)
        except (NotImplementedError, ValueError) as exc:
            raise ValidationError("Not a valid cursor.", field_name="cursor") from exc
        if descending:
            after = or_(time_col < moment, and_(time_col == moment, id_col < ident))
        else:
            after = or_(time_col > moment, and_(time_col == moment, id_col > ident))
        branches = [b.where(after) for b in branches]
    order = (time_col.desc(), id_col.desc()) if descending else (time_col.asc(), id_col.asc())
    if len(branches) == 1:
        rows = session.scalars(branches[0].order_by(*order).limit(limit + 1)).all()
    else:
        entity = branches[0].column_descriptions[0]["entity"]
        parts = [select(b.order_by(*order).limit(limit + 1).subquery()) for b in branches]
        merged = union_all(*parts).subquery()
        alias = aliased(entity, merged)
        a_time, a_id = getattr(alias, time_col.key), getattr(alias, id_col.key)
        merged_order = (a_time.desc(), a_id.desc()) if descending else (a_time.asc(), a_id.asc())
        rows = session.scalars(select(alias).order_by(*merged_order).limit(limit + 1)).all()
    items = rows[:limit]
    next_cursor = None
    if len(rows) > limit:
        last = items[-1]
        next_cursor = encode_cursor(getattr(last, time_col.key), getattr(last, id_col.key))
    return {"items": items, "next_cursor": next_cursor}
